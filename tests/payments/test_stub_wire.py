"""The stub provider's wire format, spoken raw (form bodies, headers, JSON answers): every endpoint,
list paging, idempotency, authentication, errors, declines, events and the test switches."""

from __future__ import annotations

import json

import pytest
import requests
from werkzeug.test import Client

from app.payments import signing
from app.payments.stub import StubProvider
from app.payments.transport import WSGIAdapter

KEY = "sk_test_wire"
AUTH = {"Authorization": f"Bearer {KEY}"}


class Wire(Client):
    """A WSGI client that finishes every response as a server does (its close hooks run)."""

    def open(self, *args, **kwargs):
        kwargs.setdefault("buffered", True)
        return super().open(*args, **kwargs)


@pytest.fixture
def wire(lone_stub) -> Client:
    return Wire(lone_stub)


def post(wire: Client, path: str, data=None, key: str | None = None, headers=None):
    all_headers = {**AUTH, **(headers or {})}
    if key is not None:
        all_headers["Idempotency-Key"] = key
    return wire.post(path, data=data or {}, headers=all_headers)


def create(wire: Client, **params):
    data = {"amount": "600000", "currency": "cny", **params}
    response = post(wire, "/v1/payment_intents", data)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def error_of(response, status: int) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert set(body) == {"error"}
    assert {"type", "code", "message", "param"} <= set(body["error"])
    return body["error"]


# ---------------------------------------------------------------------- create / retrieve


def test_create_returns_a_payment_intent_in_fen_and_cny(wire):
    response = post(
        wire,
        "/v1/payment_intents",
        {
            "amount": "600000",
            "currency": "CNY",
            "metadata[order_no]": "DD20261126-0001",
            "description": "订单",
        },
    )
    assert response.status_code == 200
    assert response.headers["Request-Id"].startswith("req_")
    intent = response.get_json()
    assert intent["id"].startswith("pi_")
    assert intent["object"] == "payment_intent"
    assert intent["amount"] == 600000
    assert intent["amount_received"] == 0
    assert intent["currency"] == "cny"
    assert intent["status"] == "requires_payment_method"
    assert intent["metadata"] == {"order_no": "DD20261126-0001"}
    assert intent["description"] == "订单"
    assert intent["payment_method"] is None
    assert intent["last_payment_error"] is None
    assert intent["livemode"] is False
    assert intent["client_secret"].startswith(intent["id"] + "_secret_")
    assert list(intent)[:2] == ["id", "object"]


def test_a_payment_method_at_create_needs_confirmation(wire):
    intent = create(wire, payment_method="pm_card_visa")
    assert intent["status"] == "requires_confirmation"
    assert intent["payment_method"] == "pm_card_visa"


def test_retrieve_answers_the_current_state_and_404s_unknown_ids(wire):
    intent = create(wire)
    response = wire.get(f"/v1/payment_intents/{intent['id']}", headers=AUTH)
    assert response.status_code == 200
    assert response.get_json() == intent
    for missing in ("pi_doesnotexist", "not-an-id"):
        error = error_of(wire.get(f"/v1/payment_intents/{missing}", headers=AUTH), 404)
        assert error == {
            "type": "invalid_request_error",
            "code": "resource_missing",
            "message": f"No such payment_intent: '{missing}'",
            "param": "intent",
        }


