"""End to end with real services: an upload's job travels through Redis to a real RQ worker
process, which validates and applies it against PostgreSQL while the batch's progress is visible."""

from __future__ import annotations

import io
import time

import pytest
from flask_migrate import upgrade
from redis import Redis
from rq import Queue
from sqlalchemy import func, select

from app import create_app
from app.catalog.models import Offer, OfferStatus
from app.catalog_upload import services
from app.catalog_upload.jobs import enqueue_import
from app.catalog_upload.models import BatchStatus, ImportBatch
from app.extensions import db
from tests.catalog_upload.helpers import registry_category, row, rows_file, supplier
from tests.conftest import make_test_config
from tests.rq_stack import REDIS_URL, rq_worker


@pytest.fixture
def worker(committed_database, tmp_path, repo_root):
    # The web process and the worker share the upload directory.
    env = {"SEARCH_INDEX_DIR": str(tmp_path / "search"), "UPLOAD_DIR": str(tmp_path / "uploads")}
    with rq_worker(committed_database, tmp_path, repo_root, **env) as (queue_name, log):
        yield queue_name, tmp_path, log


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
