"""The checkout pages: the form (plans offered, rules shown), submitting (one order per supplier,
the budget reserved), and every refusal — another unit's plan, a plan of the wrong year, a stale
cart, a tampered form, a double click, a missing comparison record or splitting reason, bad
fields, no CSRF token — answered with a clear message while nothing is reserved or lost."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
import sqlalchemy as sa
from flask import current_app
from werkzeug.routing import BuildError

from app.auth.models import OrgKind, Role
from app.compare import services as compare_services
from app.extensions import db
from app.orders import checkout
from app.orders.models import CartItem, Order, OrderRule, OrderStatus
from app.oversight.models import Alert, AlertKind
from app.procurement.models import LedgerEntry, PlanStatus, ProcurementPlan
from tests import factories
from tests.conftest import login
from tests.orders.helpers import fill_cart, request_for, shop
from tests.ui.pages import assert_accessible, parse

PHONE_MESSAGE = "请填写有效的手机号（11 位）或带区号的座机号（如 010-12345678）"


@pytest.fixture
def world(db_session):
    return shop()


@pytest.fixture
def buyer(client, world):
    login(client, world.purchaser.username)
    return world.purchaser


def _count(model) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def _form(client) -> tuple[dict[str, str], object]:
    """The checkout form's fields as the page fills them in (hidden fields included)."""
    response = client.get("/cart/checkout")
    assert response.status_code == 200, response.get_data(as_text=True)[-1500:]
    page = parse(response.get_data(as_text=True))
    form = page.one("form", action="/cart/checkout")
    values = {}
    for control in page.inside(form, "input"):
        if control.get("type") == "radio":
            if control.has("checked"):
                values[control.get("name")] = control.get("value")
        else:
            values[control.get("name")] = control.get("value") or ""
    return values, page


def _filled(client, plan, **overrides) -> dict[str, str]:
    values, _page = _form(client)
    values.update(
        {
            "plan_id": str(plan.id),
            "delivery_address": "北京市东城区测试路 1 号 3 层办公室",
            "contact_name": "张三",
            "contact_phone": "13800138000",
        }
    )
    values.update(overrides)
    return values


def _nothing_reserved(*plans) -> None:
    db.session.expire_all()
    assert _count(Order) == 0
    assert _count(LedgerEntry) == 0
    for plan in plans:
        db.session.refresh(plan)
        assert (plan.reserved, plan.consumed) == (Decimal("0.00"), Decimal("0.00"))


def _summary(response) -> str:
    return parse(response.get_data(as_text=True)).one("div", class_="error-summary").text


def _record(user, world):
    other = factories.product(world.category)
    factories.offer(other, world.suppliers[1], price=Decimal("2500.00"))
    with current_app.test_request_context():
        return compare_services.save_record(user, [world.offers[0].product_id, other.id], title="电脑比价")


# --------------------------------------------------------------------------------------------
# The form


def test_checkout_page_shows_the_quote_the_rules_and_a_fresh_key(client, world, buyer):
    fill_cart(buyer, (world.offers[0], 2), (world.offers[1], 1))
    values, page = _form(client)
    assert re.fullmatch(r"[0-9a-f]{32}", values["checkout_key"])
    with current_app.test_request_context():
        from app.orders import cart

        assert values["fingerprint"] == cart.quote(buyer).fingerprint
    again, _page = _form(client)
    assert again["checkout_key"] != values["checkout_key"]  # one key per page
    assert again["fingerprint"] == values["fingerprint"]
    previews = page.find_all("section", class_="card order-preview")
    assert len(previews) == 2
    assert sorted(page.inside(p, "td", class_="num group-total")[0].text for p in previews) == [
        "¥2,000.00",
        "¥6,000.00",
    ]
    assert page.one("strong", class_="grand-total").text == "¥8,000.00"
    flags = [li.text for li in page.find_all("li") if (li.parent.get("class") or "") == "tags preview-flags"]
    assert flags == ["无需审批，提交后直接发送给供应商确认"] * 2
    # The only plan is offered and chosen; its balance is shown.
    radio = page.one("input", type="radio", name="plan_id")
    assert (radio.get("value"), radio.has("checked")) == (str(world.plan.id), True)
    assert "可用余额 ¥100,000.00（批复 ¥100,000.00）" in page.one("label", for_=f"plan-{world.plan.id}").text
    # The contact defaults to the buyer; the comparison record is optional under ¥10,000.
    assert values["contact_name"] == buyer.display_name
    assert page.one("label", for_="comparison_record_id").text == "比价记录（可选）"
    form = page.one("form", action="/cart/checkout")
    assert form.has("data-submit-once")
    assert [(b.text, b.get("data-busy-label")) for b in page.inside(form, "button")] == [
        ("提交订单", "正在提交…")
    ]


