"""A Stripe-compatible payment-intents provider, in memory and thread-safe.

Wire format (what a Stripe client expects):

* ``POST /v1/payment_intents`` (create), ``GET /v1/payment_intents/{id}``,
  ``POST /v1/payment_intents/{id}/confirm``, ``POST /v1/payment_intents/{id}/cancel``,
  ``GET /v1/payment_intents`` (``limit``, ``starting_after``, ``ending_before``; newest first).
* Form-encoded bodies with bracketed keys (``metadata[order_no]=…``); amounts in integer fen;
  currency ``cny`` only.
* ``Authorization: Bearer sk_test_…``; anything else is a 401 ``authentication_error``.
* ``Idempotency-Key`` on POSTs: the same key with the same parameters replays the stored response
  (``Idempotent-Replayed: true``); with other parameters or on another URL it is a 400
  ``idempotency_error``. Responses are stored once the request has executed (2xx, and 402 card
  errors), not for parameter errors — as Stripe does.
* Errors ``{"error": {"type", "code", "message", "param"}}``.

Statuses: ``requires_payment_method`` → ``requires_confirmation`` (a payment method is attached)
→ ``processing`` (confirmed) → ``succeeded``, or back to ``requires_payment_method`` with
``last_payment_error`` when declined; ``canceled`` before processing. Settlement happens after the
confirm response (``settle_delay`` seconds later). Every ``payment_intent.succeeded``,
``payment_intent.payment_failed`` and ``payment_intent.canceled`` event is recorded and, when an
events URL is configured, POSTed there after the response that caused it, signed with
``Stripe-Signature``, retried on network errors, 5xx, 408 and 429 (``retry_delays``).

Test switches:

* payment methods: ``pm_card_visa`` (and any other ``pm_…``) pays; ``pm_card_chargeDeclined``,
  ``pm_card_chargeDeclinedInsufficientFunds``, ``pm_card_chargeDeclinedExpiredCard`` are declined
  at confirm (402 ``card_error``); ``pm_card_declinedAfterProcessing`` goes to ``processing`` and is
  declined at settlement;
* :meth:`StubProvider.decline_next` declines the next confirmations whatever the payment method;
* :meth:`StubProvider.add_fault`: 5xx answers, hangs (client timeouts) and dropped connections,
  before the request is processed or after it (the request took effect, the answer was lost);
* the same switches over HTTP under ``/_stub/`` for a stub running as its own process.

In the background mode (the default) settlements and deliveries run on a thread of the stub's
own; with ``background=False`` they wait until :meth:`StubProvider.run_pending` is called, which
is what deterministic tests want.
"""

from __future__ import annotations

import contextlib
import copy
import hashlib
import heapq
import itertools
import json
import logging
import re
import secrets
import socket
import string
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import requests
from flask import Flask, Response, g, jsonify, request
from werkzeug.exceptions import HTTPException

from app.payments import formencode, signing

log = logging.getLogger(__name__)

API_VERSION = "2024-06-20"
MAX_AMOUNT = 99_999_999  # fen; Stripe's eight digits
MAX_METADATA_KEYS = 50
STATUSES = ("requires_payment_method", "requires_confirmation", "processing", "succeeded", "canceled")
CANCELABLE = ("requires_payment_method", "requires_confirmation")
CANCELLATION_REASONS = ("duplicate", "fraudulent", "requested_by_customer", "abandoned")
DEFAULT_RETRY_DELAYS = (1.0, 2.0, 4.0, 8.0, 16.0, 32.0)
_KEY_FORM = re.compile(r"^sk_test_[A-Za-z0-9_]{1,247}$")
_PAYMENT_METHOD = re.compile(r"^pm_[A-Za-z0-9_]{1,100}$")
_ID = re.compile(r"^pi_[A-Za-z0-9]{1,64}$")
_ALPHABET = string.ascii_letters + string.digits

DECLINES = {
    "generic_decline": "Your card was declined.",
    "insufficient_funds": "Your card has insufficient funds.",
    "expired_card": "Your card has expired.",
    "processing_error": "An error occurred while processing your card. Try again in a little bit.",
}
# payment method → (decline code, at confirm (True) or at settlement (False))
DECLINING_METHODS: dict[str, tuple[str, bool]] = {
    "pm_card_chargeDeclined": ("generic_decline", True),
    "pm_card_chargeDeclinedInsufficientFunds": ("insufficient_funds", True),
    "pm_card_chargeDeclinedExpiredCard": ("expired_card", True),
    "pm_card_declinedAfterProcessing": ("processing_error", False),
}


