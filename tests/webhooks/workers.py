"""RQ worker processes for the webhook reliability tests: like ``tests.rq_stack.rq_worker``, but
several may share one queue, and each runs in its own process group so a test can SIGKILL the
worker together with the work-horse it forked for the job in progress."""

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
from rq import Worker

from tests.rq_stack import REDIS_URL, WORKER_CLASS


def worker_env(database_url: str, queue_name: str, **env: str) -> dict[str, str]:
    return {
        **os.environ,
        "APP_ENV": "development",
        "DATABASE_URL": database_url.replace("postgresql+psycopg://", "postgresql://"),
        "REDIS_URL": REDIS_URL,
        "JOBS_QUEUE": queue_name,
        "SECRET_KEY": "worker-test-secret-key-0123456789abcdef",
        **env,
    }


@contextlib.contextmanager
def rq_worker(
    database_url: str, queue_name: str, workdir: Path, repo_root: Path, **env: str
) -> Iterator[subprocess.Popen]:
    name = f"{queue_name}-{uuid.uuid4().hex[:6]}"
    redis = Redis.from_url(REDIS_URL)
    log = workdir / f"{name}.log"
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
                name,
                queue_name,
            ],
            cwd=repo_root,
            env=worker_env(database_url, queue_name, **env),
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    process.log = log  # type: ignore[attr-defined]
    try:
        deadline = time.monotonic() + 20
        while not any(w.name == name for w in Worker.all(connection=redis)):
            assert process.poll() is None, log.read_text()
            assert time.monotonic() < deadline, "the RQ worker did not start"
            time.sleep(0.1)
        yield process
    finally:
        if process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=5)


def descendants(pid: int) -> list[int]:
    """Child processes, grandchildren first (RQ's work-horse puts itself in a process group of its
    own, so killing the worker's group would miss it)."""
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        with contextlib.suppress(OSError):
            for child in (task / "children").read_text().split():
                found = [*descendants(int(child)), int(child), *found]
    return found


def kill_hard(process: subprocess.Popen) -> list[int]:
    """SIGKILL the worker and its work-horse together: no cleanup, no goodbye. Returns the pids."""
    victims = [*descendants(process.pid), process.pid]
    for pid in victims:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    process.wait(timeout=10)
    return victims
