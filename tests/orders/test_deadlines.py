"""The deadline job with frozen time: an unconfirmed order is cancelled after its confirm deadline
(budget released, history row, outbound events, one alert), an order confirmed just before is left
alone, late acceptance and late payment raise one alert each; batches, one transaction per order,
the scheduler; and the race "the supplier confirms at the deadline while the job cancels" on real
PostgreSQL, where exactly one of them wins."""

from __future__ import annotations

import threading
from datetime import timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa
from flask_migrate import upgrade

from app import create_app
from app.auth.models import User
from app.catalog.charts import LOCAL_TZ
from app.core import scheduler
from app.core.jobs import resolve
from app.extensions import db
from app.orders import deadlines, lifecycle
from app.orders.checkout import submit
from app.orders.lifecycle import Actor, TransitionError, transition
from app.orders.models import Order, OrderEvent, OrderRule
from app.orders.models import OrderStatus as S
from app.oversight.models import Alert, AlertKind, AlertStatus
from app.procurement.models import LedgerEntry, LedgerKind, ProcurementPlan
from app.procurement.services import ledger_sums
from app.webhooks.models import WebhookEvent
from tests.conftest import make_test_config
from tests.orders.helpers import Shop, fill_cart, request_for, shop

SECOND = timedelta(seconds=1)


def place(world: Shop, offer_index: int = 0, quantity: int = 1) -> Order:
    fill_cart(world.purchaser, (world.offers[offer_index], quantity))
    orders, _ = submit(world.purchaser, request_for(world.purchaser, world.plan))
    assert len(orders) == 1
    return orders[0]


def supplier_of(world: Shop, order: Order) -> Actor:
    index = [s.id for s in world.suppliers].index(order.supplier_id)
    return Actor.of_user(world.supplier_users[index])


def deliver(world: Shop, order: Order) -> Order:
    supplier = supplier_of(world, order)
    transition(order, S.CONFIRMED, supplier)
    transition(order, S.SHIPPED, supplier, tracking_number="SF1234567890")
    transition(order, S.DELIVERED, supplier)
    db.session.flush()
    return order


def accept(world: Shop, order: Order) -> Order:
    deliver(world, order)
    transition(order, S.ACCEPTED, Actor.of_user(world.purchaser))
    db.session.flush()
    return order


def alerts() -> list[Alert]:
    return list(db.session.scalars(sa.select(Alert).order_by(Alert.id)))


def ledger(order: Order) -> list[LedgerKind]:
    return list(
        db.session.scalars(
            sa.select(LedgerEntry.kind).where(LedgerEntry.reference == order.number).order_by(LedgerEntry.id)
        )
    )


def run(now) -> dict[str, int]:
    result = deadlines.enforce_deadlines(now=now)
    db.session.expire_all()  # the job committed in its own session
    return result


NOTHING = {"cancelled": 0, "late_acceptance": 0, "late_payment": 0}


