"""Page content: the home page's category tree, product list paging, status labels."""

from __future__ import annotations

from decimal import Decimal

import pytest

from app.auth.models import OrgKind
from app.catalog.models import Category, OfferStatus, Product
from app.extensions import db
from tests import factories
from tests.conftest import login
from tests.ui.pages import parse


def branch(code: str, name: str, level: int, parent: Category | None = None, leaf: bool = False) -> Category:
    record = Category(code=code, name=name, level=level, parent=parent, is_leaf=leaf, kind="goods")
    db.session.add(record)
    db.session.flush()
    return record


@pytest.fixture
def tree(db_session):
    equipment = branch("A02000000", "设备", 1)
    it = branch("A02010000", "信息化设备", 2, equipment)
    computers = branch("A02010100", "计算机", 3, it)
    desktops = branch("A02010105", "台式计算机", 4, computers, leaf=True)
    laptops = branch("A02010108", "便携式计算机", 4, computers, leaf=True)
    branch("A02010109", "平板式计算机", 4, computers, leaf=True)  # no goods: not shown
    for _ in range(2):
        factories.product(desktops)
    factories.product(laptops)
    factories.product(laptops, is_active=False)  # delisted goods are not counted
    return {"desktops": desktops, "laptops": laptops}


def test_home_shows_the_category_tree_with_counts(client, tree):
    page = parse(client.get("/").get_data(as_text=True))
    card = page.one("section", class_="tree-card")
    assert page.inside(card, "h3")[0].text == "设备 3 件商品"
    summaries = [s.text for s in page.inside(card, "summary")]
    assert summaries == ["信息化设备 3 件商品", "计算机 3 件商品"]
    assert all(d.has("open") for d in page.inside(card, "details"))
    leaves = [(a.text, a.get("href")) for a in page.inside(card, "a", class_="tree-leaf")]
    assert leaves == [
        ("台式计算机 2 件商品", "/search?category=A02010105"),
        ("便携式计算机 1 件商品", "/search?category=A02010108"),
    ]
    assert "平板式计算机" not in card.text
    assert not page.find_all("div", class_="empty-state")


def test_home_empty_state(client):
    page = parse(client.get("/").get_data(as_text=True))
    empty = page.one("div", class_="empty-state")
    assert empty.text == "卖场暂无上架商品 供应商的商品通过上架审核后会显示在这里。"
    assert not page.find_all("section", class_="tree-card")
    # The search box is still there.
    assert page.by_id("home-q").get("name") == "q"
    assert page.one("label", for_="home-q").text == "搜索商品"


def test_english_counts_use_plural_forms(client, tree):
    client.get("/lang/en")
    page = parse(client.get("/").get_data(as_text=True))
    leaves = [a.text for a in page.find_all("a", class_="tree-leaf")]
    assert leaves == ["台式计算机 2 products", "便携式计算机 1 product"]


@pytest.fixture
def listed(tree, db_session):
    """The tree's active products with an offer each, committed so search indexes them."""
    from app.catalog import indexing

    indexing.search_backend().rebuild([])
    for product in db_session.scalars(db.select(Product).where(Product.is_active.is_(True))):
        factories.offer(product)
    db_session.commit()
    return tree


def test_products_address_is_the_search_page(client, listed):
    response = client.get("/products?category=A02010105&q=x")
    assert response.status_code == 301
    assert response.headers["Location"] == "/search?category=A02010105&q=x"


def test_leaf_link_lists_that_category(client, listed):
    page = parse(client.get("/search?category=A02010105").get_data(as_text=True))
    assert page.one("h1").text == "台式计算机"
    assert page.one("p", class_="result-count").text == "找到 2 件商品"
    assert len(page.find_all("li", class_="product-card")) == 2
    crumbs = page.one("nav", class_="breadcrumbs")
    assert [li.text for li in page.inside(crumbs, "li")] == ["首页", "商品", "台式计算机"]


def test_search_keeps_the_query_in_paging_and_the_header_box(client, listed):
    for model in ("擎云 B730E", "擎云 W515"):
        factories.offer(
            factories.product(listed["desktops"], brand="华为", model=model, name=f"华为 {model}")
        )
    db.session.commit()
    page = parse(client.get("/search?q=华为&per_page=1").get_data(as_text=True))
    assert page.one("h1").text == "“华为”的搜索结果"
    assert page.by_id("site-q").get("value") == "华为"
    assert page.by_id("search-q").get("value") == "华为"
    next_link = page.inside(page.one("nav", class_="pager"), "a", rel="next")[0]
    assert next_link.get("href") == "/search?q=%E5%8D%8E%E4%B8%BA&per_page=1&page=2"


