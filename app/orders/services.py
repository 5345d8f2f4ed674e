"""The order's life after submit, as verbs for the pages: who sees which orders, the status moves
(thin wrappers around :func:`app.orders.lifecycle.transition`), the acceptance form (验收单) and
the evaluation (履约评价). They flush, never commit.

Every verb re-reads the order under a row lock before it looks at the status, so two people acting
on one order at once are served one after the other and the second gets a clear
:class:`~app.orders.lifecycle.TransitionError` (answered with 409).
"""

from __future__ import annotations

import dataclasses
from datetime import date, datetime, time, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from app.auth.models import Role, User
from app.catalog.charts import LOCAL_TZ
from app.core.db import utcnow
from app.extensions import db
from app.orders.lifecycle import (
    PURCHASER,
    STATUS_LABELS,
    Actor,
    TransitionError,
    allowed_targets,
    transition,
)
from app.orders.models import Acceptance, Evaluation, Order, OrderLine
from app.orders.models import OrderStatus as S
from app.oversight.models import AlertKind
from app.oversight.services import raise_alert
from catalog_import.normalize import key_part

# Who may open order pages. Buyers (the unit's purchasers and approvers) and the supplier see their
# own orders. Operators and regulators oversee every order (DESIGN: "read-only oversight of
# everything") and finance systems take part in every unit's payments (as in the API and the plan
# pages): they read every order here, and never act on one from these pages.
BUYER_ROLES = frozenset({Role.PURCHASER, Role.APPROVER})
OVERSIGHT_ROLES = frozenset({Role.OPERATOR, Role.REGULATOR, Role.FINANCE})
READERS = (Role.PURCHASER, Role.APPROVER, Role.SUPPLIER, Role.OPERATOR, Role.REGULATOR, Role.FINANCE)
ACTORS = (Role.PURCHASER, Role.APPROVER, Role.SUPPLIER)

# The moves made with a plain button on the order page. Acceptance and return go through the
# acceptance form, completion through the evaluation, payment through the payment flow.
BUTTON_MOVES = frozenset({S.SUBMITTED, S.CONFIRMED, S.REJECTED, S.CANCELLED, S.SHIPPED, S.DELIVERED})
# Moves that end the order for good: a confirmation page comes first.
DESTRUCTIVE = frozenset({S.REJECTED, S.CANCELLED, S.RETURNED})
# An evaluation is written once the goods were accepted, until (and after) the order completes.
EVALUABLE = frozenset({S.ACCEPTED, S.PAYMENT_PENDING, S.PAID, S.COMPLETED})


class AcceptanceError(ValueError):
    """The acceptance form does not add up; ``errors`` maps form fields to Chinese messages."""

    def __init__(self, errors: dict[str, list[str]]):
        super().__init__("；".join(message for messages in errors.values() for message in messages))
        self.errors = errors


# --------------------------------------------------------------------------------------------
# Who sees what


def visible_orders(user: User) -> sa.Select:
    """Orders this user may read: the unit's, the supplier's, or all of them for oversight."""
    query = sa.select(Order)
    if user.role in BUYER_ROLES:
        return query.where(Order.unit_id == user.organization_id)
    if user.role is Role.SUPPLIER:
        return query.where(Order.supplier_id == user.organization_id)
    if user.role in OVERSIGHT_ROLES:
        return query
    return query.where(sa.false())


def get_visible(user: User, order_id: int) -> Order | None:
    return db.session.scalar(
        visible_orders(user)
        .where(Order.id == order_id)
        .options(
            selectinload(Order.lines).selectinload(OrderLine.category),
            selectinload(Order.history),
        )
    )


def _local_midnight(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=LOCAL_TZ)


def order_page(user: User, filters: dict, page: int, per_page: int) -> tuple[list[Order], int]:
    """One page of the orders this user sees, newest first, filtered by status, submit date (a day
    in the mall's calendar) and order number."""
    query = visible_orders(user)
    if filters.get("status"):
        query = query.where(Order.status == S(filters["status"]))
    if filters.get("date_from"):
        query = query.where(Order.submitted_at >= _local_midnight(filters["date_from"]))
    if filters.get("date_to"):
        query = query.where(Order.submitted_at < _local_midnight(filters["date_to"] + timedelta(days=1)))
    if filters.get("q"):
        query = query.where(Order.number.contains(filters["q"].upper(), autoescape=True))
    total = db.session.scalar(sa.select(sa.func.count()).select_from(query.subquery())) or 0
    orders = db.session.scalars(
        query.options(selectinload(Order.unit), selectinload(Order.supplier), selectinload(Order.buyer))
        .order_by(Order.submitted_at.desc(), Order.id.desc())
        .limit(per_page)
        .offset((page - 1) * per_page)
    ).all()
    return list(orders), total