def _token(prefix: str, length: int = 24) -> str:
    return prefix + "".join(secrets.choice(_ALPHABET) for _ in range(length))


class StripeError(Exception):
    def __init__(
        self,
        status: int,
        type_: str,
        message: str,
        *,
        code: str | None = None,
        param: str | None = None,
        **extra: Any,
    ):
        super().__init__(message)
        self.status = status
        self.body = {"error": {"type": type_, "code": code, "message": message, "param": param, **extra}}


def invalid(message: str, *, code: str | None = None, param: str | None = None, status: int = 400):
    return StripeError(status, "invalid_request_error", message, code=code, param=param)


@dataclass
class Fault:
    """A simulated failure for the next ``count`` matching API requests."""

    kind: str  # "error" (a 5xx answer), "timeout" (hang), "disconnect" (drop the connection)
    when: str = "before"  # "before": nothing happens; "after": the request took effect, the answer is lost
    method: str | None = None  # only this method (GET, POST)
    path: str | None = None  # only paths containing this text ("/confirm")
    status: int = 500
    count: int = 1

    def __post_init__(self) -> None:
        if self.kind not in ("error", "timeout", "disconnect"):
            raise ValueError(f"unknown fault kind {self.kind!r}")
        if self.when not in ("before", "after"):
            raise ValueError(f"unknown fault moment {self.when!r}")
        if not (500 <= self.status <= 599 or self.status in (409, 429)):
            raise ValueError("a fault answers with a 5xx, 409 or 429 status")

    def matches(self, method: str, path: str) -> bool:
        return (self.method is None or self.method.upper() == method) and (
            self.path is None or self.path in path
        )


@dataclass
class Delivery:
    """One event's delivery to the events URL: exactly what was sent, and every attempt."""

    event_id: str
    event_type: str
    url: str
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)  # those of the latest attempt
    attempts: list[dict[str, Any]] = field(default_factory=list)
    delivered: bool = False
    given_up: bool = False

    def as_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["body"] = self.body.decode("utf-8")
        return data


@dataclass
class _Stored:
    fingerprint: str
    method: str
    path: str
    status: int
    body: dict[str, Any]
    request_id: str


