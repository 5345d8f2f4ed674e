"""One commit per request, in one place; side effects only after that commit.

Services flush and never commit. The request ends with one commit when the response is a success
and a rollback otherwise. Work registered with :func:`after_commit` runs only once the data it
depends on is committed, and is dropped on rollback.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask, Response
from sqlalchemy import event
from sqlalchemy.orm import Session

from app.extensions import db

_PENDING = "after_commit_callbacks"


def after_commit(callback: Callable[[], None], session: Session | None = None) -> None:
    """Run ``callback`` after the current transaction commits; forget it on rollback."""
    session = session or db.session()
    if session.get_transaction() is None:
        # Tie the callback to a transaction, so a rollback before any SQL still discards it.
        session.begin()
    session.info.setdefault(_PENDING, []).append(callback)


@event.listens_for(Session, "after_commit")
def _run_after_commit(session: Session) -> None:
    callbacks = session.info.pop(_PENDING, [])
    for callback in callbacks:
        callback()


@event.listens_for(Session, "after_rollback")
def _drop_after_rollback(session: Session) -> None:
    session.info.pop(_PENDING, None)


def init_app(app: Flask) -> None:
    @app.after_request
    def commit_or_rollback(response: Response) -> Response:
        if response.status_code < 400:
            db.session.commit()
        else:
            db.session.rollback()
        return response