def test_single_page_has_no_pager(client, listed):
    page = parse(client.get("/search").get_data(as_text=True))
    assert not page.find_all("nav", class_="pager")


def test_page_past_the_end_is_an_empty_state(client, listed):
    page = parse(client.get("/search?page=9&per_page=2").get_data(as_text=True))
    assert page.one("div", class_="empty-state")


def test_product_detail_lists_offers_cheapest_first(client, tree):
    product = factories.product(tree["desktops"], energy_saving=True)
    cheap = factories.org(OrgKind.SUPPLIER, name="甲供应商", is_sme=True)
    factories.offer(product, factories.org(OrgKind.SUPPLIER, name="乙供应商"), price=Decimal("5100.00"))
    factories.offer(product, cheap, price=Decimal("4999.00"))
    factories.offer(product, factories.org(OrgKind.SUPPLIER, name="丙供应商"), status=OfferStatus.DRAFT)
    page = parse(client.get(f"/products/{product.id}").get_data(as_text=True))
    table = next(t for t in page.find_all("table") if "供应商报价" in page.inside(t, "caption")[0].text)
    headers = [th.text for th in page.inside(table, "th", scope="col")]
    assert headers == [
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
    rows = [[td.text for td in page.inside(tr, "td")] for tr in page.inside(table, "tr")[1:]]
    assert rows == [
        [
            "甲供应商 中小企业 最低价",
            "¥4,999.00",
            "¥5,299.00",
            "低于市场参考价 ¥300.00（5.7%）",
            "有货",
            "北京市",
            "3 天",
            "12 个月",
            "暂无评价",
            "★★★★★ 100 分",
        ],
        [
            "乙供应商",
            "¥5,100.00",
            "¥5,299.00",
            "低于市场参考价 ¥199.00（3.8%）",
            "有货",
            "北京市",
            "3 天",
            "12 个月",
            "暂无评价",
            "★★★★★ 100 分",
        ],
    ]


@pytest.mark.parametrize(
    ("status", "label"),
    [
        (OfferStatus.DRAFT, "草稿"),
        (OfferStatus.PENDING_REVIEW, "待审核"),
        (OfferStatus.LISTED, "已上架"),
        (OfferStatus.REJECTED, "已驳回"),
        (OfferStatus.DELISTED, "已下架"),
        (OfferStatus.FROZEN, "已冻结"),
    ],
)
def test_supplier_offer_status_labels(client, status, label):
    supplier = factories.org(OrgKind.SUPPLIER)
    user = factories.user(supplier)
    offer = factories.offer(supplier=supplier, status=status)
    login(client, user.username)
    page = parse(client.get("/supplier/offers").get_data(as_text=True))
    badge = page.one("span", class_=f"badge badge-{status.value}")
    assert badge.text == label
    options = [o.text for o in page.find_all("option")]
    assert options == ["全部状态", "草稿", "待审核", "已上架", "已驳回", "已下架", "已冻结"]
    detail = parse(client.get(f"/supplier/offers/{offer.id}").get_data(as_text=True))
    assert {b.text for b in detail.find_all("span", class_=f"badge badge-{status.value}")} == {label}


def test_supplier_offer_filter_keeps_the_selected_status(client):
    supplier = factories.org(OrgKind.SUPPLIER)
    user = factories.user(supplier)
    factories.offer(supplier=supplier, status=OfferStatus.DRAFT)
    login(client, user.username)
    page = parse(client.get("/supplier/offers?status=listed").get_data(as_text=True))
    assert page.one("option", value="listed").has("selected")
    assert page.one("p", class_="result-count").text == "共 0 条报价"
    assert page.one("div", class_="empty-state").text == "暂无报价。没有处于“已上架”状态的报价。"


def test_plan_pages(client):
    purchaser = factories.user()
    plan = factories.plan(purchaser.organization, name="2026年办公设备购置", amount=Decimal("80000.00"))
    plan.reserved = Decimal("20000.00")
    db.session.flush()
    login(client, purchaser.username)
    listing = parse(client.get("/plans/").get_data(as_text=True))
    row = listing.inside(listing.one("table"), "tr")[1]
    assert [c.text for c in listing.inside(row, "th") + listing.inside(row, "td")] == [
        plan.plan_no,
        "2026年办公设备购置",
        purchaser.organization.name,
        "2026",
        "¥80,000.00",
        "¥60,000.00",
        "已批复",
    ]
    detail = parse(client.get(f"/plans/{plan.id}").get_data(as_text=True))
    assert detail.one("h1").text == "2026年办公设备购置"
    assert detail.one("label", for_="budget-used").text == "已使用（预占 + 核销）：25.0%"
    bar = detail.by_id("budget-used")
    assert (bar.tag, bar.get("max"), bar.get("value")) == ("progress", "80000.00", "20000.00")
