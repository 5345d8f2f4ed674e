"""Handing deliveries to the job backend after commit: a coalesced drain on RQ (at most one
queued), in-process delivery inline or on a thread, and never an error for the committing request."""

from __future__ import annotations

import threading
import uuid

import pytest
from redis import Redis
from rq import Queue

from app.webhooks import delivery
from tests.rq_stack import REDIS_URL
from tests.webhooks.helpers import free_port


@pytest.fixture
def rq_app(app, monkeypatch):
    queue_name = f"test-wh-{uuid.uuid4().hex[:8]}"
    monkeypatch.setitem(app.config, "JOBS_BACKEND", "rq")
    monkeypatch.setitem(app.config, "REDIS_URL", REDIS_URL)
    monkeypatch.setitem(app.config, "JOBS_QUEUE", queue_name)
    monkeypatch.setattr(delivery, "_drain_queued_until", {})
    with app.app_context():
        app.extensions.pop("webhooks_redis", None)
        yield app, Queue(queue_name, connection=Redis.from_url(REDIS_URL))
        app.extensions.pop("webhooks_redis", None)
        Queue(queue_name, connection=Redis.from_url(REDIS_URL)).delete(delete_jobs=True)
        Redis.from_url(REDIS_URL).delete(delivery._flag_key())


@pytest.mark.redis
def test_at_most_one_drain_waits_in_the_queue(rq_app):
    _app, queue = rq_app
    for _ in range(5):
        delivery.dispatch([1])
    assert [job.func_name for job in queue.jobs] == [delivery.DRAIN_JOB]
    # The drain starts (clearing the flag): the next commit may queue a helper, one again.
    delivery._clear_drain_flag()
    for _ in range(5):
        delivery.request_drain()
    assert queue.count == 2


@pytest.mark.redis
def test_nothing_to_hand_over_sends_nothing(rq_app):
    _app, queue = rq_app
    delivery.dispatch([])
    assert queue.count == 0


def test_redis_being_away_never_fails_the_commit(app, monkeypatch):
    monkeypatch.setitem(app.config, "JOBS_BACKEND", "rq")
    monkeypatch.setitem(app.config, "REDIS_URL", f"redis://127.0.0.1:{free_port()}/0")
    monkeypatch.setattr(delivery, "_drain_queued_until", {})
    with app.app_context():
        app.extensions.pop("webhooks_redis", None)
        try:
            delivery.dispatch([1, 2])  # logged; the sweeper delivers later
        finally:
            app.extensions.pop("webhooks_redis", None)


def test_in_process_delivery_runs_inline_by_default(app, monkeypatch):
    seen = []
    monkeypatch.setattr(delivery, "enqueue_now", lambda path, *args: seen.append((path, args)))
    with app.app_context():
        delivery.dispatch([3, 4])
    assert seen == [(delivery.DELIVER_JOB, ([3, 4],))]


def test_in_process_delivery_may_run_beside_the_request(app, monkeypatch):
    done = threading.Event()
    seen = []

    def fake_deliver(ids):
        seen.append((ids, threading.current_thread().name))
        done.set()

    monkeypatch.setattr(delivery, "deliver", fake_deliver)
    monkeypatch.setitem(app.config, "WEBHOOK_DELIVER_IN_THREAD", True)
    with app.app_context():
        delivery.dispatch([5])
    assert done.wait(5)
    assert seen == [([5], "webhook-delivery")]


@pytest.mark.redis
def test_drains_may_have_a_queue_of_their_own(rq_app, monkeypatch):
    app, default_queue = rq_app
    own = f"{default_queue.name}-webhooks"
    monkeypatch.setitem(app.config, "WEBHOOK_QUEUE", own)
    webhooks_queue = Queue(own, connection=Redis.from_url(REDIS_URL))
    try:
        delivery.dispatch([1])
        assert [job.func_name for job in webhooks_queue.jobs] == [delivery.DRAIN_JOB]
        assert default_queue.count == 0
    finally:
        webhooks_queue.delete(delete_jobs=True)
        Redis.from_url(REDIS_URL).delete(delivery._flag_key())