def test_an_empty_cart_goes_back_to_the_cart_page(client, buyer):
    response = client.get("/cart/checkout")
    assert response.status_code == 302
    assert response.headers["Location"] == "/cart"


def test_only_eligible_plans_are_offered(client, world, buyer):
    year = checkout.fiscal_year()
    other_category = factories.category()
    eligible = factories.plan(world.unit, plan_no="PLAN-OK", fiscal_year=year, categories=[world.category])
    refused = {
        "PLAN-LAST-YEAR": factories.plan(world.unit, fiscal_year=year - 1, categories=[world.category]),
        "PLAN-OTHER-CAT": factories.plan(world.unit, fiscal_year=year, categories=[other_category]),
        "PLAN-TOO-SMALL": factories.plan(
            world.unit, fiscal_year=year, amount=Decimal("1000.00"), categories=[world.category]
        ),
        "PLAN-SUSPENDED": factories.plan(
            world.unit, fiscal_year=year, status=PlanStatus.SUSPENDED, categories=[world.category]
        ),
        "PLAN-OTHER-UNIT": factories.plan(factories.org(), fiscal_year=year, categories=[world.category]),
    }
    fill_cart(buyer, (world.offers[0], 1))
    _values, page = _form(client)
    offered = sorted(r.get("value") for r in page.find_all("input", type="radio", name="plan_id"))
    expected = sorted(str(p.id) for p in (eligible, world.plan) if p.fiscal_year == year)
    assert offered == expected
    for plan in refused.values():
        assert not page.find_all("input", value=str(plan.id), name="plan_id")


def test_without_an_eligible_plan_the_page_says_why(client, world, buyer):
    year = checkout.fiscal_year()
    world.plan.fiscal_year = year - 1
    small = factories.plan(world.unit, plan_no="PLAN-SMALL", fiscal_year=year, amount=Decimal("1000.00"))
    db.session.flush()
    fill_cart(buyer, (world.offers[0], 1))
    response = client.get("/cart/checkout")
    assert response.status_code == 200
    page = parse(response.get_data(as_text=True))
    assert not page.find_all("input", type="radio")
    assert not page.inside(page.one("form", action="/cart/checkout"), "button")
    reasons = {li.text for li in page.find_all("li") if li.parent.get("class") == "plan-reasons"}
    assert reasons == {
        f"{world.plan.plan_no} {world.plan.name}：属于 {year - 1} 年度，只能使用 {year} 年度的计划",
        f"PLAN-SMALL {small.name}：不包含品目：{world.category.name}；"
        "可用余额 ¥1,000.00，不足以支付 ¥3,000.00",
    }


