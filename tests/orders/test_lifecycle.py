"""The order's life as data: every edge of ``lifecycle.EDGES`` taken by each actor allowed on it,
refused for every other role and for the same role of another organization; every other status
pair refused for everybody; the budget released, consumed and kept equal to its ledger; a history
row and an outbound event for each move. Then the acceptance form and the evaluation (services)."""

from __future__ import annotations

import dataclasses
import itertools
from datetime import timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from app.auth.models import Organization, OrgKind, Role, User
from app.core.db import utcnow
from app.extensions import db
from app.orders import services
from app.orders.checkout import submit
from app.orders.lifecycle import (
    APPROVER,
    EDGES,
    FINANCE,
    NEEDS_NOTE,
    PURCHASER,
    STATUS_LABELS,
    SUPPLIER,
    SYSTEM,
    Actor,
    TransitionError,
    allowed_targets,
    transition,
)
from app.orders.models import Acceptance, Evaluation, Order, OrderEvent, OrderRule
from app.orders.models import OrderStatus as S
from app.oversight.models import Alert, AlertKind
from app.procurement.models import LedgerEntry, LedgerKind
from app.procurement.services import ledger_sums
from app.webhooks.models import WebhookEvent
from tests import factories
from tests.orders.helpers import Shop, fill_cart, request_for, shop

KINDS = (PURCHASER, APPROVER, SUPPLIER, FINANCE, SYSTEM)
# Actors that belong to one organization: the same role of another organization must be refused.
OWNED_KINDS = (PURCHASER, APPROVER, SUPPLIER)
TOTAL = Decimal("6000.00")  # two of offers[0] at ¥3,000.00, all to suppliers[0]


@dataclasses.dataclass
class World:
    shop: Shop
    finance: Organization
    other_unit_users: dict[str, User]  # purchaser and approver of another unit


def world() -> World:
    s = shop()
    other_unit = factories.org(OrgKind.PURCHASING_UNIT)
    return World(
        shop=s,
        finance=factories.org(OrgKind.FINANCE),
        other_unit_users={
            PURCHASER: factories.user(other_unit, Role.PURCHASER),
            APPROVER: factories.user(other_unit, Role.APPROVER),
        },
    )


def actor(w: World, kind: str) -> Actor:
    """The actor of this kind who owns the order (the order goes to suppliers[0])."""
    return {
        PURCHASER: lambda: Actor.of_user(w.shop.purchaser),
        APPROVER: lambda: Actor.of_user(w.shop.approver),
        SUPPLIER: lambda: Actor.of_user(w.shop.supplier_users[0]),
        FINANCE: lambda: Actor.of_client(w.finance),
        SYSTEM: lambda: Actor.system(),
    }[kind]()


def stranger(w: World, kind: str) -> Actor:
    """The same kind of actor, of another organization."""
    if kind == SUPPLIER:
        return Actor.of_user(w.shop.supplier_users[1])
    return Actor.of_user(w.other_unit_users[kind])


def submitted_order(w: World, *, approval: bool = False) -> Order:
    if approval:
        # A unit-wide rule with a low approval threshold sends the ¥6,000 order to the approver.
        db.session.add(OrderRule(approval_threshold=Decimal("1000.00")))
        db.session.flush()
    fill_cart(w.shop.purchaser, (w.shop.offers[0], 2))
    orders, _ = submit(w.shop.purchaser, request_for(w.shop.purchaser, w.shop.plan))
    (order,) = orders
    assert order.status is (S.PENDING_APPROVAL if approval else S.SUBMITTED)
    return order


# The way to each status along the order's life (the last edge into it).
PREVIOUS = {
    S.CONFIRMED: S.SUBMITTED,
    S.REJECTED: S.SUBMITTED,
    S.CANCELLED: S.SUBMITTED,
    S.SHIPPED: S.CONFIRMED,
    S.DELIVERED: S.SHIPPED,
    S.ACCEPTED: S.DELIVERED,
    S.RETURNED: S.DELIVERED,
    S.PAYMENT_PENDING: S.ACCEPTED,
    S.PAID: S.PAYMENT_PENDING,
    S.COMPLETED: S.PAID,
}


def details_for(frm: S, to: S) -> dict:
    details = {}
    if (frm, to) in NEEDS_NOTE:
        details["note"] = "测试原因"
    if to is S.SHIPPED:
        details["tracking_number"] = "SF1234567890"
    return details


