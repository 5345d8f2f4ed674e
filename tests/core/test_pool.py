"""Pooled PostgreSQL connections are pinged only after sitting idle (app.core.pool): one the
server dropped meanwhile is replaced before a request sees it, and one in steady use costs no
extra round trip."""

from __future__ import annotations

import psycopg
import pytest
import sqlalchemy as sa
from sqlalchemy.exc import OperationalError

from app import create_app
from app.extensions import db
from tests.conftest import PG_ADMIN_URL, make_test_config

pytestmark = pytest.mark.postgres


def _backend_pid() -> int:
    """The server process behind a pooled connection, which then goes back to the pool."""
    pid = db.session.execute(sa.text("SELECT pg_backend_pid()")).scalar_one()
    db.session.commit()
    db.session.remove()
    return pid


def _terminate(pid: int) -> None:
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", (pid,))


def test_an_idle_connection_the_server_dropped_is_replaced_before_use(committed_database):
    app = create_app(make_test_config(committed_database, DB_PING_IDLE_SECONDS=0.0))
    with app.app_context():
        dropped = _backend_pid()
        _terminate(dropped)
        assert _backend_pid() != dropped  # answered on a new connection, no error
        db.engine.dispose()


def test_without_the_ping_the_dropped_connection_fails_the_request(committed_database):
    # The same drop, with connections counted as in steady use: the control of the test above.
    app = create_app(make_test_config(committed_database, DB_PING_IDLE_SECONDS=3600.0))
    with app.app_context():
        _terminate(_backend_pid())
        with pytest.raises(OperationalError):
            _backend_pid()
        db.session.rollback()
        db.engine.dispose()


@pytest.mark.parametrize(("idle_seconds", "pings"), [(3600.0, 0), (0.0, 2)])
def test_only_connections_idle_longer_than_the_setting_are_pinged(
    committed_database, monkeypatch, idle_seconds, pings
):
    app = create_app(make_test_config(committed_database, DB_PING_IDLE_SECONDS=idle_seconds))
    with app.app_context():
        seen = []
        real_ping = db.engine.dialect.do_ping
        monkeypatch.setattr(db.engine.dialect, "do_ping", lambda conn: seen.append(conn) or real_ping(conn))
        pids = {_backend_pid() for _ in range(3)}  # three requests, one after another
        assert len(pids) == 1  # the same pooled connection each time
        assert len(seen) == pings  # a new connection is never pinged; a returned one only when idle
        db.engine.dispose()
