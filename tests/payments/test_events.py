"""The provider-event receiver ``POST /payments/events``: signatures (good, wrong secret, stale,
future, malformed, several v1 entries), dedup by event id, refused unknown intents and mismatched
amounts, out-of-order events that never move an order backwards, and nothing applied twice."""

from __future__ import annotations

import json
import time
from decimal import Decimal

import pytest
import sqlalchemy as sa

from app.core.audit import AuditEvent
from app.extensions import db
from app.orders.lifecycle import Actor, transition
from app.orders.models import OrderStatus
from app.payments import signing
from app.payments.models import EventOutcome, Payment, PaymentStatus, ProviderEvent
from app.procurement.models import LedgerEntry, LedgerKind
from tests.payments.conftest import accepted_order

SECRET = "whsec_test_events_secret"  # TestConfig.PAYMENTS_EVENTS_SECRET
URL = "/payments/events"
_seq = iter(range(1, 10**6))


def processing_payment(intent_id: str | None = None):
    """An accepted order moved to payment_pending with a confirmed attempt awaiting its event."""
    bought = accepted_order()
    transition(bought.order, OrderStatus.PAYMENT_PENDING, Actor.of_user(bought.purchaser))
    payment = Payment(
        order_id=bought.order.id,
        attempt=1,
        idempotency_key=f"pay-{bought.order.number}-1",
        intent_id=intent_id or f"pi_test{next(_seq):08d}",
        status=PaymentStatus.PROCESSING,
        amount=bought.order.total,
        currency="cny",
        requested_by_label="测试",
    )
    db.session.add(payment)
    db.session.flush()
    return bought, payment


def event_for(payment, event_type="payment_intent.succeeded", **intent_overrides) -> dict:
    n = next(_seq)
    intent = {
        "id": payment.intent_id,
        "object": "payment_intent",
        "amount": int(payment.amount * 100),
        "currency": "cny",
        "status": {"payment_intent.succeeded": "succeeded", "payment_intent.canceled": "canceled"}.get(
            event_type, "requires_payment_method"
        ),
        "metadata": {"order_no": payment.order.number, "attempt": "1"},
        "last_payment_error": None,
    }
    if event_type == "payment_intent.payment_failed":
        intent["last_payment_error"] = {
            "type": "card_error",
            "code": "card_declined",
            "decline_code": "insufficient_funds",
            "message": "Your card has insufficient funds.",
        }
    intent.update(intent_overrides)
    return {
        "id": f"evt_test{n:010d}",
        "object": "event",
        "api_version": "2024-06-20",
        "created": int(time.time()),
        "type": event_type,
        "livemode": False,
        "data": {"object": intent},
    }


def send(client, event: dict | bytes, *, secret=SECRET, timestamp=None, header=None):
    body = event if isinstance(event, bytes) else json.dumps(event).encode()
    if header is None:
        header = signing.sign_header(secret, body, timestamp if timestamp is not None else int(time.time()))
    headers = {} if header is False else {"Stripe-Signature": header}
    return client.post(URL, data=body, headers=headers, content_type="application/json")


def refused(response, error: str) -> dict:
    assert response.status_code == 400, response.get_data(as_text=True)
    body = response.get_json()
    assert body["received"] is False
    assert body["error"] == error
    assert body["message"]
    return body


def state(bought, payment):
    db.session.expire_all()
    consumed = db.session.scalars(
        sa.select(LedgerEntry.amount).where(
            LedgerEntry.reference == bought.order.number, LedgerEntry.kind == LedgerKind.CONSUME
        )
    ).all()
    return (
        db.session.get(type(bought.order), bought.order.id).status,
        db.session.get(Payment, payment.id).status,
        consumed,
    )


def events_stored() -> list[tuple[str, EventOutcome]]:
    db.session.expire_all()
    return [
        (e.id, e.outcome)
        for e in db.session.scalars(sa.select(ProviderEvent).order_by(ProviderEvent.received_at))
    ]


