"""Payment verbs. They flush, never commit; remote calls happen in :mod:`app.payments.jobs`,
never while a row is locked.

The flow: :func:`request_payment` (purchaser or finance system) locks the order, moves it
accepted → payment_pending (a retry after a decline keeps it there), records a :class:`Payment`
attempt and enqueues its submission after commit. The job creates the intent with the attempt's
idempotency key, records the intent id (committed before confirming, so the provider's event
always finds it), and confirms. The provider's signed event then moves the payment and the order:
``payment_intent.succeeded`` → paid (the lifecycle consumes the budget),
``payment_intent.payment_failed`` → the attempt failed with its reason, the order stays
payment_pending and may be paid again with a new attempt.

Every state change goes through :func:`apply_intent_state`, with the order and payment rows locked
(order first, then payment — the order every writer uses), and only moves forward: a late
``payment_failed`` after ``succeeded`` changes nothing, a repeated event changes nothing.
"""

from __future__ import annotations

import dataclasses
import logging
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError

from app.core import audit
from app.core.db import utcnow
from app.core.jobs import enqueue
from app.core.money import format_cny, to_fen
from app.extensions import db
from app.orders import services as order_services
from app.orders.lifecycle import FINANCE, PURCHASER, STATUS_LABELS, Actor, transition
from app.orders.models import Order, OrderStatus
from app.payments.client import (
    APIConnectionError,
    APIError,
    CardError,
    PaymentError,
    PaymentIntent,
    RateLimitError,
)
from app.payments.models import (
    OPEN_PAYMENT_STATUSES,
    EventOutcome,
    Payment,
    PaymentStatus,
    ProviderEvent,
)

log = logging.getLogger(__name__)

SUCCEEDED = "payment_intent.succeeded"
FAILED = "payment_intent.payment_failed"
CANCELED = "payment_intent.canceled"
HANDLED_EVENTS = (SUCCEEDED, FAILED, CANCELED)
PROVIDER_ACTOR_LABEL = "支付服务"

FAILURE_LABELS = {
    "insufficient_funds": _l("账户余额不足"),
    "generic_decline": _l("付款被拒绝"),
    "card_declined": _l("付款被拒绝"),
    "expired_card": _l("付款账户已过期"),
    "processing_error": _l("支付处理出错"),
    "canceled": _l("支付已取消"),
    "configuration_error": _l("支付服务未配置"),
    "api_key_invalid": _l("支付服务拒绝了本系统的密钥"),
}


class PaymentRequestError(Exception):
    """A refused payment request; the message is for the person (or client) asking."""

    def __init__(self, message: str, status: int = 409):
        super().__init__(message)
        self.message = message
        self.status = status


# ---------------------------------------------------------------------- reading


def payments_of(order_id: int) -> list[Payment]:
    return list(
        db.session.scalars(sa.select(Payment).where(Payment.order_id == order_id).order_by(Payment.attempt))
    )


def latest_payment(order_id: int) -> Payment | None:
    return db.session.scalar(
        sa.select(Payment).where(Payment.order_id == order_id).order_by(Payment.attempt.desc()).limit(1)
    )


def payment_in_flight(order: Order) -> bool:
    """A payment of this order is with the provider or has succeeded: marking the order paid by
    other means (a finance system's own transfer) would pay it twice."""
    latest = latest_payment(order.id)
    return latest is not None and (
        latest.status in OPEN_PAYMENT_STATUSES or latest.status is PaymentStatus.SUCCEEDED
    )


def failure_label(payment: Payment) -> str:
    """The decline reason for people: a Chinese label for the provider's code, and its message."""
    if payment.failure_code is None and payment.failure_message is None:
        return ""
    label = FAILURE_LABELS.get(payment.failure_code or "")
    label = str(label) if label else (payment.failure_code or str(_l("支付失败")))
    return f"{label}（{payment.failure_message}）" if payment.failure_message else label


def can_request(order: Order) -> bool:
    """Whether a payment may be requested now (for the button)."""
    if order.status is OrderStatus.ACCEPTED:
        return True
    if order.status is not OrderStatus.PAYMENT_PENDING:
        return False
    latest = latest_payment(order.id)
    return latest is None or latest.status in (PaymentStatus.FAILED, PaymentStatus.CANCELED)


def order_section(order: Order, user) -> dict[str, Any]:
    """What the order page's payment section needs (``payments/_macros.html``,
    ``order_payment_section``): the attempts, whether this user may pay now, the reason text."""
    return {
        "payments": payments_of(order.id),
        "can_pay": user.role.value in (PURCHASER, FINANCE)
        and may_pay(Actor.of_user(user), order)
        and can_request(order),
        "failure_label": failure_label,
    }