@pytest.mark.parametrize(
    ("data", "code", "param"),
    [
        ({"currency": "cny"}, "parameter_missing", "amount"),
        ({"amount": "100"}, "parameter_missing", "currency"),
        ({"amount": "12.50", "currency": "cny"}, "parameter_invalid_integer", "amount"),
        ({"amount": "-1", "currency": "cny"}, "parameter_invalid_integer", "amount"),
        ({"amount": "0", "currency": "cny"}, "amount_too_small", "amount"),
        ({"amount": "100000000", "currency": "cny"}, "amount_too_large", "amount"),
        ({"amount": "100", "currency": "usd"}, "parameter_invalid_string", "currency"),
        ({"amount": "100", "currency": "cny", "colour": "red"}, "parameter_unknown", "colour"),
        ({"amount": "100", "currency": "cny", "metadata": "x"}, "parameter_invalid", "metadata"),
        (
            {"amount": "100", "currency": "cny", "metadata[" + "k" * 41 + "]": "v"},
            "parameter_invalid",
            "metadata[" + "k" * 41 + "]",
        ),
        (
            {"amount": "100", "currency": "cny", "payment_method": "card_1"},
            "resource_missing",
            "payment_method",
        ),
        ({"amount": "100", "currency": "cny", "confirm": "yes"}, "parameter_invalid_boolean", "confirm"),
        (
            {"amount": "100", "currency": "cny", "confirm": "true"},
            "payment_intent_unexpected_state",
            "payment_method",
        ),
        ({"amount": "100", "currency": "cny", "metadata[a": "1"}, "parameter_invalid", "metadata[a"),
    ],
)
def test_bad_parameters_are_stripe_shaped_400s_and_create_nothing(lone_stub, wire, data, code, param):
    error = error_of(post(wire, "/v1/payment_intents", data), 400)
    assert (error["type"], error["code"], error["param"]) == ("invalid_request_error", code, param)
    assert error["message"]
    assert lone_stub.intents == {}


def test_unknown_urls_and_methods_answer_stripe_shaped_404s(wire):
    for method, path in [("GET", "/v1/charges"), ("DELETE", "/v1/payment_intents"), ("GET", "/")]:
        error = error_of(wire.open(path, method=method, headers=AUTH), 404)
        assert error["message"] == f"Unrecognized request URL ({method}: {path})."


# ---------------------------------------------------------------------- authentication


@pytest.mark.parametrize(
    ("header", "code"),
    [
        (None, "api_key_missing"),
        ("Bearer sk_live_0123456789", "api_key_invalid"),
        ("Bearer pk_test_0123456789", "api_key_invalid"),
        ("Basic c2tfdGVzdF94eXo6", "api_key_invalid"),
        ("Bearer sk_test_", "api_key_invalid"),
        ("Bearer sk_test_ab cd", "api_key_invalid"),
        ("bearer sk_test_abc", "api_key_invalid"),
    ],
)
def test_anything_but_a_bearer_test_secret_key_is_a_401(lone_stub, wire, header, code):
    headers = {} if header is None else {"Authorization": header}
    response = wire.post("/v1/payment_intents", data={"amount": "1", "currency": "cny"}, headers=headers)
    error = error_of(response, 401)
    assert error["type"] == "authentication_error"
    assert error["code"] == code
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="Stripe"'
    assert "0123456789" not in error["message"]  # a wrong key is never echoed whole
    assert lone_stub.intents == {}
    for path in ("/v1/payment_intents", "/_stub/deliveries"):
        assert wire.get(path, headers=headers).status_code == 401


# ---------------------------------------------------------------------- idempotency


def test_the_same_key_and_parameters_replay_the_stored_response(lone_stub, wire):
    data = {"amount": "100", "currency": "cny", "metadata[order_no]": "D1"}
    first = post(wire, "/v1/payment_intents", data, key="pay-D1-1")
    again = post(wire, "/v1/payment_intents", data, key="pay-D1-1")
    assert first.status_code == again.status_code == 200
    assert again.get_json() == first.get_json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert again.headers["Idempotency-Key"] == "pay-D1-1"
    assert len(lone_stub.intents) == 1


def test_the_same_key_with_other_parameters_or_another_url_is_an_idempotency_error(lone_stub, wire):
    post(wire, "/v1/payment_intents", {"amount": "100", "currency": "cny"}, key="k")
    error = error_of(post(wire, "/v1/payment_intents", {"amount": "101", "currency": "cny"}, key="k"), 400)
    assert error["type"] == "idempotency_error"
    assert "'k'" in error["message"]
    intent_id = next(iter(lone_stub.intents))
    error = error_of(post(wire, f"/v1/payment_intents/{intent_id}/cancel", {}, key="k"), 400)
    assert error["type"] == "idempotency_error"
    assert len(lone_stub.intents) == 1
    assert lone_stub.intents[intent_id]["status"] == "requires_payment_method"


