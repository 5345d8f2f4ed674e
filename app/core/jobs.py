"""Background jobs: RQ on Redis in production, run in-process in the embedded default.

Jobs are always enqueued *after commit* so a worker never reads rows that are not there yet, and
they are named by import path so both backends run exactly the same function. A job function is
wrapped with :func:`job`: it runs inside an application context and ends with one commit, the way
a request does.
"""

from __future__ import annotations

import functools
import importlib
import logging
from collections.abc import Callable
from typing import Any

from flask import Flask, current_app, has_app_context
from redis import Redis
from rq import Queue, Worker

from app.core.transaction import after_commit
from app.extensions import db

log = logging.getLogger(__name__)

_worker_app: Flask | None = None


def _app_for_worker() -> Flask:
    """An RQ worker process has no app; build one from the environment, once per process."""
    global _worker_app
    if _worker_app is None:
        from app import create_app

        _worker_app = create_app()
    return _worker_app


class AppWorker(Worker):
    """``rq worker --worker-class app.core.jobs.AppWorker``: builds the app once in the worker's
    main process, so every job forked from it starts warm (building the app takes a second or more,
    which RQ's plain worker pays again in each job's fork)."""

    def work(self, *args: Any, **kwargs: Any) -> bool:
        app = _app_for_worker()
        with app.app_context():
            db.engine.dispose()  # no connection of this process may be inherited by a job's fork
        return super().work(*args, **kwargs)


def job(func: Callable) -> Callable:
    """Run ``func`` in an app context with its own session, committing once at the end."""

    @functools.wraps(func)
    def run(*args: Any, **kwargs: Any) -> Any:
        app = current_app._get_current_object() if has_app_context() else _app_for_worker()
        with app.app_context():
            try:
                result = func(*args, **kwargs)
                db.session.commit()
                return result
            except Exception:
                db.session.rollback()
                raise
            finally:
                db.session.remove()

    return run


def resolve(path: str) -> Callable:
    module, _, name = path.rpartition(".")
    return getattr(importlib.import_module(module), name)


def redis_connection(app: Flask | None = None) -> Redis:
    app = app or current_app
    return Redis.from_url(app.config["REDIS_URL"])


def queue(name: str | None = None) -> Queue:
    return Queue(name or current_app.config["JOBS_QUEUE"], connection=redis_connection())


def enqueue_now(path: str, *args: Any, queue_name: str | None = None) -> None:
    """Hand a job to the configured backend immediately (callers are already past the commit)."""
    if current_app.config["JOBS_BACKEND"] == "rq":
        queue(queue_name).enqueue(path, *args)
        return
    # In-process: run inline, isolated from the caller's failure handling like a worker would be.
    try:
        resolve(path)(*args)
    except Exception:
        log.exception("in-process job %s failed", path)


def enqueue(path: str, *args: Any, queue_name: str | None = None) -> None:
    """Enqueue ``path(*args)`` once the current transaction commits; nothing on rollback."""
    enqueue_lazy(path, lambda: args, queue_name=queue_name)


def enqueue_lazy(
    path: str, make_args: Callable[[], tuple], *, queue_name: str | None = None, session=None
) -> None:
    """Like :func:`enqueue`, but the arguments are computed at commit time, so one job can carry
    everything a whole transaction gathered."""
    resolve(path)  # fail now, in the request, on a typo rather than later in a worker
    app = current_app._get_current_object()

    def send() -> None:
        with app.app_context():
            enqueue_now(path, *make_args(), queue_name=queue_name)

    after_commit(send, session)
