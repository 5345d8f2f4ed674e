"""The page shell: language, header, navigation per role, user menu, footer."""

from __future__ import annotations

import pytest

from app.auth.models import OrgKind, Role
from tests import factories
from tests.conftest import login
from tests.ui.pages import parse


def nav_items(html: str) -> dict[str, str]:
    """Label → href of the main navigation, in order."""
    page = parse(html)
    return {a.text: a.get("href") for a in page.inside(page.one("nav", class_="main-nav"), "a")}


def test_home_is_chinese_by_default(client):
    response = client.get("/")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert '<html lang="zh-CN">' in html
    page = parse(html)
    assert page.one("title").text == "首页 · 政府采购电子卖场"
    assert page.one("h1").text == "政府采购电子卖场"
    assert page.one("a", class_="skip-link").get("href") == "#main"
    assert page.by_id("main").tag == "main"
    assert page.one("div", class_="flashes").get("role") == "status"
    assert page.one("footer").text.startswith("政府采购电子卖场")
    # The header search box sends q to the product list.
    search = page.one("form", class_="site-search")
    assert (search.get("method"), search.get("action"), search.get("role")) == ("get", "/search", "search")
    assert page.by_id("site-q").get("name") == "q"


def test_anonymous_header_offers_login_and_public_navigation(client):
    html = client.get("/search").get_data(as_text=True)
    assert nav_items(html) == {
        "首页": "/",
        "商品": "/search",
        "商品对比": "/compare",
        "成交公告": "/notices/",
        "成交价格": "/prices",
    }
    page = parse(html)
    assert page.one("a", class_="login-link").get("href") == "/login?next=/search"
    assert not page.find_all("form", action="/logout")


def test_language_switch_to_english_and_back(client):
    home = parse(client.get("/").get_data(as_text=True))
    switch = home.one("nav", aria_label="语言")
    assert "简体中文" in switch.text and "English" in switch.text
    assert home.one("a", hreflang="en").get("href") == "/lang/en?next=/"
    assert home.one("span", class_="lang-current").text == "简体中文"

    response = client.get("/lang/en?next=/products")
    assert response.status_code == 302
    assert response.headers["Location"] == "/products"
    html = client.get("/").get_data(as_text=True)
    assert '<html lang="en">' in html
    page = parse(html)
    assert page.one("h1").text == "Government Procurement E-Mall"
    assert page.one("title").text == "Home · Government Procurement E-Mall"
    assert list(nav_items(html))[:3] == ["Home", "Products", "Compare products"]
    assert len(nav_items(html)) == 5
    assert page.one("a", hreflang="zh-CN").get("href") == "/lang/zh?next=/"
    assert page.one("span", class_="lang-current").text == "English"

    client.get("/lang/zh?next=/")
    html = client.get("/").get_data(as_text=True)
    assert '<html lang="zh-CN">' in html
    assert "Government Procurement E-Mall" not in html


def test_language_switch_ignores_unknown_languages_and_offsite_targets(client):
    response = client.get("/lang/fr?next=https://evil.example/")
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    assert '<html lang="zh-CN">' in client.get("/").get_data(as_text=True)


PUBLIC_NAV = ["首页", "商品", "商品对比", "成交公告", "成交价格"]
PLANS_NAV = ["采购计划", "比价记录"]
OVERSIGHT_NAV = ["预警", "统计分析", "价格监测", "供应商信用"]
PURCHASER_NAV = [*PUBLIC_NAV, *PLANS_NAV, "我的订单", "API 令牌"]
APPROVER_NAV = [*PUBLIC_NAV, *PLANS_NAV, "我的订单", "待审批", "API 令牌"]
SUPPLIER_NAV = [*PUBLIC_NAV, "订单管理", "我的报价", "批量导入", "我的信用", "API 令牌"]
OPERATOR_NAV = [
    *PUBLIC_NAV,
    *PLANS_NAV,
    "全部订单",
    "上架审核",
    "下单规则",
    *OVERSIGHT_NAV,
    "事件推送",
    "API 令牌",
]
REGULATOR_NAV = [*PUBLIC_NAV, *PLANS_NAV, "全部订单", *OVERSIGHT_NAV, "API 令牌"]
FINANCE_NAV = [*PUBLIC_NAV, *PLANS_NAV, "全部订单", "支付记录", "事件推送", "API 令牌"]
ROLE_CASES = [
    # role, organization kind, role label, navigation
    (Role.PURCHASER, OrgKind.PURCHASING_UNIT, "采购经办人", PURCHASER_NAV),
    (Role.APPROVER, OrgKind.PURCHASING_UNIT, "审批人", APPROVER_NAV),
    (Role.SUPPLIER, OrgKind.SUPPLIER, "供应商", SUPPLIER_NAV),
    (Role.OPERATOR, OrgKind.OPERATOR, "卖场运营", OPERATOR_NAV),
    (Role.REGULATOR, OrgKind.REGULATOR, "财政监管", REGULATOR_NAV),
    (Role.FINANCE, OrgKind.FINANCE, "财政系统", FINANCE_NAV),
]


