"""The plan's budget ledger: reserve, release and consume move the stored totals by exactly the
entry's amount, a refused movement writes nothing, and the stored totals always equal the sums of
the ledger (``ledger_sums``) — on SQLite (whose NUMERIC is binary floating point) as on PostgreSQL."""

from __future__ import annotations

import random
import re
from decimal import Decimal

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.orders.checkout import submit
from app.orders.lifecycle import Actor, transition
from app.orders.models import OrderStatus
from app.procurement import services as budget
from app.procurement.models import LedgerEntry, LedgerKind, PlanStatus
from app.webhooks.models import WebhookEvent
from tests import factories
from tests.orders.helpers import fill_cart, request_for, shop

D = Decimal


def totals(plan) -> tuple[Decimal, Decimal, Decimal, Decimal]:
    db.session.refresh(plan)
    return plan.reserved, plan.consumed, plan.released, plan.available


def assert_totals_match_ledger(plan) -> None:
    db.session.refresh(plan)
    assert budget.ledger_sums(plan.id) == {
        "reserved": plan.reserved,
        "released": plan.released,
        "consumed": plan.consumed,
    }


def entries(plan) -> list[tuple]:
    return db.session.execute(
        sa.select(LedgerEntry.kind, LedgerEntry.amount, LedgerEntry.reference, LedgerEntry.note)
        .where(LedgerEntry.plan_id == plan.id)
        .order_by(LedgerEntry.id)
    ).all()


def events() -> list[tuple[str, str]]:
    return db.session.execute(
        sa.select(WebhookEvent.type, WebhookEvent.subject).order_by(WebhookEvent.created_at)
    ).all()


def test_reserve_release_consume_arithmetic(db_session):
    plan = factories.plan(amount=D("10000.00"))
    buyer = factories.user(plan.unit)

    budget.reserve(plan, D("3000.00"), reference="DD-A", user=buyer)
    assert totals(plan) == (D("3000.00"), D("0.00"), D("0.00"), D("7000.00"))
    budget.reserve(plan, D("1234.56"), reference="DD-B")
    assert totals(plan) == (D("4234.56"), D("0.00"), D("0.00"), D("5765.44"))
    budget.release(plan, D("1234.56"), reference="DD-B", note="订单已取消")
    assert totals(plan) == (D("3000.00"), D("0.00"), D("1234.56"), D("7000.00"))
    budget.consume(plan, D("3000.00"), reference="DD-A")
    # Consuming turns a reservation into spending: the available balance does not move.
    assert totals(plan) == (D("0.00"), D("3000.00"), D("1234.56"), D("7000.00"))

    assert entries(plan) == [
        (LedgerKind.RESERVE, D("3000.00"), "DD-A", "下单预占"),
        (LedgerKind.RESERVE, D("1234.56"), "DD-B", "下单预占"),
        (LedgerKind.RELEASE, D("1234.56"), "DD-B", "订单已取消"),
        (LedgerKind.CONSUME, D("3000.00"), "DD-A", "支付核销"),
    ]
    first = db.session.scalar(sa.select(LedgerEntry).order_by(LedgerEntry.id))
    assert first.created_by_id == buyer.id
    assert events() == [
        ("budget.reserved", "DD-A"),
        ("budget.reserved", "DD-B"),
        ("budget.released", "DD-B"),
        ("budget.consumed", "DD-A"),
    ]
    last = db.session.scalar(sa.select(WebhookEvent).where(WebhookEvent.type == "budget.consumed"))
    assert last.payload == {
        "plan_no": plan.plan_no,
        "unit_code": plan.unit.code,
        "order_no": "DD-A",
        "amount": "3000.00",
        "currency": "CNY",
        "plan": {
            "amount": "10000.00",
            "reserved": "0.00",
            "consumed": "3000.00",
            "released": "1234.56",
            "available": "7000.00",
        },
    }
    assert_totals_match_ledger(plan)


def test_the_whole_balance_can_be_reserved_and_not_one_fen_more(db_session):
    plan = factories.plan(amount=D("5000.00"))
    budget.reserve(plan, D("4999.99"), reference="DD-1")
    with pytest.raises(budget.BudgetError) as refused:
        budget.reserve(plan, D("0.02"), reference="DD-2")
    assert str(refused.value) == f"采购计划 {plan.plan_no} 可用余额 ¥0.01，不足以支付 ¥0.02。"
    budget.reserve(plan, D("0.01"), reference="DD-3")
    assert totals(plan) == (D("5000.00"), D("0.00"), D("0.00"), D("0.00"))
    assert [e[2] for e in entries(plan)] == ["DD-1", "DD-3"]


def test_a_refused_reservation_writes_nothing(db_session):
    plan = factories.plan(amount=D("1000.00"))
    budget.reserve(plan, D("600.00"), reference="DD-1")
    before = (totals(plan), entries(plan), events())
    with pytest.raises(budget.BudgetError, match=re.escape("可用余额 ¥400.00，不足以支付 ¥400.01")):
        budget.reserve(plan, D("400.01"), reference="DD-2")
    assert (totals(plan), entries(plan), events()) == before
    assert db.session.scalar(sa.select(sa.func.count()).where(LedgerEntry.reference == "DD-2")) == 0