def reach(w: World, status: S) -> Order:
    """An order in ``status``, walked there through transition() by the actors allowed."""
    if status is S.PENDING_APPROVAL:
        return submitted_order(w, approval=True)
    if status is S.SUBMITTED:
        return submitted_order(w)
    frm = PREVIOUS[status]
    order = reach(w, frm)
    kind = sorted(EDGES[(frm, status)])[0]
    transition(order, status, actor(w, kind), **details_for(frm, status))
    db.session.flush()
    return order


def snapshot(order: Order) -> tuple:
    """What a refused move must leave unchanged."""
    db.session.flush()
    return (
        order.status,
        db.session.scalar(sa.select(sa.func.count()).where(OrderEvent.order_id == order.id)),
        db.session.scalar(sa.select(sa.func.count()).select_from(WebhookEvent)),
        db.session.scalar(sa.select(sa.func.count()).select_from(LedgerEntry)),
        order.tracking_number,
    )


def assert_ledger_matches(w: World) -> None:
    plan = w.shop.plan
    db.session.refresh(plan)
    assert ledger_sums(plan.id) == {
        "reserved": plan.reserved,
        "released": plan.released,
        "consumed": plan.consumed,
    }


EDGE_CASES = [(frm, to, kind) for (frm, to), kinds in EDGES.items() for kind in sorted(kinds)]
ILLEGAL_PAIRS = [(frm, to) for frm, to in itertools.product(S, S) if (frm, to) not in EDGES]


def _id(value) -> str:
    return value.value if isinstance(value, S) else str(value)


# --------------------------------------------------------------------------------------------
# Every edge


def test_the_table_covers_every_status():
    assert {frm for frm, _ in EDGES} | {to for _, to in EDGES} == set(S)
    assert len(EDGE_CASES) == 19
    assert len(ILLEGAL_PAIRS) == 12 * 12 - 14


@pytest.mark.parametrize(("frm", "to", "kind"), EDGE_CASES, ids=_id)
def test_an_allowed_actor_takes_the_edge(db_session, frm, to, kind):
    w = world()
    order = reach(w, frm)
    mover = actor(w, kind)
    assert to in allowed_targets(order, mover)
    events_before = len(order.history)

    event = transition(order, to, mover, **details_for(frm, to))
    db.session.flush()

    assert order.status is to
    db.session.expire(order)
    assert db.session.get(Order, order.id).status is to  # the guarded UPDATE wrote it too
    history = db.session.scalars(
        sa.select(OrderEvent).where(OrderEvent.order_id == order.id).order_by(OrderEvent.id)
    ).all()
    assert len(history) == events_before + 1
    assert history[-1].id == event.id
    assert (history[-1].from_status, history[-1].to_status) == (frm.value, to.value)
    assert history[-1].actor_label == mover.label
    assert history[-1].actor_id == (mover.user.id if mover.user else None)
    assert history[-1].note == details_for(frm, to).get("note", "")
    types = db.session.scalars(sa.select(WebhookEvent.type).where(WebhookEvent.subject == order.number)).all()
    assert types.count(f"order.{to.value}") == 1


@pytest.mark.parametrize(("frm", "to"), list(EDGES), ids=_id)
def test_other_roles_and_other_organizations_are_refused_on_the_edge(db_session, frm, to):
    w = world()
    order = reach(w, frm)
    before = snapshot(order)
    allowed = EDGES[(frm, to)]
    refused = [actor(w, kind) for kind in KINDS if kind not in allowed]
    refused += [stranger(w, kind) for kind in OWNED_KINDS if kind in allowed]
    assert refused
    for mover in refused:
        assert to not in allowed_targets(order, mover)
        with pytest.raises(TransitionError) as caught:
            transition(order, to, mover, **details_for(frm, to))
        assert str(caught.value) == (
            f"您无权将订单 {order.number} 从「{STATUS_LABELS[frm]}」变为「{STATUS_LABELS[to]}」。"
        )
        assert snapshot(order) == before