def test_keys_belong_to_their_api_key(lone_stub, wire):
    data = {"amount": "100", "currency": "cny"}
    post(wire, "/v1/payment_intents", data, key="shared")
    other = wire.post(
        "/v1/payment_intents",
        data=data,
        headers={"Authorization": "Bearer sk_test_other", "Idempotency-Key": "shared"},
    )
    assert other.status_code == 200 and "Idempotent-Replayed" not in other.headers
    assert len(lone_stub.intents) == 2


def test_parameter_errors_are_not_stored_so_the_key_can_be_used_again(lone_stub, wire):
    error_of(post(wire, "/v1/payment_intents", {"amount": "x", "currency": "cny"}, key="k2"), 400)
    ok = post(wire, "/v1/payment_intents", {"amount": "5", "currency": "cny"}, key="k2")
    assert ok.status_code == 200


def test_an_overlong_key_is_refused(wire):
    error = error_of(
        post(wire, "/v1/payment_intents", {"amount": "5", "currency": "cny"}, key="k" * 256), 400
    )
    assert error["param"] == "Idempotency-Key"


# ---------------------------------------------------------------------- confirm, settle, decline, cancel


def test_confirm_processes_then_settles_to_succeeded_with_one_event(lone_stub, wire):
    intent = create(wire, **{"metadata[order_no]": "D9"})
    response = post(
        wire, f"/v1/payment_intents/{intent['id']}/confirm", {"payment_method": "pm_card_visa"}, key="c"
    )
    assert response.status_code == 200
    assert response.get_json()["status"] == "processing"
    assert lone_stub.events == []  # nothing settled before the answer
    assert lone_stub.run_pending() == 1
    settled = wire.get(f"/v1/payment_intents/{intent['id']}", headers=AUTH).get_json()
    assert settled["status"] == "succeeded"
    assert settled["amount_received"] == 600000
    assert settled["latest_charge"].startswith("ch_")
    (event,) = lone_stub.events
    assert event["id"].startswith("evt_")
    assert event["object"] == "event"
    assert event["type"] == "payment_intent.succeeded"
    assert event["data"]["object"] == settled
    # Confirming again is a state error; replaying the confirm key replays the stored answer.
    error = error_of(post(wire, f"/v1/payment_intents/{intent['id']}/confirm", {}), 400)
    assert error["code"] == "payment_intent_unexpected_state"
    replay = post(
        wire, f"/v1/payment_intents/{intent['id']}/confirm", {"payment_method": "pm_card_visa"}, key="c"
    )
    assert replay.status_code == 200 and replay.get_json()["status"] == "processing"
    assert lone_stub.run_pending() == 0
    assert len(lone_stub.events) == 1


def test_confirm_without_a_payment_method_is_refused(lone_stub, wire):
    intent = create(wire)
    error = error_of(post(wire, f"/v1/payment_intents/{intent['id']}/confirm", {}), 400)
    assert (error["code"], error["param"]) == ("payment_intent_unexpected_state", "payment_method")
    assert lone_stub.intents[intent["id"]]["status"] == "requires_payment_method"


def test_create_with_confirm_true_confirms_at_once(lone_stub, wire):
    intent = create(wire, payment_method="pm_card_visa", confirm="true")
    assert intent["status"] == "processing"
    lone_stub.run_pending()
    assert lone_stub.intents[intent["id"]]["status"] == "succeeded"


@pytest.mark.parametrize(
    ("method", "code", "decline_code"),
    [
        ("pm_card_chargeDeclined", "card_declined", "generic_decline"),
        ("pm_card_chargeDeclinedInsufficientFunds", "card_declined", "insufficient_funds"),
        ("pm_card_chargeDeclinedExpiredCard", "expired_card", "expired_card"),
    ],
)
def test_a_declining_payment_method_is_a_402_card_error_and_a_payment_failed_event(
    lone_stub, wire, method, code, decline_code
):
    intent = create(wire)
    response = post(wire, f"/v1/payment_intents/{intent['id']}/confirm", {"payment_method": method}, key="d")
    error = error_of(response, 402)
    assert (error["type"], error["code"], error["decline_code"]) == ("card_error", code, decline_code)
    assert error["payment_intent"]["status"] == "requires_payment_method"
    assert error["payment_intent"]["last_payment_error"]["decline_code"] == decline_code
    stored = lone_stub.intents[intent["id"]]
    assert stored["status"] == "requires_payment_method"
    assert stored["payment_method"] is None
    assert [e["type"] for e in lone_stub.events] == ["payment_intent.payment_failed"]
    # A declined confirmation is stored under its key (it executed): replayed, not re-run.
    again = post(wire, f"/v1/payment_intents/{intent['id']}/confirm", {"payment_method": method}, key="d")
    assert again.status_code == 402 and again.headers["Idempotent-Replayed"] == "true"
    assert len(lone_stub.events) == 1
    # The intent can be paid with another method afterwards.
    paid = post(wire, f"/v1/payment_intents/{intent['id']}/confirm", {"payment_method": "pm_card_visa"})
    assert paid.get_json()["status"] == "processing"
    assert paid.get_json()["last_payment_error"] is None


