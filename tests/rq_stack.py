"""An RQ worker process running the app, for end-to-end job tests (with the ``committed_database``
fixture: the rolled-back test transaction is invisible to a worker)."""

from __future__ import annotations

import contextlib
import os
import signal
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
def worker_process(
    database_url: str,
    queue_name: str,
    name: str,
    log: Path,
    repo_root: Path,
    *,
    own_group: bool = False,
    **env: str,
) -> Iterator[subprocess.Popen]:
    """An `rq worker` process named ``name`` on ``queue_name``, running the app on
    ``database_url``, started and registered before this yields it, stopped afterwards. With
    ``own_group`` it leads a process group of its own, so a test can kill it together with the
    work-horse it forked, and stopping it stops the group."""
    environment = {
        **os.environ,
        "APP_ENV": "development",
        "DATABASE_URL": database_url.replace("postgresql+psycopg://", "postgresql://"),
        "REDIS_URL": REDIS_URL,
        "JOBS_QUEUE": queue_name,
        "SECRET_KEY": "worker-test-secret-key-0123456789abcdef",
        **env,
    }
    command = [sys.executable, "-m", "rq.cli", "worker", "--worker-class", WORKER_CLASS]
    command += ["--url", REDIS_URL, "--name", name, queue_name]
    with log.open("wb") as output:
        process = subprocess.Popen(
            command,
            cwd=repo_root,
            env=environment,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=own_group,
        )
    try:
        redis = Redis.from_url(REDIS_URL)
        deadline = time.monotonic() + 20
        while not any(w.name == name for w in Worker.all(connection=redis)):
            assert process.poll() is None, log.read_text()
            assert time.monotonic() < deadline, "the RQ worker did not start"
            time.sleep(0.1)
        yield process
    finally:
        for stop, timeout in ((signal.SIGTERM, 15), (signal.SIGKILL, 5)):
            if process.poll() is not None:
                break
            with contextlib.suppress(ProcessLookupError):
                if own_group:
                    os.killpg(process.pid, stop)
                else:
                    process.send_signal(stop)
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=timeout)


@contextlib.contextmanager
def rq_worker(database_url: str, workdir: Path, repo_root: Path, **env: str) -> Iterator[tuple[str, Path]]:
    """An `rq worker` process on its own queue, started and registered before this yields the
    queue's name and the worker's log file; stopped and its queue emptied afterwards."""
    queue_name = f"test-{uuid.uuid4().hex[:8]}"
    log = workdir / "worker.log"
    try:
        with worker_process(database_url, queue_name, queue_name, log, repo_root, **env):
            yield queue_name, log
    finally:
        Queue(queue_name, connection=Redis.from_url(REDIS_URL)).delete(delete_jobs=True)