def test_an_unconfirmed_order_is_cancelled_after_its_deadline(db_session):
    world = shop()
    order = place(world, quantity=2)  # ¥6,000
    due = order.confirm_due_at
    assert due - order.submitted_at == timedelta(hours=48)

    assert run(due + SECOND) == {**NOTHING, "cancelled": 1}

    assert order.status is S.CANCELLED
    plan = db.session.get(ProcurementPlan, world.plan.id)
    assert (plan.reserved, plan.released, plan.available) == (
        Decimal("0.00"),
        Decimal("6000.00"),
        Decimal("100000.00"),
    )
    assert ledger_sums(plan.id)["reserved"] == Decimal("0.00")
    assert ledger(order) == [LedgerKind.RESERVE, LedgerKind.RELEASE]
    last = order.history[-1]
    local_due = due.astimezone(LOCAL_TZ).strftime("%Y-%m-%d %H:%M")
    assert (last.from_status, last.to_status, last.actor_id, last.actor_label) == (
        "submitted",
        "cancelled",
        None,
        "系统（超时未确认）",
    )
    assert last.note == f"供应商未在确认时限（{local_due}）前确认订单，系统自动取消并释放预算。"
    [alert] = alerts()
    assert (alert.kind, alert.status, alert.unit_id, alert.supplier_id, alert.order_id) == (
        AlertKind.LATE_CONFIRMATION,
        AlertStatus.OPEN,
        world.unit.id,
        world.suppliers[0].id,
        order.id,
    )
    assert alert.message == (
        f"{world.suppliers[0].name} 未在 {local_due} 前确认订单 {order.number}（¥6,000.00），订单已自动取消"
    )
    assert alert.detail == {"order_no": order.number, "confirm_due_at": due.isoformat(), "total": "6000.00"}
    assert order.overdue_flags == ["late_confirmation"]
    events = db.session.scalars(
        sa.select(WebhookEvent.type)
        .where(WebhookEvent.subject == order.number)
        .order_by(WebhookEvent.created_at)
    ).all()
    assert sorted(events) == ["budget.released", "budget.reserved", "order.cancelled", "order.submitted"]

    # The next run finds nothing left to do.
    assert run(due + timedelta(hours=1)) == NOTHING
    assert len(alerts()) == 1
    assert ledger(order) == [LedgerKind.RESERVE, LedgerKind.RELEASE]


@pytest.mark.parametrize("offset", [timedelta(0), -SECOND, -timedelta(hours=47)])
def test_before_the_deadline_nothing_happens(db_session, offset):
    world = shop()
    order = place(world)
    assert run(order.confirm_due_at + offset) == NOTHING
    assert order.status is S.SUBMITTED
    assert alerts() == []
    assert ledger(order) == [LedgerKind.RESERVE]
    assert order.overdue_flags == []
    assert [e.to_status for e in order.history] == ["submitted"]


def test_an_order_confirmed_just_before_the_deadline_is_untouched(db_session):
    world = shop()
    order = place(world)
    transition(order, S.CONFIRMED, supplier_of(world, order))
    db.session.flush()
    due = order.confirm_due_at

    assert run(due + timedelta(hours=1)) == NOTHING
    assert order.status is S.CONFIRMED
    assert ledger(order) == [LedgerKind.RESERVE]
    assert alerts() == []
    assert [e.to_status for e in order.history] == ["submitted", "confirmed"]


def test_a_confirmation_after_the_deadline_is_refused_even_before_the_job_ran(db_session):
    world = shop()
    order = place(world)
    order.confirm_due_at = order.submitted_at - SECOND  # already past in real time
    db.session.flush()
    with pytest.raises(TransitionError, match="已超过确认时限"):
        transition(order, S.CONFIRMED, supplier_of(world, order))
    assert order.status is S.SUBMITTED


def test_an_order_waiting_for_approval_has_no_confirm_deadline_yet(db_session):
    world = shop()
    db.session.add(OrderRule(approval_threshold=Decimal("1000.00")))
    db.session.flush()
    order = place(world)
    assert (order.status, order.confirm_due_at) == (S.PENDING_APPROVAL, None)
    assert run(order.submitted_at + timedelta(days=30)) == NOTHING
    assert order.status is S.PENDING_APPROVAL
    assert alerts() == []


