"""Reliability with real services: PostgreSQL whose commits are real, Redis, and ``rq worker``
processes — a receiver that is down and then up, and a worker killed mid-delivery."""

from __future__ import annotations

import time

import pytest
from flask_migrate import upgrade
from redis import Redis
from rq import Queue

from app import create_app
from app.extensions import db
from app.webhooks.delivery import INTERRUPTED, SWEEP_JOB
from app.webhooks.models import DeliveryStatus, WebhookDelivery
from tests.conftest import make_test_config
from tests.rq_stack import REDIS_URL
from tests.webhooks.helpers import Receiver, Reply, attempts_of, emit_one, endpoint, free_port, verify
from tests.webhooks.workers import kill_hard, rq_worker

pytestmark = [pytest.mark.postgres, pytest.mark.redis]

# A short timeout, so a lease (at least two timeouts and five seconds) runs out in a test's time.
WORKER_ENV = {
    "WEBHOOK_ALLOWED_HOSTS": "127.0.0.1",
    "WEBHOOK_TIMEOUT_SECONDS": "4",
    "WEBHOOK_LEASE_SECONDS": "13",
}


@pytest.fixture
def world(committed_database, tmp_path):
    import uuid

    queue_name = f"test-wh-{uuid.uuid4().hex[:8]}"
    app = create_app(
        make_test_config(
            committed_database,
            JOBS_BACKEND="rq",
            REDIS_URL=REDIS_URL,
            JOBS_QUEUE=queue_name,
            SEARCH_INDEX_DIR=str(tmp_path / "search"),
            WEBHOOK_ALLOWED_HOSTS="127.0.0.1",
            WEBHOOK_TIMEOUT_SECONDS=4.0,
            WEBHOOK_LEASE_SECONDS=13.0,
        )
    )
    with app.app_context():
        upgrade()
        yield app, queue_name
        db.session.remove()
        db.engine.dispose()
    Queue(queue_name, connection=Redis.from_url(REDIS_URL)).delete(delete_jobs=True)


def wait_until_delivered(delivery_id: int, queue_name: str, logs, timeout: float = 60) -> WebhookDelivery:
    """Poll the database; meanwhile do what ``flask scheduler run`` does: enqueue the sweeper (here
    whenever the queue is empty, rather than every five seconds)."""
    queue = Queue(queue_name, connection=Redis.from_url(REDIS_URL))
    deadline = time.monotonic() + timeout
    while True:
        db.session.expire_all()
        item = db.session.get(WebhookDelivery, delivery_id)
        if item.status == DeliveryStatus.SUCCEEDED:
            return item
        assert time.monotonic() < deadline, "not delivered:\n" + "\n".join(
            p.read_text()[-3000:] for p in logs
        )
        if queue.count == 0:
            queue.enqueue(SWEEP_JOB)
        db.session.rollback()
        time.sleep(0.5)


def test_receiver_down_then_up_is_delivered(world, committed_database, tmp_path, repo_root):
    _app, queue_name = world
    port = free_port()
    endpoint(url=f"http://127.0.0.1:{port}/hooks")
    db.session.commit()
    with rq_worker(committed_database, queue_name, tmp_path, repo_root, **WORKER_ENV) as worker:
        event_id, [item] = emit_one()
        item_id = item.id
        assert Queue(queue_name, connection=Redis.from_url(REDIS_URL)).count == 0  # not before the commit
        db.session.commit()
        # The first attempt finds nobody listening.
        deadline = time.monotonic() + 30
        while not attempts_of(item_id) or attempts_of(item_id)[0].finished_at is None:
            assert time.monotonic() < deadline, worker.log.read_text()[-3000:]
            db.session.rollback()
            time.sleep(0.2)
        first = attempts_of(item_id)[0]
        assert first.error.startswith("连接失败") and first.status_code is None
        db.session.rollback()
        server = Receiver([Reply(200, b"ok")], port=port).start()
        try:
            item = wait_until_delivered(item_id, queue_name, [worker.log])
        finally:
            server.stop()
    [got] = server.requests
    assert got.headers["webhook-id"] == event_id
    assert verify(db.session.get(WebhookDelivery, item_id).endpoint.secret, got)["type"] == "order.confirmed"
    assert item.attempts == 2 and item.last_status_code == 200
    assert [a.status_code for a in attempts_of(item_id)] == [None, 200]
    # Retried on the schedule: not before five seconds.
    second = attempts_of(item_id)[1]
    assert (second.started_at - first.finished_at).total_seconds() >= 5


def test_a_worker_killed_mid_delivery_is_delivered_after_restart_with_the_same_webhook_id(
    world, committed_database, tmp_path, repo_root
):
    _app, queue_name = world
    server = Receiver([Reply(200, b"slow", delay=60), Reply(200, b"ok")]).start()
    try:
        hook = endpoint(url=server.url)
        secret = hook.secret
        db.session.commit()
        with rq_worker(committed_database, queue_name, tmp_path, repo_root, **WORKER_ENV) as first_worker:
            event_id, [item] = emit_one("order.paid", order_no="DD-KILL")
            item_id = item.id
            db.session.commit()
            server.wait_for(1, timeout=30)  # the worker is inside the request, waiting for an answer
            assert len(kill_hard(first_worker)) == 2  # the worker and its work-horse
        db.session.expire_all()
        item = db.session.get(WebhookDelivery, item_id)
        assert item.status == DeliveryStatus.PENDING and item.lease_token is not None
        [in_flight] = attempts_of(item_id)
        assert in_flight.finished_at is None  # the attempt was logged as started, and never finished
        db.session.rollback()
        with rq_worker(committed_database, queue_name, tmp_path, repo_root, **WORKER_ENV) as second_worker:
            item = wait_until_delivered(item_id, queue_name, [first_worker.log, second_worker.log])
    finally:
        server.stop()
    first, second = server.requests
    assert first.headers["webhook-id"] == second.headers["webhook-id"] == event_id
    assert verify(secret, second)["data"] == {"order_no": "DD-KILL"}
    assert item.attempts == 2 and item.lease_token is None
    interrupted, delivered = attempts_of(item_id)
    assert interrupted.error == INTERRUPTED and interrupted.finished_at is not None
    assert delivered.status_code == 200 and delivered.response_excerpt == "ok"
    # Not before the dead worker's lease ran out.
    assert (delivered.started_at - interrupted.started_at).total_seconds() >= 13
