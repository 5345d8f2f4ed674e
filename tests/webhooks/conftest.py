from __future__ import annotations

import pytest


@pytest.fixture
def allow_local(app, monkeypatch):
    """The local test receiver's host is allow-listed (as a deployment would list an intranet host)."""
    monkeypatch.setitem(app.config, "WEBHOOK_ALLOWED_HOSTS", "127.0.0.1")
    monkeypatch.setitem(app.config, "WEBHOOK_TIMEOUT_SECONDS", 3.0)
