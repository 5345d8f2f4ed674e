"""The configured payments client: the in-process stub (the embedded default) or the real provider.

``PAYMENTS_PROVIDER=stub`` mounts one :class:`~app.payments.stub.StubProvider` per application on
the client's ``requests`` session (at ``PAYMENTS_API_URL``), and mounts the application itself on
the stub's session, so the stub delivers its signed events to ``/payments/events`` through the
full request path — signature, dedup and all — with no server, socket or other process. That
works the same under ``flask run`` (threaded) and in tests. ``PAYMENTS_PROVIDER=http`` talks to
``PAYMENTS_API_URL`` over the network (the real provider, or ``flask payments-stub``).
"""

from __future__ import annotations

import threading

import requests
from flask import Flask, current_app

from app.payments.client import PaymentsClient
from app.payments.stub import StubProvider
from app.payments.transport import WSGIAdapter

EMBEDDED_APP_URL = "http://emall.internal"
EVENTS_PATH = "/payments/events"
_lock = threading.Lock()


def event_secrets(app: Flask | None = None) -> list[str]:
    """The secrets events may be signed with (comma-separated while one is being rolled)."""
    app = app or current_app
    raw = app.config.get("PAYMENTS_EVENTS_SECRET") or ""
    return [secret.strip() for secret in raw.split(",") if secret.strip()]


def stub_for(app: Flask | None = None) -> StubProvider:
    """The application's in-process stub, created on first use."""
    app = app or current_app._get_current_object()
    with _lock:
        stub = app.extensions.get("payments_stub")
        if stub is None:
            to_app = requests.Session()
            to_app.mount(EMBEDDED_APP_URL + "/", WSGIAdapter(app))
            secrets = event_secrets(app)
            stub = StubProvider(
                events_url=EMBEDDED_APP_URL + EVENTS_PATH,
                events_secret=secrets[0] if secrets else None,
                events_session=to_app,
                background=app.config.get("PAYMENTS_STUB_BACKGROUND", True),
                settle_delay=app.config.get("PAYMENTS_STUB_SETTLE_DELAY", 1.0),
            )
            app.extensions["payments_stub"] = stub
        return stub


def get_client(app: Flask | None = None) -> PaymentsClient:
    app = app or current_app._get_current_object()
    client = app.extensions.get("payments_client")
    if client is not None:
        return client
    config = app.config
    session = requests.Session()
    if config["PAYMENTS_PROVIDER"] == "stub":
        session.mount(config["PAYMENTS_API_URL"].rstrip("/") + "/", WSGIAdapter(stub_for(app)))
    elif config["PAYMENTS_PROVIDER"] != "http":
        raise RuntimeError(f"未知的 PAYMENTS_PROVIDER: {config['PAYMENTS_PROVIDER']!r}（stub 或 http）")
    client = PaymentsClient(
        config.get("PAYMENTS_API_URL") or "",
        config.get("PAYMENTS_SECRET_KEY") or "",
        session=session,
        timeout=tuple(config.get("PAYMENTS_TIMEOUT", (3.05, 10.0))),
        max_retries=config.get("PAYMENTS_MAX_RETRIES", 3),
    )
    with _lock:
        return app.extensions.setdefault("payments_client", client)