def test_a_decline_at_settlement_goes_processing_then_back_with_the_error(lone_stub, wire):
    intent = create(wire)
    response = post(
        wire,
        f"/v1/payment_intents/{intent['id']}/confirm",
        {"payment_method": "pm_card_declinedAfterProcessing"},
    )
    assert response.get_json()["status"] == "processing"
    lone_stub.run_pending()
    stored = lone_stub.intents[intent["id"]]
    assert stored["status"] == "requires_payment_method"
    assert stored["last_payment_error"]["decline_code"] == "processing_error"
    assert [e["type"] for e in lone_stub.events] == ["payment_intent.payment_failed"]


def test_decline_next_declines_whatever_the_method(lone_stub, wire):
    lone_stub.decline_next(1, decline_code="insufficient_funds")
    first, second = create(wire), create(wire)
    refused = post(wire, f"/v1/payment_intents/{first['id']}/confirm", {"payment_method": "pm_card_visa"})
    assert error_of(refused, 402)["decline_code"] == "insufficient_funds"
    accepted = post(wire, f"/v1/payment_intents/{second['id']}/confirm", {"payment_method": "pm_card_visa"})
    assert accepted.status_code == 200


def test_cancel_before_processing_only(lone_stub, wire):
    intent = create(wire)
    response = post(wire, f"/v1/payment_intents/{intent['id']}/cancel", {"cancellation_reason": "abandoned"})
    assert response.status_code == 200
    canceled = response.get_json()
    assert canceled["status"] == "canceled"
    assert canceled["cancellation_reason"] == "abandoned"
    assert isinstance(canceled["canceled_at"], int)
    assert [e["type"] for e in lone_stub.events] == ["payment_intent.canceled"]
    error = error_of(post(wire, f"/v1/payment_intents/{intent['id']}/cancel", {}), 400)
    assert error["code"] == "payment_intent_unexpected_state"
    other = create(wire, payment_method="pm_card_visa", confirm="true")
    error = error_of(post(wire, f"/v1/payment_intents/{other['id']}/cancel", {}), 400)
    assert "processing" in error["message"]
    bad = error_of(
        post(wire, f"/v1/payment_intents/{create(wire)['id']}/cancel", {"cancellation_reason": "bored"}), 400
    )
    assert bad["param"] == "cancellation_reason"
    assert (
        error_of(post(wire, "/v1/payment_intents/pi_missing/cancel", {}), 404)["code"] == "resource_missing"
    )


# ---------------------------------------------------------------------- list


def test_list_is_newest_first_and_pages_with_starting_after_and_ending_before(wire):
    ids = [create(wire, amount=str(100 + n))["id"] for n in range(5)]
    newest_first = list(reversed(ids))
    page = wire.get("/v1/payment_intents?limit=2", headers=AUTH).get_json()
    assert page["object"] == "list"
    assert page["url"] == "/v1/payment_intents"
    assert [i["id"] for i in page["data"]] == newest_first[:2]
    assert page["has_more"] is True
    page = wire.get(f"/v1/payment_intents?limit=2&starting_after={newest_first[1]}", headers=AUTH).get_json()
    assert [i["id"] for i in page["data"]] == newest_first[2:4] and page["has_more"] is True
    page = wire.get(f"/v1/payment_intents?limit=2&starting_after={newest_first[3]}", headers=AUTH).get_json()
    assert [i["id"] for i in page["data"]] == newest_first[4:] and page["has_more"] is False
    page = wire.get(f"/v1/payment_intents?limit=2&ending_before={newest_first[4]}", headers=AUTH).get_json()
    assert [i["id"] for i in page["data"]] == newest_first[2:4] and page["has_more"] is True
    everything = wire.get("/v1/payment_intents", headers=AUTH).get_json()
    assert [i["id"] for i in everything["data"]] == newest_first and everything["has_more"] is False


