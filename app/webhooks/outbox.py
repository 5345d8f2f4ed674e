"""Write outbound events into the outbox, inside the caller's transaction."""

from __future__ import annotations

import secrets

from app.core.db import utcnow
from app.extensions import db
from app.webhooks.models import WebhookEvent


def new_event_id() -> str:
    return "msg_" + secrets.token_hex(13)


def emit(event_type: str, payload: dict, *, subject: str | None = None) -> WebhookEvent:
    """Record ``event_type`` with ``payload`` (JSON-ready) in the current transaction."""
    event = WebhookEvent(
        id=new_event_id(), type=event_type, subject=subject, payload=payload, created_at=utcnow()
    )
    db.session.add(event)
    return event
