"""The stub as a real separate process (``flask --app wsgi payments-stub``) and the client over real
sockets: the same wire, signed events POSTed to a receiver over HTTP (retried while it fails), and
retries with the same Idempotency-Key after a 5xx, a read timeout and a dropped connection."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import requests

from app.payments import signing
from app.payments.client import CardError, PaymentsClient

SECRET = "whsec_process_test"
KEY = "sk_test_process"
AUTH = {"Authorization": f"Bearer {KEY}"}
REPO = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class EventReceiver(ThreadingHTTPServer):
    """Verifies every event's signature; answers 500 to the first ``fail_first`` deliveries."""

    def __init__(self):
        super().__init__(("127.0.0.1", 0), _Handler)
        self.fail_first = 0
        self.received: list[dict] = []  # {"event", "verified", "status"}
        self.lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/events"


class _Handler(BaseHTTPRequestHandler):
    server: EventReceiver

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        try:
            signing.verify(body, self.headers.get("Stripe-Signature"), SECRET)
            verified = True
        except signing.SignatureError:
            verified = False
        with self.server.lock:
            status = 500 if self.server.fail_first > 0 else (200 if verified else 400)
            self.server.fail_first -= 1
            self.server.received.append({"event": json.loads(body), "verified": verified, "status": status})
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        """Quiet."""


@pytest.fixture(scope="module")
def receiver() -> Iterator[EventReceiver]:
    server = EventReceiver()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def stub_process(receiver, tmp_path_factory) -> Iterator[str]:
    port = free_port()
    workdir = tmp_path_factory.mktemp("payments-stub")
    env = {
        **os.environ,
        "APP_ENV": "development",
        "SECRET_KEY": "stub-process-test-secret-key-0123456789",
        "INSTANCE_DIR": str(workdir),
        "DATABASE_URL": f"sqlite:///{workdir / 'unused.sqlite3'}",
    }
    env.pop("PAYMENTS_EVENTS_SECRET", None)
    log = workdir / "stub.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "flask",
                "--app",
                "wsgi",
                "payments-stub",
                "--port",
                str(port),
                "--events-to",
                receiver.url,
                "--events-secret",
                SECRET,
                "--settle-delay",
                "0",
                "--retry-delays",
                "0.2,0.2,0.2",
                "--hang-seconds",
                "3",
            ],
            cwd=REPO,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            assert process.poll() is None, log.read_text()
            try:
                if requests.get(base + "/v1/payment_intents", headers=AUTH, timeout=1).status_code == 200:
                    break
            except requests.ConnectionError:
                pass
            assert time.monotonic() < deadline, "the stub did not start:\n" + log.read_text()
            time.sleep(0.1)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture
def remote(stub_process, receiver) -> Iterator[str]:
    requests.post(stub_process + "/_stub/reset", headers=AUTH, timeout=5).raise_for_status()
    with receiver.lock:
        receiver.received.clear()
        receiver.fail_first = 0
    yield stub_process
    requests.post(stub_process + "/_stub/release", headers=AUTH, timeout=5)


def client(base: str, **options) -> PaymentsClient:
    options.setdefault("sleep", lambda _seconds: None)
    return PaymentsClient(base, KEY, **options)


def wait_for(predicate, timeout: float = 10.0):
    deadline = time.monotonic() + timeout
    while not (result := predicate()):
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)
    return result


def deliveries(base: str) -> list[dict]:
    return requests.get(base + "/_stub/deliveries", headers=AUTH, timeout=5).json()["data"]


def test_a_payment_over_http_posts_one_signed_succeeded_event(remote, receiver):
    payments = client(remote)
    intent = payments.create_intent(
        amount=Decimal("6000.00"), idempotency_key="pay-P1-1", metadata={"order_no": "P1"}
    )
    confirmed = payments.confirm_intent(
        intent.id, idempotency_key="pay-P1-1-confirm", payment_method="pm_card_visa"
    )
    assert confirmed.status == "processing"
    (delivery,) = wait_for(lambda: [d for d in deliveries(remote) if d["delivered"]])
    assert delivery["event_type"] == "payment_intent.succeeded"
    (got,) = receiver.received
    assert got["verified"] is True
    assert got["event"]["id"] == delivery["event_id"]
    assert got["event"]["data"]["object"]["id"] == intent.id
    assert got["event"]["data"]["object"]["amount"] == 600000
    assert got["event"]["data"]["object"]["metadata"] == {"order_no": "P1"}
    assert payments.retrieve_intent(intent.id).status == "succeeded"
    # What was sent is recorded exactly, so it can be replayed.
    body = delivery["body"].encode()
    assert signing.verify(body, delivery["headers"]["Stripe-Signature"], SECRET)
    assert json.loads(body) == got["event"]