def test_approval_and_comparison_are_announced_and_over_the_ceiling_is_refused(client, world, buyer):
    world.offers[0].price = Decimal("60000.00")
    world.offers[1].price = Decimal("80000.00")
    world.plan.amount = Decimal("1000000.00")
    db.session.flush()
    fill_cart(buyer, (world.offers[0], 1))
    values, page = _form(client)
    flags = [li.text for li in page.find_all("li") if (li.parent.get("class") or "") == "tags preview-flags"]
    assert flags == ["超过 ¥50,000.00，提交后须经本单位审批人审批", "超过 ¥10,000.00，须附比价记录"]
    assert page.one("label", for_="comparison_record_id").text == "比价记录"
    assert page.by_id("comparison_record_id").has("required")

    fill_cart(buyer, (world.offers[1], 3))  # ¥240,000 to one supplier
    response = client.get("/cart/checkout")
    page = parse(response.get_data(as_text=True))
    refused = page.one("div", class_="notice notice-warning over-ceiling")
    assert f"{world.suppliers[1].name}：¥240,000.00，直购限额 ¥200,000.00" in refused.text
    assert not page.find_all("form", action="/cart/checkout")
    # Posting anyway is refused too.
    values.update(
        fingerprint=_fingerprint(buyer),
        plan_id=str(world.plan.id),
        delivery_address="北京市东城区测试路 1 号",
        contact_phone="13800138000",
    )
    response = client.post("/cart/checkout", data=values)
    assert response.status_code == 409
    assert "订单金额超过直购限额，须采用竞争性采购方式（如竞价、询价），不能直接下单。" in _summary(response)
    _nothing_reserved(world.plan)


def _fingerprint(user) -> str:
    with current_app.test_request_context():
        from app.orders import cart

        return cart.quote(user).fingerprint


# --------------------------------------------------------------------------------------------
# Submitting


def test_checkout_creates_one_order_per_supplier_and_reserves_the_budget(client, world, buyer):
    fill_cart(buyer, (world.offers[0], 2), (world.offers[1], 1))
    data = _filled(client, world.plan, note="请工作日送货")
    response = client.post("/cart/checkout", data=data)
    assert response.status_code == 303, response.get_data(as_text=True)[-2000:]
    assert response.headers["Location"] == f"/cart/submitted?key={data['checkout_key']}"
    db.session.expire_all()
    orders = db.session.scalars(sa.select(Order).order_by(Order.total)).all()
    assert [(o.supplier_id, o.total, o.status) for o in orders] == [
        (world.suppliers[1].id, Decimal("2000.00"), OrderStatus.SUBMITTED),
        (world.suppliers[0].id, Decimal("6000.00"), OrderStatus.SUBMITTED),
    ]
    assert {(o.checkout_key, o.plan_id, o.buyer_id, o.unit_id) for o in orders} == {
        (data["checkout_key"], world.plan.id, buyer.id, world.unit.id)
    }
    assert {(o.delivery_address, o.contact_name, o.contact_phone, o.note) for o in orders} == {
        ("北京市东城区测试路 1 号 3 层办公室", "张三", "13800138000", "请工作日送货")
    }
    db.session.refresh(world.plan)
    assert (world.plan.reserved, world.plan.available) == (Decimal("8000.00"), Decimal("92000.00"))
    assert sorted(e.amount for e in db.session.scalars(sa.select(LedgerEntry))) == [
        Decimal("2000.00"),
        Decimal("6000.00"),
    ]
    assert _count(CartItem) == 0

    page = parse(client.get(response.headers["Location"]).get_data(as_text=True))
    assert page.one("h1").text == "已提交"
    table = page.one("table", class_="data-table submitted-orders")
    links = {a.text: a.get("href") for a in page.inside(table, "a")}
    assert links == {o.number: _order_url(o.id) for o in orders}
    assert "共 2 个订单，合计 ¥8,000.00，已从采购计划" in page.one("p", class_="page-meta").text
    assert "已提交 2 个订单，预算已预占。" in page.one("div", class_="flashes").text
    header = page.one("a", class_="cart-link")
    assert header.text == "购物车"  # emptied


def _order_url(order_id: int) -> str:
    from flask import url_for

    with current_app.test_request_context():
        try:
            return url_for("orders.order_detail", order_id=order_id)
        except BuildError:  # the order pages are another blueprint, maybe not there yet
            return f"/orders/{order_id}"