class StubProvider:
    """The stub provider; the instance is its WSGI application."""

    def __init__(
        self,
        *,
        events_url: str | None = None,
        events_secret: str | None = None,
        events_session: requests.Session | None = None,
        background: bool = True,
        settle_delay: float = 0.0,
        retry_delays: tuple[float, ...] = DEFAULT_RETRY_DELAYS,
        delivery_timeout: float = 10.0,
        hang_seconds: float = 30.0,
        clock: Callable[[], float] = time.time,
    ):
        self.events_url = events_url
        self.events_secret = events_secret
        self.events_session = events_session or requests.Session()
        self.background = background
        self.settle_delay = settle_delay
        self.retry_delays = tuple(retry_delays)
        self.delivery_timeout = delivery_timeout
        self.hang_seconds = hang_seconds
        self.clock = clock
        self._lock = threading.RLock()  # the store: intents, idempotency, events, switches
        self._tasks_cond = threading.Condition()  # the task heap (never held while a task runs)
        self._tasks: list[tuple[float, int, Callable[[], None]]] = []
        self._seq = itertools.count()
        self._running = 0
        self._thread: threading.Thread | None = None
        self._stopped = False
        self._release = threading.Event()
        self._reset_state()
        self.flask_app = self._make_app()

    # ------------------------------------------------------------------ state and switches

    def _reset_state(self) -> None:
        self.intents: dict[str, dict[str, Any]] = {}
        self._order: list[str] = []  # creation order
        self._idempotency: dict[tuple[str, str], _Stored] = {}
        self.events: list[dict[str, Any]] = []
        self.deliveries: list[Delivery] = []
        self.faults: list[Fault] = []
        self._declines: list[dict[str, Any]] = []
        # (method, path, idempotency key): every request that arrived, and those the API processed
        self.calls: list[tuple[str, str, str | None]] = []
        self.requests_seen: list[tuple[str, str, str | None]] = []

    def reset(self) -> None:
        """Forget everything: intents, keys, events, pending tasks and switches."""
        with self._tasks_cond:
            self._tasks.clear()
        with self._lock:
            self._reset_state()
        self.release_hangs()
        self._release = threading.Event()

    def add_fault(self, kind: str, **options: Any) -> Fault:
        fault = Fault(kind, **options)
        with self._lock:
            self.faults.append(fault)
        return fault

    def clear_faults(self) -> None:
        with self._lock:
            self.faults.clear()

    def decline_next(self, count: int = 1, *, decline_code: str = "generic_decline", at_confirm: bool = True):
        """Decline the next ``count`` confirmations whatever their payment method."""
        if decline_code not in DECLINES:
            raise ValueError(f"unknown decline code {decline_code!r}")
        with self._lock:
            self._declines.append({"count": count, "decline_code": decline_code, "at_confirm": at_confirm})

    def release_hangs(self) -> None:
        """End every simulated hang now."""
        self._release.set()

    def configure_events(self, url: str | None, secret: str | None, session: requests.Session | None = None):
        with self._lock:
            self.events_url = url
            self.events_secret = secret
            if session is not None:
                self.events_session = session

    def delivery(self, event_id: str) -> Delivery:
        with self._lock:
            return next(d for d in self.deliveries if d.event_id == event_id)

    # ------------------------------------------------------------------ background tasks

    def _schedule(self, delay: float, task: Callable[[], None]) -> None:
        with self._tasks_cond:
            heapq.heappush(self._tasks, (time.monotonic() + delay, next(self._seq), task))
            self._tasks_cond.notify_all()
        if self.background:
            self._ensure_thread()

    def _ensure_thread(self) -> None:
        with self._tasks_cond:
            if self._thread is None or not self._thread.is_alive():
                self._stopped = False
                self._thread = threading.Thread(target=self._loop, name="payments-stub", daemon=True)
                self._thread.start()

    def _loop(self) -> None:
        while True:
            with self._tasks_cond:
                while not self._stopped:
                    if self._tasks and self._tasks[0][0] <= time.monotonic():
                        break
                    wait = self._tasks[0][0] - time.monotonic() if self._tasks else None
                    self._tasks_cond.wait(wait)
                if self._stopped:
                    return
                _due, _seq, task = heapq.heappop(self._tasks)
                self._running += 1
            try:
                task()
            except Exception:
                log.exception("payments stub: background task failed")
            finally:
                with self._tasks_cond:
                    self._running -= 1
                    self._tasks_cond.notify_all()

    def run_pending(self, limit: int = 10_000) -> int:
        """Run every queued task now, due or not, including those they queue; returns how many."""
        done = 0
        while done < limit:
            with self._tasks_cond:
                if not self._tasks:
                    return done
                _due, _seq, task = heapq.heappop(self._tasks)
            task()
            done += 1
        return done

    def pending(self) -> int:
        with self._tasks_cond:
            return len(self._tasks) + self._running

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Background mode: wait until no task is queued or running."""
        deadline = time.monotonic() + timeout
        with self._tasks_cond:
            while self._tasks or self._running:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._tasks_cond.wait(remaining)
        return True

    def close(self) -> None:
        with self._tasks_cond:
            self._stopped = True
            self._tasks_cond.notify_all()
        self.release_hangs()
        if self._thread is not None:
            self._thread.join(5)

    # ------------------------------------------------------------------ events

    def _emit(self, event_type: str, intent: dict[str, Any], outbox: list[Delivery] | None) -> dict[str, Any]:
        """Record an event (the store lock is held) and queue its delivery: after the response
        when ``outbox`` is the current request's, at once otherwise."""
        in_request = outbox is not None
        event = {
            "id": _token("evt_"),
            "object": "event",
            "api_version": API_VERSION,
            "created": int(self.clock()),
            "data": {"object": copy.deepcopy(intent)},
            "livemode": False,
            "pending_webhooks": 1 if self.events_url else 0,
            "request": {
                "id": g.get("stub_request_id") if in_request else None,
                "idempotency_key": g.get("stub_idempotency_key") if in_request else None,
            },
            "type": event_type,
        }
        self.events.append(event)
        if not self.events_url:
            return event
        body = json.dumps(event, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        delivery = Delivery(event["id"], event_type, self.events_url, body)
        self.deliveries.append(delivery)
        if outbox is not None:
            outbox.append(delivery)
        else:
            self._schedule(0, lambda: self._deliver(delivery, 1))
        return event

    def _deliver(self, delivery: Delivery, attempt: int) -> None:
        with self._lock:
            secret, session = self.events_secret, self.events_session
        if delivery not in self.deliveries:
            return  # forgotten by a reset
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
            "Stripe-Signature": signing.sign_header(secret or "", delivery.body, int(self.clock())),
        }
        started = time.monotonic()
        record: dict[str, Any] = {"attempt": attempt, "at": int(self.clock()), "status": None, "error": None}
        retryable = True
        try:
            response = session.post(
                delivery.url,
                data=delivery.body,
                headers=headers,
                timeout=(3.05, self.delivery_timeout),
                allow_redirects=False,
            )
            record["status"] = response.status_code
            record["response"] = response.text[:500]
            ok = 200 <= response.status_code < 300
            retryable = response.status_code >= 500 or response.status_code in (408, 429)
        except requests.RequestException as exc:
            ok = False
            record["error"] = f"{type(exc).__name__}: {exc}"[:500]
        record["duration_ms"] = round((time.monotonic() - started) * 1000, 1)
        with self._lock:
            delivery.headers = headers
            delivery.attempts.append(record)
            if ok:
                delivery.delivered = True
            elif retryable and attempt <= len(self.retry_delays):
                self._schedule(self.retry_delays[attempt - 1], lambda: self._deliver(delivery, attempt + 1))
            else:
                delivery.given_up = True
                log.warning(
                    "payments stub: gave up delivering %s after %d attempts", delivery.event_id, attempt
                )

    # ------------------------------------------------------------------ intents

    def _new_intent(self, params: dict[str, Any]) -> dict[str, Any]:
        intent_id = _token("pi_")
        payment_method = params.get("payment_method")
        return {
            "id": intent_id,
            "object": "payment_intent",
            "amount": params["amount"],
            "amount_capturable": 0,
            "amount_received": 0,
            "canceled_at": None,
            "cancellation_reason": None,
            "capture_method": "automatic",
            "client_secret": f"{intent_id}_secret_{_token('', 25)}",
            "confirmation_method": "automatic",
            "created": int(self.clock()),
            "currency": params["currency"],
            "description": params.get("description"),
            "last_payment_error": None,
            "latest_charge": None,
            "livemode": False,
            "metadata": params.get("metadata", {}),
            "payment_method": payment_method,
            "payment_method_types": params.get("payment_method_types", ["card"]),
            "status": "requires_confirmation" if payment_method else "requires_payment_method",
        }

    def _get(self, intent_id: str, param: str = "intent") -> dict[str, Any]:
        intent = self.intents.get(intent_id) if _ID.match(intent_id) else None
        if intent is None:
            raise invalid(
                f"No such payment_intent: '{intent_id}'", code="resource_missing", param=param, status=404
            )
        return intent

    def _create(self, params: dict[str, Any], outbox: list[Delivery]) -> tuple[int, dict[str, Any]]:
        _only(
            params,
            {
                "amount",
                "currency",
                "confirm",
                "description",
                "metadata",
                "payment_method",
                "payment_method_types",
            },
        )
        clean = {
            "amount": _amount(params),
            "currency": _currency(params),
            "metadata": _metadata(params.get("metadata")),
            "payment_method_types": _method_types(params.get("payment_method_types")),
        }
        if "description" in params:
            clean["description"] = _text(params["description"], "description", 1000)
        if params.get("payment_method"):
            clean["payment_method"] = _payment_method(params["payment_method"])
        confirm = _bool(params.get("confirm", "false"), "confirm")
        if confirm and not clean.get("payment_method"):
            raise invalid(
                "You cannot confirm this PaymentIntent because it's missing a payment method.",
                code="payment_intent_unexpected_state",
                param="payment_method",
            )
        intent = self._new_intent(clean)
        self.intents[intent["id"]] = intent
        self._order.append(intent["id"])
        if confirm:
            return self._confirm_intent(intent, {}, outbox)
        return 200, copy.deepcopy(intent)

    def _confirm(self, intent_id: str, params: dict[str, Any], outbox: list[Delivery]) -> tuple[int, dict]:
        _only(params, {"payment_method"})
        intent = self._get(intent_id)
        return self._confirm_intent(intent, params, outbox)

    def _confirm_intent(self, intent: dict[str, Any], params: dict[str, Any], outbox: list[Delivery]):
        if intent["status"] not in ("requires_payment_method", "requires_confirmation"):
            raise invalid(
                f"You cannot confirm this PaymentIntent because it has a status of {intent['status']}.",
                code="payment_intent_unexpected_state",
            )
        if params.get("payment_method"):
            intent["payment_method"] = _payment_method(params["payment_method"])
        method = intent["payment_method"]
        if not method:
            raise invalid(
                "You cannot confirm this PaymentIntent because it's missing a payment method.",
                code="payment_intent_unexpected_state",
                param="payment_method",
            )
        decline = self._take_decline() or DECLINING_METHODS.get(method)
        intent["last_payment_error"] = None
        if decline is not None and decline[1]:
            error = self._fail(intent, decline[0], outbox)
            return 402, {"error": {**error, "param": None, "payment_intent": copy.deepcopy(intent)}}
        intent["status"] = "processing"
        failure = decline[0] if decline is not None else None
        outbox_settle = getattr(g, "stub_settle", None)
        settle = (intent["id"], failure)
        if outbox_settle is not None:
            outbox_settle.append(settle)
        else:
            self._schedule(self.settle_delay, lambda: self._settle(*settle))
        return 200, copy.deepcopy(intent)

    def _take_decline(self) -> tuple[str, bool] | None:
        for rule in self._declines:
            if rule["count"] > 0:
                rule["count"] -= 1
                return rule["decline_code"], rule["at_confirm"]
        return None

    def _fail(self, intent: dict[str, Any], decline_code: str, outbox: list[Delivery] | None) -> dict:
        error = {
            "type": "card_error",
            "code": "card_declined" if decline_code != "expired_card" else "expired_card",
            "decline_code": decline_code,
            "message": DECLINES[decline_code],
            "payment_method": {"id": intent["payment_method"], "object": "payment_method", "type": "card"},
        }
        intent["status"] = "requires_payment_method"
        intent["last_payment_error"] = error
        intent["payment_method"] = None
        self._emit("payment_intent.payment_failed", intent, outbox)
        return error

    def _settle(self, intent_id: str, decline_code: str | None) -> None:
        with self._lock:
            intent = self.intents.get(intent_id)
            if intent is None or intent["status"] != "processing":
                return
            if decline_code:
                self._fail(intent, decline_code, None)
                return
            intent["status"] = "succeeded"
            intent["amount_received"] = intent["amount"]
            intent["latest_charge"] = _token("ch_")
            self._emit("payment_intent.succeeded", intent, None)

    def _cancel(self, intent_id: str, params: dict[str, Any], outbox: list[Delivery]) -> tuple[int, dict]:
        _only(params, {"cancellation_reason"})
        intent = self._get(intent_id)
        reason = params.get("cancellation_reason")
        if reason is not None and reason not in CANCELLATION_REASONS:
            raise invalid(
                f"Invalid cancellation_reason: must be one of {', '.join(CANCELLATION_REASONS)}",
                code="parameter_invalid_string",
                param="cancellation_reason",
            )
        if intent["status"] not in CANCELABLE:
            raise invalid(
                f"You cannot cancel this PaymentIntent because it has a status of {intent['status']}. "
                f"Only a PaymentIntent with one of the following statuses may be canceled: "
                f"{', '.join(CANCELABLE)}.",
                code="payment_intent_unexpected_state",
            )
        intent["status"] = "canceled"
        intent["canceled_at"] = int(self.clock())
        intent["cancellation_reason"] = reason
        self._emit("payment_intent.canceled", intent, outbox)
        return 200, copy.deepcopy(intent)

    def _list(self, args: dict[str, Any]) -> dict[str, Any]:
        _only(args, {"limit", "starting_after", "ending_before"})
        limit = 10
        if "limit" in args:
            limit = _integer(args["limit"], "limit")
            if not 1 <= limit <= 100:
                raise invalid(
                    "Invalid limit: must be between 1 and 100",
                    code="parameter_invalid_integer",
                    param="limit",
                )
        if "starting_after" in args and "ending_before" in args:
            raise invalid("You may only specify one of these parameters: ending_before, starting_after.")
        newest_first = list(reversed(self._order))
        if "starting_after" in args:
            start = newest_first.index(self._get(str(args["starting_after"]), "starting_after")["id"]) + 1
            page = newest_first[start : start + limit]
            has_more = len(newest_first) > start + limit
        elif "ending_before" in args:
            end = newest_first.index(self._get(str(args["ending_before"]), "ending_before")["id"])
            start = max(0, end - limit)
            page = newest_first[start:end]
            has_more = start > 0
        else:
            page = newest_first[:limit]
            has_more = len(newest_first) > limit
        return {
            "object": "list",
            "data": [copy.deepcopy(self.intents[i]) for i in page],
            "has_more": has_more,
            "url": "/v1/payment_intents",
        }

    # ------------------------------------------------------------------ HTTP

    def __call__(self, environ, start_response):
        method = environ.get("REQUEST_METHOD", "GET").upper()
        path = environ.get("PATH_INFO", "")
        with self._lock:
            self.calls.append((method, path, environ.get("HTTP_IDEMPOTENCY_KEY")))
        fault = self._take_fault(method, path) if path.startswith("/v1/") else None
        if fault is None:
            return self.flask_app(environ, start_response)
        if fault.when == "after":
            body = self.flask_app(environ, lambda *args, **kwargs: lambda data: None)
            try:
                for _chunk in body:
                    pass
            finally:
                if hasattr(body, "close"):
                    body.close()
        return self._fault_response(fault, environ, start_response)

    def _take_fault(self, method: str, path: str) -> Fault | None:
        with self._lock:
            for fault in self.faults:
                if fault.count > 0 and fault.matches(method, path):
                    fault.count -= 1
                    return fault
        return None

    def _fault_response(self, fault: Fault, environ, start_response):
        if fault.kind == "disconnect":
            # Served by werkzeug: close the socket so the client sees the connection drop at once
            # (werkzeug would otherwise keep it open for the next request).
            connection = environ.get("werkzeug.socket")
            if connection is not None:
                with contextlib.suppress(OSError):
                    connection.shutdown(socket.SHUT_RDWR)
            raise ConnectionResetError("payments stub: simulated dropped connection")
        if fault.kind == "timeout":
            self._release.wait(self.hang_seconds)
        error = {
            "type": "api_error",
            "code": None,
            "message": "Simulated server error (stub fault).",
            "param": None,
        }
        if fault.status == 409:
            error.update(
                type="idempotency_error",
                code="idempotency_key_in_use",
                message="There is currently another in-progress request using this Idempotency-Key "
                "(simulated). Please try again later.",
            )
        elif fault.status == 429:
            error.update(type="rate_limit_error", code="rate_limit", message="Too many requests (simulated).")
        body = json.dumps({"error": error}).encode()
        start_response(
            f"{fault.status} Simulated",
            [
                ("Content-Type", "application/json"),
                ("Content-Length", str(len(body))),
                ("Request-Id", _token("req_", 14)),
            ],
        )
        return [body]

    def _make_app(self) -> Flask:
        app = Flask(__name__)
        app.json.sort_keys = False
        app.json.ensure_ascii = False
        stub = self

        @app.before_request
        def authenticate():
            g.stub_request_id = _token("req_", 14)
            g.stub_idempotency_key = request.headers.get("Idempotency-Key")
            with stub._lock:
                stub.requests_seen.append((request.method, request.path, g.stub_idempotency_key))
            header = request.headers.get("Authorization", "")
            scheme, _, key = header.partition(" ")
            if not header:
                raise StripeError(
                    401,
                    "authentication_error",
                    "You did not provide an API key. You need to provide your API key in the Authorization "
                    "header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY').",
                    code="api_key_missing",
                )
            if scheme != "Bearer" or not _KEY_FORM.match(key.strip()):
                shown = key.strip()[-4:] if len(key.strip()) > 8 else ""
                raise StripeError(
                    401,
                    "authentication_error",
                    f"Invalid API Key provided: {'****' + shown if shown else 'the key'}. "
                    "Only test secret keys (sk_test_…) are accepted by this stub.",
                    code="api_key_invalid",
                )
            g.stub_api_key = key.strip()

        @app.after_request
        def common_headers(response: Response) -> Response:
            response.headers["Request-Id"] = g.get("stub_request_id") or _token("req_", 14)
            if g.get("stub_idempotency_key"):
                response.headers["Idempotency-Key"] = g.stub_idempotency_key
            deliveries = g.get("stub_outbox") or []
            settles = g.get("stub_settle") or []
            if deliveries or settles:

                def after_response() -> None:
                    for delivery in deliveries:
                        stub._schedule(0, lambda d=delivery: stub._deliver(d, 1))
                    for intent_id, failure in settles:
                        stub._schedule(stub.settle_delay, lambda i=intent_id, f=failure: stub._settle(i, f))

                response.call_on_close(after_response)
            return response

        @app.errorhandler(StripeError)
        def stripe_error(exc: StripeError):
            if exc.status == 401:
                response = jsonify(exc.body)
                response.status_code = 401
                response.headers["WWW-Authenticate"] = 'Bearer realm="Stripe"'
                return response
            return jsonify(exc.body), exc.status

        @app.errorhandler(HTTPException)
        def http_error(exc: HTTPException):
            if exc.code == 404:
                message = f"Unrecognized request URL ({request.method}: {request.path})."
            elif exc.code == 405:
                message = f"Unrecognized request URL ({request.method}: {request.path})."
                return jsonify(invalid(message).body), 404
            else:
                message = exc.description or "Invalid request."
            return jsonify(invalid(message).body), exc.code or 400

        @app.errorhandler(Exception)
        def unexpected(exc: Exception):
            log.exception("payments stub: unexpected error")
            body = {"error": {"type": "api_error", "code": None, "message": "Internal error.", "param": None}}
            return jsonify(body), 500

        def form() -> dict[str, Any]:
            try:
                return formencode.decode(request.form.items(multi=True))
            except formencode.FormDecodeError as exc:
                raise invalid(exc.message, code="parameter_invalid", param=exc.param) from None

        def query() -> dict[str, Any]:
            try:
                return formencode.decode(request.args.items(multi=True))
            except formencode.FormDecodeError as exc:
                raise invalid(exc.message, code="parameter_invalid", param=exc.param) from None

        def post(handler: Callable[..., tuple[int, dict]], *args: Any):
            params = form()
            key = g.stub_idempotency_key
            if key is not None and not 1 <= len(key) <= 255:
                raise invalid(
                    "Idempotency-Key must be between 1 and 255 characters.", param="Idempotency-Key"
                )
            fingerprint = hashlib.sha256(
                json.dumps([request.method, request.path, params], sort_keys=True).encode()
            ).hexdigest()
            g.stub_outbox, g.stub_settle = [], []
            with stub._lock:
                if key is not None:
                    stored = stub._idempotency.get((g.stub_api_key, key))
                    if stored is not None:
                        if stored.fingerprint != fingerprint:
                            raise StripeError(
                                400,
                                "idempotency_error",
                                "Keys for idempotent requests can only be used with the same parameters "
                                "they were first used with. Try using a key other than "
                                f"'{key}' if you meant to execute a different request.",
                                code="idempotency_key_reused",
                            )
                        response = jsonify(stored.body)
                        response.status_code = stored.status
                        response.headers["Idempotent-Replayed"] = "true"
                        response.headers["Original-Request"] = stored.request_id
                        return response
                status, body = handler(*args, params, g.stub_outbox)
                if key is not None and (status < 400 or status == 402):
                    stub._idempotency[(g.stub_api_key, key)] = _Stored(
                        fingerprint, request.method, request.path, status, body, g.stub_request_id
                    )
            return jsonify(body), status

        @app.post("/v1/payment_intents")
        def create():
            return post(stub._create)

        @app.get("/v1/payment_intents")
        def list_intents():
            params = query()
            with stub._lock:
                return jsonify(stub._list(params))

        @app.get("/v1/payment_intents/<intent_id>")
        def retrieve(intent_id: str):
            params = query()
            _only(params, set())
            with stub._lock:
                return jsonify(stub._get(intent_id))

        @app.post("/v1/payment_intents/<intent_id>/confirm")
        def confirm(intent_id: str):
            return post(stub._confirm, intent_id)

        @app.post("/v1/payment_intents/<intent_id>/cancel")
        def cancel(intent_id: str):
            return post(stub._cancel, intent_id)

        # -------------------------------------------- switches for a stub in a process of its own

        def json_body() -> dict[str, Any]:
            body = request.get_json(silent=True)
            if not isinstance(body, dict):
                raise invalid("The request body must be a JSON object.")
            return body

        @app.post("/_stub/faults")
        def add_fault():
            try:
                fault = stub.add_fault(**json_body())
            except (TypeError, ValueError) as exc:
                raise invalid(str(exc)) from None
            return jsonify(asdict(fault))

        @app.delete("/_stub/faults")
        def clear_faults():
            stub.clear_faults()
            return jsonify({"faults": []})

        @app.post("/_stub/declines")
        def declines():
            try:
                stub.decline_next(**json_body())
            except (TypeError, ValueError) as exc:
                raise invalid(str(exc)) from None
            return jsonify({"ok": True})

        @app.get("/_stub/deliveries")
        def deliveries():
            with stub._lock:
                return jsonify({"data": [d.as_json() for d in stub.deliveries]})

        @app.post("/_stub/run")
        def run():
            return jsonify({"ran": stub.run_pending()})

        @app.post("/_stub/release")
        def release():
            stub.release_hangs()
            return jsonify({"ok": True})

        @app.post("/_stub/reset")
        def reset():
            stub.reset()
            return jsonify({"ok": True})

        return app


