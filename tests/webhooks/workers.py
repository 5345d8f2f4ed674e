"""RQ worker processes for the webhook reliability tests: like ``tests.rq_stack.rq_worker``, but
several may share one queue, and each runs in its own process group so a test can SIGKILL the
worker together with the work-horse it forked for the job in progress."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

from tests.rq_stack import worker_process


@contextlib.contextmanager
def rq_worker(
    database_url: str, queue_name: str, workdir: Path, repo_root: Path, **env: str
) -> Iterator[subprocess.Popen]:
    name = f"{queue_name}-{uuid.uuid4().hex[:6]}"
    log = workdir / f"{name}.log"
    with worker_process(database_url, queue_name, name, log, repo_root, own_group=True, **env) as process:
        process.log = log  # type: ignore[attr-defined]
        yield process


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