def test_the_delivery_details_of_the_last_order_are_offered_again(client, world, buyer):
    fill_cart(buyer, (world.offers[0], 1))
    assert client.post("/cart/checkout", data=_filled(client, world.plan)).status_code == 303
    fill_cart(buyer, (world.offers[1], 1))
    values, _page = _form(client)
    assert (values["delivery_address"], values["contact_name"], values["contact_phone"]) == (
        "北京市东城区测试路 1 号 3 层办公室",
        "张三",
        "13800138000",
    )


def test_a_double_submit_makes_one_set_of_orders(client, world, buyer):
    fill_cart(buyer, (world.offers[0], 2), (world.offers[1], 1))
    data = _filled(client, world.plan)
    first = client.post("/cart/checkout", data=data)
    second = client.post("/cart/checkout", data=data)
    assert (first.status_code, second.status_code) == (303, 303)
    assert first.headers["Location"] == second.headers["Location"]
    assert _count(Order) == 2
    assert _count(LedgerEntry) == 2
    db.session.refresh(world.plan)
    assert world.plan.reserved == Decimal("8000.00")
    page = parse(client.get(second.headers["Location"]).get_data(as_text=True))
    assert len(page.inside(page.one("table", class_="data-table submitted-orders"), "a")) == 2
    assert (
        "这次提交已经处理过，下面是当时生成的订单，没有重复下单。" in page.one("div", class_="flashes").text
    )


def test_another_units_plan_is_refused_and_nothing_is_reserved(client, world, buyer):
    theirs = factories.plan(factories.org(), categories=[world.category], fiscal_year=checkout.fiscal_year())
    fill_cart(buyer, (world.offers[0], 2))
    response = client.post("/cart/checkout", data=_filled(client, theirs))
    assert response.status_code == 422
    page = parse(response.get_data(as_text=True))
    assert page.by_id("plan_id-error").text == "错误：所选采购计划不存在或不属于本单位。"
    assert "采购计划：所选采购计划不存在或不属于本单位。" in _summary(response)
    _nothing_reserved(world.plan, theirs)
    assert _count(CartItem) == 1  # nothing lost


def test_a_plan_of_another_fiscal_year_is_refused(client, world, buyer):
    year = checkout.fiscal_year()
    old = factories.plan(world.unit, fiscal_year=year - 1, categories=[world.category])
    fill_cart(buyer, (world.offers[0], 1))
    response = client.post("/cart/checkout", data=_filled(client, world.plan, plan_id=str(old.id)))
    assert response.status_code == 422
    assert parse(response.get_data(as_text=True)).by_id("plan_id-error").text == (
        f"错误：采购计划 {old.plan_no} 属于 {year - 1} 年度，只能使用 {year} 年度的计划。"
    )
    _nothing_reserved(world.plan, old)
    assert _count(CartItem) == 1


def test_a_price_change_after_the_checkout_page_is_a_conflict(client, world, buyer):
    fill_cart(buyer, (world.offers[0], 2))
    data = _filled(client, world.plan)
    world.offers[0].price = Decimal("3100.00")
    db.session.flush()
    response = client.post("/cart/checkout", data=data)
    assert response.status_code == 409
    summary = _summary(response)
    assert "购物车的商品、数量或价格已变化，请核对后重新提交。" in summary
    assert f"「{world.offers[0].product.name}」现价 ¥3,100.00（加入时 ¥3,000.00）" in summary
    page = parse(response.get_data(as_text=True))
    assert page.one("p", class_="notice notice-warning stale-notice")
    assert page.one("ins", class_="price-new").text == "现价¥3,100.00"
    _nothing_reserved(world.plan)
    # The page shows the new quote with a new key; what the buyer typed is kept.
    form = page.one("form", action="/cart/checkout")
    fields = {i.get("name"): i.get("value") for i in page.inside(form, "input") if i.get("type") != "radio"}
    assert fields["fingerprint"] == _fingerprint(buyer) != data["fingerprint"]
    assert fields["checkout_key"] != data["checkout_key"]
    assert fields["delivery_address"] == data["delivery_address"]
    # Submitting what is shown now succeeds, at the new price.
    response = client.post("/cart/checkout", data={**data, **fields, "plan_id": str(world.plan.id)})
    assert response.status_code == 303
    assert db.session.scalars(sa.select(Order.total)).all() == [Decimal("6200.00")]


