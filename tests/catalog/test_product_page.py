"""The product page: spec table, policy flags, every listed offer (cheapest first) with what a buyer
weighs, the price-history chart, and the compare panel."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import datetime, time, timedelta
from decimal import Decimal

import pytest

from app.auth.models import OrgKind, Role
from app.catalog.charts import LOCAL_TZ, local_day
from app.catalog.models import AttributeType, Better, Category, OfferStatus, Origin, PriceChange
from app.core.db import utcnow
from app.extensions import db
from tests import factories
from tests.conftest import csrf_from, login
from tests.ui.babel_support import compile_translations
from tests.ui.pages import Page, parse

SVG = "{http://www.w3.org/2000/svg}"
ALL_MAINLAND = [
    "110000", "120000", "130000", "140000", "150000", "210000", "220000", "230000", "310000", "320000",
    "330000", "340000", "350000", "360000", "370000", "410000", "420000", "430000", "440000", "450000",
    "460000", "500000", "510000", "520000", "530000", "540000", "610000", "620000", "630000", "640000",
    "650000",
]  # fmt: skip


@pytest.fixture(scope="module", autouse=True)
def english_catalogue() -> None:
    compile_translations()  # before any English page renders (Flask-Babel caches catalogues)


def _category_path() -> Category:
    root = Category(code="A02000000", name="设备", level=1, kind="goods", is_leaf=False)
    branch = Category(code="A02010000", name="信息化设备", level=2, kind="goods", is_leaf=False, parent=root)
    group = Category(code="A02010100", name="计算机", level=3, kind="goods", is_leaf=False, parent=branch)
    leaf = Category(code="A02010105", name="台式计算机", level=4, kind="goods", is_leaf=True, parent=group)
    db.session.add_all([root, branch, group, leaf])
    db.session.flush()
    return leaf


@pytest.fixture
def desktop(db_session):
    category = _category_path()
    factories.attribute(
        category, "memory_gb", label_zh="内存容量", unit="GB", better=Better.HIGHER, position=1
    )
    factories.attribute(category, "screen_inch", label_zh="显示器尺寸", unit="英寸", position=2)
    factories.attribute(category, "wifi", AttributeType.BOOL, label_zh="无线网络", position=3)
    factories.attribute(category, "bluetooth", AttributeType.BOOL, label_zh="蓝牙", position=4)
    factories.attribute(
        category,
        "energy_class",
        AttributeType.ENUM,
        label_zh="能效等级",
        enum_values=["1级", "2级", "3级"],
        position=5,
    )
    factories.attribute(
        category, "os", AttributeType.ENUM, label_zh="操作系统", enum_values=["统信UOS"], position=6
    )
    return factories.product(
        category,
        brand="联想",
        model="启天 M455",
        name="联想 启天 M455 台式计算机",
        specs={"memory_gb": 16, "screen_inch": 23.8, "wifi": True, "bluetooth": False, "energy_class": "1级"},
        energy_saving=True,
        environmental=False,
        origin=Origin.DOMESTIC,
    )


@pytest.fixture
def offers(desktop):
    """Four listed offers (not in price order of creation), and three that are not on sale."""
    sme = factories.org(OrgKind.SUPPLIER, name="甲科技有限公司", is_sme=True)
    big = factories.org(OrgKind.SUPPLIER, name="乙电子有限公司")
    third = factories.org(OrgKind.SUPPLIER, name="丙信息有限公司")
    fourth = factories.org(OrgKind.SUPPLIER, name="丁办公有限公司")
    made = {
        "above": factories.offer(
            desktop, big, price=Decimal("5419.00"), market_price=Decimal("5299.00"), stock=137,
            market_price_source="京东自营", regions=["320000", "310000"], lead_time_days=5,
            warranty_months=36,
        ),
        "below": factories.offer(
            desktop, sme, price=Decimal("4999.00"), market_price=Decimal("5299.00"), stock=58,
            market_price_source="京东自营", regions=ALL_MAINLAND, lead_time_days=3, warranty_months=12,
        ),
        "equal": factories.offer(
            desktop, third, price=Decimal("5299.00"), market_price=Decimal("5299.00"), stock=0,
            regions=["320000", "310000", "330000", "340000", "110000", "370000"],
        ),
        "unpriced": factories.offer(desktop, fourth, price=Decimal("5419.00"), market_price=None, stock=3),
    }  # fmt: skip
    for status in (OfferStatus.DRAFT, OfferStatus.PENDING_REVIEW, OfferStatus.DELISTED):
        factories.offer(
            desktop,
            factories.org(OrgKind.SUPPLIER, name=f"未上架供应商{status.value}"),
            price=Decimal("100.00"),
            status=status,
            supplier_sku=f"HIDDEN-{status.value}",
        )
    return made


def _page(client, product, query: str = "") -> Page:
    response = client.get(f"/products/{product.id}{query}")
    assert response.status_code == 200, response.get_data(as_text=True)[:2000]
    return parse(response.get_data(as_text=True))


def _offers_table(page: Page):
    return page.one("table", class_="data-table offers-table")


def _rows(page: Page) -> list[list[str]]:
    table = _offers_table(page)
    return [[td.text for td in page.inside(tr, "td")] for tr in page.inside(table, "tr")[1:]]


def test_every_listed_offer_cheapest_first_with_what_buyers_weigh(client, desktop, offers):
    page = _page(client, desktop)
    table = _offers_table(page)
    assert [th.text for th in page.inside(table, "th", scope="col")] == [
        "供应商",
        "价格",
        "市场参考价",
        "与市场参考价比较",
        "库存",
        "供货地区",
        "供货周期",
        "质保",
        "供应商评价",
        "供应商信用",
    ]
    assert page.inside(table, "caption")[0].text == "供应商报价 4 条在售报价，按价格从低到高排列"
    assert _rows(page) == [
        [
            "甲科技有限公司 中小企业 最低价",
            "¥4,999.00",
            "¥5,299.00京东自营",
            "低于市场参考价 ¥300.00（5.7%）",
            "有货",
            "全国",
            "3 天",
            "12 个月",
            "暂无评价",
            "★★★★★ 100 分",
        ],
        [
            "丙信息有限公司",
            "¥5,299.00",
            "¥5,299.00",
            "与市场参考价持平",
            "缺货",
            "北京市、上海市、江苏省 等 6 个地区 北京市、上海市、江苏省、浙江省、安徽省、山东省",
            "3 天",
            "12 个月",
            "暂无评价",
            "★★★★★ 100 分",
        ],
        [
            "乙电子有限公司",
            "¥5,419.00",
            "¥5,299.00京东自营",
            "高于市场参考价 ¥120.00（2.3%）",
            "有货",
            "上海市、江苏省",
            "5 天",
            "36 个月",
            "暂无评价",
            "★★★★★ 100 分",
        ],
        [
            "丁办公有限公司",
            "¥5,419.00",
            "—",
            "暂无市场参考价",
            "有货",
            "北京市",
            "3 天",
            "12 个月",
            "暂无评价",
            "★★★★★ 100 分",
        ],
    ]
    # Equal prices keep a stable order: the older offer (lower id) first.
    assert offers["above"].id < offers["unpriced"].id


def test_sme_badge_is_text_on_the_sme_supplier_only(client, desktop, offers):
    page = _page(client, desktop)
    badges = page.inside(_offers_table(page), "span", class_="tag tag-sme")
    assert [b.text for b in badges] == ["中小企业"]
    assert [b.text for b in page.inside(_offers_table(page), "span", class_="tag tag-best")] == ["最低价"]


def test_market_difference_is_worded_and_above_market_is_flagged(client, desktop, offers):
    page = _page(client, desktop)
    below = page.one("span", class_="market-below")
    above = page.one("span", class_="market-above")
    assert below.text == "低于市场参考价 ¥300.00（5.7%）"
    assert above.text == "高于市场参考价 ¥120.00（2.3%）"
    assert page.one("span", class_="market-equal").text == "与市场参考价持平"
    assert [s.text for s in page.find_all("span", class_="market-source")] == ["京东自营", "京东自营"]


def test_competitors_exact_stock_is_never_shown(client, desktop, offers):
    html = client.get(f"/products/{desktop.id}").get_data(as_text=True)
    page = parse(html)
    stock = [s.text for s in page.find_all("span") if "stock" in (s.get("class") or "").split()]
    assert stock == ["有货", "缺货", "有货", "有货"]
    table_text = _offers_table(page).text
    for exact in ("137", "58"):
        assert exact not in table_text
    assert "库存 137" not in html and ">137<" not in html and ">58<" not in html


def test_unlisted_offers_are_not_shown(client, desktop, offers):
    html = client.get(f"/products/{desktop.id}").get_data(as_text=True)
    assert "未上架供应商" not in html
    assert "HIDDEN-" not in html
    assert "¥100.00" not in html


def test_spec_table_from_the_registry_with_units_and_yes_no(client, desktop):
    page = _page(client, desktop)
    table = page.one("table", class_="data-table specs-table")
    rows = [(page.inside(tr, "th")[0].text, page.inside(tr, "td")[0].text) for tr in page.inside(table, "tr")]
    assert rows == [
        ("内存容量", "16 GB"),
        ("显示器尺寸", "23.8 英寸"),
        ("无线网络", "是"),
        ("蓝牙", "否"),
        ("能效等级", "1级"),
        ("操作系统", "—"),
    ]


def test_breadcrumb_walks_the_category_path(client, desktop):
    page = _page(client, desktop)
    crumbs = page.one("nav", class_="breadcrumbs")
    items = [(a.text, a.get("href")) for a in page.inside(crumbs, "a")]
    assert items == [
        ("首页", "/"),
        ("设备", "/search?category=A02000000"),
        ("信息化设备", "/search?category=A02010000"),
        ("计算机", "/search?category=A02010100"),
        ("台式计算机", "/search?category=A02010105"),
    ]
    assert page.inside(crumbs, "span", aria_current="page")[0].text == "联想 启天 M455 台式计算机"


def test_policy_flags(client, desktop):
    page = _page(client, desktop)
    flags = page.one("ul", aria_label="政策属性")
    assert [li.text for li in page.inside(flags, "li")] == ["节能产品", "国产产品"]
    imported = factories.product(desktop.category, origin=Origin.IMPORTED, environmental=True)
    page = _page(client, imported)
    flags = page.one("ul", aria_label="政策属性")
    assert [li.text for li in page.inside(flags, "li")] == ["环境标志产品", "进口产品"]


# --------------------------------------------------------------------------------------------
# Price history


def _svg(html: str) -> ET.Element:
    match = re.search(r'<svg xmlns="http://www.w3.org/2000/svg" class="price-chart".*?</svg>', html, re.S)
    assert match, "no price chart"
    return ET.fromstring(match.group(0))  # noqa: S314 -- our own output, parsed to prove it is well-formed


def _history(offer, *changes: tuple[int, str]) -> None:
    """Price changes ``days`` ago (at noon, China time), oldest first; the last is the current price."""
    today_noon = datetime.combine(local_day(utcnow()), time(12), tzinfo=LOCAL_TZ)
    offer.listed_at = None
    for days, price in changes:
        db.session.add(
            PriceChange(offer=offer, price=Decimal(price), changed_at=today_noon - timedelta(days=days))
        )
    offer.price = Decimal(changes[-1][1])
    db.session.flush()


def test_price_history_chart_is_accessible_well_formed_svg(client, desktop):
    a = factories.offer(desktop, factories.org(OrgKind.SUPPLIER, name="甲公司"))
    b = factories.offer(desktop, factories.org(OrgKind.SUPPLIER, name="乙公司"))
    _history(a, (200, "5600.00"), (40, "5300.00"), (10, "4999.00"))
    _history(b, (30, "5200.00"))
    html = client.get(f"/products/{desktop.id}").get_data(as_text=True)
    svg = _svg(html)
    assert svg.tag == f"{SVG}svg"
    assert svg.get("role") == "img"
    assert svg.get("aria-labelledby") == "price-chart-title price-chart-desc"
    assert svg.find(f"{SVG}title").text == "近 90 天每日最低报价走势"
    today = local_day(utcnow())
    start = today - timedelta(days=89)
    assert svg.find(f"{SVG}desc").text == (
        f"{start.isoformat()} 至 {today.isoformat()}，每日最低在售报价从 ¥5,600.00 变为 ¥4,999.00；"
        "期间最低 ¥4,999.00，最高 ¥5,600.00。"
    )
    paths = svg.findall(f"{SVG}path")
    assert [p.get("class") for p in paths] == ["chart-line chart-line-lowest"]
    assert len(re.findall(r"[ML]", paths[0].get("d"))) == 8  # start, three steps of two corners, end
    y_labels = [t.text for t in svg.find(f"{SVG}g[@class='chart-axis chart-axis-y']")]
    assert y_labels == ["¥4,800", "¥5,000", "¥5,200", "¥5,400", "¥5,600"]

    # The same data as a table: the days on which the lowest price changed, and the last day.
    page = parse(html)
    data = page.one("details", class_="chart-data")
    rows = [
        [c.text for c in page.inside(tr, None) if c.tag in ("th", "td")] for tr in page.inside(data, "tr")[1:]
    ]
    assert rows == [
        [start.isoformat(), "¥5,600.00"],
        [(today - timedelta(days=40)).isoformat(), "¥5,300.00"],
        [(today - timedelta(days=30)).isoformat(), "¥5,200.00"],
        [(today - timedelta(days=10)).isoformat(), "¥4,999.00"],
        [today.isoformat(), "¥4,999.00"],
    ]
    assert [li.text for li in page.inside(page.one("ul", class_="chart-legend"), "li")] == ["每日最低价"]


def test_price_history_can_show_each_supplier(client, desktop):
    a = factories.offer(desktop, factories.org(OrgKind.SUPPLIER, name="甲公司"))
    b = factories.offer(desktop, factories.org(OrgKind.SUPPLIER, name="乙公司"))
    _history(a, (50, "5000.00"))
    _history(b, (20, "5100.00"), (5, "4900.00"))
    html = client.get(f"/products/{desktop.id}?suppliers=1").get_data(as_text=True)
    svg = _svg(html)
    classes = [p.get("class") for p in svg.findall(f"{SVG}path")]
    assert classes == [
        "chart-line chart-line-lowest",
        "chart-line chart-line-offer chart-series-1",
        "chart-line chart-line-offer chart-series-2",
    ]
    page = parse(html)
    assert [li.text for li in page.inside(page.one("ul", class_="chart-legend"), "li")] == [
        "每日最低价",
        "乙公司",  # offers in price order: 乙 is cheaper now
        "甲公司",
    ]
    switch = page.one("nav", aria_label="价格走势显示方式")
    assert page.inside(switch, "a", aria_current="true")[0].text == "显示各供应商报价"
    data = page.one("details", class_="chart-data")
    assert [th.text for th in page.inside(data, "th", scope="col")] == [
        "日期",
        "每日最低价",
        "乙公司",
        "甲公司",
    ]


def test_a_single_days_price_is_a_point(client, desktop):
    offer = factories.offer(desktop, price=Decimal("3999.00"))
    offer.listed_at = utcnow()
    db.session.flush()
    svg = _svg(client.get(f"/products/{desktop.id}").get_data(as_text=True))
    assert svg.findall(f"{SVG}path") == []
    points = [c for c in svg.findall(f"{SVG}circle") if "chart-point" in c.get("class")]
    assert len(points) == 1
    today = local_day(utcnow()).isoformat()
    assert svg.find(f"{SVG}desc").text == f"{today} 至 {today}，每日最低在售报价保持 ¥3,999.00 不变。"


def test_prices_before_listing_do_not_count(client, desktop):
    offer = factories.offer(desktop, price=Decimal("4500.00"))
    _history(offer, (60, "9999.00"), (40, "4500.00"))
    offer.listed_at = utcnow() - timedelta(days=30)
    db.session.flush()
    html = client.get(f"/products/{desktop.id}").get_data(as_text=True)
    assert "9,999" not in html
    page = parse(html)
    first = page.inside(page.one("details", class_="chart-data"), "tr")[1]
    listed = local_day(offer.listed_at).isoformat()
    assert [c.text for c in page.inside(first, None) if c.tag in ("th", "td")] == [listed, "¥4,500.00"]


def test_no_offers_empty_state(client, desktop):
    factories.offer(desktop, status=OfferStatus.DELISTED)
    html = client.get(f"/products/{desktop.id}").get_data(as_text=True)
    page = parse(html)
    empty = page.one("div", class_="empty-state")
    assert empty.text == "暂无报价 目前没有供应商在售此商品。"
    assert not page.find_all("table", class_="data-table offers-table")
    assert "<svg" not in html.split('id="price-history-title"')[1]
    assert "暂无价格记录。" in html


def test_inactive_product_is_not_found(client, desktop):
    desktop.is_active = False
    db.session.flush()
    assert client.get(f"/products/{desktop.id}").status_code == 404


def test_bad_query_is_a_clear_422(client, desktop):
    assert client.get(f"/products/{desktop.id}?suppliers=maybe").status_code == 422


# --------------------------------------------------------------------------------------------
# Compare panel and the purchaser's view


def test_compare_button_and_tray(client, desktop, offers):
    page = _page(client, desktop)
    panel = page.one("aside", class_="compare-panel")
    form = page.inside(panel, "form")[0]
    assert (form.get("method"), form.get("action")) == ("post", "/compare/add")
    fields = {i.get("name"): i.get("value") for i in page.inside(form, "input")}
    assert fields["product_id"] == str(desktop.id)
    assert fields["csrf_token"]
    assert fields["next"] == f"/products/{desktop.id}"
    assert page.inside(form, "button")[0].text == "加入对比"
    assert page.one("p", class_="compare-count").text == "对比栏：已选 0 / 4 件"

    client.post("/compare/add", data={"product_id": desktop.id, "csrf_token": fields["csrf_token"]})
    page = _page(client, desktop)
    panel = page.one("aside", class_="compare-panel")
    assert page.inside(panel, "form")[0].get("action") == "/compare/remove"
    assert page.inside(panel, "button")[0].text == "移出对比"
    assert page.one("p", class_="compare-count").text == "对比栏：已选 1 / 4 件"
    assert page.one("p", class_="compare-state").text == "本商品已在对比列表中。"


def test_purchasers_add_each_listed_offer_to_their_cart(client, desktop, offers):
    login(client, factories.user(role=Role.PURCHASER).username)
    page = _page(client, desktop)
    forms = page.find_all("form", action="/cart/add")
    listed = [offer for offer in offers.values() if offer.status is OfferStatus.LISTED]
    chosen = [int(page.inside(form, "input", name="offer_id")[0].get("value")) for form in forms]
    assert sorted(chosen) == sorted(offer.id for offer in listed)
    assert page.find_all("button", type="submit") and "加入对比" in [b.text for b in page.find_all("button")]


def test_only_purchasers_see_cart_buttons(client, desktop, offers):
    login(client, factories.user(factories.org(OrgKind.SUPPLIER)).username)
    html = client.get(f"/products/{desktop.id}").get_data(as_text=True)
    assert "/cart/add" not in html


def test_english_page(client, desktop, offers):
    client.get("/lang/en")
    page = _page(client, desktop)
    assert [th.text for th in page.inside(_offers_table(page), "th", scope="col")][3:] == [
        "Compared with market price",
        "Stock",
        "Delivery regions",
        "Lead time",
        "Warranty",
        "Supplier rating",
        "Supplier credit",
    ]
    assert page.one("span", class_="market-above").text == "¥120.00 (2.3%) above the market reference price"
    assert page.inside(_offers_table(page), "td")[-2].text == "No ratings yet"
    assert page.inside(_offers_table(page), "td")[-1].text == "★★★★★ 100 points"


def test_csrf_protects_the_compare_button(client, desktop):
    assert client.post("/compare/add", data={"product_id": desktop.id}).status_code == 400
    assert csrf_from(client, f"/products/{desktop.id}")
