"""Checking pooled database connections before use: only the ones that sat idle.

``pool_pre_ping`` pings on every checkout, one more round trip per request: about 8% of the app
server's samples under load in bench/orders.py (py-spy). A connection in steady use has just
proven itself; the ones that fail are those left idle while the database restarted or a firewall
dropped them. So a connection is pinged only when it has been back in the pool longer than
``DB_PING_IDLE_SECONDS``; a failed ping makes the pool discard it and hand out another
(``DisconnectionError``), as ``pool_pre_ping`` would.
"""

from __future__ import annotations

import time

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DisconnectionError

_RETURNED_AT = "returned_at"


def ping_idle_connections(engine: Engine, idle_seconds: float) -> None:
    @event.listens_for(engine, "checkin")
    def _returned(_dbapi_connection, record) -> None:
        record.info[_RETURNED_AT] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _ping_if_idle(dbapi_connection, record, _proxy) -> None:
        returned_at = record.info.get(_RETURNED_AT)
        if returned_at is None or time.monotonic() - returned_at < idle_seconds:
            return  # new, or in steady use
        try:
            engine.dialect.do_ping(dbapi_connection)
        except engine.dialect.loaded_dbapi.Error as exc:
            raise DisconnectionError(f"an idle pooled connection no longer answers: {exc}") from exc
