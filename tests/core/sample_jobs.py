"""Jobs used by the job tests (importable by a real RQ worker started from the repo root)."""

from __future__ import annotations

from flask import current_app
from redis import Redis

from app.core import audit
from app.core.jobs import job


@job
def mark_done(redis_url: str, key: str, value: str) -> None:
    Redis.from_url(redis_url).set(key, value, ex=60)
    current_app.logger.info("sample job ran")


@job
def write_audit(action: str) -> None:
    audit.record(action, marker="job")
