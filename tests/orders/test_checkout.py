from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.orders import cart, checkout
from app.orders.checkout import CheckoutError, submit
from app.orders.lifecycle import Actor, transition
from app.orders.models import CartItem, Order, OrderRule, OrderStatus
from app.oversight.models import Alert, AlertKind
from app.procurement import services as budget
from app.procurement.models import LedgerEntry
from app.procurement.services import ledger_sums
from app.webhooks.models import WebhookEvent
from tests.orders.helpers import fill_cart, request_for, shop


def test_checkout_makes_one_order_per_supplier_and_reserves_their_total(db_session):
    world = shop()
    fill_cart(world.purchaser, (world.offers[0], 2), (world.offers[1], 1))
    orders, replayed = submit(world.purchaser, request_for(world.purchaser, world.plan))
    assert not replayed
    assert sorted(o.total for o in orders) == [Decimal("2000.00"), Decimal("6000.00")]
    assert {o.status for o in orders} == {OrderStatus.SUBMITTED}
    db.session.refresh(world.plan)
    assert world.plan.reserved == Decimal("8000.00")
    assert world.plan.available == Decimal("92000.00")
    assert ledger_sums(world.plan.id)["reserved"] == Decimal("8000.00")
    assert db.session.scalar(sa.select(sa.func.count()).select_from(CartItem)) == 0
    types = db.session.scalars(sa.select(WebhookEvent.type).order_by(WebhookEvent.created_at)).all()
    assert sorted(types) == ["budget.reserved", "budget.reserved", "order.submitted", "order.submitted"]


def test_replaying_the_same_checkout_key_changes_nothing(db_session):
    world = shop()
    fill_cart(world.purchaser, (world.offers[0], 1))
    request = request_for(world.purchaser, world.plan)
    first, _ = submit(world.purchaser, request)
    again, replayed = submit(world.purchaser, request)
    assert replayed and [o.id for o in again] == [o.id for o in first]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(LedgerEntry)) == 1


def test_a_price_change_since_the_quote_refuses_and_reserves_nothing(db_session):
    world = shop()
    fill_cart(world.purchaser, (world.offers[0], 1))
    request = request_for(world.purchaser, world.plan)
    world.offers[0].price = Decimal("3100.00")
    db.session.flush()
    with pytest.raises(CheckoutError, match="价格已变化") as refused:
        submit(world.purchaser, request)
    assert "现价 ¥3,100.00" in refused.value.details[0]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Order)) == 0
    assert world.plan.reserved == Decimal("0.00")


def test_above_the_approval_threshold_the_order_waits_for_the_approver(db_session):
    world = shop(prices=("60000.00", "2000.00"))
    fill_cart(world.purchaser, (world.offers[0], 1))
    record = None
    with pytest.raises(CheckoutError, match="比价记录"):
        submit(world.purchaser, request_for(world.purchaser, world.plan))
    del record


def test_not_enough_budget_is_refused(db_session):
    world = shop(plan_amount="5000.00")
    fill_cart(world.purchaser, (world.offers[0], 2))
    with pytest.raises(CheckoutError, match="可用余额"):
        submit(world.purchaser, request_for(world.purchaser, world.plan))
    assert cart.count(world.purchaser) == 1


def test_the_fiscal_year_turns_at_midnight_in_china(monkeypatch):
    monkeypatch.setattr(budget, "utcnow", lambda: datetime(2026, 12, 31, 15, 59, tzinfo=UTC))
    assert checkout.fiscal_year() == 2026
    monkeypatch.setattr(budget, "utcnow", lambda: datetime(2026, 12, 31, 16, 0, tzinfo=UTC))
    assert checkout.fiscal_year() == 2027


def test_one_cart_split_over_suppliers_above_the_ceiling_needs_a_reason_and_alerts(db_session):
    world = shop()
    db.session.add(
        OrderRule(direct_ceiling=Decimal("5000.00"), comparison_required_above=Decimal("100000.00"))
    )
    db.session.flush()
    fill_cart(world.purchaser, (world.offers[0], 1), (world.offers[1], 2))  # 3,000 + 4,000 > 5,000
    with pytest.raises(CheckoutError, match="拆分采购") as refused:
        submit(world.purchaser, request_for(world.purchaser, world.plan))
    assert "本次 2 家供应商 ¥7,000.00" in refused.value.details[0]
    orders, _ = submit(
        world.purchaser, request_for(world.purchaser, world.plan, split_reason="两个项目分别采购")
    )
    assert len(orders) == 2
    [alert] = db.session.scalars(sa.select(Alert)).all()
    assert alert.kind is AlertKind.ORDER_SPLITTING
    assert sorted(alert.detail["orders"]) == sorted(o.number for o in orders)


def test_an_orders_deadlines_follow_the_rules_in_force_at_submit(db_session):
    world = shop()
    fill_cart(world.purchaser, (world.offers[0], 1))
    [order] = submit(world.purchaser, request_for(world.purchaser, world.plan))[0]
    assert order.rules["pay_days"] == 30
    db.session.add(OrderRule(pay_days=5, accept_days=1))
    db.session.flush()
    supplier = Actor.of_user(world.supplier_users[0])
    for step in (OrderStatus.CONFIRMED, OrderStatus.SHIPPED, OrderStatus.DELIVERED):
        transition(order, step, supplier, tracking_number="SF1")
    transition(order, OrderStatus.ACCEPTED, Actor.of_user(world.purchaser))
    assert order.accept_due_at - order.delivered_at == timedelta(days=7)
    assert order.pay_due_at - order.accepted_at == timedelta(days=30)
