"""Background jobs: RQ on Redis in production, run in-process in the embedded default.

Jobs are always enqueued *after commit* so a worker never reads rows that are not there yet, and
they are named by import path so both backends run exactly the same function.
"""

from __future__ import annotations

import importlib
import logging
from typing import Any

from flask import Flask, current_app
from redis import Redis
from rq import Queue

from app.core.transaction import after_commit

log = logging.getLogger(__name__)


def resolve(path: str):
    module, _, name = path.rpartition(".")
    return getattr(importlib.import_module(module), name)


def redis_connection(app: Flask | None = None) -> Redis:
    app = app or current_app
    return Redis.from_url(app.config["REDIS_URL"])


def queue(name: str = "default") -> Queue:
    return Queue(name, connection=redis_connection())


def enqueue_now(path: str, *args: Any, queue_name: str = "default") -> None:
    """Hand a job to the configured backend immediately (callers are already past the commit)."""
    if current_app.config["JOBS_BACKEND"] == "rq":
        queue(queue_name).enqueue(path, *args)
        return
    # In-process: run inline, isolated from the caller's failure handling like a worker would be.
    try:
        resolve(path)(*args)
    except Exception:
        log.exception("in-process job %s failed", path)


def enqueue(path: str, *args: Any, queue_name: str = "default") -> None:
    """Enqueue ``path(*args)`` once the current transaction commits."""
    resolve(path)  # fail now, in the request, on a typo rather than later in a worker
    app = current_app._get_current_object()

    def _send() -> None:
        with app.app_context():
            enqueue_now(path, *args, queue_name=queue_name)

    after_commit(_send)
