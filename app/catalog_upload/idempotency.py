"""``Idempotency-Key`` for the supplier API's writes (the IETF draft's semantics).

A client sends a key it made up (a UUID) with a write. The first request with that key runs and
its successful answer is kept for 24 hours, per organization; the same key with the same request
(method, path and JSON body) gets that answer again, marked ``Idempotent-Replayed: true``, and
changes nothing; the same key with a different request is refused with 422. A request still
running under the key answers 409. A refused request (4xx) keeps nothing: it changed nothing, so
the client may fix it and retry with the same key.

The key row is inserted before the request does its work, in the request's own transaction: a
second request with the same key waits for the first on the unique index, then finds the key
taken (PostgreSQL), and the key is committed together with what the request changed.
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
from collections.abc import Callable
from datetime import timedelta

from flask import abort, g, jsonify, request
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from app.catalog_upload.models import IdempotencyKey
from app.core.db import utcnow
from app.extensions import db

HEADER = "Idempotency-Key"
TTL = timedelta(hours=24)
IN_PROGRESS = 0
_KEY = re.compile(r"^[\x21-\x7e]{1,255}$")  # visible ASCII, as HTTP header values allow

HEADER_DOC = {
    "in": "header",
    "name": HEADER,
    "required": False,
    "schema": {"type": "string", "maxLength": 255},
    "description": "幂等键（建议用 UUID）。24 小时内用同一键重发同一请求，返回第一次的结果（响应头 "
    "Idempotent-Replayed: true），不会重复写入；同一键用于不同的请求答 422；同一键的请求仍在处理答 409。"
    "只保存成功（2xx）的结果。",
}


def request_hash() -> str | None:
    """Method, path and the JSON body (keys sorted), hashed; None when the body is not JSON."""
    raw = request.get_data(cache=True)
    try:
        body = json.loads(raw) if raw else None
    except ValueError:
        return None
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(f"{request.method} {request.path}\n{canonical}".encode()).hexdigest()


def idempotent(view: Callable) -> Callable:
    """Wrap an API write (inside ``token_required``: ``g.api_org`` is the caller)."""

    @functools.wraps(view)
    def wrapped(*args, **kwargs):
        key = request.headers.get(HEADER)
        if key is None:
            return view(*args, **kwargs)
        if not _KEY.match(key):
            abort(400, description="Idempotency-Key 应为 1–255 个可见 ASCII 字符（建议使用 UUID）。")
        fingerprint = request_hash()
        if fingerprint is None:
            return view(*args, **kwargs)  # not JSON: the argument parser answers 400
        organization_id = g.api_org.id
        now = utcnow()
        db.session.execute(
            delete(IdempotencyKey).where(
                IdempotencyKey.organization_id == organization_id, IdempotencyKey.expires_at <= now
            )
        )
        stored = db.session.scalar(
            select(IdempotencyKey).where(
                IdempotencyKey.organization_id == organization_id, IdempotencyKey.key == key
            )
        )
        if stored is not None:
            return _replay(stored, fingerprint)
        record = IdempotencyKey(
            organization_id=organization_id,
            key=key,
            method=request.method,
            path=request.path[:255],
            request_hash=fingerprint,
            response_status=IN_PROGRESS,
            response_body={},
            created_at=now,
            expires_at=now + TTL,
        )
        try:
            with db.session.begin_nested():
                db.session.add(record)
        except IntegrityError:
            abort(
                409, description="使用同一 Idempotency-Key 的请求正在处理；请稍后用同一键重试以取得其结果。"
            )
        response = view(*args, **kwargs)
        if 200 <= response.status_code < 300 and response.is_json:
            record.response_status = response.status_code
            record.response_body = response.get_json()
        else:  # nothing worth replaying (an error answer rolls the key back anyway)
            db.session.delete(record)
        db.session.flush()
        return response

    return wrapped


def _replay(stored: IdempotencyKey, fingerprint: str):
    if stored.request_hash != fingerprint:
        abort(
            422,
            description=f"Idempotency-Key「{stored.key}」已用于另一个请求（{stored.method} {stored.path}，"
            "请求体不同）；新的请求请使用新的键。",
        )
    if stored.response_status == IN_PROGRESS:
        abort(409, description="使用同一 Idempotency-Key 的请求正在处理；请稍后用同一键重试以取得其结果。")
    response = jsonify(stored.response_body)
    response.status_code = stored.response_status
    response.headers["Idempotent-Replayed"] = "true"
    return response
