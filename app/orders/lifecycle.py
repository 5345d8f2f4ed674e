"""The order's life as data: the allowed edges and who may take them, checked in one place.

:func:`transition` is the only code that changes an order's status. It checks the edge and the
actor (role and organization), applies the edge's budget movement and timestamps, writes a
history row and emits an outbound event — all in the caller's transaction.
"""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm.attributes import set_committed_value

from app.auth.models import OrgKind, User
from app.core.db import utcnow
from app.extensions import db
from app.orders.models import Order, OrderEvent
from app.orders.models import OrderStatus as S
from app.orders.payloads import order_payload
from app.orders.rules import from_json, strictest
from app.procurement import services as budget
from app.webhooks.outbox import emit

# Who acts: a person of a role, a machine client of an organization kind, or the system itself.
PURCHASER, APPROVER, SUPPLIER, FINANCE, SYSTEM = "purchaser", "approver", "supplier", "finance", "system"

EDGES: dict[tuple[S, S], frozenset[str]] = {
    (S.PENDING_APPROVAL, S.SUBMITTED): frozenset({APPROVER}),
    (S.PENDING_APPROVAL, S.REJECTED): frozenset({APPROVER}),
    (S.PENDING_APPROVAL, S.CANCELLED): frozenset({PURCHASER, SYSTEM}),
    (S.SUBMITTED, S.CONFIRMED): frozenset({SUPPLIER}),
    (S.SUBMITTED, S.REJECTED): frozenset({SUPPLIER}),
    (S.SUBMITTED, S.CANCELLED): frozenset({PURCHASER, SYSTEM}),
    (S.CONFIRMED, S.SHIPPED): frozenset({SUPPLIER}),
    # Backing out after confirming is possible, with a reason; it costs the supplier credit.
    (S.CONFIRMED, S.REJECTED): frozenset({SUPPLIER}),
    (S.SHIPPED, S.DELIVERED): frozenset({SUPPLIER}),
    (S.DELIVERED, S.ACCEPTED): frozenset({PURCHASER}),
    (S.DELIVERED, S.RETURNED): frozenset({PURCHASER}),
    (S.ACCEPTED, S.PAYMENT_PENDING): frozenset({PURCHASER, FINANCE}),
    (S.PAYMENT_PENDING, S.PAID): frozenset({FINANCE, SYSTEM}),
    (S.PAID, S.COMPLETED): frozenset({PURCHASER, SYSTEM}),
}
# A written reason is required on these edges.
NEEDS_NOTE = {
    (S.PENDING_APPROVAL, S.REJECTED),
    (S.SUBMITTED, S.REJECTED),
    (S.CONFIRMED, S.REJECTED),
    (S.SUBMITTED, S.CANCELLED),
    (S.PENDING_APPROVAL, S.CANCELLED),
    (S.DELIVERED, S.RETURNED),
}
RELEASES_BUDGET = {S.REJECTED, S.CANCELLED, S.RETURNED}
# The ledger's note is data: plain Chinese, never a lazy label (not bindable, and jobs have no locale).
RELEASE_NOTES = {S.REJECTED: "订单已拒绝", S.CANCELLED: "订单已取消", S.RETURNED: "订单已退货"}
OPEN_STATUSES = frozenset(S) - {S.REJECTED, S.CANCELLED, S.RETURNED}

STATUS_LABELS = {
    S.PENDING_APPROVAL: _l("待审批"),
    S.SUBMITTED: _l("待供应商确认"),
    S.CONFIRMED: _l("已确认"),
    S.REJECTED: _l("已拒绝"),
    S.CANCELLED: _l("已取消"),
    S.SHIPPED: _l("已发货"),
    S.DELIVERED: _l("已送达"),
    S.ACCEPTED: _l("已验收"),
    S.RETURNED: _l("已退货"),
    S.PAYMENT_PENDING: _l("待支付"),
    S.PAID: _l("已支付"),
    S.COMPLETED: _l("已完成"),
}


class TransitionError(Exception):
    """An illegal move (answered with 409); the message says why, in Chinese."""


@dataclasses.dataclass(frozen=True)
class Actor:
    kind: str
    organization_id: int | None
    label: str
    user: User | None = None

    @classmethod
    def of_user(cls, user: User) -> Actor:
        return cls(user.role.value, user.organization_id, user.display_name, user)

    @classmethod
    def of_client(cls, organization) -> Actor:
        """A machine client (API token) acting for its organization."""
        kind = {OrgKind.SUPPLIER: SUPPLIER, OrgKind.FINANCE: FINANCE, OrgKind.PURCHASING_UNIT: PURCHASER}
        return cls(kind.get(organization.kind, "none"), organization.id, f"{organization.name}（接口）")

    @classmethod
    def system(cls, label: str = "系统") -> Actor:
        return cls(SYSTEM, None, label)