@pytest.mark.parametrize(("frm", "to"), ILLEGAL_PAIRS, ids=_id)
def test_every_other_status_pair_is_refused_for_everybody(db_session, frm, to):
    w = world()
    order = submitted_order(w)
    order.status = frm  # arrangement: the refusal is decided from the table before anything else
    before = snapshot(order)
    for kind in KINDS:
        with pytest.raises(TransitionError) as caught:
            transition(order, to, actor(w, kind), note="测试原因", tracking_number="SF1")
        assert str(caught.value) == (
            f"订单 {order.number} 当前为「{STATUS_LABELS[frm]}」，不能变为「{STATUS_LABELS[to]}」。"
        )
        assert snapshot(order) == before
    assert to not in allowed_targets(order, actor(w, PURCHASER))


@pytest.mark.parametrize(("frm", "to"), sorted(NEEDS_NOTE), ids=_id)
def test_a_reason_is_required_on_the_ending_edges(db_session, frm, to):
    w = world()
    order = reach(w, frm)
    before = snapshot(order)
    kind = sorted(EDGES[(frm, to)])[0]
    with pytest.raises(TransitionError, match=r"^请填写原因。$"):
        transition(order, to, actor(w, kind), note="   ")
    assert snapshot(order) == before


# --------------------------------------------------------------------------------------------
# Budget


@pytest.mark.parametrize(
    ("frm", "to", "kind"),
    [
        (S.PENDING_APPROVAL, S.REJECTED, APPROVER),  # the approver refuses
        (S.PENDING_APPROVAL, S.CANCELLED, PURCHASER),
        (S.SUBMITTED, S.REJECTED, SUPPLIER),
        (S.SUBMITTED, S.CANCELLED, PURCHASER),
        (S.SUBMITTED, S.CANCELLED, SYSTEM),  # the confirm deadline passed
        (S.DELIVERED, S.RETURNED, PURCHASER),
    ],
    ids=_id,
)
def test_ending_an_order_releases_its_budget(db_session, frm, to, kind):
    w = world()
    order = reach(w, frm)
    plan = w.shop.plan
    db.session.refresh(plan)
    assert (plan.reserved, plan.released, plan.consumed) == (TOTAL, Decimal("0.00"), Decimal("0.00"))

    transition(order, to, actor(w, kind), note="测试原因")
    db.session.flush()

    db.session.refresh(plan)
    assert (plan.reserved, plan.released, plan.consumed) == (Decimal("0.00"), TOTAL, Decimal("0.00"))
    assert plan.available == plan.amount
    assert_ledger_matches(w)
    entries = db.session.scalars(
        sa.select(LedgerEntry.kind).where(LedgerEntry.reference == order.number).order_by(LedgerEntry.id)
    ).all()
    assert entries == [LedgerKind.RESERVE, LedgerKind.RELEASE]
    types = db.session.scalars(sa.select(WebhookEvent.type).where(WebhookEvent.subject == order.number)).all()
    assert types.count("budget.released") == 1
    assert f"order.{to.value}" in types


def test_payment_consumes_the_reservation(db_session):
    w = world()
    order = reach(w, S.PAYMENT_PENDING)
    assert order.paid_at is None
    transition(order, S.PAID, actor(w, FINANCE))
    db.session.flush()
    plan = w.shop.plan
    db.session.refresh(plan)
    assert (plan.reserved, plan.released, plan.consumed) == (Decimal("0.00"), Decimal("0.00"), TOTAL)
    assert plan.available == plan.amount - TOTAL
    assert order.paid_at is not None
    assert_ledger_matches(w)
    types = db.session.scalars(sa.select(WebhookEvent.type).where(WebhookEvent.subject == order.number)).all()
    assert types.count("budget.consumed") == 1
    assert "budget.released" not in types


@pytest.mark.parametrize("status", [S.CONFIRMED, S.SHIPPED, S.DELIVERED, S.ACCEPTED, S.COMPLETED], ids=_id)
def test_moves_in_between_keep_the_reservation(db_session, status):
    w = world()
    reach(w, status)
    plan = w.shop.plan
    db.session.refresh(plan)
    expected_consumed = TOTAL if status is S.COMPLETED else Decimal("0.00")
    assert plan.consumed == expected_consumed
    assert plan.reserved == TOTAL - expected_consumed
    assert plan.released == Decimal("0.00")
    assert_ledger_matches(w)