def test_a_signed_succeeded_event_pays_the_order_and_consumes_the_budget_once(client):
    bought, payment = processing_payment()
    event = event_for(payment)
    response = send(client, event)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.get_json() == {"received": True, "outcome": "applied"}
    total = bought.order.total
    assert state(bought, payment) == (OrderStatus.PAID, PaymentStatus.SUCCEEDED, [total])
    assert events_stored() == [(event["id"], EventOutcome.APPLIED)]
    stored = db.session.get(ProviderEvent, event["id"])
    assert (stored.type, stored.intent_id, stored.payment_id) == (
        event["type"],
        payment.intent_id,
        payment.id,
    )
    assert stored.payload["data"]["object"]["amount"] == int(total * 100)
    plan = db.session.get(type(bought.world.plan), bought.world.plan.id)
    assert plan.consumed == total and plan.reserved == Decimal("0.00")
    history = [(e.from_status, e.to_status, e.actor_label) for e in bought.order.history][-1]
    assert history == ("payment_pending", "paid", "支付服务")

    # The very same delivery again (a replay, or a retry whose 200 was lost): refused, nothing moves.
    refused(send(client, event), "duplicate")
    assert state(bought, payment) == (OrderStatus.PAID, PaymentStatus.SUCCEEDED, [total])
    # Another event id saying the same thing: accepted, changes nothing.
    again = send(client, event_for(payment))
    assert again.get_json() == {"received": True, "outcome": "ignored"}
    assert state(bought, payment) == (OrderStatus.PAID, PaymentStatus.SUCCEEDED, [total])


def test_no_login_and_no_csrf_token_are_needed_but_only_post_is_served(client):
    _bought, payment = processing_payment()
    assert send(client, event_for(payment)).status_code == 200
    assert client.get(URL).status_code == 405


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"secret": "whsec_wrong"}, "signature_mismatch"),
        ({"age": 301}, "signature_stale"),
        ({"age": -3600}, "signature_stale"),
        ({"header": False}, "signature_missing"),
        ({"header": "t=oops"}, "signature_malformed"),
        ({"header": "v1=abcdef"}, "signature_malformed"),
        ({"header": "t={now},v1=" + "0" * 64}, "signature_mismatch"),
        ({"header": "t={now},v0=" + "0" * 64}, "signature_malformed"),
    ],
)
def test_forged_stale_and_malformed_signatures_are_refused_and_change_nothing(client, caplog, kwargs, error):
    # Times are taken now, not when the parameters were collected (minutes earlier on a long run).
    now = int(time.time())
    if "age" in kwargs:
        kwargs = {"timestamp": now - kwargs["age"]}
    elif isinstance(kwargs.get("header"), str):
        kwargs = {"header": kwargs["header"].replace("{now}", str(now))}
    bought, payment = processing_payment()
    event = event_for(payment)
    with caplog.at_level("WARNING", logger="app.payments.views"):
        refused(send(client, event, **kwargs), error)
    assert any(error in record.getMessage() for record in caplog.records)
    assert state(bought, payment) == (OrderStatus.PAYMENT_PENDING, PaymentStatus.PROCESSING, [])
    assert events_stored() == []
    # A refused signature does not burn the id: the genuine delivery still works.
    assert send(client, event).status_code == 200


def test_a_body_changed_after_signing_is_refused(client):
    bought, payment = processing_payment()
    genuine = json.dumps(event_for(payment)).encode()
    header = signing.sign_header(SECRET, genuine)
    forged = genuine.replace(b'"amount": ', b'"amount": 1')
    refused(send(client, forged, header=header), "signature_mismatch")
    assert state(bought, payment)[:2] == (OrderStatus.PAYMENT_PENDING, PaymentStatus.PROCESSING)


def test_several_v1_signatures_pass_when_one_matches(client):
    bought, payment = processing_payment()
    body = json.dumps(event_for(payment)).encode()
    header = signing.sign_header(["whsec_rolled_out", SECRET], body)
    assert send(client, body, header=header).status_code == 200
    assert state(bought, payment)[:2] == (OrderStatus.PAID, PaymentStatus.SUCCEEDED)


def test_an_event_for_an_unknown_intent_is_refused_recorded_and_stays_refused(client):
    bought, payment = processing_payment()
    event = event_for(payment, id="pi_unknownintent")
    body = refused(send(client, event), "unknown_intent")
    assert "pi_unknownintent" in body["message"]
    assert state(bought, payment) == (OrderStatus.PAYMENT_PENDING, PaymentStatus.PROCESSING, [])
    assert events_stored() == [(event["id"], EventOutcome.UNKNOWN_INTENT)]
    audit = db.session.scalars(
        sa.select(AuditEvent).where(AuditEvent.action == "payments.event_refused")
    ).all()
    assert [(a.detail["event_id"], a.detail["outcome"]) for a in audit] == [(event["id"], "unknown_intent")]
    refused(send(client, event), "duplicate")