def test_late_acceptance_raises_one_alert(db_session):
    world = shop()
    order = deliver(world, place(world))
    due = order.accept_due_at
    assert due - order.delivered_at == timedelta(days=7)

    assert run(due - SECOND) == NOTHING
    assert alerts() == []

    assert run(due + SECOND) == {**NOTHING, "late_acceptance": 1}
    [alert] = alerts()
    local_due = due.astimezone(LOCAL_TZ).strftime("%Y-%m-%d %H:%M")
    assert (alert.kind, alert.unit_id, alert.supplier_id, alert.order_id) == (
        AlertKind.LATE_ACCEPTANCE,
        world.unit.id,
        world.suppliers[0].id,
        order.id,
    )
    assert alert.message == f"{world.unit.name} 未在 {local_due} 前验收订单 {order.number}（¥3,000.00）"
    assert alert.detail == {"order_no": order.number, "accept_due_at": due.isoformat(), "total": "3000.00"}
    assert order.status is S.DELIVERED  # an alert, not a transition
    assert order.overdue_flags == ["late_acceptance"]
    assert ledger(order) == [LedgerKind.RESERVE]

    assert run(due + timedelta(days=3)) == NOTHING
    assert len(alerts()) == 1


def test_late_payment_raises_one_alert_per_unpaid_order(db_session):
    world = shop(plan_amount="50000.00")
    accepted = accept(world, place(world))
    pending = accept(world, place(world, offer_index=1))
    transition(pending, S.PAYMENT_PENDING, Actor.of_user(world.purchaser))
    paid = accept(world, place(world))
    transition(paid, S.PAYMENT_PENDING, Actor.of_user(world.purchaser))
    transition(paid, S.PAID, Actor.system())
    db.session.flush()
    for order in (accepted, pending, paid):
        assert order.pay_due_at - order.accepted_at == timedelta(days=30)
    latest = max(o.pay_due_at for o in (accepted, pending, paid))

    assert run(latest + SECOND) == {**NOTHING, "late_payment": 2}
    found = alerts()
    assert [(a.kind, a.order_id) for a in found] == [
        (AlertKind.LATE_PAYMENT, accepted.id),
        (AlertKind.LATE_PAYMENT, pending.id),
    ]
    assert found[1].message.startswith(f"{world.unit.name} 未在 ")
    assert found[1].message.endswith(f"前支付订单 {pending.number}（¥2,000.00）")
    assert (accepted.overdue_flags, pending.overdue_flags, paid.overdue_flags) == (
        ["late_payment"],
        ["late_payment"],
        [],
    )
    assert run(latest + timedelta(days=10)) == NOTHING
    assert len(alerts()) == 2


def test_orders_are_taken_in_batches_and_a_backlog_over_several_runs(db_session, monkeypatch):
    monkeypatch.setattr(deadlines, "BATCH", 2)
    monkeypatch.setattr(deadlines, "MAX_PER_RUN", 3)
    world = shop()
    orders = [place(world) for _ in range(5)]
    due = max(o.confirm_due_at for o in orders)

    assert run(due + SECOND)["cancelled"] == 3
    assert [o.status for o in orders] == [S.CANCELLED] * 3 + [S.SUBMITTED] * 2
    assert run(due + SECOND)["cancelled"] == 2
    assert {o.status for o in orders} == {S.CANCELLED}
    assert len(alerts()) == 5
    plan = db.session.get(ProcurementPlan, world.plan.id)
    assert plan.reserved == Decimal("0.00")
    assert ledger_sums(plan.id)["released"] == Decimal("15000.00")


def test_each_order_is_its_own_transaction_one_failure_spoils_nothing_else(db_session, monkeypatch):
    world = shop()
    first, broken, last = (place(world) for _ in range(3))
    real = lifecycle.transition

    def failing(order, to, actor, **kwargs):
        event = real(order, to, actor, **kwargs)  # the budget is released and the history written…
        if order.id == broken.id:
            raise RuntimeError("boom")  # …and then something breaks
        return event

    monkeypatch.setattr(lifecycle, "transition", failing)
    due = max(o.confirm_due_at for o in (first, broken, last))
    assert run(due + SECOND)["cancelled"] == 2

    assert (first.status, broken.status, last.status) == (S.CANCELLED, S.SUBMITTED, S.CANCELLED)
    assert ledger(broken) == [LedgerKind.RESERVE]  # its release was rolled back with it
    assert [e.to_status for e in broken.history] == ["submitted"]
    assert broken.overdue_flags == []
    assert [a.order_id for a in alerts()] == [first.id, last.id]
    plan = db.session.get(ProcurementPlan, world.plan.id)
    assert plan.reserved == broken.total == ledger_sums(plan.id)["reserved"]

    monkeypatch.setattr(lifecycle, "transition", real)
    assert run(due + SECOND)["cancelled"] == 1  # picked up again on the next run
    assert broken.status is S.CANCELLED


