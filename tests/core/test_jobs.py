"""Jobs with a real Redis and a real RQ worker process."""

import os
import subprocess
import sys
import uuid

import pytest
from redis import Redis
from rq import Queue
from sqlalchemy import select

from app.core.audit import AuditEvent
from app.core.jobs import enqueue

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


@pytest.fixture
def redis_queue(app):
    redis = Redis.from_url(REDIS_URL)
    redis.ping()  # a missing Redis fails the test, never skips it
    name = f"test-{uuid.uuid4().hex[:8]}"
    app.config.update(JOBS_BACKEND="rq", REDIS_URL=REDIS_URL)
    yield name, Queue(name, connection=redis), redis
    app.config.update(JOBS_BACKEND="inprocess", REDIS_URL=None)
    Queue(name, connection=redis).delete(delete_jobs=True)


def test_rq_job_is_enqueued_after_commit_and_run_by_a_worker(app, db_session, redis_queue, repo_root):
    name, queue, redis = redis_queue
    key = f"test-job-{uuid.uuid4().hex}"
    enqueue("tests.core.sample_jobs.mark_done", REDIS_URL, key, "done", queue_name=name)
    assert queue.count == 0, "nothing may be enqueued before the commit"
    db_session.commit()
    assert queue.count == 1
    env = {**os.environ, "APP_ENV": "test"}
    result = subprocess.run(
        [sys.executable, "-m", "rq.cli", "worker", "--burst", "--url", REDIS_URL, name],
        cwd=repo_root,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert redis.get(key) == b"done"
    assert queue.count == 0


def test_rq_job_is_not_enqueued_on_rollback(app, db_session, redis_queue):
    name, queue, _ = redis_queue
    enqueue("tests.core.sample_jobs.mark_done", REDIS_URL, "never", "x", queue_name=name)
    db_session.rollback()
    db_session.commit()
    assert queue.count == 0


def test_inprocess_job_runs_after_commit_and_commits_its_own_work(app, db_session):
    assert app.config["JOBS_BACKEND"] == "inprocess"
    enqueue("tests.core.sample_jobs.write_audit", "job.inprocess")
    assert db_session.scalar(select(AuditEvent).where(AuditEvent.action == "job.inprocess")) is None
    db_session.commit()
    event = db_session.scalar(select(AuditEvent).where(AuditEvent.action == "job.inprocess"))
    assert event is not None and event.detail == {"marker": "job"}


def test_enqueue_refuses_an_unknown_job(app, db_session):
    with pytest.raises(AttributeError):
        enqueue("tests.core.sample_jobs.no_such_job")
