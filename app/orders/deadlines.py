"""The order deadlines (DESIGN.md "The order's life"), enforced by a periodic job every minute.

- a submitted order the supplier has not confirmed by ``confirm_due_at`` is cancelled by the
  system (which releases its budget through :func:`lifecycle.transition`) and a
  LATE_CONFIRMATION alert is raised for the regulator;
- a delivered order not accepted by ``accept_due_at`` raises one LATE_ACCEPTANCE alert;
- an accepted (or payment-pending) order not paid by ``pay_due_at`` raises one LATE_PAYMENT alert.

Each alert is raised once: its kind is added to ``Order.overdue_flags``. Orders are taken in small
batches of ids (keyset by id) and each order is handled in its own transaction: its row is locked
(``FOR UPDATE SKIP LOCKED`` on PostgreSQL; SQLite has one writer at a time), re-read and checked
again, changed and committed. A supplier confirming the same order at the same moment either holds
the row — the job skips it and finds it confirmed on its next run — or loses the guarded status
update in :func:`lifecycle.transition` after the job committed: exactly one of the two wins.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from app.catalog.charts import LOCAL_TZ
from app.core.db import utcnow
from app.core.jobs import job
from app.extensions import db
from app.orders import lifecycle
from app.orders.lifecycle import Actor, TransitionError
from app.orders.models import Order
from app.orders.models import OrderStatus as S
from app.oversight.models import AlertKind
from app.oversight.services import raise_alert

log = logging.getLogger(__name__)

BATCH = 50  # orders per query; each order is still its own transaction
MAX_PER_RUN = 5000  # per kind of deadline: a backlog is worked off over several runs
SYSTEM_LABEL = "系统（超时未确认）"

LATE_CONFIRMATION = AlertKind.LATE_CONFIRMATION.value
LATE_ACCEPTANCE = AlertKind.LATE_ACCEPTANCE.value
LATE_PAYMENT = AlertKind.LATE_PAYMENT.value


def _local(moment: datetime) -> str:
    return moment.astimezone(LOCAL_TZ).strftime("%Y-%m-%d %H:%M")


def _not_flagged(flag: str):
    # JSON containment differs between PostgreSQL and SQLite; the list's text works on both (the
    # flags are distinct words, none a part of another) and is checked again on the locked row.
    return sa.func.coalesce(sa.cast(Order.overdue_flags, sa.String), "").not_like(f'%"{flag}"%')


def _due_ids(condition, after_id: int, limit: int) -> list[int]:
    return list(
        db.session.scalars(
            sa.select(Order.id).where(condition, Order.id > after_id).order_by(Order.id).limit(limit)
        )
    )


def _locked(order_id: int) -> Order | None:
    """The order's row, locked for this transaction and read fresh; None if another transaction
    holds it right now (it is looked at again on the next run)."""
    return db.session.scalar(
        sa.select(Order)
        .where(Order.id == order_id)
        .options(selectinload(Order.lines))
        .with_for_update(skip_locked=True)
        .execution_options(populate_existing=True)
    )


def _each(condition, handle: Callable[[Order], bool]) -> int:
    """Run ``handle`` on every order matching ``condition``, one transaction per order; returns
    how many it acted on."""
    done = seen = 0
    after_id = 0
    while seen < MAX_PER_RUN:
        ids = _due_ids(condition, after_id, min(BATCH, MAX_PER_RUN - seen))
        if not ids:
            break
        for order_id in ids:
            after_id = order_id
            seen += 1
            try:
                order = _locked(order_id)
                acted = order is not None and handle(order)
                db.session.commit()
                done += acted
            except TransitionError as refused:
                # The order moved on between the query and the lock (the supplier confirmed).
                db.session.rollback()
                log.info("deadline: order %s left alone: %s", order_id, refused)
            except Exception:
                db.session.rollback()
                log.exception("deadline: order %s could not be processed", order_id)
    return done


def _flag(order: Order, flag: str) -> None:
    # A new list, so the JSON column sees the change.
    order.overdue_flags = [*(order.overdue_flags or []), flag]


def cancel_unconfirmed(now: datetime) -> int:
    def handle(order: Order) -> bool:
        if order.status is not S.SUBMITTED or order.confirm_due_at is None or order.confirm_due_at >= now:
            return False
        due = _local(order.confirm_due_at)
        lifecycle.transition(
            order,
            S.CANCELLED,
            Actor.system(SYSTEM_LABEL),
            note=f"供应商未在确认时限（{due}）前确认订单，系统自动取消并释放预算。",
        )
        if LATE_CONFIRMATION not in (order.overdue_flags or []):
            _flag(order, LATE_CONFIRMATION)
            raise_alert(
                AlertKind.LATE_CONFIRMATION,
                f"{order.supplier.name} 未在 {due} 前确认订单 {order.number}（¥{order.total:,.2f}），"
                f"订单已自动取消",
                unit_id=order.unit_id,
                supplier_id=order.supplier_id,
                order_id=order.id,
                detail={
                    "order_no": order.number,
                    "confirm_due_at": order.confirm_due_at.isoformat(),
                    "total": str(order.total),
                },
            )
        db.session.flush()
        return True

    return _each(
        sa.and_(
            Order.status == S.SUBMITTED,
            Order.confirm_due_at.is_not(None),
            Order.confirm_due_at < now,
        ),
        handle,
    )


UNPAID = (S.ACCEPTED, S.PAYMENT_PENDING)


def _alert_once(now: datetime, flag: str, kind: AlertKind, statuses: tuple, due_column, verb: str) -> int:
    """One alert for each order in ``statuses`` whose ``due_column`` has passed (flagged, so once)."""
    name = due_column.key

    def handle(order: Order) -> bool:
        due_at = getattr(order, name)
        if (
            order.status not in statuses
            or due_at is None
            or due_at >= now
            or flag in (order.overdue_flags or [])
        ):
            return False
        _flag(order, flag)
        raise_alert(
            kind,
            f"{order.unit.name} 未在 {_local(due_at)} 前{verb}订单 {order.number}（¥{order.total:,.2f}）",
            unit_id=order.unit_id,
            supplier_id=order.supplier_id,
            order_id=order.id,
            detail={"order_no": order.number, name: due_at.isoformat(), "total": str(order.total)},
        )
        db.session.flush()
        return True

    return _each(
        sa.and_(Order.status.in_(statuses), due_column.is_not(None), due_column < now, _not_flagged(flag)),
        handle,
    )


def alert_late_acceptance(now: datetime) -> int:
    return _alert_once(
        now, LATE_ACCEPTANCE, AlertKind.LATE_ACCEPTANCE, (S.DELIVERED,), Order.accept_due_at, "验收"
    )


def alert_late_payment(now: datetime) -> int:
    return _alert_once(now, LATE_PAYMENT, AlertKind.LATE_PAYMENT, UNPAID, Order.pay_due_at, "支付")


@job
def enforce_deadlines(now: datetime | None = None) -> dict[str, int]:
    """The periodic job (app/core/scheduler.py). ``now`` is for tests; the scheduler passes none.

    It commits once per order itself (see the module's docstring); the ``job`` wrapper's final
    commit then has nothing left to do.
    """
    now = now or utcnow()
    return {
        "cancelled": cancel_unconfirmed(now),
        "late_acceptance": alert_late_acceptance(now),
        "late_payment": alert_late_payment(now),
    }