@pytest.mark.parametrize("status", [PlanStatus.SUSPENDED, PlanStatus.CLOSED])
def test_a_plan_that_is_not_approved_takes_no_reservation(db_session, status):
    plan = factories.plan(amount=D("1000.00"), status=status)
    with pytest.raises(budget.BudgetError) as refused:
        budget.reserve(plan, D("1.00"), reference="DD-1")
    assert str(refused.value) == f"采购计划 {plan.plan_no} 当前不可用（{status.value}），不能下单。"
    assert entries(plan) == []
    assert totals(plan) == (D("0.00"), D("0.00"), D("0.00"), D("1000.00"))


@pytest.mark.parametrize("move", [budget.release, budget.consume])
def test_releasing_or_consuming_more_than_is_reserved_is_a_bug_and_changes_nothing(db_session, move):
    plan = factories.plan(amount=D("1000.00"))
    budget.reserve(plan, D("100.00"), reference="DD-1")
    before = (totals(plan), entries(plan))
    with pytest.raises(RuntimeError, match="exceeds what is reserved"):
        move(plan, D("100.01"), reference="DD-1")
    assert (totals(plan), entries(plan)) == before


@pytest.mark.parametrize("amount", [D("0"), D("-1.00"), D("0.004")])
def test_movements_are_positive_amounts_of_fen(db_session, amount):
    plan = factories.plan(amount=D("1000.00"))
    with pytest.raises(ValueError, match="positive"):
        budget.reserve(plan, amount, reference="DD-1")
    assert entries(plan) == []


def test_fen_stay_exact_over_many_small_movements(db_session):
    """0.10 ten times is 1.00 (binary floating point would say 0.9999999999999999)."""
    plan = factories.plan(amount=D("1.00"))
    for n in range(10):
        budget.reserve(plan, D("0.10"), reference=f"DD-{n}")
    assert totals(plan) == (D("1.00"), D("0.00"), D("0.00"), D("0.00"))
    with pytest.raises(budget.BudgetError):
        budget.reserve(plan, D("0.01"), reference="DD-10")
    for n in range(3):
        budget.release(plan, D("0.10"), reference=f"DD-{n}")
    for n in range(3, 10):
        budget.consume(plan, D("0.10"), reference=f"DD-{n}")
    assert totals(plan) == (D("0.00"), D("0.70"), D("0.30"), D("0.30"))
    assert_totals_match_ledger(plan)


def test_stored_totals_equal_the_ledger_after_a_long_mixed_history(db_session):
    plan = factories.plan(amount=D("250000.00"))
    rng = random.Random(20261126)  # noqa: S311 -- a reproducible test sequence, not a secret
    open_reservations: list[tuple[str, Decimal]] = []
    refused = 0
    for n in range(300):
        choice = rng.random()
        if choice < 0.5 or not open_reservations:
            amount = D(rng.randint(1, 2_000_000)) / 100
            try:
                budget.reserve(plan, amount, reference=f"DD-{n}")
            except budget.BudgetError:
                refused += 1
                continue
            open_reservations.append((f"DD-{n}", amount))
        else:
            reference, amount = open_reservations.pop(rng.randrange(len(open_reservations)))
            (budget.release if choice < 0.75 else budget.consume)(plan, amount, reference=reference)
        reserved, _consumed, _released, available = totals(plan)
        assert available >= 0
        assert reserved == sum((a for _, a in open_reservations), D("0.00"))
    assert refused > 0  # the balance ran out along the way, and the refusals wrote nothing
    assert_totals_match_ledger(plan)
    assert plan.reserved + plan.consumed + plan.available == plan.amount


def test_the_database_refuses_totals_beyond_the_amount(db_session):
    """The CHECK constraint is the last line: even a bypassing write cannot overspend."""
    plan = factories.plan(amount=D("100.00"))
    with pytest.raises(IntegrityError), db.session.begin_nested():
        plan.reserved = D("100.01")
        db.session.flush()
    assert totals(plan) == (D("0.00"), D("0.00"), D("0.00"), D("100.00"))


def test_orders_keep_the_plan_and_its_ledger_in_step(db_session):
    """Submit two orders, cancel one, pay the other: the plan's totals are its ledger's sums."""
    world = shop()
    fill_cart(world.purchaser, (world.offers[0], 2), (world.offers[1], 3))
    orders, _ = submit(world.purchaser, request_for(world.purchaser, world.plan))
    first, second = sorted(orders, key=lambda o: o.id)
    assert totals(world.plan)[0] == D("12000.00")
    transition(first, OrderStatus.CANCELLED, Actor.of_user(world.purchaser), note="需求取消")
    supplier = Actor.of_user(next(u for u in world.supplier_users if u.organization_id == second.supplier_id))
    transition(second, OrderStatus.CONFIRMED, supplier)
    transition(second, OrderStatus.SHIPPED, supplier, tracking_number="SF1")
    transition(second, OrderStatus.DELIVERED, supplier)
    transition(second, OrderStatus.ACCEPTED, Actor.of_user(world.purchaser))
    transition(second, OrderStatus.PAYMENT_PENDING, Actor.of_user(world.purchaser))
    transition(second, OrderStatus.PAID, Actor.system("国库支付"))
    db.session.flush()
    assert totals(world.plan) == (D("0.00"), second.total, first.total, D("100000.00") - second.total)
    assert [(e[0], e[1], e[2]) for e in entries(world.plan)] == [
        (LedgerKind.RESERVE, first.total, first.number),
        (LedgerKind.RESERVE, second.total, second.number),
        (LedgerKind.RELEASE, first.total, first.number),
        (LedgerKind.CONSUME, second.total, second.number),
    ]
    assert_totals_match_ledger(world.plan)
