"""The public same-item price board (app/oversight/price_board.py): its figures equal a direct
recomputation in Python over the same rows (SQLite and PostgreSQL), only orders that reached
confirmed count (returned ones do not), the 30/90-day windows, the pages (no login, no personal
data), bad input answered 422/404 and never 500, and the rate limit."""

from __future__ import annotations

import itertools
import statistics
import uuid
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

import pytest
import sqlalchemy as sa

from app.auth.models import Organization, OrgKind, Role
from app.catalog.models import Offer
from app.core.db import utcnow
from app.extensions import db
from app.orders.models import Order, OrderLine
from app.orders.models import OrderStatus as S
from app.oversight import price_board
from tests import factories

D = Decimal
_numbers = itertools.count(1)


class Buyers:
    """Purchasing units, each with a purchaser and a plan, made once."""

    def __init__(self):
        self.units: dict[str, tuple[Organization, int, int]] = {}

    def __call__(self, name: str) -> Organization:
        if name not in self.units:
            unit = factories.org(OrgKind.PURCHASING_UNIT, name=name)
            buyer = factories.user(unit, Role.PURCHASER)
            plan = factories.plan(unit)
            self.units[name] = (unit, buyer.id, plan.id)
        return self.units[name][0]

    def ids(self, unit: Organization) -> tuple[int, int]:
        _unit, buyer_id, plan_id = self.units[unit.name]
        return buyer_id, plan_id


def deal(
    buyers: Buyers,
    unit_name: str,
    offer: Offer,
    price: str,
    *,
    days_ago: float,
    quantity: int = 1,
    status: S = S.CONFIRMED,
    now: datetime,
    lines: int = 1,
) -> Order:
    """An order of ``unit_name`` with ``lines`` lines of ``offer`` at ``price``, confirmed
    ``days_ago`` days before ``now`` (never confirmed for submitted/cancelled orders)."""
    unit = buyers(unit_name)
    buyer_id, plan_id = buyers.ids(unit)
    amount = D(price) * quantity
    confirmed = status not in (S.SUBMITTED, S.CANCELLED, S.PENDING_APPROVAL)
    order = Order(
        number=f"DD-TEST-{next(_numbers):06d}",
        checkout_key=uuid.uuid4().hex,
        unit_id=unit.id,
        buyer_id=buyer_id,
        supplier_id=offer.supplier_id,
        plan_id=plan_id,
        status=status,
        total=amount * lines,
        region_code="110000",
        delivery_address="北京市东城区隐私路 8 号",
        contact_name="隐私联系人",
        contact_phone="13800138000",
        submitted_at=now - timedelta(days=days_ago, hours=1),
        confirmed_at=now - timedelta(days=days_ago) if confirmed else None,
    )
    for _ in range(lines):
        order.lines.append(factories.order_line(offer, D(price), quantity))
    db.session.add(order)
    db.session.flush()
    return order


def recompute(product_id: int, days: int, now: datetime) -> price_board.Stats | None:
    """The figures straight from the rows, in Python."""
    since = now - timedelta(days=days)
    rows = [
        (line.unit_price, order.unit_id, order.id)
        for line, order in db.session.execute(
            sa.select(OrderLine, Order).join(Order, OrderLine.order_id == Order.id)
        ).all()
        if line.product_id == product_id
        and order.confirmed_at is not None
        and order.confirmed_at >= since
        and order.status not in (S.RETURNED, S.REJECTED, S.CANCELLED)
    ]
    if not rows:
        return None
    prices = [price for price, _unit, _order in rows]
    return price_board.Stats(
        low=min(prices),
        median=D(statistics.median(prices)).quantize(D("0.01"), rounding=ROUND_HALF_UP),
        high=max(prices),
        lines=len(rows),
        units=len({unit for _price, unit, _order in rows}),
        orders=len({order for _price, _unit, order in rows}),
    )