def test_the_scheduler_runs_the_job_every_minute(app, monkeypatch):
    path = "app.orders.deadlines.enforce_deadlines"
    assert (path, 60) in scheduler.PERIODIC
    assert resolve(path) is deadlines.enforce_deadlines
    sent = []
    monkeypatch.setattr(scheduler, "enqueue_now", lambda p, *args, **kwargs: sent.append(p))
    last_run: dict[str, float] = {}
    scheduler.run_due(last_run, 1000.0)
    scheduler.run_due(last_run, 1059.0)
    scheduler.run_due(last_run, 1060.0)
    assert sent.count(path) == 2


# --------------------------------------------------------------------------------------------
# The race, on real PostgreSQL with real commits


@pytest.fixture
def committed_app(committed_database):
    application = create_app(make_test_config(committed_database))
    with application.app_context():
        upgrade()
        db.session.remove()
    yield application
    with application.app_context():
        db.engine.dispose()


def _world_with_orders(app, count: int) -> tuple[list[int], int, object]:
    """``count`` submitted orders of one supplier; their ids, the supplier user's id, the latest
    confirm deadline."""
    with app.app_context():
        world = shop(plan_amount="1000000.00")
        orders = [place(world) for _ in range(count)]
        db.session.commit()
        return [o.id for o in orders], world.supplier_users[0].id, max(o.confirm_due_at for o in orders)


def _outcome(app, order_ids: list[int]) -> dict:
    with app.app_context():
        orders = db.session.scalars(sa.select(Order).where(Order.id.in_(order_ids)).order_by(Order.id)).all()
        plan_id = orders[0].plan_id
        plan = db.session.get(ProcurementPlan, plan_id)
        outcome = {
            "status": {o.id: o.status for o in orders},
            "releases": {
                o.id: db.session.scalar(
                    sa.select(sa.func.count())
                    .select_from(LedgerEntry)
                    .where(LedgerEntry.reference == o.number, LedgerEntry.kind == LedgerKind.RELEASE)
                )
                for o in orders
            },
            "alerts": {
                o.id: db.session.scalar(
                    sa.select(sa.func.count()).select_from(Alert).where(Alert.order_id == o.id)
                )
                for o in orders
            },
            "history": {
                o.id: db.session.scalars(
                    sa.select(OrderEvent.to_status).where(OrderEvent.order_id == o.id).order_by(OrderEvent.id)
                ).all()
                for o in orders
            },
            "reserved": plan.reserved,
            "ledger_reserved": ledger_sums(plan_id)["reserved"],
            "totals": {o.id: o.total for o in orders},
        }
        db.session.remove()
        return outcome


def test_race_the_job_cancels_first_and_the_late_confirmation_loses(committed_app):
    app = committed_app
    [order_id], supplier_id, due = _world_with_orders(app, 1)
    with app.app_context():  # the supplier's request
        order = db.session.get(Order, order_id)
        actor = Actor.of_user(db.session.get(User, supplier_id))
        assert order.status is S.SUBMITTED  # what the supplier's page showed

        # Meanwhile the job, in its own transaction, cancels the order and commits.
        assert deadlines.enforce_deadlines(now=due + SECOND)["cancelled"] == 1

        with pytest.raises(TransitionError, match="状态刚刚已被更改"):
            transition(order, S.CONFIRMED, actor)
        db.session.rollback()
        db.session.remove()

    outcome = _outcome(app, [order_id])
    assert outcome["status"] == {order_id: S.CANCELLED}
    assert outcome["history"] == {order_id: ["submitted", "cancelled"]}
    assert outcome["releases"] == {order_id: 1}
    assert outcome["alerts"] == {order_id: 1}
    assert outcome["reserved"] == outcome["ledger_reserved"] == Decimal("0.00")