@pytest.mark.parametrize(
    ("role", "kind", "label", "expected_nav"), ROLE_CASES, ids=[case[0].value for case in ROLE_CASES]
)
def test_navigation_and_user_menu_per_role(client, role, kind, label, expected_nav):
    organization = factories.org(kind, name="某某测试单位")
    user = factories.user(organization, role, display_name="张测试")
    login(client, user.username)
    html = client.get("/").get_data(as_text=True)
    assert list(nav_items(html)) == expected_nav
    page = parse(html)
    identity = page.one("p", class_="user-identity")
    assert identity.text == f"当前用户： 张测试 某某测试单位 {label}"
    assert page.one("span", class_="role-badge").text == label
    assert page.one("a", href="/account/password").text == "修改密码"
    logout = page.one("form", action="/logout")
    assert logout.get("method") == "post"
    assert page.inside(logout, "input", type="hidden", name="csrf_token")[0].get("value")
    assert page.inside(logout, "button")[0].text == "退出"
    # Each link in the navigation leads to a page this role may open.
    for href in nav_items(html).values():
        assert client.get(href).status_code == 200, href


def test_supplier_sees_offers_and_not_plans(client):
    supplier = factories.user(factories.org(OrgKind.SUPPLIER))
    login(client, supplier.username)
    nav = nav_items(client.get("/").get_data(as_text=True))
    assert nav["我的报价"] == "/supplier/offers"
    assert "采购计划" not in nav


def test_purchaser_sees_plans_and_not_offers(client):
    purchaser = factories.user()
    login(client, purchaser.username)
    nav = nav_items(client.get("/").get_data(as_text=True))
    assert nav["采购计划"] == "/plans/"
    assert nav["API 令牌"] == "/account/tokens/"
    assert "我的报价" not in nav


@pytest.mark.parametrize(
    ("url", "current", "kind"),
    [
        ("/", "首页", "page"),
        ("/search", "商品", "page"),
        ("/plans/", "采购计划", "page"),
    ],
)
def test_current_page_is_marked(client, url, current, kind):
    login(client, factories.user().username)
    page = parse(client.get(url).get_data(as_text=True))
    nav = page.one("nav", class_="main-nav")
    marked = [(a.text, a.get("aria-current")) for a in page.inside(nav, "a") if a.get("aria-current")]
    assert marked == [(current, kind)]


def test_detail_page_marks_its_section(client):
    purchaser = factories.user()
    plan = factories.plan(purchaser.organization)
    login(client, purchaser.username)
    page = parse(client.get(f"/plans/{plan.id}").get_data(as_text=True))
    nav = page.one("nav", class_="main-nav")
    marked = [(a.text, a.get("aria-current")) for a in page.inside(nav, "a") if a.get("aria-current")]
    assert marked == [("采购计划", "true")]


def test_flash_messages_appear_in_the_status_region(client):
    purchaser = factories.user(display_name="赵经办")
    login(client, purchaser.username)
    page = parse(client.get("/").get_data(as_text=True))
    region = page.one("div", class_="flashes")
    assert region.get("role") == "status"
    assert region.text == "成功 欢迎，赵经办"


def test_logout_form_signs_out(client):
    login(client, factories.user().username)
    page = parse(client.get("/").get_data(as_text=True))
    form = page.one("form", action="/logout")
    csrf = page.inside(form, "input", name="csrf_token")[0].get("value")
    response = client.post("/logout", data={"csrf_token": csrf})
    assert response.status_code == 302
    html = client.get("/login").get_data(as_text=True)
    assert "您已安全退出。" in html
    assert 'action="/logout"' not in html