def test_an_empty_list(wire):
    assert wire.get("/v1/payment_intents", headers=AUTH).get_json() == {
        "object": "list",
        "data": [],
        "has_more": False,
        "url": "/v1/payment_intents",
    }


@pytest.mark.parametrize(
    ("query", "status", "param"),
    [
        ("limit=0", 400, "limit"),
        ("limit=101", 400, "limit"),
        ("limit=ten", 400, "limit"),
        ("starting_after=pi_nope", 404, "starting_after"),
        ("ending_before=pi_nope", 404, "ending_before"),
        ("customer=cus_1", 400, "customer"),
    ],
)
def test_bad_list_parameters(wire, query, status, param):
    create(wire)
    assert error_of(wire.get(f"/v1/payment_intents?{query}", headers=AUTH), status)["param"] == param


def test_starting_after_and_ending_before_together_are_refused(wire):
    intent = create(wire)
    query = f"starting_after={intent['id']}&ending_before={intent['id']}"
    assert (
        error_of(wire.get(f"/v1/payment_intents?{query}", headers=AUTH), 400)["type"]
        == "invalid_request_error"
    )


# ---------------------------------------------------------------------- events posted to the events URL


class Receiver:
    """A fake events endpoint mounted on the stub's session: answers from a script, records all."""

    def __init__(self, answers: list[int]):
        self.answers = answers
        self.received: list[tuple[bytes, dict]] = []

    def __call__(self, environ, start_response):
        body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        headers = {k[5:].replace("_", "-").title(): v for k, v in environ.items() if k.startswith("HTTP_")}
        headers["Content-Type"] = environ.get("CONTENT_TYPE", "")
        self.received.append((body, headers))
        status = self.answers.pop(0) if self.answers else 200
        start_response(f"{status} X", [("Content-Type", "text/plain")])
        return [b"ok"]


def stub_with_receiver(answers: list[int], **options) -> tuple[StubProvider, Receiver]:
    receiver = Receiver(answers)
    session = requests.Session()
    session.mount("http://receiver.test/", WSGIAdapter(receiver))
    provider = StubProvider(
        events_url="http://receiver.test/events",
        events_secret="whsec_wire",
        events_session=session,
        background=False,
        **options,
    )
    return provider, receiver


def test_events_are_posted_signed_after_the_answer_and_recorded():
    provider, receiver = stub_with_receiver([200])
    wire = Wire(provider)
    intent = create(wire)
    post(wire, f"/v1/payment_intents/{intent['id']}/confirm", {"payment_method": "pm_card_visa"})
    assert receiver.received == []  # nothing is sent before the answer
    provider.run_pending()
    ((body, headers),) = receiver.received
    event = json.loads(body)
    assert event["type"] == "payment_intent.succeeded"
    assert headers["Content-Type"] == "application/json; charset=utf-8"
    assert signing.verify(body, headers["Stripe-Signature"], "whsec_wire") > 0
    (delivery,) = provider.deliveries
    assert delivery.event_id == event["id"]
    assert delivery.body == body
    assert delivery.headers["Stripe-Signature"] == headers["Stripe-Signature"]
    assert delivery.delivered and not delivery.given_up
    assert [a["status"] for a in delivery.attempts] == [200]


def test_a_failing_receiver_is_retried_on_5xx_until_it_answers_2xx():
    provider, receiver = stub_with_receiver([500, 503, 200], retry_delays=(0.0, 0.0, 0.0))
    wire = Wire(provider)
    intent = create(wire)
    post(wire, f"/v1/payment_intents/{intent['id']}/cancel", {})
    provider.run_pending()
    (delivery,) = provider.deliveries
    assert [a["status"] for a in delivery.attempts] == [500, 503, 200]
    assert delivery.delivered
    assert len({body for body, _headers in receiver.received}) == 1  # the same event every time