def test_a_failing_receiver_gets_the_same_event_again(remote, receiver):
    receiver.fail_first = 2
    payments = client(remote)
    intent = payments.create_intent(amount=Decimal("1.00"), idempotency_key="x")
    payments.cancel_intent(intent.id, idempotency_key="x-cancel")
    (delivery,) = wait_for(lambda: [d for d in deliveries(remote) if d["delivered"]])
    assert [a["status"] for a in delivery["attempts"]] == [500, 500, 200]
    assert [r["status"] for r in receiver.received] == [500, 500, 200]
    assert len({r["event"]["id"] for r in receiver.received}) == 1


def test_a_decline_over_http(remote, receiver):
    payments = client(remote)
    intent = payments.create_intent(amount=Decimal("5.00"), idempotency_key="d")
    with pytest.raises(CardError) as caught:
        payments.confirm_intent(intent.id, idempotency_key="d-c", payment_method="pm_card_chargeDeclined")
    assert caught.value.decline_code == "generic_decline"
    wait_for(lambda: receiver.received)
    assert receiver.received[0]["event"]["type"] == "payment_intent.payment_failed"


def _fault(base: str, **fault) -> None:
    response = requests.post(base + "/_stub/faults", json=fault, headers=AUTH, timeout=5)
    assert response.status_code == 200, response.text


def _intents(base: str) -> list[dict]:
    return requests.get(base + "/v1/payment_intents?limit=100", headers=AUTH, timeout=5).json()["data"]


def test_a_5xx_after_the_create_is_retried_with_the_same_key_over_http(remote):
    _fault(remote, kind="error", when="after", method="POST", status=503)
    intent = client(remote).create_intent(amount=Decimal("7.00"), idempotency_key="pay-P2-1")
    assert [i["id"] for i in _intents(remote)] == [intent.id]


def test_a_read_timeout_is_retried_with_the_same_key_over_http(remote):
    _fault(remote, kind="timeout", when="after", method="POST")
    started = time.monotonic()
    intent = client(remote, timeout=(2.0, 0.5)).create_intent(
        amount=Decimal("8.00"), idempotency_key="pay-P3-1"
    )
    assert time.monotonic() - started < 2.5  # one read timeout, then the replayed answer
    assert [i["id"] for i in _intents(remote)] == [intent.id]


def test_a_dropped_connection_is_retried_with_the_same_key_over_http(remote):
    _fault(remote, kind="disconnect", when="after", method="POST")
    started = time.monotonic()
    intent = client(remote, timeout=(2.0, 5.0)).create_intent(
        amount=Decimal("9.00"), idempotency_key="pay-P4-1"
    )
    assert time.monotonic() - started < 2  # a dropped connection, not a read timeout
    assert [i["id"] for i in _intents(remote)] == [intent.id]


def test_a_wrong_key_over_http_is_a_401(remote):
    response = requests.get(
        remote + "/v1/payment_intents", headers={"Authorization": "Bearer sk_live_x"}, timeout=5
    )
    assert response.status_code == 401
    assert response.json()["error"]["type"] == "authentication_error"


def test_the_application_configured_for_http_talks_to_the_stub_process(remote, tmp_path):
    from app import create_app
    from app.payments.provider import get_client
    from tests.conftest import make_test_config

    app = create_app(
        make_test_config(
            f"sqlite:///{tmp_path / 'unused.sqlite3'}",
            PAYMENTS_PROVIDER="http",
            PAYMENTS_API_URL=remote,
            PAYMENTS_SECRET_KEY=KEY,
        )
    )
    payments = get_client(app)
    assert "payments_stub" not in app.extensions  # nothing mounted in-process
    intent = payments.create_intent(amount=Decimal("12.34"), idempotency_key="pay-HTTP-1")
    assert [i["id"] for i in _intents(remote)] == [intent.id]
    assert intent.amount_fen == 1234
