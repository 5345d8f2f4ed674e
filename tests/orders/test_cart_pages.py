"""The cart pages: adding from the product and comparison pages, changing quantities, removing,
price changes since an item was added, problems per line, who may use them, and bad input."""

from __future__ import annotations

from decimal import Decimal

import pytest
import sqlalchemy as sa

from app.auth.models import OrgKind, Role
from app.catalog.models import OfferStatus
from app.extensions import db
from app.orders import cart
from app.orders.models import CartItem
from tests import factories
from tests.conftest import csrf_from, login
from tests.orders.helpers import fill_cart, shop
from tests.ui.pages import parse

QUANTITY_MESSAGE = "数量应为 1–9999 之间的整数"


def _items(user) -> list[tuple[int, int, Decimal]]:
    db.session.expire_all()
    return [
        (item.offer_id, item.quantity, item.added_price)
        for item in db.session.scalars(
            sa.select(CartItem).where(CartItem.user_id == user.id).order_by(CartItem.id)
        )
    ]


def _item_id(user, offer) -> int:
    return db.session.scalar(
        sa.select(CartItem.id).where(CartItem.user_id == user.id, CartItem.offer_id == offer.id)
    )


def _flashes(client) -> list[tuple[str, str]]:
    with client.session_transaction() as session:
        return list(session.get("_flashes", []))


@pytest.fixture
def world(db_session):
    return shop()


@pytest.fixture
def buyer(client, world):
    login(client, world.purchaser.username)
    return world.purchaser


# --------------------------------------------------------------------------------------------
# Adding


def test_purchaser_adds_an_offer_from_the_product_page(client, world, buyer):
    offer = world.offers[0]
    url = f"/products/{offer.product_id}"
    page = parse(client.get(url).get_data(as_text=True))
    form = page.one("form", action="/cart/add")
    assert form.get("method") == "post"
    fields = {i.get("name"): i.get("value") for i in page.inside(form, "input")}
    assert fields["offer_id"] == str(offer.id)
    assert fields["quantity"] == "1"
    assert fields["next"] == url
    quantity = page.by_id(f"cart-quantity-{offer.id}")
    assert (quantity.get("type"), quantity.get("min"), quantity.get("max")) == ("number", "1", "9999")
    assert page.one("label", for_=f"cart-quantity-{offer.id}")

    data = {**fields, "quantity": "2"}
    response = client.post("/cart/add", data=data)
    assert response.status_code == 302
    assert response.headers["Location"] == url
    assert _items(buyer) == [(offer.id, 2, Decimal("3000.00"))]
    assert ("success", f"已加入购物车：{offer.product.name}，共 2 件。") in _flashes(client)

    # The same offer again adds to its line; the header counts lines.
    response = client.post("/cart/add", data={**fields, "quantity": "3"})
    assert response.status_code == 302
    assert _items(buyer) == [(offer.id, 5, Decimal("3000.00"))]
    header = parse(client.get("/").get_data(as_text=True))
    assert header.one("a", class_="cart-link").text == "购物车（1）"
    assert header.one("a", class_="cart-link").get("href") == "/cart"


def test_purchaser_adds_an_offer_from_the_comparison_page(client, world, buyer):
    other = factories.product(world.category)
    factories.offer(other, world.suppliers[1], price=Decimal("2500.00"))
    token = csrf_from(client, "/")
    for product_id in (world.offers[0].product_id, other.id):
        client.post("/compare/add", data={"product_id": product_id, "csrf_token": token})
    page = parse(client.get("/compare").get_data(as_text=True))
    forms = page.find_all("form", action="/cart/add")
    offered = [page.inside(form, "input", name="offer_id")[0].get("value") for form in forms]
    assert str(world.offers[0].id) in offered and len(offered) == 2
    form = forms[offered.index(str(world.offers[0].id))]
    fields = {i.get("name"): i.get("value") for i in page.inside(form, "input")}
    response = client.post("/cart/add", data={**fields, "quantity": "4"})
    assert response.status_code == 302
    assert response.headers["Location"] == "/compare"
    assert _items(buyer) == [(world.offers[0].id, 4, Decimal("3000.00"))]


def test_only_purchasers_see_the_add_to_cart_forms(client, world):
    url = f"/products/{world.offers[0].product_id}"
    assert not parse(client.get(url).get_data(as_text=True)).find_all("form", action="/cart/add")
    login(client, world.approver.username)
    page = parse(client.get(url).get_data(as_text=True))
    assert not page.find_all("form", action="/cart/add")
    assert not page.find_all("a", class_="cart-link")


