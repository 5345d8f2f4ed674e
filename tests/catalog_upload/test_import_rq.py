"""End to end with real services: an upload's job travels through Redis to a real RQ worker
process, which validates and applies it against PostgreSQL while the batch's progress is visible."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import time
import uuid

import psycopg
import pytest
from flask_migrate import upgrade
from redis import Redis
from rq import Queue, Worker
from sqlalchemy import func, select

from app import create_app
from app.catalog.models import Offer, OfferStatus
from app.catalog_upload import services
from app.catalog_upload.jobs import enqueue_import
from app.catalog_upload.models import BatchStatus, ImportBatch
from app.extensions import db
from tests.catalog_upload.helpers import registry_category, row, rows_file, supplier
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
    queue_name = f"test-import-{uuid.uuid4().hex[:8]}"
    uploads = tmp_path / "uploads"
    env = {
        **os.environ,
        "APP_ENV": "development",
        "DATABASE_URL": committed_database.replace("postgresql+psycopg://", "postgresql://"),
        "SEARCH_INDEX_DIR": str(tmp_path / "search"),
        "UPLOAD_DIR": str(uploads),  # the web process and the worker share the upload directory
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
        yield queue_name, tmp_path, log
    finally:
        process.terminate()
        process.wait(timeout=10)
        Queue(queue_name, connection=redis).delete(delete_jobs=True)


def test_an_upload_is_validated_and_applied_by_an_rq_worker(committed_database, worker):
    queue_name, workdir, log = worker
    app = create_app(
        make_test_config(
            committed_database,
            JOBS_BACKEND="rq",
            REDIS_URL=REDIS_URL,
            JOBS_QUEUE=queue_name,
            SEARCH_INDEX_DIR=str(workdir / "search"),
            UPLOAD_DIR=str(workdir / "uploads"),
        )
    )
    rows = [row(supplier_sku=f"SKU-{i}", model=f"M{i:05d}") for i in range(3000)]
    with app.app_context():
        upgrade()
        category = registry_category()
        organization, user = supplier()
        db.session.commit()
        batch = services.create_batch(user, category, io.BytesIO(rows_file(rows)), "目录.csv")
        enqueue_import(batch.id)
        assert Queue(queue_name, connection=Redis.from_url(REDIS_URL)).count == 0  # not before the commit
        db.session.commit()
        batch_id, organization_id = batch.id, organization.id
        assert Queue(queue_name, connection=Redis.from_url(REDIS_URL)).count <= 1

        deadline = time.monotonic() + 60
        while True:
            db.session.expire_all()
            batch = db.session.get(ImportBatch, batch_id)
            if not batch.active:
                break
            assert time.monotonic() < deadline, f"still {batch.status} after 60 s:\n{log.read_text()[-3000:]}"
            time.sleep(0.05)
        assert batch.status == BatchStatus.APPLIED, (batch.message, log.read_text()[-3000:])
        assert (batch.rows_read, batch.offers_created, batch.new_products) == (3000, 3000, 3000)
        assert batch.started_at is not None and batch.finished_at >= batch.started_at
        statuses = db.session.execute(
            select(Offer.status, func.count())
            .where(Offer.supplier_id == organization_id)
            .group_by(Offer.status)
        ).all()
        assert statuses == [(OfferStatus.PENDING_REVIEW, 3000)]
        db.session.remove()
        db.engine.dispose()
