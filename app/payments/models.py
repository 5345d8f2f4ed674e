"""Payments of accepted orders (one row per attempt) and the provider events received."""

from __future__ import annotations

import enum
from datetime import datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.auth.models import _enum
from app.core.db import TimestampMixin, utcnow
from app.core.money import Money
from app.extensions import db
from app.orders.models import Order


class PaymentStatus(enum.StrEnum):
    PENDING = "pending"  # recorded; the intent is being created and confirmed at the provider
    PROCESSING = "processing"  # confirmed; the provider's answer comes as an event
    SUCCEEDED = "succeeded"  # paid
    FAILED = "failed"  # declined (the reason is kept); a new attempt may be made
    CANCELED = "canceled"


OPEN_PAYMENT_STATUSES = frozenset({PaymentStatus.PENDING, PaymentStatus.PROCESSING})


class Payment(TimestampMixin, db.Model):
    """One attempt to pay an order: a payment intent at the provider, created with the idempotency
    key ``pay-<order number>-<attempt>`` so a retried request never pays twice."""

    __tablename__ = "payments"
    __table_args__ = (
        sa.UniqueConstraint("order_id", "attempt"),
        sa.CheckConstraint("amount > 0", name="amount_positive"),
        sa.CheckConstraint("attempt > 0", name="attempt_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(sa.ForeignKey("orders.id"), index=True)
    attempt: Mapped[int]
    idempotency_key: Mapped[str] = mapped_column(sa.String(80), unique=True)
    intent_id: Mapped[str | None] = mapped_column(sa.String(64), unique=True)
    status: Mapped[PaymentStatus] = mapped_column(_enum(PaymentStatus, "payment_status"), index=True)
    amount: Mapped[Decimal] = mapped_column(Money)
    currency: Mapped[str] = mapped_column(sa.String(3), default="cny")
    failure_code: Mapped[str | None] = mapped_column(sa.String(64))
    failure_message: Mapped[str | None] = mapped_column(sa.String(500))
    # The last time the provider could not be reached (the attempt is retried; not a decline).
    provider_error: Mapped[str | None] = mapped_column(sa.String(500))
    requested_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    requested_by_label: Mapped[str] = mapped_column(sa.String(100))
    submitted_at: Mapped[datetime | None]  # last time the provider calls were made
    settled_at: Mapped[datetime | None]  # succeeded, failed or canceled

    order: Mapped[Order] = relationship()


class EventOutcome(enum.StrEnum):
    APPLIED = "applied"  # changed a payment (and maybe its order)
    IGNORED = "ignored"  # valid, but nothing to do (an unhandled type, an out-of-order or repeated state)
    UNKNOWN_INTENT = "unknown_intent"  # refused: no payment has this intent
    MISMATCH = "mismatch"  # refused: amount, currency or order number differ from the payment


class ProviderEvent(db.Model):
    """A signed event received from the payment provider, kept by id so none is applied twice."""

    __tablename__ = "provider_events"

    id: Mapped[str] = mapped_column(sa.String(64), primary_key=True)  # evt_…
    type: Mapped[str] = mapped_column(sa.String(64))
    intent_id: Mapped[str | None] = mapped_column(sa.String(64), index=True)
    payment_id: Mapped[int | None] = mapped_column(sa.ForeignKey("payments.id"), index=True)
    created: Mapped[datetime | None]  # when the provider created the event
    received_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    outcome: Mapped[EventOutcome] = mapped_column(_enum(EventOutcome, "provider_event_outcome"))
    detail: Mapped[str] = mapped_column(sa.String(500), default="")
    payload: Mapped[dict] = mapped_column(sa.JSON)
