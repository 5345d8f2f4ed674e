"""Write outbound events into the outbox, inside the caller's transaction.

:func:`emit` records the event and, in the same transaction, one delivery for every enabled
endpoint subscribed to its type. Once the transaction commits, the deliveries are handed to the
job backend (:func:`app.webhooks.delivery.dispatch`); on rollback nothing was written and nothing
is sent.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable

from flask import current_app
from sqlalchemy import event, inspect, select
from sqlalchemy.orm import Session

from app.core.db import utcnow
from app.core.transaction import after_commit
from app.extensions import db
from app.webhooks.models import DeliveryStatus, WebhookDelivery, WebhookEndpoint, WebhookEvent

_TO_DISPATCH = "webhook_deliveries_to_dispatch"
_ENDPOINTS = "webhook_enabled_endpoints"


def new_event_id() -> str:
    return "msg_" + secrets.token_hex(13)


def emit(event_type: str, payload: dict, *, subject: str | None = None) -> WebhookEvent:
    """Record ``event_type`` with ``payload`` (JSON-ready) in the current transaction, with a
    delivery to every enabled endpoint that subscribes to it."""
    now = utcnow()
    record = WebhookEvent(
        id=new_event_id(), type=event_type, subject=subject, payload=payload, created_at=now
    )
    db.session.add(record)
    deliveries = [
        WebhookDelivery(
            event_id=record.id,
            endpoint_id=endpoint_id,
            status=DeliveryStatus.PENDING,
            attempts=0,
            schedule_step=0,
            next_attempt_at=now,
            created_at=now,
        )
        for endpoint_id, subscribes in _enabled_endpoints()
        if subscribes(event_type)
    ]
    if deliveries:
        db.session.add_all(deliveries)
        dispatch_after_commit(deliveries)
    return record


def _enabled_endpoints() -> list[tuple[int, Callable[[str], bool]]]:
    """The enabled endpoints as the transaction's first event found them (read once per
    transaction, and without flushing: the rows of its events go to the database together)."""
    session = db.session()
    cached = session.info.get(_ENDPOINTS)
    if cached is None:
        with session.no_autoflush:
            endpoints = session.scalars(
                select(WebhookEndpoint).where(WebhookEndpoint.enabled.is_(True)).order_by(WebhookEndpoint.id)
            ).all()
        cached = session.info[_ENDPOINTS] = [(e.id, e.subscribes) for e in endpoints]
    return cached


def dispatch_after_commit(deliveries: list[WebhookDelivery]) -> None:
    """Hand these deliveries to the job backend once the current transaction commits (one hand-over
    per transaction, however many events it emitted)."""
    session = db.session()
    pending: list[WebhookDelivery] | None = session.info.get(_TO_DISPATCH)
    if pending is None:
        pending = session.info[_TO_DISPATCH] = []
        app = current_app._get_current_object()
        collected = pending

        def hand_over() -> None:
            # Committed objects are expired; their identity is known without a query.
            ids = [key[0] for key in (inspect(d).identity for d in collected) if key]
            with app.app_context():
                from app.webhooks.delivery import dispatch

                dispatch(ids)

        after_commit(hand_over, session)
    pending.extend(deliveries)


@event.listens_for(Session, "after_commit")
@event.listens_for(Session, "after_rollback")
def _forget(session: Session) -> None:
    session.info.pop(_TO_DISPATCH, None)
    session.info.pop(_ENDPOINTS, None)


@event.listens_for(Session, "before_flush")
def _endpoints_changed(session: Session, _context, _instances) -> None:
    """This transaction itself adds or changes an endpoint: read them again at the next event."""
    if _ENDPOINTS in session.info and any(
        isinstance(obj, WebhookEndpoint) for obj in (*session.new, *session.dirty, *session.deleted)
    ):
        session.info.pop(_ENDPOINTS, None)
