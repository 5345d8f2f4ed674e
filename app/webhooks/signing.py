"""Standard Webhooks signatures (https://www.standardwebhooks.com/).

``webhook-signature: v1,<base64 HMAC-SHA256 of "<webhook-id>.<webhook-timestamp>.<body>">``, keyed
with the base64-decoded part of a ``whsec_`` secret. Several signatures (one per active secret,
during a rotation) are sent space-separated; a receiver accepts the message if any one matches.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime

SECRET_PREFIX = "whsec_"  # noqa: S105 -- the spec's prefix of every secret, not a secret
SECRET_BYTES = 32  # the spec asks for 24–64 random bytes
TOLERANCE_SECONDS = 5 * 60


class InvalidSecret(ValueError):
    pass


class VerificationError(ValueError):
    pass


def new_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode("ascii")


def secret_key(secret: str) -> bytes:
    """The HMAC key of a ``whsec_…`` secret (the prefix is optional, as in the reference libraries)."""
    encoded = secret[len(SECRET_PREFIX) :] if secret.startswith(SECRET_PREFIX) else secret
    try:
        key = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise InvalidSecret("密钥格式不正确：应为 whsec_ 加 Base64 编码的随机字节") from exc
    if not 16 <= len(key) <= 128:
        raise InvalidSecret("密钥长度不正确：解码后应为 16–128 字节")
    return key


def signature(key: bytes, msg_id: str, timestamp: int, body: bytes) -> str:
    signed = b"%s.%d.%s" % (msg_id.encode("utf-8"), timestamp, body)
    digest = hmac.new(key, signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode("ascii")


def signature_header(keys: Iterable[bytes], msg_id: str, timestamp: int, body: bytes) -> str:
    return " ".join(signature(key, msg_id, timestamp, body) for key in keys)


def headers(keys: Iterable[bytes], msg_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signature_header(keys, msg_id, timestamp, body),
    }


def body_bytes(event_type: str, created_at: datetime, data: dict) -> bytes:
    """The request body: ``{"type", "timestamp", "data"}`` as compact UTF-8 JSON."""
    when = created_at.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")
    return json.dumps(
        {"type": event_type, "timestamp": when, "data": data}, ensure_ascii=False, separators=(",", ":")
    ).encode("utf-8")


def verify(
    secret: str,
    body: bytes,
    headers: Mapping[str, str],
    *,
    now: float | None = None,
    tolerance: int = TOLERANCE_SECONDS,
) -> dict:
    """What a receiver does: check the timestamp and that one ``v1`` signature matches; return the
    parsed body. Used by the tests, the benchmark's receiver and anyone writing a receiver."""
    lowered = {k.lower(): v for k, v in headers.items()}
    try:
        msg_id = lowered["webhook-id"]
        timestamp = int(lowered["webhook-timestamp"])
        sent = lowered["webhook-signature"]
    except (KeyError, ValueError) as exc:
        raise VerificationError("missing or malformed webhook headers") from exc
    if now is not None and abs(now - timestamp) > tolerance:
        raise VerificationError("timestamp outside the tolerance")
    expected = signature(secret_key(secret), msg_id, timestamp, body).encode("ascii")
    if not any(
        hmac.compare_digest(expected, candidate.encode("ascii", "replace"))
        for candidate in sent.split()
        if candidate.startswith("v1,")
    ):
        raise VerificationError("no matching signature")
    return json.loads(body)