@pytest.fixture
def market(db_session):
    """Two products with deals of several units over four months, in every kind of status."""
    now = utcnow()
    buyers = Buyers()
    laptop = factories.product(name="成交测试笔记本", brand="联想", model="X1")
    printer = factories.product(name="成交测试打印机", brand="惠普", model="P2")
    quiet = factories.product(name="无成交商品")
    sellers = [factories.org(OrgKind.SUPPLIER, name=f"成交供应商{i}") for i in range(3)]
    laptop_offers = [factories.offer(laptop, s, price=D("5000.00")) for s in sellers]
    printer_offer = factories.offer(printer, sellers[0], price=D("1200.00"))
    factories.offer(quiet, sellers[1])
    a, b, c = laptop_offers
    deal(buyers, "甲单位", a, "4999.00", days_ago=1, now=now)
    deal(buyers, "乙单位", b, "5100.00", days_ago=5, quantity=3, now=now)
    deal(buyers, "丙单位", c, "4800.00", days_ago=12, status=S.COMPLETED, now=now)
    deal(buyers, "甲单位", b, "5050.50", days_ago=29.9, status=S.PAID, now=now, lines=2)
    deal(buyers, "丁单位", a, "4700.00", days_ago=31, status=S.ACCEPTED, now=now)  # 90 days only
    deal(buyers, "乙单位", c, "5300.00", days_ago=60, status=S.SHIPPED, now=now)
    deal(buyers, "戊单位", a, "4100.00", days_ago=91, now=now)  # too old
    deal(buyers, "戊单位", a, "1.00", days_ago=3, status=S.RETURNED, now=now)  # returned: not bought
    deal(buyers, "戊单位", a, "2.00", days_ago=2, status=S.CANCELLED, now=now)  # never confirmed
    deal(buyers, "戊单位", a, "3.00", days_ago=2, status=S.SUBMITTED, now=now)  # not yet confirmed
    deal(buyers, "戊单位", a, "4.00", days_ago=2, status=S.REJECTED, now=now)  # confirmed, then backed out
    deal(buyers, "甲单位", printer_offer, "1199.00", days_ago=40, now=now)
    deal(buyers, "乙单位", printer_offer, "1250.00", days_ago=45, now=now)
    return {"now": now, "laptop": laptop, "printer": printer, "quiet": quiet}


def test_figures_equal_a_direct_recomputation(market):
    now = market["now"]
    ids = [market["laptop"].id, market["printer"].id, market["quiet"].id]
    for days in (30, 90):
        figures = price_board.stats(ids, days, now)
        for product_id in ids:
            assert figures.get(product_id) == recompute(product_id, days, now), (product_id, days)


def test_the_figures_by_hand(market):
    now, laptop, printer = market["now"], market["laptop"].id, market["printer"].id
    # 30 days: 4999.00, 5100.00, 4800.00 and 5050.50 twice (two lines of one order).
    assert price_board.stats([laptop], 30, now)[laptop] == price_board.Stats(
        low=D("4800.00"), median=D("5050.50"), high=D("5100.00"), lines=5, units=3, orders=4
    )
    # 90 days adds 4700.00 and 5300.00: seven lines, the median is the fourth.
    assert price_board.stats([laptop], 90, now)[laptop] == price_board.Stats(
        low=D("4700.00"), median=D("5050.50"), high=D("5300.00"), lines=7, units=4, orders=6
    )
    # Two deals: the median is their mean, rounded half-up to the fen.
    assert price_board.stats([printer], 90, now)[printer] == price_board.Stats(
        low=D("1199.00"), median=D("1224.50"), high=D("1250.00"), lines=2, units=2, orders=2
    )
    assert printer not in price_board.stats([printer], 30, now)
    assert price_board.stats([], 30, now) == {}


@pytest.mark.parametrize(
    ("low", "high", "median"),
    [("0.01", "0.02", "0.02"), ("0.01", "0.04", "0.03"), ("10.00", "10.01", "10.01")],
)
def test_an_even_median_rounds_half_up(low, high, median):
    assert price_board.median_of(D(low), D(high)) == D(median)