def test_the_whole_life_writes_a_history_row_and_an_event_for_each_move(db_session):
    w = world()
    order = reach(w, S.COMPLETED)
    history = [(e.from_status, e.to_status) for e in order.history]
    assert history == [
        (None, "submitted"),
        ("submitted", "confirmed"),
        ("confirmed", "shipped"),
        ("shipped", "delivered"),
        ("delivered", "accepted"),
        ("accepted", "payment_pending"),
        ("payment_pending", "paid"),
        ("paid", "completed"),
    ]
    types = db.session.scalars(
        sa.select(WebhookEvent.type)
        .where(WebhookEvent.subject == order.number)
        .order_by(WebhookEvent.created_at, WebhookEvent.type)
    ).all()
    assert sorted(types) == sorted(
        [
            "budget.reserved",
            "order.submitted",
            "order.confirmed",
            "order.shipped",
            "order.delivered",
            "order.accepted",
            "order.payment_pending",
            "order.paid",
            "budget.consumed",
            "order.completed",
        ]
    )
    payload = db.session.scalars(
        sa.select(WebhookEvent.payload).where(
            WebhookEvent.subject == order.number, WebhookEvent.type == "order.shipped"
        )
    ).one()
    assert payload["status"] == "shipped"
    assert payload["tracking_number"] == "SF1234567890"
    assert None not in (order.confirmed_at, order.delivered_at, order.accepted_at, order.paid_at)
    assert order.accept_due_at == order.delivered_at + timedelta(days=7)
    assert order.pay_due_at == order.accepted_at + timedelta(days=30)


def test_approval_sets_the_confirm_deadline(db_session):
    w = world()
    order = reach(w, S.PENDING_APPROVAL)
    assert order.confirm_due_at is None
    transition(order, S.SUBMITTED, actor(w, APPROVER))
    assert order.confirm_due_at is not None
    assert timedelta(hours=47, minutes=59) < order.confirm_due_at - utcnow() <= timedelta(hours=48)


# --------------------------------------------------------------------------------------------
# Guards on particular edges


@pytest.mark.parametrize("tracking", ["", "   ", None])
def test_shipping_without_a_tracking_number_is_refused(db_session, tracking):
    w = world()
    order = reach(w, S.CONFIRMED)
    before = snapshot(order)
    with pytest.raises(TransitionError, match=r"^发货须填写物流单号。$"):
        transition(order, S.SHIPPED, actor(w, SUPPLIER), tracking_number=tracking)
    assert snapshot(order) == before
    assert order.tracking_number is None


def test_confirming_after_the_deadline_is_refused(db_session):
    w = world()
    order = reach(w, S.SUBMITTED)
    order.confirm_due_at = utcnow() - timedelta(minutes=1)
    db.session.flush()
    before = snapshot(order)
    with pytest.raises(TransitionError, match=f"^订单 {order.number} 已超过确认时限，不能再确认。$"):
        transition(order, S.CONFIRMED, actor(w, SUPPLIER))
    assert snapshot(order) == before
    assert order.confirmed_at is None
    # Rejecting or cancelling stays possible.
    transition(order, S.REJECTED, actor(w, SUPPLIER), note="超时")
    assert order.status is S.REJECTED


def test_confirming_just_before_the_deadline_passes(db_session):
    w = world()
    order = reach(w, S.SUBMITTED)
    order.confirm_due_at = utcnow() + timedelta(minutes=1)
    transition(order, S.CONFIRMED, actor(w, SUPPLIER))
    assert order.status is S.CONFIRMED


def test_a_stale_copy_of_the_order_cannot_move_it_twice(db_session):
    """Another request cancelled the order after this one read it: the guarded UPDATE refuses."""
    w = world()
    order = reach(w, S.SUBMITTED)
    table = Order.__table__
    db.session.execute(sa.update(table).where(table.c.id == order.id).values(status=S.CANCELLED))
    assert order.status is S.SUBMITTED  # what this request still believes
    with pytest.raises(TransitionError, match=f"^订单 {order.number} 的状态刚刚已被更改，请刷新后重试。$"):
        transition(order, S.CONFIRMED, actor(w, SUPPLIER))
    assert order.confirmed_at is None
    db.session.expire(order)
    assert db.session.get(Order, order.id).status is S.CANCELLED


# --------------------------------------------------------------------------------------------
# The services behind the pages: moves, acceptance, evaluation


def received(order: Order, **overrides) -> list[services.ReceivedLine]:
    return [
        services.ReceivedLine(
            line_id=line.id,
            received_quantity=overrides.get("quantity", line.quantity),
            serial_numbers=overrides.get("serials", []),
            delivered_model=overrides.get("model", line.model),
        )
        for line in order.lines
    ]


