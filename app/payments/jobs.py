"""Payment jobs: submit an attempt to the provider, and the sweeper that heals lost work.

A job is where the provider is called: each step commits before the next remote call, no row is
locked during one, and every call carries the attempt's idempotency key, so running a
submission twice (a retried job, the sweeper racing a slow worker) creates and confirms one
intent only.
"""

from __future__ import annotations

import logging

from app.core.jobs import enqueue_now, job
from app.extensions import db
from app.payments import services
from app.payments.client import CardError, InvalidRequestError, PaymentError
from app.payments.models import Payment
from app.payments.provider import get_client

log = logging.getLogger(__name__)


@job
def submit_payment(payment_id: int) -> None:
    found = services.submission(payment_id)
    db.session.commit()  # nothing is held while the provider is called
    if found is None:
        return
    try:
        client = get_client()
        intent_id = found.intent_id
        if intent_id is None:
            intent = client.create_intent(**found.create_params())
            services.record_intent(payment_id, intent)
            db.session.commit()  # the id is known before the confirmation can produce an event
            intent_id = intent.id
        payment_method = _payment_method()
        try:
            intent = client.confirm_intent(
                intent_id, idempotency_key=found.confirm_key, payment_method=payment_method
            )
        except InvalidRequestError as exc:
            if exc.code != "payment_intent_unexpected_state":
                raise
            # Confirmed before (a key the provider no longer remembers): ask what happened.
            intent = client.retrieve_intent(intent_id)
    except CardError as exc:
        services.record_decline(payment_id, exc)
    except PaymentError as exc:
        services.record_provider_error(payment_id, exc)
    except ValueError as exc:  # not configured (no URL or key)
        services.record_provider_error(payment_id, PaymentError(str(exc), type="configuration_error"))
    else:
        services.record_confirmation(payment_id, intent)


def _payment_method() -> str | None:
    from flask import current_app

    return current_app.config.get("PAYMENTS_PAYMENT_METHOD") or None


@job
def reconcile_payment(payment_id: int) -> None:
    """Ask the provider for the state of a confirmed attempt whose event has not arrived."""
    payment = db.session.get(Payment, payment_id)
    if payment is None or payment.intent_id is None:
        return
    intent_id = payment.intent_id
    db.session.commit()
    try:
        intent = get_client().retrieve_intent(intent_id)
    except PaymentError as exc:
        log.warning("reconcile payment %s: %s", payment_id, exc)
        services.touch(payment_id)  # try again at the next interval
        return
    changed, detail = services.record_confirmation(payment_id, intent)
    if not changed:
        services.touch(payment_id)
    log.info("reconcile payment %s (%s): %s", payment_id, intent_id, detail)


@job
def sweep() -> None:
    """Periodic: submit attempts again whose submission was lost or failed on the way, and ask
    about attempts whose provider event never came."""
    pending, processing = services.stuck_payments()
    db.session.commit()
    for payment_id in pending:
        enqueue_now("app.payments.jobs.submit_payment", payment_id)
    for payment_id in processing:
        enqueue_now("app.payments.jobs.reconcile_payment", payment_id)