def may_pay(actor: Actor, order: Order) -> bool:
    """The buying unit's purchaser, or a finance system (finance funds every unit's plans)."""
    if actor.kind == PURCHASER:
        return actor.organization_id == order.unit_id
    return actor.kind == FINANCE


# ---------------------------------------------------------------------- locking


def _lock(payment_id: int) -> tuple[Order, Payment]:
    """Lock the payment's order, then the payment (always in this order)."""
    order_id = db.session.scalar(sa.select(Payment.order_id).where(Payment.id == payment_id))
    order = order_services.lock(order_id)
    payment = db.session.execute(
        sa.select(Payment)
        .where(Payment.id == payment_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).scalar_one()
    return order, payment


# ---------------------------------------------------------------------- requesting a payment


def request_payment(order: Order, actor: Actor) -> Payment:
    """Record a new payment attempt for ``order`` and submit it to the provider after commit."""
    order = order_services.lock(order)
    if not may_pay(actor, order):
        raise PaymentRequestError(f"您无权为订单 {order.number} 发起支付。", 403)
    latest = latest_payment(order.id)
    if order.status is OrderStatus.ACCEPTED:
        transition(order, OrderStatus.PAYMENT_PENDING, actor, note="发起支付")
    elif order.status is OrderStatus.PAYMENT_PENDING:
        if latest is not None and latest.status in OPEN_PAYMENT_STATUSES:
            raise PaymentRequestError(
                f"订单 {order.number} 的第 {latest.attempt} 次支付正在处理中，请等待支付结果。"
            )
        if latest is not None and latest.status is PaymentStatus.SUCCEEDED:
            raise PaymentRequestError(f"订单 {order.number} 已支付成功。")
    else:
        raise PaymentRequestError(
            f"订单 {order.number} 当前为「{STATUS_LABELS[order.status]}」，验收通过后才能支付。"
        )
    attempt = (latest.attempt if latest is not None else 0) + 1
    payment = Payment(
        order_id=order.id,
        attempt=attempt,
        idempotency_key=f"pay-{order.number}-{attempt}",
        status=PaymentStatus.PENDING,
        amount=order.total,
        currency="cny",
        requested_by_id=actor.user.id if actor.user else None,
        requested_by_label=actor.label[:100],
    )
    db.session.add(payment)
    db.session.flush()
    audit.record(
        "payments.requested",
        user=actor.user,
        organization_id=actor.organization_id,
        order_no=order.number,
        attempt=attempt,
        amount=str(order.total),
    )
    enqueue("app.payments.jobs.submit_payment", payment.id)
    return payment


# ---------------------------------------------------------------------- the provider calls' results


@dataclasses.dataclass(frozen=True)
class Submission:
    """What the job needs to call the provider, read before any remote call."""

    payment_id: int
    order_no: str
    attempt: int
    idempotency_key: str
    amount: Decimal
    intent_id: str | None

    @property
    def confirm_key(self) -> str:
        return f"{self.idempotency_key}-confirm"

    def create_params(self) -> dict[str, Any]:
        return {
            "amount": self.amount,
            "currency": "cny",
            "idempotency_key": self.idempotency_key,
            "description": f"政府采购电子卖场订单 {self.order_no}（第 {self.attempt} 次支付）",
            "metadata": {
                "order_no": self.order_no,
                "attempt": str(self.attempt),
                "payment_id": str(self.payment_id),
            },
        }


def submission(payment_id: int) -> Submission | None:
    payment = db.session.get(Payment, payment_id)
    if payment is None or payment.status is not PaymentStatus.PENDING:
        return None
    payment.submitted_at = utcnow()
    return Submission(
        payment_id=payment.id,
        order_no=payment.order.number,
        attempt=payment.attempt,
        idempotency_key=payment.idempotency_key,
        amount=payment.amount,
        intent_id=payment.intent_id,
    )


def record_intent(payment_id: int, intent: PaymentIntent) -> None:
    """The intent the provider created for this attempt (before it is confirmed)."""
    _order, payment = _lock(payment_id)
    if payment.intent_id is None:
        payment.intent_id = intent.id
    elif payment.intent_id != intent.id:
        raise RuntimeError(f"payment {payment_id}: intent {intent.id} is not {payment.intent_id}")
    payment.provider_error = None
    db.session.flush()


def record_provider_error(payment_id: int, exc: PaymentError) -> None:
    """The provider could not be reached or refused the call. Transient failures leave the attempt
    pending for the sweeper to submit again (same keys); a refusal fails it."""
    _order, payment = _lock(payment_id)
    if payment.status is not PaymentStatus.PENDING:
        return
    transient = isinstance(exc, APIConnectionError | APIError | RateLimitError)
    payment.provider_error = str(exc)[:500]
    if not transient:
        payment.status = PaymentStatus.FAILED
        payment.failure_code = exc.code or exc.type or "provider_error"
        payment.failure_message = exc.message[:500]
        payment.settled_at = utcnow()
    log.warning("payment %s (%s): provider error %s", payment.id, payment.idempotency_key, exc)
    db.session.flush()


def record_confirmation(payment_id: int, intent: PaymentIntent) -> tuple[bool, str]:
    order, payment = _lock(payment_id)
    return apply_intent_state(order, payment, intent.status, intent.last_payment_error)


def record_decline(payment_id: int, exc: CardError) -> tuple[bool, str]:
    order, payment = _lock(payment_id)
    error = (exc.body or {}).get("error") or {}
    return apply_intent_state(
        order,
        payment,
        "requires_payment_method",
        {"code": exc.code, "decline_code": exc.decline_code, "message": exc.message, **error},
    )


# ---------------------------------------------------------------------- applying the provider's state


def apply_intent_state(
    order: Order, payment: Payment, status: str, last_payment_error: dict | None
) -> tuple[bool, str]:
    """Move ``payment`` (and ``order``) to what the provider says; only ever forward.
    Both rows must be locked. Returns (changed, what happened)."""
    if status == "succeeded":
        return _succeed(order, payment)
    if status == "canceled":
        return _cancel(payment)
    if status == "requires_payment_method" and last_payment_error:
        return _fail(payment, last_payment_error)
    if status == "processing" and payment.status is PaymentStatus.PENDING:
        payment.status = PaymentStatus.PROCESSING
        payment.provider_error = None
        db.session.flush()
        return True, "支付处理中"
    return False, f"状态 {status} 无需处理（当前 {payment.status.value}）"


def _succeed(order: Order, payment: Payment) -> tuple[bool, str]:
    if payment.status is PaymentStatus.SUCCEEDED:
        return False, "重复：该支付已成功"
    payment.status = PaymentStatus.SUCCEEDED
    payment.failure_code = payment.failure_message = payment.provider_error = None
    payment.settled_at = utcnow()
    actor = Actor.system(PROVIDER_ACTOR_LABEL)
    if order.status is OrderStatus.PAYMENT_PENDING:
        transition(
            order,
            OrderStatus.PAID,
            actor,
            note=f"支付成功：第 {payment.attempt} 次支付，{format_cny(payment.amount)}，{payment.intent_id}",
        )
        detail = "支付成功，订单已支付"
    else:
        # Paid twice (another attempt succeeded first) or paid in a state that cannot take it:
        # the money moved, so record it and raise it for a person to refund.
        detail = f"支付成功，但订单当前为 {order.status.value}：需人工核对并退款"
        log.error("order %s: payment %s succeeded while it is %s", order.number, payment.id, order.status)
        audit.record(
            "payments.unexpected_success",
            organization_id=order.unit_id,
            order_no=order.number,
            intent_id=payment.intent_id,
            order_status=order.status.value,
        )
    db.session.flush()
    return True, detail


def _fail(payment: Payment, error: dict) -> tuple[bool, str]:
    if payment.status in (PaymentStatus.SUCCEEDED, PaymentStatus.CANCELED, PaymentStatus.FAILED):
        return False, f"忽略：支付失败事件晚于 {payment.status.value}"
    payment.status = PaymentStatus.FAILED
    payment.failure_code = str(error.get("decline_code") or error.get("code") or "declined")[:64]
    payment.failure_message = str(error.get("message") or "")[:500] or None
    payment.provider_error = None
    payment.settled_at = utcnow()
    db.session.flush()
    return True, f"支付失败：{payment.failure_code}"


def _cancel(payment: Payment) -> tuple[bool, str]:
    if payment.status in (PaymentStatus.SUCCEEDED, PaymentStatus.CANCELED):
        return False, f"忽略：取消事件晚于 {payment.status.value}"
    payment.status = PaymentStatus.CANCELED
    payment.failure_code = "canceled"
    payment.settled_at = utcnow()
    db.session.flush()
    return True, "支付已取消"


# ---------------------------------------------------------------------- provider events


class DuplicateEvent(Exception):
    pass


@dataclasses.dataclass
class Received:
    outcome: EventOutcome
    detail: str
    payment_id: int | None = None

    @property
    def refused(self) -> bool:
        return self.outcome in (EventOutcome.UNKNOWN_INTENT, EventOutcome.MISMATCH)


def _event_time(event: dict) -> datetime | None:
    created = event.get("created")
    return datetime.fromtimestamp(created, UTC) if isinstance(created, int) else None


def _row(event: dict, outcome: EventOutcome, detail: str, payment_id: int | None = None) -> ProviderEvent:
    intent = event["data"]["object"]
    return ProviderEvent(
        id=event["id"],
        type=event["type"],
        intent_id=intent.get("id"),
        payment_id=payment_id,
        created=_event_time(event),
        received_at=utcnow(),
        outcome=outcome,
        detail=detail[:500],
        payload=event,
    )


def receive_event(event: dict) -> Received:
    """Apply one verified event (``event`` has passed the schema). Raises :class:`DuplicateEvent`
    when its id was seen before. A refusal (unknown intent, mismatch) is returned, and the caller
    rolls back and records it with :func:`record_refusal`."""
    if db.session.get(ProviderEvent, event["id"]) is not None:
        raise DuplicateEvent(event["id"])
    row = _row(event, EventOutcome.IGNORED, "")
    try:
        with db.session.begin_nested():  # claim the id first: a concurrent copy waits, then fails here
            db.session.add(row)
            db.session.flush()
    except IntegrityError:
        raise DuplicateEvent(event["id"]) from None
    intent = event["data"]["object"]
    if event["type"] not in HANDLED_EVENTS:
        row.detail = "未处理的事件类型"
        return Received(EventOutcome.IGNORED, row.detail)
    payment_id = db.session.scalar(sa.select(Payment.id).where(Payment.intent_id == intent["id"]))
    if payment_id is None:
        return Received(EventOutcome.UNKNOWN_INTENT, f"没有与支付意图 {intent['id']} 对应的支付")
    order, payment = _lock(payment_id)
    problems = []
    if intent["amount"] != to_fen(payment.amount):
        problems.append(f"金额 {intent['amount']} 分与支付金额 {to_fen(payment.amount)} 分不符")
    if intent["currency"] != payment.currency:
        problems.append(f"币种 {intent['currency']} 与 {payment.currency} 不符")
    order_no = (intent.get("metadata") or {}).get("order_no")
    if order_no is not None and order_no != order.number:
        problems.append(f"订单号 {order_no} 与 {order.number} 不符")
    if problems:
        return Received(EventOutcome.MISMATCH, "；".join(problems), payment_id)
    if event["type"] == SUCCEEDED:
        changed, detail = apply_intent_state(order, payment, "succeeded", None)
    elif event["type"] == CANCELED:
        changed, detail = apply_intent_state(order, payment, "canceled", None)
    else:
        error = intent.get("last_payment_error") or {"code": "declined", "message": None}
        changed, detail = apply_intent_state(order, payment, "requires_payment_method", error)
    row.payment_id = payment.id
    row.outcome = EventOutcome.APPLIED if changed else EventOutcome.IGNORED
    row.detail = detail[:500]
    db.session.flush()
    return Received(row.outcome, detail, payment.id)


def record_refusal(event: dict, received: Received) -> None:
    """Keep a refused (but correctly signed) event, so it is never applied later either."""
    db.session.add(_row(event, received.outcome, received.detail, received.payment_id))
    audit.record(
        "payments.event_refused",
        event_id=event["id"],
        event_type=event["type"],
        intent_id=event["data"]["object"].get("id"),
        outcome=received.outcome.value,
        detail=received.detail,
    )
    db.session.flush()


# ---------------------------------------------------------------------- the sweeper's queries

RESUBMIT_AFTER = timedelta(seconds=60)
RECONCILE_AFTER = timedelta(minutes=10)


def stuck_payments(now: datetime | None = None) -> tuple[list[int], list[int]]:
    """(pending attempts to submit again, processing attempts whose event has not come)."""
    now = now or utcnow()
    pending = db.session.scalars(
        sa.select(Payment.id).where(
            Payment.status == PaymentStatus.PENDING,
            sa.or_(Payment.submitted_at.is_(None), Payment.submitted_at < now - RESUBMIT_AFTER),
            Payment.created_at < now - RESUBMIT_AFTER,
        )
    ).all()
    processing = db.session.scalars(
        sa.select(Payment.id).where(
            Payment.status == PaymentStatus.PROCESSING,
            Payment.intent_id.is_not(None),
            Payment.updated_at < now - RECONCILE_AFTER,
        )
    ).all()
    return list(pending), list(processing)


def touch(payment_id: int) -> None:
    payment = db.session.get(Payment, payment_id)
    if payment is not None:
        payment.updated_at = utcnow()
