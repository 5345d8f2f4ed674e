"""Test harness.

Every database test runs on SQLite and on PostgreSQL (127.0.0.1:5432; ``TEST_DATABASES`` narrows
the list locally). Each test gets a connection whose outer transaction is rolled back at the end,
and sessions join it through SAVEPOINTs, so a request's commit (and its after-commit hooks) really
happens and still leaves nothing behind. A missing PostgreSQL is an error, never a skip.
"""

from __future__ import annotations

import contextvars
import os
import re
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from flask import Flask
from flask.testing import FlaskClient
from flask_migrate import upgrade

from app import create_app
from app.extensions import db, limiter
from config import TestConfig

PG_ADMIN_URL = os.environ.get("TEST_PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/test")
BACKENDS = [b.strip() for b in os.environ.get("TEST_DATABASES", "sqlite,postgresql").split(",") if b.strip()]


def _pg_url(dbname: str) -> str:
    base = PG_ADMIN_URL.rsplit("/", 1)[0]
    return f"{base}/{dbname}".replace("postgresql://", "postgresql+psycopg://", 1)


@pytest.fixture(scope="session")
def pg_database() -> Iterator[str]:
    """A fresh PostgreSQL database for this test run, dropped afterwards."""
    name = f"emall_test_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    yield _pg_url(name)
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


class IsolatedClient(FlaskClient):
    """Each request runs in a fresh context, as in production: its own app context, ``g`` and
    database session (joined to the test's transaction), even while the test itself holds an app
    context for factories and assertions."""

    def open(self, *args, **kwargs):
        return contextvars.Context().run(super().open, *args, **kwargs)


def make_test_config(url: str, **overrides) -> type[TestConfig]:
    attrs = {
        "SQLALCHEMY_DATABASE_URI": url,
        "ARGON2_PARAMS": {"time_cost": 1, "memory_cost": 1024, "parallelism": 1},
    }
    # Never the repository's instance/ folder: every app gets its own index directory.
    attrs["SEARCH_INDEX_DIR"] = tempfile.mkdtemp(prefix="emall-search-")
    attrs.update(overrides)
    return type("PerRunTestConfig", (TestConfig,), attrs)


@pytest.fixture(scope="session", params=BACKENDS)
def app(request, tmp_path_factory) -> Iterator[Flask]:
    """The application on one database, migrated from empty with Alembic."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('sqlite') / 'test.sqlite3'}"
    elif request.param == "postgresql":
        url = request.getfixturevalue("pg_database")
    else:
        raise pytest.UsageError(f"unknown test database {request.param!r}")
    index_dir = tmp_path_factory.mktemp(f"search-{request.param}")
    application = create_app(make_test_config(url, SEARCH_INDEX_DIR=str(index_dir)))
    with application.app_context():
        upgrade()
        db.session.remove()
    application.config["DB_BACKEND"] = request.param
    application.test_client_class = IsolatedClient
    yield application
    with application.app_context():
        db.engine.dispose()


@pytest.fixture
def db_session(app: Flask):
    """A session inside a transaction that is rolled back after the test."""
    with app.app_context():
        engines = db._app_engines[app]
        engine = engines[None]
        connection = engine.connect()
        outer = connection.begin()
        engines[None] = connection
        db.session.remove()
        db.session.configure(join_transaction_mode="create_savepoint")
        try:
            yield db.session
        finally:
            db.session.remove()
            outer.rollback()
            connection.close()
            engines[None] = engine
            db.session.configure(join_transaction_mode="conditional_savepoint")
            limiter.reset()


@pytest.fixture
def client(app: Flask, db_session) -> FlaskClient:
    return app.test_client()


_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_from(client: FlaskClient, url: str = "/login") -> str:
    page = client.get(url)
    match = _CSRF.search(page.get_data(as_text=True))
    assert match, f"no CSRF token on {url}"
    return match.group(1)


def login(client: FlaskClient, username: str, password: str = "Passw0rd-test"):
    token = csrf_from(client)
    response = client.post("/login", data={"username": username, "password": password, "csrf_token": token})
    assert response.status_code == 302, response.get_data(as_text=True)[-1500:]
    return response


@pytest.fixture
def repo_root() -> Path:
    return Path(__file__).resolve().parent.parent


@pytest.fixture
def committed_database() -> Iterator[str]:
    """A scratch PostgreSQL database whose commits are real (for tests with worker processes)."""
    name = f"emall_rq_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    yield _pg_url(name)
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
