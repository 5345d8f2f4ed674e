"""``Stripe-Signature`` headers: ``t=<unix time>,v1=<hex HMAC-SHA256 of "<t>.<body>">``.

The provider signs every event it posts with the endpoint's secret; the receiver recomputes the
HMAC over the exact bytes it received and compares in constant time. A header may carry several
``v1`` entries (the provider signs with every active secret while one is being rolled) and
entries of other schemes (``v0``), which are ignored. The timestamp is inside the signed string,
so an old event cannot be replayed with a fresh ``t``.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Iterable

SCHEME = "v1"
DEFAULT_TOLERANCE = 300  # seconds, either side of now
MAX_HEADER_LENGTH = 4096


class SignatureError(ValueError):
    """The header is missing, malformed, stale, or no signature in it matches."""

    def __init__(self, message: str, reason: str):
        super().__init__(message)
        self.message = message
        self.reason = reason  # machine-readable: missing, malformed, stale, mismatch


def compute(secret: str, timestamp: int, payload: bytes) -> str:
    signed = str(timestamp).encode("ascii") + b"." + payload
    return hmac.new(secret.encode("utf-8"), signed, hashlib.sha256).hexdigest()


def sign_header(secrets: str | Iterable[str], payload: bytes, timestamp: int | None = None) -> str:
    """The header value for ``payload``, signed with each secret (one ``v1`` entry per secret)."""
    if isinstance(secrets, str):
        secrets = [secrets]
    timestamp = int(time.time()) if timestamp is None else timestamp
    parts = [f"t={timestamp}"] + [f"{SCHEME}={compute(secret, timestamp, payload)}" for secret in secrets]
    return ",".join(parts)


def parse_header(header: str | None) -> tuple[int, list[str]]:
    """``(timestamp, [v1 signatures])``; raises :class:`SignatureError` on a malformed header."""
    if not header or not header.strip():
        raise SignatureError("缺少 Stripe-Signature 请求头", "missing")
    if len(header) > MAX_HEADER_LENGTH:
        raise SignatureError("Stripe-Signature 请求头过长", "malformed")
    timestamp: int | None = None
    signatures: list[str] = []
    for item in header.split(","):
        key, sep, value = item.strip().partition("=")
        if not sep or not key or not value:
            raise SignatureError("Stripe-Signature 请求头格式不正确", "malformed")
        if key == "t":
            if timestamp is not None or not value.isascii() or not value.isdigit() or len(value) > 12:
                raise SignatureError("Stripe-Signature 中的时间戳无效", "malformed")
            timestamp = int(value)
        elif key == SCHEME:
            signatures.append(value)
    if timestamp is None:
        raise SignatureError("Stripe-Signature 中缺少时间戳", "malformed")
    if not signatures:
        raise SignatureError("Stripe-Signature 中没有 v1 签名", "malformed")
    return timestamp, signatures


def verify(
    payload: bytes,
    header: str | None,
    secrets: str | Iterable[str],
    *,
    tolerance: int = DEFAULT_TOLERANCE,
    now: float | None = None,
) -> int:
    """Check ``header`` against ``payload``; returns the signed timestamp or raises."""
    if isinstance(secrets, str):
        secrets = [secrets]
    secrets = [secret for secret in secrets if secret]
    if not secrets:
        raise SignatureError("未配置事件签名密钥", "mismatch")
    timestamp, signatures = parse_header(header)
    now = time.time() if now is None else now
    if abs(now - timestamp) > tolerance:
        raise SignatureError("事件签名的时间戳超出允许范围（过期或来自未来）", "stale")
    expected = [compute(secret, timestamp, payload) for secret in secrets]
    matched = False
    for signature in signatures:
        for candidate in expected:
            # Every pair is compared, so the time taken does not depend on which one matched.
            matched |= hmac.compare_digest(signature.encode("ascii", "replace"), candidate.encode("ascii"))
    if not matched:
        raise SignatureError("事件签名不匹配", "mismatch")
    return timestamp