def test_a_quantity_changed_in_another_tab_is_a_conflict(client, world, buyer):
    fill_cart(buyer, (world.offers[0], 2))
    data = _filled(client, world.plan)
    fill_cart(buyer, (world.offers[0], 1))
    response = client.post("/cart/checkout", data=data)
    assert response.status_code == 409
    _nothing_reserved(world.plan)
    assert _count(CartItem) == 1


def test_a_tampered_fingerprint_is_a_conflict(client, world, buyer):
    fill_cart(buyer, (world.offers[0], 2))
    data = _filled(client, world.plan, fingerprint="0" * 32)
    response = client.post("/cart/checkout", data=data)
    assert response.status_code == 409
    assert "购物车的商品、数量或价格已变化，请核对后重新提交。" in _summary(response)
    _nothing_reserved(world.plan)


def test_prices_in_the_form_are_ignored(client, world, buyer):
    fill_cart(buyer, (world.offers[0], 2))
    data = _filled(client, world.plan, unit_price="1.00", total="2.00", price="1.00")
    assert client.post("/cart/checkout", data=data).status_code == 303
    assert db.session.scalars(sa.select(Order.total)).all() == [Decimal("6000.00")]


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"plan_id": ""}, "plan_id", "请选择采购计划"),
        ({"plan_id": "abc"}, "plan_id", "请选择采购计划"),
        ({"plan_id": "-4"}, "plan_id", "编号无效"),
        ({"delivery_address": "  "}, "delivery_address", "请填写收货地址"),
        ({"delivery_address": "北京"}, "delivery_address", "收货地址应为 5–300 个字符"),
        ({"contact_name": ""}, "contact_name", "请填写联系人"),
        ({"contact_phone": "12345"}, "contact_phone", PHONE_MESSAGE),
        ({"contact_phone": "1380013800a"}, "contact_phone", PHONE_MESSAGE),
        ({"comparison_record_id": "x"}, "comparison_record_id", "请选择比价记录"),
        ({"note": "长" * 1001}, "note", "备注不能超过 1000 个字符"),
        ({"checkout_key": "not-a-key"}, "checkout_key", "表单已失效，请重新打开结算页面"),
    ],
)  # fmt: skip
def test_bad_fields_are_refused_with_a_message_at_the_field(client, world, buyer, overrides, field, message):
    fill_cart(buyer, (world.offers[0], 2))
    response = client.post("/cart/checkout", data=_filled(client, world.plan, **overrides))
    assert response.status_code == 422
    page = parse(response.get_data(as_text=True))
    error = page.by_id(f"{field}-error")
    if error is not None:
        assert error.text == f"错误：{message}"
    assert message in _summary(response)
    _nothing_reserved(world.plan)
    assert _count(CartItem) == 1


@pytest.mark.parametrize(
    "phone", ["13800138000", "+86 13800138000", "010-12345678", "0755-1234567", "01012345678"]
)
def test_phone_formats_that_are_accepted(client, world, buyer, phone):
    fill_cart(buyer, (world.offers[0], 1))
    assert (
        client.post("/cart/checkout", data=_filled(client, world.plan, contact_phone=phone)).status_code
        == 303
    )


def test_checkout_needs_a_csrf_token(client, world, buyer):
    fill_cart(buyer, (world.offers[0], 2))
    data = _filled(client, world.plan)
    del data["csrf_token"]
    assert client.post("/cart/checkout", data=data).status_code == 400
    _nothing_reserved(world.plan)


# --------------------------------------------------------------------------------------------
# Rules: comparison records and the anti-splitting guard


