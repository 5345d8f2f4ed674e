"""An RQ worker process running the app, for end-to-end job tests (with the ``committed_database``
fixture: the rolled-back test transaction is invisible to a worker)."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

from redis import Redis
from rq import Queue, Worker

WORKER_CLASS = "app.core.jobs.AppWorker"  # builds the app once, not in every job
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


@contextlib.contextmanager
def rq_worker(database_url: str, workdir: Path, repo_root: Path, **env: str) -> Iterator[tuple[str, Path]]:
    """An `rq worker` process on its own queue, started and registered before this yields the
    queue's name and the worker's log file; stopped and its queue emptied afterwards."""
    queue_name = f"test-{uuid.uuid4().hex[:8]}"
    environment = {
        **os.environ,
        "APP_ENV": "development",
        "DATABASE_URL": database_url.replace("postgresql+psycopg://", "postgresql://"),
        "REDIS_URL": REDIS_URL,
        "JOBS_QUEUE": queue_name,
        "SECRET_KEY": "worker-test-secret-key-0123456789abcdef",
        **env,
    }
    redis = Redis.from_url(REDIS_URL)
    log = workdir / "worker.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "rq.cli",
                "worker",
                "--worker-class",
                WORKER_CLASS,
                "--url",
                REDIS_URL,
                "--name",
                queue_name,
                queue_name,
            ],
            cwd=repo_root,
            env=environment,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 20
        while not any(w.name == queue_name for w in Worker.all(connection=redis)):
            assert process.poll() is None, log.read_text()
            assert time.monotonic() < deadline, "the RQ worker did not start"
            time.sleep(0.1)
        yield queue_name, log
    finally:
        process.terminate()
        process.wait(timeout=10)
        Queue(queue_name, connection=redis).delete(delete_jobs=True)
