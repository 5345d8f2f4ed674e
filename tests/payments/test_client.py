"""The payments client against the stub mounted in-process: the verbs, fen on the wire, typed
errors, and retries that carry the same Idempotency-Key after 5xx, 409, timeouts and dropped
connections — and never follow a redirect."""

from __future__ import annotations

from decimal import Decimal

import pytest
import requests

from app.payments.client import (
    APIConnectionError,
    APIError,
    AuthenticationError,
    CardError,
    IdempotencyError,
    InvalidRequestError,
    PaymentIntent,
    PaymentsClient,
)
from app.payments.transport import WSGIAdapter
from tests.payments.conftest import STUB_URL, client_for


def posts(provider) -> list[tuple[str, str, str | None]]:
    return [seen for seen in provider.requests_seen if seen[0] == "POST"]


def test_create_sends_fen_and_bracketed_metadata_and_reads_back_decimal(lone_stub):
    client = client_for(lone_stub)
    intent = client.create_intent(
        amount=Decimal("6000.50"),
        idempotency_key="pay-DD1-1",
        metadata={"order_no": "DD1", "单位": "测试单位"},
        description="订单 DD1",
    )
    assert isinstance(intent, PaymentIntent)
    assert intent.amount_fen == 600050
    assert intent.amount == Decimal("6000.50")
    assert intent.currency == "cny"
    assert intent.status == "requires_payment_method"
    assert intent.metadata == {"order_no": "DD1", "单位": "测试单位"}
    stored = lone_stub.intents[intent.id]
    assert stored["amount"] == 600050
    assert stored["description"] == "订单 DD1"
    assert posts(lone_stub) == [("POST", "/v1/payment_intents", "pay-DD1-1")]


def test_retrieve_confirm_cancel_and_list(lone_stub):
    client = client_for(lone_stub)
    first = client.create_intent(amount=Decimal("1.00"), idempotency_key="a")
    second = client.create_intent(amount=Decimal("2.00"), idempotency_key="b")
    assert client.retrieve_intent(first.id) == first
    confirmed = client.confirm_intent(first.id, idempotency_key="a-confirm", payment_method="pm_card_visa")
    assert confirmed.status == "processing"
    lone_stub.run_pending()
    assert client.retrieve_intent(first.id).status == "succeeded"
    canceled = client.cancel_intent(second.id, idempotency_key="b-cancel", cancellation_reason="abandoned")
    assert canceled.status == "canceled"
    page = client.list_intents(limit=1)
    assert [i.id for i in page.data] == [second.id]
    assert page.has_more is True
    assert page.url == "/v1/payment_intents"
    assert [i.id for i in client.list_intents(limit=1, starting_after=second.id).data] == [first.id]


def test_iter_intents_follows_has_more_across_pages(lone_stub):
    client = client_for(lone_stub)
    ids = [client.create_intent(amount=Decimal(n), idempotency_key=f"k{n}").id for n in range(1, 8)]
    assert [i.id for i in client.iter_intents(page_size=3)] == list(reversed(ids))
    gets = [path for method, path, _key in lone_stub.requests_seen if method == "GET"]
    assert len(gets) == 3


def test_a_decline_raises_a_card_error_carrying_the_stripe_fields(lone_stub):
    client = client_for(lone_stub)
    intent = client.create_intent(amount=Decimal("10.00"), idempotency_key="d")
    with pytest.raises(CardError) as caught:
        client.confirm_intent(
            intent.id, idempotency_key="d-c", payment_method="pm_card_chargeDeclinedInsufficientFunds"
        )
    error = caught.value
    assert (error.status, error.type, error.code, error.decline_code) == (
        402,
        "card_error",
        "card_declined",
        "insufficient_funds",
    )
    assert error.message == "Your card has insufficient funds."
    assert error.param is None
    assert error.request_id.startswith("req_")
    assert error.payment_intent["status"] == "requires_payment_method"
    assert len(posts(lone_stub)) == 2  # a 402 is never retried