def test_race_the_supplier_confirms_first_and_the_job_leaves_the_order_alone(committed_app):
    app = committed_app
    [order_id], supplier_id, due = _world_with_orders(app, 1)
    with app.app_context():  # the supplier's request, holding the order's row
        order = db.session.get(Order, order_id)
        transition(order, S.CONFIRMED, Actor.of_user(db.session.get(User, supplier_id)))

        # The job runs while the confirmation is not committed yet: it skips the locked row.
        assert deadlines.enforce_deadlines(now=due + SECOND) == NOTHING

        db.session.commit()
        db.session.remove()
    # And on its next run the order is confirmed: nothing to do.
    with app.app_context():
        assert deadlines.enforce_deadlines(now=due + SECOND) == NOTHING

    outcome = _outcome(app, [order_id])
    assert outcome["status"] == {order_id: S.CONFIRMED}
    assert outcome["history"] == {order_id: ["submitted", "confirmed"]}
    assert outcome["releases"] == {order_id: 0}
    assert outcome["alerts"] == {order_id: 0}
    assert outcome["reserved"] == outcome["ledger_reserved"] == Decimal("3000.00")


def test_race_suppliers_confirming_while_the_job_runs_exactly_one_wins_each_order(committed_app):
    app = committed_app
    order_ids, supplier_id, due = _world_with_orders(app, 16)
    confirmed, refused, errors = set(), set(), []
    start = threading.Barrier(3)

    def supplier(ids):
        start.wait()
        for order_id in ids:
            with app.app_context():
                try:
                    order = db.session.get(Order, order_id)
                    transition(order, S.CONFIRMED, Actor.of_user(db.session.get(User, supplier_id)))
                    db.session.commit()
                    confirmed.add(order_id)
                except TransitionError:
                    db.session.rollback()
                    refused.add(order_id)
                except Exception as exc:  # anything else is a failure of this test
                    db.session.rollback()
                    errors.append(repr(exc))
                finally:
                    db.session.remove()

    results = []

    def job():
        start.wait()
        with app.app_context():
            results.append(deadlines.enforce_deadlines(now=due + SECOND))

    threads = [
        # The job goes through the orders in id order; the suppliers from the other ends, so they
        # meet it somewhere in each half.
        threading.Thread(target=supplier, args=(order_ids[:8][::-1],)),
        threading.Thread(target=supplier, args=(order_ids[8:][::-1],)),
        threading.Thread(target=job),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    # Orders the job skipped while a supplier held them are looked at again on the next run.
    with app.app_context():
        results.append(deadlines.enforce_deadlines(now=due + SECOND))

    outcome = _outcome(app, order_ids)
    cancelled = {i for i, status in outcome["status"].items() if status is S.CANCELLED}
    assert confirmed | cancelled == set(order_ids)
    assert not confirmed & cancelled
    assert refused <= cancelled  # a supplier was refused only because the job had won
    assert {i for i, status in outcome["status"].items() if status is S.CONFIRMED} == confirmed
    for order_id in order_ids:
        won_by_job = order_id in cancelled
        assert outcome["releases"][order_id] == (1 if won_by_job else 0)
        assert outcome["alerts"][order_id] == (1 if won_by_job else 0)
        expected = ["submitted", "cancelled"] if won_by_job else ["submitted", "confirmed"]
        assert outcome["history"][order_id] == expected
    assert sum(r["cancelled"] for r in results) == len(cancelled)
    assert outcome["reserved"] == outcome["ledger_reserved"]
    assert outcome["reserved"] == sum((outcome["totals"][i] for i in confirmed), Decimal("0.00"))
