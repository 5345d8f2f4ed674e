"""End to end with real services: a price changed through the app is searchable within 2 s, the
reindex job travelling through Redis to a real RQ worker process."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from decimal import Decimal

import psycopg
import pytest
from flask_migrate import upgrade
from redis import Redis
from rq import Queue, Worker

from app import create_app
from app.catalog import indexing, services
from app.catalog.models import Offer
from app.extensions import db
from search import SearchQuery
from tests import factories
from tests.conftest import PG_ADMIN_URL, _pg_url, make_test_config

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


@pytest.fixture
def committed_database():
    name = f"emall_rq_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    yield _pg_url(name)
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def worker(committed_database, tmp_path, repo_root):
    queue_name = f"test-index-{uuid.uuid4().hex[:8]}"
    index_dir = tmp_path / "search"
    env = {
        **os.environ,
        "APP_ENV": "development",
        "DATABASE_URL": committed_database.replace("postgresql+psycopg://", "postgresql://"),
        "SEARCH_INDEX_DIR": str(index_dir),
        "REDIS_URL": REDIS_URL,
        "JOBS_QUEUE": queue_name,
        "SECRET_KEY": "worker-test-secret-key-0123456789abcdef",
    }
    redis = Redis.from_url(REDIS_URL)
    log = tmp_path / "worker.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "rq.cli", "worker", "--url", REDIS_URL, "--name", queue_name, queue_name],
            cwd=repo_root,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 20
        while not any(w.name == queue_name for w in Worker.all(connection=redis)):
            assert process.poll() is None, log.read_text()
            assert time.monotonic() < deadline, "the RQ worker did not start"
            time.sleep(0.1)
        yield queue_name, index_dir
    finally:
        process.terminate()
        process.wait(timeout=10)
        Queue(queue_name, connection=redis).delete(delete_jobs=True)


def test_price_change_is_searchable_within_two_seconds(committed_database, worker):
    queue_name, index_dir = worker
    app = create_app(
        make_test_config(
            committed_database,
            JOBS_BACKEND="rq",
            REDIS_URL=REDIS_URL,
            JOBS_QUEUE=queue_name,
            SEARCH_INDEX_DIR=str(index_dir),
        )
    )
    with app.app_context():
        upgrade()
        offer = factories.offer(price=Decimal("4999.00"))
        db.session.commit()
        offer_id, product_id = offer.id, offer.product_id
        indexing.rebuild()
        db.session.commit()
    backend = indexing.search_backend(app)
    assert backend.search(SearchQuery()).hits[0].min_price == Decimal("4999.00")

    with app.app_context():
        services.change_price(db.session.get(Offer, offer_id), "4321.00", source="test")
        db.session.commit()
        changed_at = time.monotonic()
    assert Queue(queue_name, connection=Redis.from_url(REDIS_URL)).count <= 1

    while True:
        hits = {h.product_id: h.min_price for h in backend.search(SearchQuery()).hits}
        if hits.get(product_id) == Decimal("4321.00"):
            break
        elapsed = time.monotonic() - changed_at
        assert elapsed < 2.0, f"not searchable after {elapsed:.2f} s"
        time.sleep(0.05)
    with app.app_context():
        db.engine.dispose()
