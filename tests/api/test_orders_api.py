"""The orders API: GET /api/v1/orders, GET /api/v1/orders/{order_id} and
POST /api/v1/orders/{order_id}/transitions — scoped by organization, moved only through the
order's life (lifecycle.transition), illegal moves answered 409 in Chinese with nothing changed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from app.auth.models import OrgKind
from app.core.audit import AuditEvent
from app.extensions import db
from app.orders import checkout
from app.orders.lifecycle import Actor, transition
from app.orders.models import Order, OrderEvent, OrderStatus
from app.orders.payloads import order_payload
from app.payments.models import Payment, PaymentStatus
from app.procurement.models import LedgerEntry, LedgerKind
from app.procurement.services import ledger_sums
from app.webhooks.models import WebhookEvent
from tests import factories
from tests.api.helpers import assert_json_error, bearer, issue
from tests.orders.helpers import fill_cart, request_for, shop


@pytest.fixture
def world(db_session):
    """One checkout: orders[0] to suppliers[0] (¥6,000.00), orders[1] to suppliers[1] (¥2,000.00)."""
    world = shop()
    fill_cart(world.purchaser, (world.offers[0], 2), (world.offers[1], 1))
    orders, _ = checkout.submit(
        world.purchaser, request_for(world.purchaser, world.plan, note="请工作日送货")
    )
    world.orders = sorted(orders, key=lambda o: o.supplier_id != world.suppliers[0].id)
    world.tokens = {
        "unit": issue(world.unit),
        "supplier0": issue(world.suppliers[0]),
        "supplier1": issue(world.suppliers[1]),
        "finance": issue(factories.org(OrgKind.FINANCE)),
        "operator": issue(factories.org(OrgKind.OPERATOR)),
        "regulator": issue(factories.org(OrgKind.REGULATOR)),
        "other_unit": issue(factories.org(OrgKind.PURCHASING_UNIT)),
        "other_supplier": issue(factories.org(OrgKind.SUPPLIER)),
    }
    return world


def get(client, url, token, status=200):
    response = client.get(url, headers=bearer(token))
    assert response.status_code == status, response.get_data(as_text=True)[:800]
    return response.get_json()


def move(client, order, token, **payload):
    return client.post(f"/api/v1/orders/{order.id}/transitions", json=payload, headers=bearer(token))


def history(order) -> list[tuple]:
    return db.session.execute(
        sa.select(OrderEvent.from_status, OrderEvent.to_status, OrderEvent.actor_label, OrderEvent.note)
        .where(OrderEvent.order_id == order.id)
        .order_by(OrderEvent.id)
    ).all()


def event_types(order) -> list[str]:
    return db.session.scalars(
        sa.select(WebhookEvent.type)
        .where(WebhookEvent.subject == order.number)
        .order_by(WebhookEvent.created_at)
    ).all()


def status_of(order) -> OrderStatus:
    return db.session.scalar(sa.select(Order.status).where(Order.id == order.id))


# --------------------------------------------------------------------------------------------
# Reading


def test_each_organization_lists_exactly_the_orders_it_may_see(client, world):
    first, second = (o.number for o in world.orders)
    expected = {
        "unit": [first, second],
        "supplier0": [first],
        "supplier1": [second],
        "finance": [first, second],
        "operator": [first, second],
        "regulator": [first, second],
        "other_unit": [],
        "other_supplier": [],
    }
    for name, numbers in expected.items():
        body = get(client, "/api/v1/orders", world.tokens[name])
        assert sorted(o["order_no"] for o in body["data"]) == sorted(numbers), name
        assert body["pagination"]["total"] == len(numbers), name


def test_a_listed_order_is_the_event_payload_plus_delivery_and_no_float(client, world):
    order = world.orders[0]
    [data] = get(client, "/api/v1/orders", world.tokens["supplier0"])["data"]
    expected = {
        "id": order.id,
        **order_payload(order),
        "delivery": {
            "address": "北京市东城区测试路 1 号",
            "contact_name": "张三",
            "contact_phone": "010-12345678",
        },
        "note": "请工作日送货",
    }
    assert {k: v for k, v in data.items() if k != "updated_at"} == expected
    assert data["total"] == "6000.00"
    assert data["lines"][0]["unit_price"] == "3000.00"
    assert data["lines"][0]["quantity"] == 2
    assert data["status"] == "submitted"
    assert datetime.fromisoformat(data["updated_at"]) == order.updated_at


def test_the_detail_adds_budget_check_history_and_what_the_caller_may_do(client, world):
    order = world.orders[0]
    data = get(client, f"/api/v1/orders/{order.id}", world.tokens["supplier0"])["data"]
    assert data["order_no"] == order.number
    assert data["budget_check"] == {
        "source": "local",
        "approved": True,
        "reason": "",
        "latency_ms": 0,
        "attempts": 0,
    }
    [created] = data["history"]
    assert {k: v for k, v in created.items() if k != "created_at"} == {
        "from_status": None,
        "to_status": "submitted",
        "actor": world.purchaser.display_name,
        "note": "提交订单",
    }
    assert data["allowed_transitions"] == ["confirmed", "rejected"]
    # Readers that may not move this order now are told so.
    for name in ("unit", "finance", "operator", "regulator"):
        assert (
            get(client, f"/api/v1/orders/{order.id}", world.tokens[name])["data"]["allowed_transitions"] == []
        )


@pytest.mark.parametrize("name", ["other_unit", "other_supplier", "supplier1"])
def test_an_order_of_someone_else_is_404_and_tells_nothing(client, world, name):
    order = world.orders[0]
    body = assert_json_error(
        client.get(f"/api/v1/orders/{order.id}", headers=bearer(world.tokens[name])), 404
    )
    assert order.number not in str(body)
    assert body["message"] == "订单不存在。"


def test_filters_by_status_and_since_and_pages(client, world):
    first, second = world.orders
    first.updated_at = datetime(2026, 11, 1, 8, 0, tzinfo=UTC)
    second.updated_at = datetime(2026, 11, 2, 8, 0, tzinfo=UTC)
    db.session.flush()
    token = world.tokens["finance"]

    def numbers(query):
        return [o["order_no"] for o in get(client, f"/api/v1/orders?{query}", token)["data"]]

    assert numbers("") == [first.number, second.number]  # oldest change first
    assert numbers("since=2026-11-01T08:00:01Z") == [second.number]
    assert numbers("since=2026-11-02T16:00:00%2B08:00") == [second.number]  # the same instant in Beijing
    assert numbers("since=2026-11-02T08:00:00") == [second.number]  # without a zone: UTC
    assert numbers("since=2026-11-02T08:00:01Z") == []
    assert numbers("status=submitted&per_page=1&page=2") == [second.number]
    assert numbers("status=confirmed") == []
    page = get(client, "/api/v1/orders?per_page=1", token)
    assert page["pagination"] == {"page": 1, "per_page": 1, "total": 2, "pages": 2}


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ("status=shipping", "status", "状态取值无效"),
        ("since=yesterday", "since", "日期时间格式不正确"),
        ("since=0001-01-01T00:00:00%2B08:00", "since", "时间应在 2000–2100 年之间"),
        ("per_page=500", "per_page", "每页数量应在 1–100 之间"),
    ],
)
def test_bad_filters_are_422_in_chinese(client, world, query, field, message):
    response = client.get(f"/api/v1/orders?{query}", headers=bearer(world.tokens["finance"]))
    body = assert_json_error(response, 422)
    assert body["errors"] == {"query": {field: [message]}}


def test_reading_needs_orders_read(client, world):
    token = issue(world.suppliers[0], scopes=["catalog:read"])
    body = assert_json_error(client.get("/api/v1/orders", headers=bearer(token)), 403)
    assert "orders:read" in body["message"]
    assert_json_error(client.get("/api/v1/orders"), 401)


# --------------------------------------------------------------------------------------------
# The supplier's ERP moves its orders


def test_the_supplier_confirms_ships_and_delivers(client, world):
    order = world.orders[0]
    token = world.tokens["supplier0"]
    label = f"{world.suppliers[0].name}（接口）"

    response = move(client, order, token, to="confirmed", note="已安排备货")
    assert response.status_code == 200, response.get_data(as_text=True)
    data = response.get_json()["data"]
    assert data["status"] == "confirmed"
    assert data["allowed_transitions"] == ["shipped", "rejected"]
    assert data["history"][-1]["to_status"] == "confirmed"
    assert data["history"][-1]["actor"] == label
    assert data["confirmed_at"] is not None

    body = assert_json_error(move(client, order, token, to="shipped"), 422)
    assert body["errors"] == {"json": {"tracking_number": ["发货须填写物流单号"]}}
    assert status_of(order) is OrderStatus.CONFIRMED

    data = move(client, order, token, to="shipped", tracking_number=" SF1234567890 ").get_json()["data"]
    assert (data["status"], data["tracking_number"]) == ("shipped", "SF1234567890")
    data = move(client, order, token, to="delivered").get_json()["data"]
    assert data["status"] == "delivered"
    assert data["delivered_at"] is not None

    assert history(order) == [
        (None, "submitted", world.purchaser.display_name, "提交订单"),
        ("submitted", "confirmed", label, "已安排备货"),
        ("confirmed", "shipped", label, ""),
        ("shipped", "delivered", label, ""),
    ]
    assert event_types(order) == [
        "budget.reserved",
        "order.submitted",
        "order.confirmed",
        "order.shipped",
        "order.delivered",
    ]
    audits = db.session.scalars(
        sa.select(AuditEvent).where(AuditEvent.action == "orders.api_transition").order_by(AuditEvent.id)
    ).all()
    assert [(a.detail["from_status"], a.detail["to_status"]) for a in audits] == [
        ("submitted", "confirmed"),
        ("confirmed", "shipped"),
        ("shipped", "delivered"),
    ]
    assert {a.organization_id for a in audits} == {world.suppliers[0].id}


def test_a_rejection_needs_a_reason_and_releases_the_budget(client, world):
    order = world.orders[0]
    token = world.tokens["supplier0"]
    body = assert_json_error(move(client, order, token, to="rejected", note="  "), 422)
    assert body["errors"] == {"json": {"note": ["此状态变更须填写原因"]}}
    assert status_of(order) is OrderStatus.SUBMITTED
    assert db.session.scalar(sa.select(sa.func.count()).where(LedgerEntry.kind == LedgerKind.RELEASE)) == 0

    data = move(client, order, token, to="rejected", note="该型号已停产").get_json()["data"]
    assert data["status"] == "rejected"
    assert data["history"][-1]["note"] == "该型号已停产"
    plan = world.plan
    db.session.refresh(plan)
    assert plan.reserved == Decimal("2000.00")  # only the other supplier's order is still reserved
    assert plan.released == Decimal("6000.00")
    assert ledger_sums(plan.id) == {
        "reserved": Decimal("2000.00"),
        "released": Decimal("6000.00"),
        "consumed": Decimal("0.00"),
    }
    assert event_types(order)[-2:] == ["budget.released", "order.rejected"]


def test_an_illegal_move_is_409_in_chinese_and_changes_nothing(client, world):
    order = world.orders[0]
    token = world.tokens["supplier0"]
    assert move(client, order, token, to="confirmed").status_code == 200
    before = (history(order), event_types(order))

    body = assert_json_error(move(client, order, token, to="confirmed"), 409)
    assert body["message"] == f"订单 {order.number} 当前为「已确认」，不能变为「已确认」。"
    body = assert_json_error(move(client, order, token, to="paid"), 409)
    assert body["message"] == f"订单 {order.number} 当前为「已确认」，不能变为「已支付」。"
    # An edge that exists, but not for a supplier.
    order2 = world.orders[1]
    body = assert_json_error(move(client, order2, world.tokens["supplier1"], to="cancelled", note="x"), 409)
    assert body["message"] == f"您无权将订单 {order2.number} 从「待供应商确认」变为「已取消」。"

    assert status_of(order) is OrderStatus.CONFIRMED
    assert status_of(order2) is OrderStatus.SUBMITTED
    assert (history(order), event_types(order)) == before
    assert len(history(order2)) == 1


def test_confirming_after_the_deadline_is_409(client, world):
    order = world.orders[0]
    order.confirm_due_at = datetime.now(UTC) - timedelta(minutes=1)
    db.session.flush()
    body = assert_json_error(move(client, order, world.tokens["supplier0"], to="confirmed"), 409)
    assert body["message"] == f"订单 {order.number} 已超过确认时限，不能再确认。"
    assert status_of(order) is OrderStatus.SUBMITTED


@pytest.mark.parametrize("name", ["other_supplier", "supplier1"])
def test_another_suppliers_order_is_404_and_stays(client, world, name):
    order = world.orders[0]
    assert_json_error(move(client, order, world.tokens[name], to="confirmed"), 404)
    assert status_of(order) is OrderStatus.SUBMITTED
    assert len(history(order)) == 1


@pytest.mark.parametrize("name", ["unit", "operator", "regulator"])
def test_readers_without_orders_write_cannot_move_orders(client, world, name):
    order = world.orders[0]
    body = assert_json_error(move(client, order, world.tokens[name], to="cancelled", note="不要了"), 403)
    assert "orders:write" in body["message"]
    assert status_of(order) is OrderStatus.SUBMITTED


@pytest.mark.parametrize(
    ("payload", "errors"),
    [
        ({"to": "done"}, {"to": ["目标状态取值无效"]}),
        ({}, {"to": ["请填写目标状态 to"]}),
        ({"to": "confirmed", "status": "paid"}, {"status": ["未知字段"]}),
        ({"to": "shipped", "tracking_number": "T" * 65}, {"tracking_number": ["物流单号应为 1–64 个字符"]}),
        ({"to": "rejected", "note": "很" * 1001}, {"note": ["说明不能超过 1000 个字符"]}),
    ],
)
def test_bad_transition_bodies_are_422(client, world, payload, errors):
    order = world.orders[0]
    body = assert_json_error(move(client, order, world.tokens["supplier0"], **payload), 422)
    assert body["errors"] == {"json": errors}
    assert status_of(order) is OrderStatus.SUBMITTED


def test_a_transition_body_must_be_json(client, world):
    order = world.orders[0]
    response = client.post(
        f"/api/v1/orders/{order.id}/transitions",
        data="to=confirmed",
        headers=bearer(world.tokens["supplier0"]),
    )
    assert_json_error(response, 415)
    assert status_of(order) is OrderStatus.SUBMITTED


def test_a_retried_transition_with_the_same_idempotency_key_is_replayed(client, world):
    order = world.orders[0]
    headers = {**bearer(world.tokens["supplier0"]), "Idempotency-Key": "erp-7f3a-confirm"}
    url = f"/api/v1/orders/{order.id}/transitions"
    first = client.post(url, json={"to": "confirmed"}, headers=headers)
    again = client.post(url, json={"to": "confirmed"}, headers=headers)
    assert first.status_code == again.status_code == 200
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.get_json() == first.get_json()
    assert [row[1] for row in history(order)] == ["submitted", "confirmed"]
    assert event_types(order).count("order.confirmed") == 1


# --------------------------------------------------------------------------------------------
# The finance system marks the payment steps


def _accepted(world, order):
    supplier = Actor.of_user(world.supplier_users[0])
    transition(order, OrderStatus.CONFIRMED, supplier)
    transition(order, OrderStatus.SHIPPED, supplier, tracking_number="SF1")
    transition(order, OrderStatus.DELIVERED, supplier)
    transition(order, OrderStatus.ACCEPTED, Actor.of_user(world.purchaser))
    db.session.flush()


def test_finance_starts_and_confirms_payment_and_the_budget_is_consumed(client, world):
    order = world.orders[0]
    _accepted(world, order)
    token = world.tokens["finance"]
    assert get(client, f"/api/v1/orders/{order.id}", token)["data"]["allowed_transitions"] == [
        "payment_pending"
    ]

    data = move(client, order, token, to="payment_pending").get_json()["data"]
    assert data["status"] == "payment_pending"
    assert data["allowed_transitions"] == ["paid"]
    # The provider declined; the treasury then paid the supplier directly and finance says so.
    db.session.execute(
        sa.update(Payment).where(Payment.order_id == order.id).values(status=PaymentStatus.FAILED)
    )
    response = move(client, order, token, to="paid", note="国库集中支付 2026-0001")
    assert response.status_code == 200, response.get_data(as_text=True)
    data = response.get_json()["data"]
    assert data["status"] == "paid"
    assert data["paid_at"] is not None
    plan = world.plan
    db.session.refresh(plan)
    assert (plan.reserved, plan.consumed, plan.released) == (
        Decimal("2000.00"),
        Decimal("6000.00"),
        Decimal("0.00"),
    )
    assert ledger_sums(plan.id) == {
        "reserved": Decimal("2000.00"),
        "released": Decimal("0.00"),
        "consumed": Decimal("6000.00"),
    }
    assert event_types(order)[-3:] == ["order.payment_pending", "budget.consumed", "order.paid"]


def test_finance_cannot_mark_paid_while_a_provider_payment_is_in_flight(client, world):
    order = world.orders[0]
    _accepted(world, order)
    token = world.tokens["finance"]
    assert move(client, order, token, to="payment_pending").status_code == 200
    body = assert_json_error(move(client, order, token, to="paid", note="国库集中支付"), 409)
    assert "支付正在处理或已成功" in body["message"]
    assert status_of(order) is OrderStatus.PAYMENT_PENDING


def test_a_supplier_cannot_mark_its_order_paid_and_finance_cannot_confirm(client, world):
    order = world.orders[0]
    body = assert_json_error(move(client, order, world.tokens["finance"], to="confirmed"), 409)
    assert body["message"] == f"您无权将订单 {order.number} 从「待供应商确认」变为「已确认」。"
    _accepted(world, order)
    body = assert_json_error(move(client, order, world.tokens["supplier0"], to="payment_pending"), 403)
    assert body["message"] == f"您无权为订单 {order.number} 发起支付。"
    assert status_of(order) is OrderStatus.ACCEPTED
    db.session.refresh(world.plan)
    assert world.plan.consumed == Decimal("0.00")


# --------------------------------------------------------------------------------------------
# The document


def test_the_orders_api_is_documented_in_chinese(client):
    doc = client.get("/api/v1/openapi.json").get_json()
    paths = doc["paths"]
    assert paths["/api/v1/orders"]["get"]["summary"] == "订单列表"
    assert paths["/api/v1/orders/{order_id}"]["get"]["summary"] == "订单详情"
    operation = paths["/api/v1/orders/{order_id}/transitions"]["post"]
    assert operation["summary"] == "变更订单状态"
    assert operation["x-required-scopes"] == ["orders:write"]
    assert {"404", "409", "415", "422"} <= set(operation["responses"])
    assert "Idempotency-Key" in [p["name"] for p in operation["parameters"]]
    assert paths["/api/v1/plans"]["post"]["summary"] == "新建采购计划"
    assert paths["/api/v1/plans"]["post"]["x-required-scopes"] == ["plans:write"]
    assert set(paths["/api/v1/plans"]) >= {"get", "post"}
    assert paths["/api/v1/plans/{plan_id}/ledger"]["get"]["summary"] == "采购计划的预算台账"
    schemas = doc["components"]["schemas"]
    assert schemas["Order"]["properties"]["total"] == {
        "type": "string",
        "format": "decimal",
        "description": "订单金额（元）",
    }
    assert schemas["PlanCreate"]["properties"]["amount"]["type"] == "string"
