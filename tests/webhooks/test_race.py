"""Workers racing for the same deliveries on real PostgreSQL (committed transactions, several
connections): each delivery is claimed — and sent — exactly once."""

from __future__ import annotations

import threading
import uuid
from collections import Counter

import pytest
from flask_migrate import upgrade
from sqlalchemy import select

from app import create_app
from app.extensions import db
from app.webhooks import delivery
from app.webhooks.models import DeliveryStatus, WebhookDelivery
from tests.conftest import make_test_config
from tests.webhooks.helpers import Reply, attempts_of, emit_one, endpoint, receiver

pytestmark = pytest.mark.postgres


@pytest.fixture
def pg_app(committed_database, tmp_path, monkeypatch):
    # The deliveries are left for the racing workers below: nothing is handed over at commit.
    monkeypatch.setattr(delivery, "dispatch", lambda ids: None)
    app = create_app(
        make_test_config(
            committed_database,
            SEARCH_INDEX_DIR=str(tmp_path / "search"),
            WEBHOOK_ALLOWED_HOSTS="127.0.0.1",
            JOBS_QUEUE=f"test-{uuid.uuid4().hex[:8]}",
        )
    )
    with app.app_context():
        upgrade()
        yield app
        db.session.remove()
        db.engine.dispose()


def run_threads(app, count: int, work):
    barrier = threading.Barrier(count)
    results: list = [None] * count
    errors: list[BaseException] = []

    def run(index: int) -> None:
        with app.app_context():
            try:
                barrier.wait(timeout=10)
                results[index] = work()
            except BaseException as exc:
                errors.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    return results


def test_concurrent_claims_never_share_a_delivery(pg_app):
    endpoint(url="http://127.0.0.1:9/hooks")
    for _ in range(200):
        emit_one()
    db.session.commit()
    all_ids = set(db.session.scalars(select(WebhookDelivery.id)))
    assert len(all_ids) == 200

    def claim_until_empty():
        mine = []
        while True:
            claims = delivery.claim(7, 60).claims
            if not claims:
                return mine
            mine.extend(c.delivery_id for c in claims)

    claimed = run_threads(pg_app, 4, claim_until_empty)
    counts = Counter(i for ids in claimed for i in ids)
    assert set(counts) == all_ids
    assert max(counts.values()) == 1
    assert all(ids for ids in claimed)  # every worker got a share: nobody waited on another's lock
    db.session.expire_all()
    rows = db.session.scalars(select(WebhookDelivery)).all()
    assert {r.attempts for r in rows} == {1} and all(r.lease_token for r in rows)


def test_two_workers_sending_the_same_delivery_send_it_once(pg_app):
    with receiver(Reply(200, b"ok", delay=0.3)) as server:
        endpoint(url=server.url)
        event_id, [item] = emit_one()
        db.session.commit()
        item_id = item.id
        sent = run_threads(pg_app, 2, lambda: delivery.deliver([item_id]))
        assert sorted(sent) == [0, 1]
        assert [r.headers["webhook-id"] for r in server.requests] == [event_id]
    db.session.expire_all()
    item = db.session.get(WebhookDelivery, item_id)
    assert item.status == DeliveryStatus.SUCCEEDED and item.attempts == 1
    assert [a.status_code for a in attempts_of(item_id)] == [200]
