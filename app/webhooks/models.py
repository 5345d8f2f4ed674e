from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import utcnow
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