def test_a_4xx_is_final_and_retries_are_bounded():
    provider, _receiver = stub_with_receiver([400])
    wire = Wire(provider)
    post(wire, f"/v1/payment_intents/{create(wire)['id']}/cancel", {})
    provider.run_pending()
    (delivery,) = provider.deliveries
    assert [a["status"] for a in delivery.attempts] == [400]
    assert delivery.given_up and not delivery.delivered
    provider, _receiver = stub_with_receiver([500] * 10, retry_delays=(0.0, 0.0))
    wire = Wire(provider)
    post(wire, f"/v1/payment_intents/{create(wire)['id']}/cancel", {})
    provider.run_pending()
    (delivery,) = provider.deliveries
    assert [a["status"] for a in delivery.attempts] == [500, 500, 500]
    assert delivery.given_up


def test_the_deliveries_are_listed_over_http_for_a_stub_in_its_own_process():
    provider, _receiver = stub_with_receiver([200])
    wire = Wire(provider)
    post(wire, f"/v1/payment_intents/{create(wire)['id']}/cancel", {})
    assert wire.post("/_stub/run", headers=AUTH).get_json() == {"ran": 1}
    (listed,) = wire.get("/_stub/deliveries", headers=AUTH).get_json()["data"]
    assert listed["event_type"] == "payment_intent.canceled"
    assert json.loads(listed["body"])["id"] == listed["event_id"]
    assert listed["headers"]["Stripe-Signature"].startswith("t=")
    assert listed["delivered"] is True


# ---------------------------------------------------------------------- faults


def test_a_fault_before_answers_5xx_and_changes_nothing(lone_stub, wire):
    lone_stub.add_fault("error", status=503, method="POST")
    response = post(wire, "/v1/payment_intents", {"amount": "1", "currency": "cny"}, key="f")
    assert error_of(response, 503)["type"] == "api_error"
    assert lone_stub.intents == {}
    assert post(wire, "/v1/payment_intents", {"amount": "1", "currency": "cny"}, key="f").status_code == 200
    assert len(lone_stub.intents) == 1


def test_a_fault_after_takes_effect_but_loses_the_answer(lone_stub, wire):
    lone_stub.add_fault("error", when="after", path="/v1/payment_intents")
    response = post(wire, "/v1/payment_intents", {"amount": "1", "currency": "cny"}, key="g")
    assert response.status_code == 500
    assert len(lone_stub.intents) == 1
    replay = post(wire, "/v1/payment_intents", {"amount": "1", "currency": "cny"}, key="g")
    assert replay.headers["Idempotent-Replayed"] == "true"
    assert replay.get_json()["id"] == next(iter(lone_stub.intents))


def test_faults_can_be_set_over_http(lone_stub, wire):
    response = wire.post("/_stub/faults", json={"kind": "error", "status": 502, "count": 2}, headers=AUTH)
    assert response.status_code == 200 and response.get_json()["count"] == 2
    assert wire.get("/v1/payment_intents", headers=AUTH).status_code == 502
    assert wire.get("/v1/payment_intents", headers=AUTH).status_code == 502
    assert wire.get("/v1/payment_intents", headers=AUTH).status_code == 200
    assert error_of(wire.post("/_stub/faults", json={"kind": "fire"}, headers=AUTH), 400)
    assert error_of(wire.post("/_stub/faults", json={"kind": "error", "status": 200}, headers=AUTH), 400)
    assert error_of(wire.post("/_stub/faults", data="x", headers=AUTH), 400)
    wire.post("/_stub/declines", json={"count": 1, "decline_code": "insufficient_funds"}, headers=AUTH)
    intent = create(wire)
    refused = post(wire, f"/v1/payment_intents/{intent['id']}/confirm", {"payment_method": "pm_card_visa"})
    assert error_of(refused, 402)["decline_code"] == "insufficient_funds"
    assert wire.post("/_stub/reset", headers=AUTH).get_json() == {"ok": True}
    assert lone_stub.intents == {}