def approval_page(user: User, page: int, per_page: int) -> tuple[list[Order], int]:
    """The unit's orders waiting for its approver, oldest first (they wait longest)."""
    query = sa.select(Order).where(Order.unit_id == user.organization_id, Order.status == S.PENDING_APPROVAL)
    total = db.session.scalar(sa.select(sa.func.count()).select_from(query.subquery())) or 0
    orders = db.session.scalars(
        query.options(
            selectinload(Order.supplier),
            selectinload(Order.buyer),
            selectinload(Order.plan),
            selectinload(Order.lines),
        )
        .order_by(Order.submitted_at, Order.id)
        .limit(per_page)
        .offset((page - 1) * per_page)
    ).all()
    return list(orders), total


# --------------------------------------------------------------------------------------------
# Moves


def lock(order: Order | int) -> Order:
    """The order (or order id) re-read under a row lock (``FOR UPDATE`` on PostgreSQL; SQLite
    serializes writers), so the status we check is the status we change."""
    order_id = order if isinstance(order, int) else order.id
    return db.session.scalars(
        sa.select(Order)
        .where(Order.id == order_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()


def ensure_allowed(order: Order, to: S, actor: Actor) -> None:
    """Raise the :class:`TransitionError` that :func:`transition` would raise, without moving."""
    if to not in allowed_targets(order, actor):
        # Not an edge, or not this actor's: transition refuses before it writes anything.
        transition(order, to, actor)
        raise AssertionError("unreachable: transition accepted a move allowed_targets refused")


def move(order: Order, to: S, user: User, *, note: str = "", tracking_number: str = "") -> Order:
    """A button move (approve, confirm, reject, cancel, ship, mark delivered)."""
    if to not in BUTTON_MOVES:
        raise TransitionError(f"「{STATUS_LABELS[to]}」不能在这里操作。")
    order = lock(order)
    transition(order, to, Actor.of_user(user), note=note, tracking_number=tracking_number)
    db.session.flush()
    return order


# --------------------------------------------------------------------------------------------
# Acceptance (验收单)


@dataclasses.dataclass(frozen=True)
class ReceivedLine:
    line_id: int
    received_quantity: int
    serial_numbers: list[str]
    delivered_model: str


def same_model(ordered: str, delivered: str) -> bool:
    """Models compared as the catalogue compares them: without case, width or separators."""
    return key_part(ordered) == key_part(delivered)


def field_name(line_id: int, name: str) -> str:
    """The acceptance form's field for one order line."""
    return f"{name}_{line_id}"


def record_acceptance(
    order: Order, user: User, *, accept: bool, received: list[ReceivedLine], note: str = ""
) -> Acceptance:
    """Write the 验收单 and accept (→ accepted) or return (→ returned, budget released).

    Rules, also explained on the page: every line must be counted; no more than ordered may be
    received; serial numbers, when given, are one per unit received and unique. A short delivery
    cannot be accepted — the order is paid in full, so the buyer waits for the rest (the order
    stays 已送达) or returns it. A delivered model that differs from the ordered one is a
    substitution: it is flagged and the regulator is alerted, whatever the decision, and accepting
    it needs a written reason.
    """
    order = lock(order)
    to = S.ACCEPTED if accept else S.RETURNED
    actor = Actor.of_user(user)
    ensure_allowed(order, to, actor)

    by_id = {entry.line_id: entry for entry in received}
    errors: dict[str, list[str]] = {}
    rows, substituted, short = [], [], []
    seen_serials: dict[str, int] = {}
    for line in order.lines:
        entry = by_id.get(line.id)
        if entry is None:
            errors[field_name(line.id, "received")] = [f"请填写「{line.name}」的实收数量"]
            continue
        if entry.received_quantity > line.quantity:
            errors[field_name(line.id, "received")] = [
                f"实收数量 {entry.received_quantity} 超过订购数量 {line.quantity}"
            ]
        elif entry.received_quantity < line.quantity:
            short.append(line)
        serials = entry.serial_numbers
        if serials and len(serials) != entry.received_quantity:
            errors[field_name(line.id, "serials")] = [
                f"填写了 {len(serials)} 个序列号，实收 {entry.received_quantity} 件：每件一个，每行一个"
            ]
        duplicates = sorted({s for s in serials if serials.count(s) > 1 or s in seen_serials})
        if duplicates:
            errors.setdefault(field_name(line.id, "serials"), []).append(
                f"序列号重复：{'、'.join(duplicates[:5])}"
            )
        for serial in serials:
            seen_serials.setdefault(serial, line.id)
        is_substitute = not same_model(line.model, entry.delivered_model)
        if is_substitute:
            substituted.append((line, entry))
        rows.append(
            {
                "line_id": line.id,
                "ordered_quantity": line.quantity,
                "received_quantity": entry.received_quantity,
                "serial_numbers": serials,
                "ordered_model": line.model,
                "delivered_model": entry.delivered_model,
                "substituted": is_substitute,
            }
        )
    unknown = set(by_id) - {line.id for line in order.lines}
    if unknown:
        errors.setdefault("_schema", []).append("验收单包含不属于本订单的商品行")
    note = (note or "").strip()
    if accept and short and not errors:
        for line in short:
            errors[field_name(line.id, "received")] = [
                f"实收 {by_id[line.id].received_quantity} 件，少于订购的 {line.quantity} 件，不能验收："
                "请待供应商补齐后再验收，或选择退货并写明原因"
            ]
    if accept and substituted and not note and not errors:
        errors["note"] = [
            "实收型号与订单不符：如确需接收，请在验收说明中写明原因（监管部门会收到预警）；否则请退货"
        ]
    if errors:
        raise AcceptanceError(errors)

    acceptance = Acceptance(
        order=order,
        accepted=accept,
        lines=rows,
        substitution=bool(substituted),
        note=note,
        created_by_id=user.id,
        created_at=utcnow(),
    )
    db.session.add(acceptance)
    db.session.flush()  # the unique order_id refuses a second 验收单 before anything else moves
    if substituted:
        described = "；".join(
            f"「{line.name}」订购型号 {line.model}，实收 {entry.delivered_model}"
            for line, entry in substituted
        )
        raise_alert(
            AlertKind.SUBSTITUTION,
            f"{order.unit.name} 验收订单 {order.number} 时发现型号不符（{order.supplier.name}）：{described}"[
                :500
            ],
            unit_id=order.unit_id,
            supplier_id=order.supplier_id,
            order_id=order.id,
            detail={
                "order_no": order.number,
                "accepted": accept,
                "note": note,
                "lines": [
                    {
                        "line_id": line.id,
                        "supplier_sku": line.supplier_sku,
                        "ordered_model": line.model,
                        "delivered_model": entry.delivered_model,
                    }
                    for line, entry in substituted
                ],
            },
        )
    transition(order, to, actor, note=note or ("验收通过" if accept else ""))
    db.session.flush()
    return acceptance


# --------------------------------------------------------------------------------------------
# Evaluation (履约评价)


def may_evaluate(order: Order, user: User) -> bool:
    return (
        user.role is Role.PURCHASER
        and order.unit_id == user.organization_id
        and order.status in EVALUABLE
        and order.evaluation is None
    )


def evaluate(
    order: Order, user: User, *, quality: int, delivery: int, service: int, comment: str = ""
) -> Evaluation:
    """Save the buyer's stars once; a paid order is completed by it (paid → completed)."""
    order = lock(order)
    actor = Actor.of_user(user)
    if actor.kind != PURCHASER or order.unit_id != user.organization_id:
        raise TransitionError(f"您无权评价订单 {order.number}：履约评价由采购单位的经办人填写。")
    if order.evaluation is not None:
        raise TransitionError(f"订单 {order.number} 已评价，评价只能提交一次。")
    if order.status not in EVALUABLE:
        raise TransitionError(
            f"订单 {order.number} 当前为「{STATUS_LABELS[order.status]}」，验收通过后才能评价。"
        )
    evaluation = Evaluation(
        order=order,
        supplier_id=order.supplier_id,
        quality=quality,
        delivery=delivery,
        service=service,
        comment=(comment or "").strip(),
        created_by_id=user.id,
        created_at=utcnow(),
    )
    db.session.add(evaluation)
    db.session.flush()
    if order.status is S.PAID:
        transition(order, S.COMPLETED, actor, note="已完成履约评价")
        db.session.flush()
    return evaluation