@pytest.mark.parametrize(
    ("call", "exception", "status", "code"),
    [
        (lambda c: c.retrieve_intent("pi_missing"), InvalidRequestError, 404, "resource_missing"),
        (
            lambda c: c.create_intent(amount=Decimal("0.00"), idempotency_key="z"),
            InvalidRequestError,
            400,
            "amount_too_small",
        ),
        (
            lambda c: c.create_intent(amount=Decimal("1.00"), currency="usd", idempotency_key="y"),
            InvalidRequestError,
            400,
            "parameter_invalid_string",
        ),
    ],
)
def test_request_errors_are_typed_and_not_retried(lone_stub, call, exception, status, code):
    client = client_for(lone_stub)
    with pytest.raises(exception) as caught:
        call(client)
    assert (caught.value.status, caught.value.code) == (status, code)
    assert caught.value.type == "invalid_request_error"
    assert len(lone_stub.requests_seen) == 1


def test_a_refused_key_is_an_authentication_error(lone_stub):
    client = client_for(lone_stub)
    client.secret_key = "sk_live_not_accepted"
    with pytest.raises(AuthenticationError) as caught:
        client.retrieve_intent("pi_x")
    assert caught.value.status == 401
    assert caught.value.type == "authentication_error"
    assert len(lone_stub.requests_seen) == 1


def test_reusing_a_key_with_other_parameters_is_an_idempotency_error(lone_stub):
    client = client_for(lone_stub)
    client.create_intent(amount=Decimal("1.00"), idempotency_key="same")
    with pytest.raises(IdempotencyError) as caught:
        client.create_intent(amount=Decimal("2.00"), idempotency_key="same")
    assert caught.value.status == 400
    assert len(lone_stub.intents) == 1


@pytest.mark.parametrize("kind", ["error", "disconnect"])
def test_a_lost_answer_is_retried_with_the_same_key_and_creates_one_intent(lone_stub, kind):
    lone_stub.add_fault(kind, when="after", method="POST")
    sleeps: list[float] = []
    client = client_for(lone_stub, sleep=sleeps.append)
    intent = client.create_intent(amount=Decimal("300.00"), idempotency_key="pay-DD7-1")
    assert len(lone_stub.intents) == 1
    assert intent.id == next(iter(lone_stub.intents))
    assert posts(lone_stub) == [("POST", "/v1/payment_intents", "pay-DD7-1")] * 2
    assert len(sleeps) == 1 and 0 < sleeps[0] <= 0.5


def test_a_timeout_is_retried_with_the_same_key(lone_stub):
    lone_stub.add_fault("timeout", when="after", method="POST")
    client = client_for(lone_stub, timeout=(1.0, 0.3))
    try:
        intent = client.create_intent(amount=Decimal("300.00"), idempotency_key="pay-DD8-1")
    finally:
        lone_stub.release_hangs()
    assert len(lone_stub.intents) == 1
    assert intent.id == next(iter(lone_stub.intents))
    assert [key for _method, _path, key in posts(lone_stub)] == ["pay-DD8-1", "pay-DD8-1"]


def test_5xx_and_409_before_processing_are_retried_then_succeed(lone_stub):
    lone_stub.add_fault("error", status=500, method="POST")
    lone_stub.add_fault("error", status=409, method="POST")
    lone_stub.add_fault("error", status=503, method="POST")
    client = client_for(lone_stub)
    intent = client.create_intent(amount=Decimal("9.99"), idempotency_key="r")
    assert intent.amount_fen == 999
    assert lone_stub.calls == [("POST", "/v1/payment_intents", "r")] * 4
    assert posts(lone_stub) == [("POST", "/v1/payment_intents", "r")]
    assert len(lone_stub.intents) == 1


