"""The payments client: Stripe-style payment intents over HTTP, written with ``requests``.

* Amounts are Decimal yuan in the app and integer fen on the wire (:func:`app.core.money.to_fen`);
  intents coming back carry both.
* Bodies are form-encoded with bracketed keys (:mod:`app.payments.formencode`).
* Every call has a connect and a read timeout; redirects are never followed (a 3xx is an error).
* Network errors, timeouts, 5xx and 409 answers are retried with exponential backoff and jitter,
  and every retry of a POST carries the *same* ``Idempotency-Key`` — a POST without one gets a
  generated key, so a retried create can never create twice. ``Stripe-Should-Retry`` and
  ``Retry-After`` are honoured.
* Stripe error objects become :class:`PaymentError` subclasses carrying type, code, message,
  param, decline code and HTTP status.

The same client talks to the real provider (``PAYMENTS_PROVIDER=http``) and to the stub, which the
embedded default mounts in-process (:func:`app.payments.provider.get_client`).
"""

from __future__ import annotations

import logging
import random
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from urllib.parse import quote

import requests

from app.core.money import from_fen, to_fen
from app.payments import formencode

log = logging.getLogger(__name__)

USER_AGENT = "gp-emall-payments/1.0"
DEFAULT_TIMEOUT = (3.05, 10.0)  # (connect, read) seconds
RETRY_STATUSES = frozenset({409, 500, 502, 503, 504})
MAX_BACKOFF = 8.0


class PaymentError(Exception):
    """A Stripe-shaped error: ``{"error": {"type", "code", "message", "param", …}}``."""

    def __init__(
        self,
        message: str,
        *,
        type: str | None = None,  # Stripe's own name for the field
        code: str | None = None,
        param: str | None = None,
        status: int | None = None,
        decline_code: str | None = None,
        request_id: str | None = None,
        payment_intent: dict[str, Any] | None = None,
        body: dict[str, Any] | None = None,
    ):
        super().__init__(message)
        self.message = message
        self.type = type
        self.code = code
        self.param = param
        self.status = status
        self.decline_code = decline_code
        self.request_id = request_id
        self.payment_intent = payment_intent
        self.body = body

    def __str__(self) -> str:
        details = ", ".join(
            f"{name}={value}"
            for name, value in (
                ("status", self.status),
                ("type", self.type),
                ("code", self.code),
                ("param", self.param),
                ("decline_code", self.decline_code),
            )
            if value is not None
        )
        return f"{self.message} ({details})" if details else self.message


class CardError(PaymentError):
    """402: the payment was declined."""


class InvalidRequestError(PaymentError):
    """400/404: the request is wrong (a missing or bad parameter, an unknown intent, a bad state)."""


class AuthenticationError(PaymentError):
    """401: the secret key was refused."""


class PermissionDeniedError(PaymentError):
    """403."""


class IdempotencyError(PaymentError):
    """The idempotency key was reused with other parameters."""


class RateLimitError(PaymentError):
    """429."""


class APIError(PaymentError):
    """The provider failed (5xx, a redirect, an answer that is not a Stripe object)."""


class APIConnectionError(PaymentError):
    """No answer: connection refused or dropped, or a timeout, after every retry."""


_BY_TYPE: dict[str, type[PaymentError]] = {
    "card_error": CardError,
    "invalid_request_error": InvalidRequestError,
    "authentication_error": AuthenticationError,
    "idempotency_error": IdempotencyError,
    "rate_limit_error": RateLimitError,
    "api_error": APIError,
}