def test_move_refuses_edges_that_have_their_own_form(db_session):
    w = world()
    order = reach(w, S.DELIVERED)
    with pytest.raises(TransitionError, match="不能在这里操作"):
        services.move(order, S.ACCEPTED, w.shop.purchaser)
    assert order.status is S.DELIVERED


def test_acceptance_in_full_accepts_and_keeps_the_record(db_session):
    w = world()
    order = reach(w, S.DELIVERED)
    serials = ["SN-001", "SN-002"]
    acceptance = services.record_acceptance(
        order, w.shop.purchaser, accept=True, received=received(order, serials=serials), note=""
    )
    assert order.status is S.ACCEPTED
    assert acceptance.accepted is True
    assert acceptance.substitution is False
    (line,) = order.lines
    assert acceptance.lines == [
        {
            "line_id": line.id,
            "ordered_quantity": 2,
            "received_quantity": 2,
            "serial_numbers": serials,
            "ordered_model": line.model,
            "delivered_model": line.model,
            "substituted": False,
        }
    ]
    assert order.history[-1].note == "验收通过"
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Alert)) == 0


def test_the_same_model_written_differently_is_not_a_substitution(db_session):
    w = world()
    order = reach(w, S.DELIVERED)
    model = order.lines[0].model
    written = f" {model.lower()} ".replace("m", "Ｍ")  # case, width and spaces differ
    services.record_acceptance(order, w.shop.purchaser, accept=True, received=received(order, model=written))
    assert order.acceptance.substitution is False


def test_a_different_model_is_flagged_and_alerts_the_regulator(db_session):
    w = world()
    order = reach(w, S.DELIVERED)
    ordered = order.lines[0].model
    with pytest.raises(services.AcceptanceError) as refused:
        services.record_acceptance(
            order, w.shop.purchaser, accept=True, received=received(order, model="X-OTHER-1")
        )
    assert list(refused.value.errors) == ["note"]
    assert order.status is S.DELIVERED
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Acceptance)) == 0

    acceptance = services.record_acceptance(
        order,
        w.shop.purchaser,
        accept=True,
        received=received(order, model="X-OTHER-1"),
        note="供应商以高配型号替换，经单位同意接收",
    )
    assert order.status is S.ACCEPTED
    assert acceptance.substitution is True
    assert acceptance.lines[0]["substituted"] is True
    alert = db.session.scalars(sa.select(Alert)).one()
    assert alert.kind is AlertKind.SUBSTITUTION
    assert (alert.unit_id, alert.supplier_id, alert.order_id) == (order.unit_id, order.supplier_id, order.id)
    assert alert.detail["lines"] == [
        {
            "line_id": order.lines[0].id,
            "supplier_sku": order.lines[0].supplier_sku,
            "ordered_model": ordered,
            "delivered_model": "X-OTHER-1",
        }
    ]
    assert alert.detail["accepted"] is True


def test_returning_a_substitute_also_alerts_and_releases_the_budget(db_session):
    w = world()
    order = reach(w, S.DELIVERED)
    services.record_acceptance(
        order, w.shop.purchaser, accept=False, received=received(order, model="X-OTHER-1"), note="型号不符"
    )
    assert order.status is S.RETURNED
    assert order.acceptance.accepted is False
    assert db.session.scalars(sa.select(Alert.kind)).all() == [AlertKind.SUBSTITUTION]
    db.session.refresh(w.shop.plan)
    assert w.shop.plan.released == TOTAL
    assert_ledger_matches(w)


def test_a_short_delivery_cannot_be_accepted_but_can_be_returned(db_session):
    w = world()
    order = reach(w, S.DELIVERED)
    (line,) = order.lines
    with pytest.raises(services.AcceptanceError) as refused:
        services.record_acceptance(order, w.shop.purchaser, accept=True, received=received(order, quantity=1))
    assert refused.value.errors == {
        f"received_{line.id}": [
            "实收 1 件，少于订购的 2 件，不能验收：请待供应商补齐后再验收，或选择退货并写明原因"
        ]
    }
    assert order.status is S.DELIVERED
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Acceptance)) == 0

    services.record_acceptance(
        order, w.shop.purchaser, accept=False, received=received(order, quantity=1), note="只到货 1 台"
    )
    assert order.status is S.RETURNED
    assert order.acceptance.lines[0]["received_quantity"] == 1