def test_retries_give_up_after_max_retries(lone_stub):
    lone_stub.add_fault("error", status=500, count=10)
    client = client_for(lone_stub, max_retries=2)
    with pytest.raises(APIError) as caught:
        client.retrieve_intent("pi_whatever")
    assert caught.value.status == 500
    assert caught.value.type == "api_error"
    assert len(lone_stub.calls) == 3  # the first try and two retries
    assert lone_stub.requests_seen == []  # faults answer before the API sees anything
    lone_stub.clear_faults()
    lone_stub.add_fault("disconnect", count=10)
    with pytest.raises(APIConnectionError) as caught:
        client.create_intent(amount=Decimal("1.00"), idempotency_key="never")
    assert caught.value.status is None
    assert [key for _m, _p, key in lone_stub.calls[3:]] == ["never"] * 3
    assert lone_stub.intents == {}


def test_a_post_without_a_key_gets_one_that_its_retries_repeat(lone_stub):
    lone_stub.add_fault("error", when="after", method="POST")
    client = client_for(lone_stub)
    intent = client.request("POST", "/v1/payment_intents", {"amount": 100, "currency": "cny"})
    keys = [key for _m, _p, key in posts(lone_stub)]
    assert len(keys) == 2 and keys[0] == keys[1] and keys[0].startswith("auto-")
    assert len(lone_stub.intents) == 1 and intent["id"] in lone_stub.intents


class Scripted:
    """A WSGI app answering from a script: (status, headers, body) per request."""

    def __init__(self, *answers):
        self.answers = list(answers)
        self.paths: list[str] = []

    def __call__(self, environ, start_response):
        self.paths.append(environ["PATH_INFO"])
        status, headers, body = self.answers.pop(0)
        start_response(status, headers)
        return [body]


def scripted_client(app, **options) -> PaymentsClient:
    session = requests.Session()
    session.mount(STUB_URL + "/", WSGIAdapter(app))
    options.setdefault("sleep", lambda _seconds: None)
    return PaymentsClient(STUB_URL, "sk_test_x", session=session, **options)


def test_redirects_are_never_followed():
    app = Scripted(("302 Found", [("Location", STUB_URL + "/v1/elsewhere")], b""))
    with pytest.raises(APIError) as caught:
        scripted_client(app).retrieve_intent("pi_1")
    assert caught.value.status == 302
    assert app.paths == ["/v1/payment_intents/pi_1"]


def test_an_answer_that_is_not_a_stripe_object_is_an_api_error():
    app = Scripted(
        ("502 Bad Gateway", [("Content-Type", "text/html")], b"<html>proxy</html>"),
        ("200 OK", [("Content-Type", "text/html")], b"<html>ok?</html>"),
        ("200 OK", [("Content-Type", "application/json")], b'{"object": "charge"}'),
    )
    client = scripted_client(app, max_retries=0)
    with pytest.raises(APIError) as caught:
        client.retrieve_intent("pi_1")
    assert caught.value.status == 502
    with pytest.raises(APIError):
        client.retrieve_intent("pi_1")
    with pytest.raises(APIError):
        client.retrieve_intent("pi_1")


def test_stripe_should_retry_and_retry_after_are_honoured():
    error = b'{"error": {"type": "api_error", "message": "busy"}}'
    json_headers = [("Content-Type", "application/json")]
    app = Scripted(("500 X", [*json_headers, ("Stripe-Should-Retry", "false")], error))
    with pytest.raises(APIError):
        scripted_client(app).retrieve_intent("pi_1")
    assert len(app.paths) == 1
    intent = (
        b'{"id": "pi_1", "object": "payment_intent", "amount": 5, "currency": "cny", "status": "succeeded"}'
    )
    app = Scripted(
        (
            "429 X",
            [*json_headers, ("Stripe-Should-Retry", "true"), ("Retry-After", "2")],
            b'{"error": {"type": "rate_limit_error", "message": "slow down"}}',
        ),
        ("200 OK", json_headers, intent),
    )
    sleeps: list[float] = []
    assert scripted_client(app, sleep=sleeps.append).retrieve_intent("pi_1").status == "succeeded"
    assert sleeps == [2.0]


def test_an_unconfigured_client_refuses_to_start():
    with pytest.raises(ValueError, match="PAYMENTS_API_URL"):
        PaymentsClient("", "sk_test_x")
    with pytest.raises(ValueError, match="PAYMENTS_SECRET_KEY"):
        PaymentsClient(STUB_URL, "")