@pytest.mark.parametrize(
    "override",
    [
        {"amount": 1},
        {"amount": 999999},
        {"currency": "usd"},
        {"metadata": {"order_no": "DD-SOMEONE-ELSE"}},
    ],
)
def test_amounts_currency_or_order_that_do_not_match_are_refused(client, override):
    bought, payment = processing_payment()
    event = event_for(payment, **override)
    refused(send(client, event), "mismatch")
    assert state(bought, payment) == (OrderStatus.PAYMENT_PENDING, PaymentStatus.PROCESSING, [])
    assert events_stored() == [(event["id"], EventOutcome.MISMATCH)]


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"[1, 2]",
        json.dumps(
            {"id": "evt_x", "object": "event", "type": "payment_intent.succeeded", "created": 1}
        ).encode(),
        json.dumps(
            {
                "id": "evt_x",
                "object": "event",
                "type": "payment_intent.succeeded",
                "created": 1,
                "data": {
                    "object": {
                        "id": "pi_x",
                        "object": "payment_intent",
                        "amount": "100",
                        "currency": "cny",
                        "status": "succeeded",
                    }
                },
            }
        ).encode(),
        json.dumps(
            {"id": "bad id", "object": "event", "type": "payment_intent.succeeded", "created": 1, "data": {}}
        ).encode(),
    ],
)
def test_signed_but_malformed_events_are_refused(client, body):
    error = "invalid_json" if body == b"not json" else "invalid_event"
    refused(send(client, body), error)
    assert events_stored() == []


def test_events_of_other_types_are_acknowledged_and_ignored(client):
    body = json.dumps(
        {
            "id": "evt_charge1",
            "object": "event",
            "type": "charge.succeeded",
            "created": 1,
            "data": {"object": {"id": "ch_1", "object": "charge"}},
        }
    ).encode()
    assert send(client, body).get_json() == {"received": True, "outcome": "ignored"}
    bought, payment = processing_payment()
    created = event_for(payment, event_type="payment_intent.created")
    assert send(client, created).get_json() == {"received": True, "outcome": "ignored"}
    assert state(bought, payment)[:2] == (OrderStatus.PAYMENT_PENDING, PaymentStatus.PROCESSING)


def test_a_failure_arriving_after_success_does_not_move_the_order_back(client):
    bought, payment = processing_payment()
    succeeded = event_for(payment)
    failed = event_for(payment, event_type="payment_intent.payment_failed")
    canceled = event_for(payment, event_type="payment_intent.canceled")
    assert send(client, succeeded).get_json()["outcome"] == "applied"
    assert send(client, failed).get_json()["outcome"] == "ignored"
    assert send(client, canceled).get_json()["outcome"] == "ignored"
    assert state(bought, payment) == (OrderStatus.PAID, PaymentStatus.SUCCEEDED, [bought.order.total])
    db.session.expire_all()
    assert db.session.get(Payment, payment.id).failure_code is None
    assert events_stored() == [
        (succeeded["id"], EventOutcome.APPLIED),
        (failed["id"], EventOutcome.IGNORED),
        (canceled["id"], EventOutcome.IGNORED),
    ]


def test_a_failure_keeps_the_order_payment_pending_with_the_reason(client):
    bought, payment = processing_payment()
    assert send(client, event_for(payment, event_type="payment_intent.payment_failed")).status_code == 200
    assert state(bought, payment) == (OrderStatus.PAYMENT_PENDING, PaymentStatus.FAILED, [])
    stored = db.session.get(Payment, payment.id)
    assert (stored.failure_code, stored.failure_message) == (
        "insufficient_funds",
        "Your card has insufficient funds.",
    )
    # The same intent paid later after all (the provider allows confirming again): the money moved.
    assert send(client, event_for(payment)).get_json()["outcome"] == "applied"
    assert state(bought, payment) == (OrderStatus.PAID, PaymentStatus.SUCCEEDED, [bought.order.total])


def test_a_cancel_event_cancels_an_unpaid_attempt(client):
    bought, payment = processing_payment()
    assert (
        send(client, event_for(payment, event_type="payment_intent.canceled")).get_json()["outcome"]
        == "applied"
    )
    assert state(bought, payment) == (OrderStatus.PAYMENT_PENDING, PaymentStatus.CANCELED, [])