# ---------------------------------------------------------------------- parameter checks


def _only(params: dict[str, Any], allowed: set[str]) -> None:
    for name in params:
        if name not in allowed:
            raise invalid(f"Received unknown parameter: {name}", code="parameter_unknown", param=name)


def _integer(value: Any, param: str) -> int:
    if not isinstance(value, str) or not value.isascii() or not value.isdigit() or len(value) > 15:
        raise invalid(f"Invalid integer: {value}", code="parameter_invalid_integer", param=param)
    return int(value)


def _amount(params: dict[str, Any]) -> int:
    if "amount" not in params:
        raise invalid("Missing required param: amount.", code="parameter_missing", param="amount")
    amount = _integer(params["amount"], "amount")
    if amount < 1:
        raise invalid("Amount must be at least ¥0.01 cny", code="amount_too_small", param="amount")
    if amount > MAX_AMOUNT:
        raise invalid("Amount must be no more than ¥999,999.99 cny", code="amount_too_large", param="amount")
    return amount


def _currency(params: dict[str, Any]) -> str:
    if "currency" not in params:
        raise invalid("Missing required param: currency.", code="parameter_missing", param="currency")
    currency = params["currency"]
    if not isinstance(currency, str) or currency.lower() != "cny":
        raise invalid(
            f"Invalid currency: {currency}. This provider only accepts cny.",
            code="parameter_invalid_string",
            param="currency",
        )
    return "cny"