def test_a_comparison_record_is_required_above_the_threshold(client, world, buyer):
    fill_cart(buyer, (world.offers[0], 4))  # ¥12,000 to one supplier
    response = client.post("/cart/checkout", data=_filled(client, world.plan))
    assert response.status_code == 422
    assert parse(response.get_data(as_text=True)).by_id("comparison_record_id-error").text == (
        "错误：订单金额超过 ¥10,000.00，须附比价记录作为比价依据。"
    )
    _nothing_reserved(world.plan)

    # Another unit's record does not count.
    stranger = factories.user(factories.org(OrgKind.PURCHASING_UNIT), Role.PURCHASER)
    theirs = _record(stranger, world)
    data = _filled(client, world.plan, comparison_record_id=str(theirs.id))
    response = client.post("/cart/checkout", data=data)
    assert response.status_code == 422
    assert "所选比价记录不存在或不属于本单位。" in _summary(response)
    _nothing_reserved(world.plan)

    mine = _record(buyer, world)
    _values, page = _form(client)
    options = [o.get("value") for o in page.find_all("option")]
    assert options == ["", str(mine.id)]  # only the unit's own records are offered
    response = client.post(
        "/cart/checkout", data=_filled(client, world.plan, comparison_record_id=str(mine.id))
    )
    assert response.status_code == 303
    order = db.session.scalars(sa.select(Order)).one()
    assert (order.comparison_record_id, order.total) == (mine.id, Decimal("12000.00"))


def test_above_the_approval_threshold_the_order_waits_for_the_approver(client, world, buyer):
    world.offers[0].price = Decimal("60000.00")
    world.plan.amount = Decimal("500000.00")
    db.session.flush()
    fill_cart(buyer, (world.offers[0], 1))
    record = _record(buyer, world)
    response = client.post(
        "/cart/checkout", data=_filled(client, world.plan, comparison_record_id=str(record.id))
    )
    assert response.status_code == 303
    order = db.session.scalars(sa.select(Order)).one()
    assert (order.status, order.needs_approval) == (OrderStatus.PENDING_APPROVAL, True)
    page = parse(client.get(response.headers["Location"]).get_data(as_text=True))
    assert "等待本单位审批人审批" in page.one("table", class_="data-table submitted-orders").text


def test_splitting_warning_requires_a_reason_and_raises_an_alert(client, world, buyer):
    db.session.add(OrderRule(direct_ceiling=Decimal("10000.00")))
    db.session.flush()
    with current_app.test_request_context():
        fill_cart(buyer, (world.offers[0], 2))
        earlier, _replayed = checkout.submit(buyer, request_for(buyer, world.plan))
    fill_cart(buyer, (world.offers[1], 3))  # ¥6,000 + ¥6,000 > ¥10,000 in one category
    _values, page = _form(client)
    warning = page.one("section", class_="notice notice-warning split-warning")
    assert page.inside(warning, "a")[0].text == earlier[0].number
    assert (
        page.inside(warning, "caption")[0].text
        == f"{world.category.name}：近期订单与本次合计 ¥12,000.00，直购限额 ¥10,000.00"
    )
    assert page.by_id("split_reason").has("required")

    response = client.post("/cart/checkout", data=_filled(client, world.plan))
    assert response.status_code == 422
    page = parse(response.get_data(as_text=True))
    assert page.by_id("split_reason-error").text.startswith("错误：本单位近期同品目订单累计将超过直购限额")
    assert f"（{earlier[0].number}）" in _summary(response)
    db.session.expire_all()
    assert _count(Order) == 1
    assert _count(Alert) == 0
    assert _count(CartItem) == 1

    reason = "两个项目分别立项，经费来源不同"
    response = client.post("/cart/checkout", data=_filled(client, world.plan, split_reason=f" {reason} "))
    assert response.status_code == 303
    db.session.expire_all()
    order = db.session.scalars(sa.select(Order).where(Order.id != earlier[0].id)).one()
    assert order.split_reason == reason
    alert = db.session.scalars(sa.select(Alert)).one()
    assert (alert.kind, alert.unit_id, alert.order_id) == (AlertKind.ORDER_SPLITTING, world.unit.id, order.id)
    assert alert.detail["reason"] == reason
    assert alert.detail["orders"] == [earlier[0].number, order.number]


