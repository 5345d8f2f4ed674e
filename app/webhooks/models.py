"""Outbound webhooks to finance systems (Standard Webhooks): an outbox of events written in the
same transaction as the change they describe, delivered after commit.

* :class:`WebhookEvent` — one event (the outbox row); its id is the stable ``webhook-id``.
* :class:`WebhookEndpoint` — where an organization (finance or operator) wants events sent, with
  its ``whsec_`` signing secret (and the previous one while a rotation overlaps).
* :class:`WebhookDelivery` — one event to one endpoint: pending until a 2xx, failed after the
  last scheduled retry. ``locked_until``/``lease_token`` is a worker's claim on it (a lease, not a
  database lock, so no HTTP call ever runs inside a transaction).
* :class:`WebhookAttempt` — every HTTP attempt, logged when it starts and completed when it ends;
  one whose worker died stays visible as interrupted.
"""

from __future__ import annotations

import enum
import fnmatch
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.auth.models import Organization, User, _enum
from app.core.db import TimestampMixin, utcnow
from app.extensions import db


class WebhookEvent(db.Model):
    """One outbound event (the outbox). Written in the transaction of the change it describes, so
    an event exists exactly when its change was committed; its id is the stable ``webhook-id``."""

    __tablename__ = "webhook_events"

    id: Mapped[str] = mapped_column(sa.String(40), primary_key=True)  # msg_<26 chars>
    type: Mapped[str] = mapped_column(sa.String(64), index=True)  # order.confirmed, budget.reserved…
    subject: Mapped[str | None] = mapped_column(sa.String(64), index=True)  # the order number
    payload: Mapped[dict] = mapped_column(sa.JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


def active_secrets(
    current: str, previous: str | None, previous_expires_at: datetime | None, now: datetime | None = None
) -> list[str]:
    """The secrets that sign now: the current one, and the previous one until its expiry."""
    now = now or utcnow()
    if previous and previous_expires_at and previous_expires_at > now:
        return [current, previous]
    return [current]


class WebhookEndpoint(TimestampMixin, db.Model):
    """A receiver of events, owned by a finance or operator organization."""

    __tablename__ = "webhook_endpoints"

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(sa.ForeignKey("organizations.id"), index=True)
    url: Mapped[str] = mapped_column(sa.String(2000))
    description: Mapped[str] = mapped_column(sa.String(200), default="")
    # The signing secrets (``whsec_`` + base64). They must be readable to sign, so they are stored
    # as they are; pages show a secret once, when it is created, and never again.
    secret: Mapped[str] = mapped_column(sa.String(100))
    previous_secret: Mapped[str | None] = mapped_column(sa.String(100))
    previous_secret_expires_at: Mapped[datetime | None]
    # Subscribed event types: exact names or ``group.*``; an empty list means every event.
    event_types: Mapped[list] = mapped_column(sa.JSON, default=list)
    enabled: Mapped[bool] = mapped_column(default=True)
    disabled_reason: Mapped[str | None] = mapped_column(sa.String(200))
    disabled_at: Mapped[datetime | None]
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))

    organization: Mapped[Organization] = relationship()
    created_by: Mapped[User | None] = relationship()

    def subscribes(self, event_type: str) -> bool:
        types = self.event_types or []
        return not types or any(fnmatch.fnmatchcase(event_type, pattern) for pattern in types)

    def signing_secrets(self, now: datetime | None = None) -> list[str]:
        """The current secret, and the previous one while the rotation overlap lasts."""
        return active_secrets(self.secret, self.previous_secret, self.previous_secret_expires_at, now)

    def __repr__(self) -> str:
        return f"<WebhookEndpoint {self.id} {self.url}>"


class DeliveryStatus(enum.StrEnum):
    PENDING = "pending"  # 待投递 / 重试中
    SUCCEEDED = "succeeded"  # 已送达 (a 2xx)
    FAILED = "failed"  # 已放弃 (the retry schedule ran out)


class WebhookDelivery(db.Model):
    """One event to one endpoint."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        sa.UniqueConstraint("event_id", "endpoint_id"),
        sa.CheckConstraint("attempts >= 0 AND schedule_step >= 0", name="counters_nonnegative"),
        # The claim: pending deliveries whose time has come, oldest first.
        sa.Index("ix_webhook_deliveries_due", "status", "next_attempt_at"),
        # An endpoint's delivery log, newest first.
        sa.Index("ix_webhook_deliveries_endpoint_log", "endpoint_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[str] = mapped_column(sa.ForeignKey("webhook_events.id"))
    endpoint_id: Mapped[int] = mapped_column(sa.ForeignKey("webhook_endpoints.id"))
    status: Mapped[DeliveryStatus] = mapped_column(
        _enum(DeliveryStatus, "webhook_delivery_status"), default=DeliveryStatus.PENDING
    )
    attempts: Mapped[int] = mapped_column(default=0)  # every attempt ever (numbers the log)
    schedule_step: Mapped[int] = mapped_column(default=0)  # attempts in the current retry schedule
    next_attempt_at: Mapped[datetime | None]
    # A worker's claim (lease): set in a short transaction before the HTTP call, cleared after it.
    locked_until: Mapped[datetime | None]
    lease_token: Mapped[str | None] = mapped_column(sa.String(32))
    replay_requested: Mapped[bool] = mapped_column(default=False)  # the next attempt is manual
    last_attempt_at: Mapped[datetime | None]
    last_status_code: Mapped[int | None]
    last_error: Mapped[str | None] = mapped_column(sa.String(500))
    succeeded_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    event: Mapped[WebhookEvent] = relationship()
    endpoint: Mapped[WebhookEndpoint] = relationship()
    attempt_log: Mapped[list[WebhookAttempt]] = relationship(
        back_populates="delivery", order_by="WebhookAttempt.number.desc()"
    )


class WebhookAttempt(db.Model):
    """One HTTP attempt of a delivery. ``finished_at`` is empty while it is in flight."""

    __tablename__ = "webhook_attempts"
    __table_args__ = (sa.UniqueConstraint("delivery_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    delivery_id: Mapped[int] = mapped_column(sa.ForeignKey("webhook_deliveries.id", ondelete="CASCADE"))
    number: Mapped[int]
    manual: Mapped[bool] = mapped_column(default=False)  # a replay someone asked for
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]
    duration_ms: Mapped[int | None]
    status_code: Mapped[int | None]
    response_excerpt: Mapped[str | None] = mapped_column(sa.Text)  # at most 1 KB of the answer
    error: Mapped[str | None] = mapped_column(sa.String(500))

    delivery: Mapped[WebhookDelivery] = relationship(back_populates="attempt_log")

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300