def test_the_public_board_lists_products_with_deals(app, market):
    client = app.test_client()  # no login
    response = client.get("/prices")
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert "近 90 天有成交的商品 2 件" in body
    assert "成交测试笔记本" in body and "成交测试打印机" in body and "无成交商品" not in body
    # Ordered by orders in 90 days: the laptop (6) before the printer (2).
    assert body.index("成交测试笔记本") < body.index("成交测试打印机")
    assert "¥4,800.00" in body and "¥5,050.50" in body and "¥1,224.50" in body
    found = client.get("/prices?q=打印").get_data(as_text=True)
    assert "成交测试打印机" in found and "成交测试笔记本" not in found
    by_category = client.get(f"/prices?category={market['printer'].category.code}").get_data(as_text=True)
    assert "成交测试打印机" in by_category and "成交测试笔记本" not in by_category
    by_name = client.get("/prices?sort=name").get_data(as_text=True)
    assert by_name.index("成交测试打印机") < by_name.index("成交测试笔记本")


def test_the_product_page_shows_figures_and_deals_without_personal_data(app, market):
    client = app.test_client()
    response = client.get(f"/prices/{market['laptop'].id}")
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert "甲单位" in body and "成交供应商1" in body
    for private in ("隐私联系人", "13800138000", "隐私路"):
        assert private not in body
    assert "¥4,100.00" not in body  # older than 90 days
    assert "¥1.00" not in body and "¥2.00" not in body and "¥3.00" not in body
    assert body.count('<td class="num">¥5,050.50</td>') == 2 + 2  # the median twice, two lines
    quiet = client.get(f"/prices/{market['quiet'].id}").get_data(as_text=True)
    assert "近 90 天没有成交。" in quiet


@pytest.mark.parametrize(
    "query",
    [
        "page=0",
        "page=51",
        "page=abc",
        "per_page=0",
        "per_page=1000",
        "sort=price;drop",
        "category=中文",
        "category=A123456789",
        "q=" + "长" * 101,
    ],
)
def test_bad_input_is_422_never_500(app, db_session, query):
    response = app.test_client().get(f"/prices?{query}")
    assert response.status_code == 422
    assert "请修改以下问题" in response.get_data(as_text=True)


def test_products_still_in_review_are_not_public(app, db_session):
    hidden = factories.product(name="审核中的新品", is_active=False)
    assert app.test_client().get(f"/prices/{hidden.id}").status_code == 404


def test_unknown_products_are_404(app, db_session):
    client = app.test_client()
    assert client.get("/prices/999999999").status_code == 404
    assert client.get("/prices/abc").status_code == 404
    assert client.get("/prices/99999999999999999999").status_code == 404


def test_unknown_parameters_are_ignored(app, db_session):
    assert app.test_client().get("/prices?evil=1&__proto__=x").status_code == 200


@pytest.fixture
def small_limit(app):
    before = app.config["SEARCH_RATE_LIMIT"]
    app.config["SEARCH_RATE_LIMIT"] = "3 per minute"
    yield
    app.config["SEARCH_RATE_LIMIT"] = before


def test_the_board_is_rate_limited(app, db_session, small_limit):
    product = factories.product()
    client = app.test_client()
    assert [client.get("/prices").status_code for _ in range(3)] == [200, 200, 200]
    limited = client.get("/prices")
    assert limited.status_code == 429
    assert "请求过于频繁" in limited.get_data(as_text=True)
    assert [client.get(f"/prices/{product.id}").status_code for _ in range(3)] == [200, 200, 200]
    assert client.get(f"/prices/{product.id}").status_code == 429
    other = app.test_client()
    assert other.get("/prices", environ_base={"REMOTE_ADDR": "10.9.9.9"}).status_code == 200


def test_the_board_needs_no_login_and_is_in_the_navigation(app, db_session):
    body = app.test_client().get("/").get_data(as_text=True)
    assert '<a href="/prices"' in body
