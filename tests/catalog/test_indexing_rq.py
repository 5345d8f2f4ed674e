"""End to end with real services: a price changed through the app is searchable within 2 s, the
reindex job travelling through Redis to a real RQ worker process."""

from __future__ import annotations

import time
from decimal import Decimal

import pytest
from flask_migrate import upgrade
from redis import Redis
from rq import Queue

from app import create_app
from app.catalog import indexing, services
from app.catalog.models import Offer
from app.extensions import db
from search import SearchQuery
from tests import factories
from tests.conftest import make_test_config
from tests.rq_stack import REDIS_URL, rq_worker


@pytest.fixture
def worker(committed_database, tmp_path, repo_root):
    index_dir = tmp_path / "search"
    with rq_worker(committed_database, tmp_path, repo_root, SEARCH_INDEX_DIR=str(index_dir)) as (
        queue_name,
        _,
    ):
        yield queue_name, index_dir


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