# --------------------------------------------------------------------------------------------
# The result page


def test_the_result_page_is_only_for_the_unit_that_submitted(app, client, world, buyer):
    fill_cart(buyer, (world.offers[0], 1))
    response = client.post("/cart/checkout", data=_filled(client, world.plan))
    assert response.status_code == 303
    url = response.headers["Location"]
    assert client.get(url).status_code == 200
    assert client.get("/cart/submitted?key=" + "f" * 32).status_code == 404
    assert client.get("/cart/submitted?key=nope").status_code == 404
    assert client.get("/cart/submitted").status_code == 404

    stranger = factories.user(factories.org(OrgKind.PURCHASING_UNIT), Role.PURCHASER)
    other = app.test_client()
    login(other, stranger.username)
    assert other.get(url).status_code == 404


def test_a_plan_id_of_a_deleted_or_unknown_plan_is_refused(client, world, buyer):
    fill_cart(buyer, (world.offers[0], 1))
    missing = (db.session.scalar(sa.select(sa.func.max(ProcurementPlan.id))) or 0) + 1000
    response = client.post("/cart/checkout", data=_filled(client, world.plan, plan_id=str(missing)))
    assert response.status_code == 422
    _nothing_reserved(world.plan)


# --------------------------------------------------------------------------------------------
# The pages follow the site's rules (tests/ui, tests/compare/test_accessibility.py)


def test_cart_and_checkout_pages_are_accessible(client, world, buyer):
    found = {}

    def keep(name, response, status=200):
        assert response.status_code == status, (name, response.status_code)
        found[name] = parse(response.get_data(as_text=True))

    keep("cart, empty", client.get("/cart"))
    far = factories.offer(factories.product(world.category), world.suppliers[1], regions=["650000"])
    fill_cart(buyer, (world.offers[0], 2), (world.offers[1], 1), (far, 1))
    world.offers[0].price = Decimal("3100.00")
    db.session.flush()
    keep("cart, changes and problems", client.get("/cart"))
    token = found["cart, empty"].one("input", name="csrf_token").get("value")
    item_id = db.session.scalar(sa.select(CartItem.id).where(CartItem.offer_id == far.id))
    keep(
        "cart, quantity error",
        client.post("/cart/quantity", data={"item_id": item_id, "quantity": "-1", "csrf_token": token}),
        422,
    )
    keep(
        "cart, add error",
        client.post("/cart/add", data={"offer_id": far.id, "quantity": "x", "csrf_token": token}),
        422,
    )
    keep("cart, confirm clear", client.post("/cart/clear", data={"csrf_token": token}))
    keep("checkout, problems", client.get("/cart/checkout"))
    client.post("/cart/remove", data={"item_id": item_id, "csrf_token": token})
    keep("checkout", client.get("/cart/checkout"))
    keep(
        "checkout, field errors",
        client.post("/cart/checkout", data=_filled(client, world.plan, contact_phone="1")),
        422,
    )
    keep(
        "checkout, stale",
        client.post("/cart/checkout", data=_filled(client, world.plan, fingerprint="0" * 32)),
        409,
    )
    response = client.post("/cart/checkout", data=_filled(client, world.plan))
    keep("submitted", client.get(response.headers["Location"]))
    db.session.add(OrderRule(direct_ceiling=Decimal("10000.00")))
    world.plan.fiscal_year -= 1
    db.session.flush()
    fill_cart(buyer, (world.offers[0], 2))
    keep("checkout, splitting and no plan", client.get("/cart/checkout"))
    assert found["checkout, splitting and no plan"].find_all(
        "section", class_="notice notice-warning split-warning"
    )
    for name, page in found.items():
        assert_accessible(name, page)