def _owns(actor: Actor, order: Order) -> bool:
    if actor.kind in (PURCHASER, APPROVER):
        return actor.organization_id == order.unit_id
    if actor.kind == SUPPLIER:
        return actor.organization_id == order.supplier_id
    return actor.kind in (FINANCE, SYSTEM)


def allowed_targets(order: Order, actor: Actor) -> list[S]:
    """The statuses this actor may move the order to now (for buttons and the API)."""
    if not _owns(actor, order):
        return []
    return [to for (frm, to), kinds in EDGES.items() if frm == order.status and actor.kind in kinds]


def transition(order: Order, to: S, actor: Actor, *, note: str = "", **details) -> OrderEvent:
    frm = order.status
    kinds = EDGES.get((frm, to))
    if kinds is None:
        raise TransitionError(
            f"订单 {order.number} 当前为「{STATUS_LABELS[frm]}」，不能变为「{STATUS_LABELS[to]}」。"
        )
    if actor.kind not in kinds or not _owns(actor, order):
        raise TransitionError(
            f"您无权将订单 {order.number} 从「{STATUS_LABELS[frm]}」变为「{STATUS_LABELS[to]}」。"
        )
    note = (note or "").strip()
    if (frm, to) in NEEDS_NOTE and not note:
        raise TransitionError("请填写原因。")
    now = utcnow()
    # The rules frozen at submit: an operator's later change does not move this order's deadlines.
    rules = (
        from_json(order.rules)
        if order.rules
        else strictest(order.region_code, [line.category_id for line in order.lines])
    )
    if to is S.CONFIRMED and order.confirm_due_at and now > order.confirm_due_at:
        raise TransitionError(f"订单 {order.number} 已超过确认时限，不能再确认。")
    if to is S.SHIPPED:
        tracking = (details.get("tracking_number") or "").strip()
        if not tracking:
            raise TransitionError("发货须填写物流单号。")
        order.tracking_number = tracking
    # Guarded move: a concurrent transition of the same order (the supplier confirming while the
    # deadline job cancels) waits for this row and then finds the status changed: exactly one wins.
    moved = db.session.execute(
        sa.update(Order)
        .where(Order.id == order.id, Order.status == frm)
        .values(status=to)
        .execution_options(synchronize_session=False)
    )
    if moved.rowcount != 1:
        raise TransitionError(f"订单 {order.number} 的状态刚刚已被更改，请刷新后重试。")
    if to in RELEASES_BUDGET:
        budget.release(
            order.plan, order.total, reference=order.number, user=actor.user, note=RELEASE_NOTES[to]
        )
    if to is S.PAID:
        budget.consume(order.plan, order.total, reference=order.number, user=actor.user)
        order.paid_at = now
    if to is S.SUBMITTED:
        order.confirm_due_at = now + timedelta(hours=rules.confirm_hours)
    elif to is S.CONFIRMED:
        order.confirmed_at = now
    elif to is S.DELIVERED:
        order.delivered_at = now
        order.accept_due_at = now + timedelta(days=rules.accept_days)
    elif to is S.ACCEPTED:
        order.accepted_at = now
        order.pay_due_at = now + timedelta(days=rules.pay_days)
    # The row already says ``to``: tell the ORM so, rather than flushing the same value again
    # (which would also leave its idea of the stored status one move behind).
    set_committed_value(order, "status", to)
    event = record(order, frm, to, actor, note)
    if to is S.PAID and order.evaluation is not None:
        # Evaluated while payment was pending: payment completes the order.
        transition(order, S.COMPLETED, Actor.system(), note="已完成履约评价")
    return event


def record(order: Order, frm: S | None, to: S, actor: Actor, note: str = "") -> OrderEvent:
    """The history row and the outbound event of a move (also used for the order's creation)."""
    event = OrderEvent(
        from_status=frm.value if frm else None,
        to_status=to.value,
        actor_id=actor.user.id if actor.user else None,
        actor_label=actor.label,
        note=note,
        created_at=utcnow(),
    )
    order.history.append(event)
    emit(f"order.{to.value}", order_payload(order), subject=order.number)
    return event