def test_a_delisted_offer_cannot_be_added(client, world, buyer):
    world.offers[0].status = OfferStatus.DELISTED
    db.session.flush()
    response = client.post(
        "/cart/add",
        data={"offer_id": world.offers[0].id, "quantity": "1", "csrf_token": csrf_from(client, "/")},
    )
    assert response.status_code == 422
    page = parse(response.get_data(as_text=True))
    assert "该报价不存在或已下架，不能加入购物车。" in page.one("div", class_="error-summary").text
    assert _items(buyer) == []


@pytest.mark.parametrize(
    ("quantity", "message"),
    [
        ("-1", QUANTITY_MESSAGE),
        ("0", QUANTITY_MESSAGE),
        ("1.5", QUANTITY_MESSAGE),
        ("abc", QUANTITY_MESSAGE),
        ("10000", QUANTITY_MESSAGE),
        ("99999999999999999999999", QUANTITY_MESSAGE),
        ("", QUANTITY_MESSAGE),
    ],
)
def test_bad_quantities_are_refused_when_adding(client, world, buyer, quantity, message):
    offer = world.offers[0]
    response = client.post(
        "/cart/add",
        data={
            "offer_id": offer.id,
            "quantity": quantity,
            "next": f"/products/{offer.product_id}",
            "csrf_token": csrf_from(client, "/"),
        },
    )
    assert response.status_code == 422
    page = parse(response.get_data(as_text=True))
    summary = page.one("div", class_="error-summary")
    assert summary.text == f"未能加入购物车 数量：{message} 返回继续挑选"
    assert [a.get("href") for a in page.inside(summary, "a")] == [f"/products/{offer.product_id}"]
    assert _items(buyer) == []


def test_adding_past_the_largest_quantity_is_refused(client, world, buyer):
    fill_cart(buyer, (world.offers[0], 9990))
    response = client.post(
        "/cart/add",
        data={"offer_id": world.offers[0].id, "quantity": "10", "csrf_token": csrf_from(client, "/")},
    )
    assert response.status_code == 422
    assert "数量应为 1–9999 之间的整数。" in response.get_data(as_text=True)
    assert _items(buyer) == [(world.offers[0].id, 9990, Decimal("3000.00"))]


def test_a_full_cart_takes_no_new_line_but_its_lines_may_grow(client, world, buyer, monkeypatch):
    monkeypatch.setattr(cart, "MAX_CART_ITEMS", 2)
    extra = factories.offer(factories.product(world.category), world.suppliers[0], stock=1000)
    fill_cart(buyer, (world.offers[0], 1), (world.offers[1], 1))
    token = csrf_from(client, "/")
    response = client.post("/cart/add", data={"offer_id": extra.id, "quantity": "1", "csrf_token": token})
    assert response.status_code == 422
    assert "购物车最多 2 项，请先提交或移除一些商品。" in response.get_data(as_text=True)
    response = client.post(
        "/cart/add", data={"offer_id": world.offers[1].id, "quantity": "4", "csrf_token": token}
    )
    assert response.status_code == 302
    assert _items(buyer) == [
        (world.offers[0].id, 1, Decimal("3000.00")),
        (world.offers[1].id, 5, Decimal("2000.00")),
    ]


def test_add_needs_a_csrf_token(client, world, buyer):
    response = client.post("/cart/add", data={"offer_id": world.offers[0].id, "quantity": "1"})
    assert response.status_code == 400
    assert _items(buyer) == []