@dataclass(frozen=True)
class PaymentIntent:
    id: str
    amount_fen: int
    currency: str
    status: str
    metadata: dict[str, str]
    last_payment_error: dict[str, Any] | None
    raw: dict[str, Any] = field(repr=False, compare=False)

    @property
    def amount(self) -> Decimal:
        return from_fen(self.amount_fen)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> PaymentIntent:
        if data.get("object") != "payment_intent" or not isinstance(data.get("amount"), int):
            raise APIError("响应不是支付意图对象 (not a payment_intent)", body=dict(data))
        return cls(
            id=data["id"],
            amount_fen=data["amount"],
            currency=data["currency"],
            status=data["status"],
            metadata=dict(data.get("metadata") or {}),
            last_payment_error=data.get("last_payment_error"),
            raw=dict(data),
        )


@dataclass(frozen=True)
class IntentPage:
    data: list[PaymentIntent]
    has_more: bool
    url: str


class PaymentsClient:
    def __init__(
        self,
        api_url: str,
        secret_key: str,
        *,
        session: requests.Session | None = None,
        timeout: tuple[float, float] = DEFAULT_TIMEOUT,
        max_retries: int = 3,
        backoff: float = 0.5,
        sleep: Callable[[float], None] = time.sleep,
    ):
        if not api_url or not secret_key:
            raise ValueError("支付服务未配置：需要 PAYMENTS_API_URL 和 PAYMENTS_SECRET_KEY")
        self.api_url = api_url.rstrip("/")
        self.secret_key = secret_key
        self.session = session or requests.Session()
        self.timeout = timeout
        self.max_retries = max_retries
        self.backoff = backoff
        self.sleep = sleep

    # ------------------------------------------------------------------ the verbs

    def create_intent(
        self,
        *,
        amount: Decimal,
        idempotency_key: str,
        currency: str = "cny",
        metadata: Mapping[str, str] | None = None,
        description: str | None = None,
        payment_method: str | None = None,
        confirm: bool | None = None,
    ) -> PaymentIntent:
        params = {
            "amount": to_fen(amount),
            "currency": currency,
            "description": description,
            "metadata": dict(metadata) if metadata else None,
            "payment_method": payment_method,
            "confirm": confirm,
        }
        return PaymentIntent.from_json(self.request("POST", "/v1/payment_intents", params, idempotency_key))

    def retrieve_intent(self, intent_id: str) -> PaymentIntent:
        return PaymentIntent.from_json(self.request("GET", f"/v1/payment_intents/{_segment(intent_id)}"))

    def confirm_intent(
        self, intent_id: str, *, idempotency_key: str, payment_method: str | None = None
    ) -> PaymentIntent:
        path = f"/v1/payment_intents/{_segment(intent_id)}/confirm"
        params = {"payment_method": payment_method}
        return PaymentIntent.from_json(self.request("POST", path, params, idempotency_key))

    def cancel_intent(
        self, intent_id: str, *, idempotency_key: str, cancellation_reason: str | None = None
    ) -> PaymentIntent:
        path = f"/v1/payment_intents/{_segment(intent_id)}/cancel"
        params = {"cancellation_reason": cancellation_reason}
        return PaymentIntent.from_json(self.request("POST", path, params, idempotency_key))

    def list_intents(
        self, *, limit: int | None = None, starting_after: str | None = None, ending_before: str | None = None
    ) -> IntentPage:
        params = {"limit": limit, "starting_after": starting_after, "ending_before": ending_before}
        body = self.request("GET", "/v1/payment_intents", params)
        if body.get("object") != "list" or not isinstance(body.get("data"), list):
            raise APIError("响应不是列表对象 (not a list)", body=body)
        return IntentPage(
            data=[PaymentIntent.from_json(item) for item in body["data"]],
            has_more=bool(body.get("has_more")),
            url=str(body.get("url", "")),
        )

    def iter_intents(self, *, page_size: int = 100) -> Iterator[PaymentIntent]:
        """Every intent, newest first, following ``has_more`` / ``starting_after``."""
        after = None
        while True:
            page = self.list_intents(limit=page_size, starting_after=after)
            yield from page.data
            if not page.has_more or not page.data:
                return
            after = page.data[-1].id

    # ------------------------------------------------------------------ the transport

    def request(
        self,
        method: str,
        path: str,
        params: Mapping[str, Any] | None = None,
        idempotency_key: str | None = None,
    ) -> dict[str, Any]:
        url = self.api_url + path
        headers = {
            "Authorization": f"Bearer {self.secret_key}",
            "User-Agent": USER_AGENT,
            "Accept": "application/json",
        }
        encoded = formencode.encode({k: v for k, v in (params or {}).items() if v is not None})
        body = None
        if method == "POST":
            # Retries of a POST must be recognisable as the same request.
            headers["Idempotency-Key"] = idempotency_key or f"auto-{uuid.uuid4()}"
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            body = encoded
        elif encoded:
            url = f"{url}?{encoded}"
        attempt = 0
        while True:
            attempt += 1
            try:
                response = self.session.request(
                    method, url, data=body, headers=headers, timeout=self.timeout, allow_redirects=False
                )
            except requests.RequestException as exc:
                if attempt <= self.max_retries:
                    log.info("payments: %s %s failed (%s), retry %d", method, path, exc, attempt)
                    self.sleep(self._delay(attempt, None))
                    continue
                kind = "超时" if isinstance(exc, requests.Timeout) else "网络错误"
                raise APIConnectionError(
                    f"支付服务无应答（{kind}）：{type(exc).__name__}",
                    type="api_connection_error",
                ) from exc
            if self._should_retry(response) and attempt <= self.max_retries:
                log.info("payments: %s %s answered %s, retry %d", method, path, response.status_code, attempt)
                self.sleep(self._delay(attempt, response))
                continue
            return self._interpret(response)

    @staticmethod
    def _should_retry(response: requests.Response) -> bool:
        advice = response.headers.get("Stripe-Should-Retry")
        if advice == "false":
            return False
        if advice == "true":
            return True
        return response.status_code in RETRY_STATUSES

    def _delay(self, attempt: int, response: requests.Response | None) -> float:
        if response is not None:
            retry_after = response.headers.get("Retry-After", "")
            if retry_after.isdigit():
                return min(float(retry_after), MAX_BACKOFF)
        base = min(self.backoff * 2 ** (attempt - 1), MAX_BACKOFF)
        return base * (0.5 + random.random() / 2)  # noqa: S311 -- jitter, not a secret

    def _interpret(self, response: requests.Response) -> dict[str, Any]:
        request_id = response.headers.get("Request-Id")
        try:
            body = response.json()
        except ValueError:
            body = None
        status = response.status_code
        if 200 <= status < 300:
            if not isinstance(body, dict):
                raise APIError("支付服务返回了无法解析的响应", status=status, request_id=request_id)
            return body
        if 300 <= status < 400:
            raise APIError(
                f"支付服务返回了重定向（{status}），客户端不跟随重定向",
                type="api_error",
                status=status,
                request_id=request_id,
            )
        error = body.get("error") if isinstance(body, dict) else None
        if not isinstance(error, dict):
            raise APIError(
                f"支付服务返回了 HTTP {status}，且不是标准错误对象", status=status, request_id=request_id
            )
        error_type = error.get("type")
        cls = _BY_TYPE.get(str(error_type), APIError)
        if status == 401:
            cls = AuthenticationError
        elif status == 403:
            cls = PermissionDeniedError
        elif status == 429:
            cls = RateLimitError
        elif status >= 500 and cls is not APIError:
            cls = APIError
        raise cls(
            str(error.get("message") or f"HTTP {status}"),
            type=error_type,
            code=error.get("code"),
            param=error.get("param"),
            status=status,
            decline_code=error.get("decline_code"),
            request_id=request_id,
            payment_intent=error.get("payment_intent"),
            body=body,
        )


def _segment(intent_id: str) -> str:
    if not intent_id:
        raise ValueError("intent id is empty")
    return quote(intent_id, safe="")