def _text(value: Any, param: str, limit: int) -> str:
    if not isinstance(value, str):
        raise invalid(f"Invalid string: {param}", code="parameter_invalid_string", param=param)
    if len(value) > limit:
        raise invalid(
            f"{param} must be at most {limit} characters", code="parameter_invalid_string", param=param
        )
    return value


def _metadata(value: Any) -> dict[str, str]:
    if value is None:
        return {}
    if value == "":
        return {}
    if not isinstance(value, dict):
        raise invalid("Invalid hash", code="parameter_invalid", param="metadata")
    if len(value) > MAX_METADATA_KEYS:
        raise invalid("Too many metadata keys (at most 50)", code="parameter_invalid", param="metadata")
    clean: dict[str, str] = {}
    for key, item in value.items():
        if len(key) > 40:
            raise invalid(
                "Metadata keys are limited to 40 characters",
                code="parameter_invalid",
                param=f"metadata[{key}]",
            )
        if not isinstance(item, str):
            raise invalid("Invalid metadata value", code="parameter_invalid", param=f"metadata[{key}]")
        if len(item) > 500:
            raise invalid(
                "Metadata values are limited to 500 characters",
                code="parameter_invalid",
                param=f"metadata[{key}]",
            )
        clean[key] = item
    return clean


def _method_types(value: Any) -> list[str]:
    if value is None:
        return ["card"]
    items = list(value.values()) if isinstance(value, dict) else value
    if not isinstance(items, list) or not items or any(item != "card" for item in items):
        raise invalid(
            "payment_method_types must be a list containing only 'card'",
            code="parameter_invalid",
            param="payment_method_types",
        )
    return ["card"]


def _payment_method(value: Any) -> str:
    if not isinstance(value, str) or not _PAYMENT_METHOD.match(value):
        raise invalid(f"No such PaymentMethod: '{value}'", code="resource_missing", param="payment_method")
    return value


def _bool(value: Any, param: str) -> bool:
    if value in ("true", "false"):
        return value == "true"
    raise invalid(f"Invalid boolean: {value}", code="parameter_invalid_boolean", param=param)