def test_add_goes_back_only_to_this_site(client, world, buyer):
    response = client.post(
        "/cart/add",
        data={
            "offer_id": world.offers[0].id,
            "next": "https://evil.example/",
            "csrf_token": csrf_from(client, "/"),
        },
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/cart"
    assert _items(buyer) == [(world.offers[0].id, 1, Decimal("3000.00"))]


# --------------------------------------------------------------------------------------------
# The cart page


def test_cart_groups_lines_by_supplier_with_subtotals_and_a_grand_total(client, world, buyer):
    extra = factories.offer(
        factories.product(world.category, name="华为 打印机"), world.suppliers[0], price=Decimal("1234.50")
    )
    fill_cart(buyer, (world.offers[0], 2), (world.offers[1], 3), (extra, 1))
    response = client.get("/cart")
    assert response.status_code == 200
    page = parse(response.get_data(as_text=True))
    groups = page.find_all("section", class_="cart-group")
    expected = sorted(
        [
            (world.suppliers[0].name, ["¥6,000.00", "¥1,234.50"], "¥7,234.50"),
            (world.suppliers[1].name, ["¥6,000.00"], "¥6,000.00"),
        ]
    )
    found = [
        (
            page.inside(group, "h2")[0].text,
            [td.text for td in page.inside(group, "td", class_="num line-amount")],
            page.inside(group, "td", class_="num group-total")[0].text,
        )
        for group in groups
    ]
    assert sorted(found) == expected
    assert page.one("dd", class_="grand-total").text == "¥13,234.50"
    assert page.one("a", href="/cart/checkout").text == "去结算"
    assert not page.find_all("section", class_="price-changes")


def test_empty_cart_links_to_the_search(client, buyer):
    page = parse(client.get("/cart").get_data(as_text=True))
    empty = page.one("div", class_="empty-state")
    assert page.inside(empty, "p", class_="empty-title")[0].text == "购物车是空的"
    assert page.inside(empty, "a")[0].get("href") == "/search"
    assert not page.find_all("a", href="/cart/checkout")


def test_change_quantity(client, world, buyer):
    fill_cart(buyer, (world.offers[0], 2))
    item_id = _item_id(buyer, world.offers[0])
    page = parse(client.get("/cart").get_data(as_text=True))
    form = page.one("form", action="/cart/quantity")
    fields = {i.get("name"): i.get("value") for i in page.inside(form, "input")}
    assert (fields["item_id"], fields["quantity"]) == (str(item_id), "2")
    response = client.post("/cart/quantity", data={**fields, "quantity": "7"})
    assert response.status_code == 302
    assert response.headers["Location"] == "/cart"
    assert _items(buyer) == [(world.offers[0].id, 7, Decimal("3000.00"))]
    page = parse(client.get("/cart").get_data(as_text=True))
    assert page.one("td", class_="num line-amount").text == "¥21,000.00"


@pytest.mark.parametrize(
    ("quantity", "message"),
    [("-3", QUANTITY_MESSAGE), ("0", QUANTITY_MESSAGE), ("2.5", QUANTITY_MESSAGE), ("二", QUANTITY_MESSAGE),
     ("", "请填写数量")],
)  # fmt: skip
def test_bad_quantities_are_refused_when_changing(client, world, buyer, quantity, message):
    fill_cart(buyer, (world.offers[0], 2))
    item_id = _item_id(buyer, world.offers[0])
    response = client.post(
        "/cart/quantity",
        data={"item_id": item_id, "quantity": quantity, "csrf_token": csrf_from(client, "/cart")},
    )
    assert response.status_code == 422
    page = parse(response.get_data(as_text=True))
    assert page.by_id(f"quantity-{item_id}-error").text == f"错误：{message}"
    assert page.by_id(f"quantity-{item_id}").get("aria-invalid") == "true"
    assert _items(buyer) == [(world.offers[0].id, 2, Decimal("3000.00"))]


def test_another_users_cart_line_cannot_be_changed_or_removed(client, world, buyer):
    colleague = factories.user(world.unit, Role.PURCHASER)
    fill_cart(colleague, (world.offers[0], 2))
    theirs = _item_id(colleague, world.offers[0])
    token = csrf_from(client, "/cart")
    response = client.post("/cart/quantity", data={"item_id": theirs, "quantity": "9", "csrf_token": token})
    assert response.status_code == 422
    assert "购物车中没有这一项。" in response.get_data(as_text=True)
    response = client.post("/cart/remove", data={"item_id": theirs, "csrf_token": token})
    assert response.status_code == 422
    assert "购物车中没有这一项。" in response.get_data(as_text=True)
    assert _items(colleague) == [(world.offers[0].id, 2, Decimal("3000.00"))]


def test_remove_a_line(client, world, buyer):
    fill_cart(buyer, (world.offers[0], 2), (world.offers[1], 1))
    item_id = _item_id(buyer, world.offers[0])
    response = client.post(
        "/cart/remove", data={"item_id": item_id, "csrf_token": csrf_from(client, "/cart")}
    )
    assert response.status_code == 302
    assert _items(buyer) == [(world.offers[1].id, 1, Decimal("2000.00"))]
    assert ("success", "已从购物车移除。") in _flashes(client)


def test_clearing_the_cart_asks_for_confirmation_first(client, world, buyer):
    fill_cart(buyer, (world.offers[0], 2), (world.offers[1], 1))
    token = csrf_from(client, "/cart")
    response = client.post("/cart/clear", data={"csrf_token": token})
    assert response.status_code == 200
    page = parse(response.get_data(as_text=True))
    confirm = page.one("section", class_="notice notice-warning confirm-clear")
    assert "确定要清空购物车吗？" in confirm.text
    assert "购物车中的 2 项商品将全部移除" in confirm.text
    assert page.inside(confirm, "input", name="confirm")[0].get("value") == "1"
    assert len(_items(buyer)) == 2  # nothing happened yet

    response = client.post("/cart/clear", data={"csrf_token": token, "confirm": "1"})
    assert response.status_code == 302
    assert _items(buyer) == []


def test_clear_needs_a_csrf_token(client, world, buyer):
    fill_cart(buyer, (world.offers[0], 2))
    assert client.post("/cart/clear", data={"confirm": "1"}).status_code == 400
    assert len(_items(buyer)) == 1


def test_a_changed_price_is_highlighted_until_acknowledged(client, world, buyer):
    fill_cart(buyer, (world.offers[0], 2), (world.offers[1], 1))
    world.offers[0].price = Decimal("3100.00")
    db.session.flush()
    page = parse(client.get("/cart").get_data(as_text=True))
    changes = page.one("section", class_="notice notice-warning price-changes")
    assert page.inside(changes, "h2")[0].text == "1 项商品的价格在加入购物车后发生了变化"
    assert page.inside(changes, "li")[0].text == (
        f"{world.offers[0].product.name}（{world.suppliers[0].name}）：¥3,000.00 → ¥3,100.00"
    )
    assert page.one("del", class_="price-old").text == "加入时价格¥3,000.00"
    assert page.one("ins", class_="price-new").text == "现价¥3,100.00"
    assert page.one("span", class_="tag tag-up").text == "已涨价"
    assert len(page.find_all("tr", class_="line-changed")) == 1
    form = page.inside(changes, "form")[0]
    assert form.get("action") == "/cart/acknowledge"
    assert page.inside(form, "button")[0].text == "确认新价格"

    response = client.post("/cart/acknowledge", data={"csrf_token": csrf_from(client, "/cart")})
    assert response.status_code == 302
    assert _items(buyer) == [
        (world.offers[0].id, 2, Decimal("3100.00")),
        (world.offers[1].id, 1, Decimal("2000.00")),
    ]
    page = parse(client.get("/cart").get_data(as_text=True))
    assert not page.find_all("section", class_="notice notice-warning price-changes")
    assert not page.find_all("del")


def test_problems_are_shown_per_line_and_block_checkout(client, world, buyer):
    far = factories.offer(
        factories.product(world.category, name="远方商品"), world.suppliers[1], regions=["650000"]
    )
    fill_cart(buyer, (world.offers[0], 2), (world.offers[1], 5), (far, 1))
    world.offers[0].status = OfferStatus.DELISTED
    world.offers[1].stock = 3
    db.session.flush()
    page = parse(client.get("/cart").get_data(as_text=True))
    problems = [li.text for li in page.find_all("li") if li.parent.get("class") == "line-problems"]
    assert sorted(problems) == sorted(
        [
            f"「{world.offers[0].product.name}」已下架，请移除。",
            f"「{world.offers[1].product.name}」库存仅 3，少于所需数量 5。",
            "「远方商品」的供应商不向本单位所在地区供货。",
        ]
    )
    assert len(page.find_all("tr", class_="line-problem")) == 3
    assert not page.find_all("a", href="/cart/checkout")
    assert "处理完上面标出的问题后才能去结算。" in page.one("section", class_="cart-summary").text


# --------------------------------------------------------------------------------------------
# Who may use the cart


CART_URLS = [
    ("GET", "/cart"),
    ("GET", "/cart/checkout"),
    ("GET", "/cart/submitted?key=" + "0" * 32),
    ("POST", "/cart/add"),
    ("POST", "/cart/quantity"),
    ("POST", "/cart/remove"),
    ("POST", "/cart/clear"),
    ("POST", "/cart/acknowledge"),
    ("POST", "/cart/checkout"),
]


@pytest.mark.parametrize(
    ("kind", "role"),
    [
        (OrgKind.PURCHASING_UNIT, Role.APPROVER),
        (OrgKind.SUPPLIER, Role.SUPPLIER),
        (OrgKind.OPERATOR, Role.OPERATOR),
        (OrgKind.REGULATOR, Role.REGULATOR),
        (OrgKind.FINANCE, Role.FINANCE),
    ],
)
def test_only_purchasers_use_the_cart(client, world, kind, role):
    user = factories.user(factories.org(kind), role)
    login(client, user.username)
    token = csrf_from(client, "/")
    for method, url in CART_URLS:
        data = {"csrf_token": token, "offer_id": world.offers[0].id, "quantity": "1", "confirm": "1"}
        response = client.get(url) if method == "GET" else client.post(url, data=data)
        assert response.status_code == 403, (method, url)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(CartItem)) == 0


def test_anonymous_visitors_are_sent_to_log_in(client, world):
    response = client.get("/cart")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")
    response = client.post(
        "/cart/add", data={"offer_id": world.offers[0].id, "csrf_token": csrf_from(client)}
    )
    assert response.status_code == 302
    assert db.session.scalar(sa.select(sa.func.count()).select_from(CartItem)) == 0