@pytest.mark.parametrize(
    ("quantity", "serials", "field", "message"),
    [
        (3, [], "received", "实收数量 3 超过订购数量 2"),
        (2, ["SN-1"], "serials", "填写了 1 个序列号，实收 2 件：每件一个，每行一个"),
        (2, ["SN-1", "SN-1"], "serials", "序列号重复：SN-1"),
    ],
)
def test_acceptance_numbers_must_add_up(db_session, quantity, serials, field, message):
    w = world()
    order = reach(w, S.DELIVERED)
    (line,) = order.lines
    with pytest.raises(services.AcceptanceError) as refused:
        services.record_acceptance(
            order, w.shop.purchaser, accept=True, received=received(order, quantity=quantity, serials=serials)
        )
    assert refused.value.errors == {f"{field}_{line.id}": [message]}
    assert order.status is S.DELIVERED


@pytest.mark.parametrize("status", [S.SHIPPED, S.ACCEPTED, S.RETURNED], ids=_id)
def test_acceptance_outside_delivered_is_a_transition_error(db_session, status):
    w = world()
    order = reach(w, status)
    acceptances = db.session.scalar(sa.select(sa.func.count()).select_from(Acceptance))
    with pytest.raises(TransitionError, match="不能变为「已验收」"):
        services.record_acceptance(order, w.shop.purchaser, accept=True, received=received(order))
    assert order.status is status
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Acceptance)) == acceptances


def test_only_the_units_purchaser_records_the_acceptance(db_session):
    w = world()
    order = reach(w, S.DELIVERED)
    for user in (w.shop.approver, w.shop.supplier_users[0], w.other_unit_users[PURCHASER]):
        with pytest.raises(TransitionError, match="您无权"):
            services.record_acceptance(order, user, accept=True, received=received(order))
    assert order.status is S.DELIVERED


def test_evaluation_after_acceptance_is_saved_once(db_session):
    w = world()
    order = reach(w, S.ACCEPTED)
    assert services.may_evaluate(order, w.shop.purchaser)
    evaluation = services.evaluate(
        order, w.shop.purchaser, quality=5, delivery=4, service=3, comment=" 很好 "
    )
    assert (evaluation.quality, evaluation.delivery, evaluation.service, evaluation.comment) == (
        5,
        4,
        3,
        "很好",
    )
    assert evaluation.supplier_id == order.supplier_id
    assert order.status is S.ACCEPTED  # not paid yet: nothing to complete
    assert not services.may_evaluate(order, w.shop.purchaser)
    with pytest.raises(TransitionError, match=f"^订单 {order.number} 已评价，评价只能提交一次。$"):
        services.evaluate(order, w.shop.purchaser, quality=1, delivery=1, service=1)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Evaluation)) == 1


def test_evaluating_a_paid_order_completes_it(db_session):
    w = world()
    order = reach(w, S.PAID)
    services.evaluate(order, w.shop.purchaser, quality=4, delivery=4, service=5)
    assert order.status is S.COMPLETED
    last = order.history[-1]
    assert (last.from_status, last.to_status, last.actor_id) == ("paid", "completed", w.shop.purchaser.id)
    types = db.session.scalars(sa.select(WebhookEvent.type).where(WebhookEvent.subject == order.number)).all()
    assert types.count("order.completed") == 1


@pytest.mark.parametrize("status", [S.SUBMITTED, S.DELIVERED, S.RETURNED], ids=_id)
def test_no_evaluation_before_acceptance(db_session, status):
    w = world()
    order = reach(w, status)
    assert not services.may_evaluate(order, w.shop.purchaser)
    with pytest.raises(TransitionError, match="验收通过后才能评价"):
        services.evaluate(order, w.shop.purchaser, quality=5, delivery=5, service=5)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Evaluation)) == 0


def test_only_the_units_purchaser_evaluates(db_session):
    w = world()
    order = reach(w, S.ACCEPTED)
    for user in (w.shop.approver, w.shop.supplier_users[0], w.other_unit_users[PURCHASER]):
        assert not services.may_evaluate(order, user)
        with pytest.raises(TransitionError, match="您无权评价"):
            services.evaluate(order, user, quality=5, delivery=5, service=5)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Evaluation)) == 0
