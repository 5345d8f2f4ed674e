"""Periodic jobs (sweepers, deadlines). Production runs ``flask scheduler run`` as one process that
enqueues each due job on RQ; the embedded default runs the same loop in a daemon thread of the web
process (``SCHEDULER_THREAD``, set by ``make run``)."""

from __future__ import annotations

import logging
import threading
import time

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from app.core.jobs import enqueue_now

log = logging.getLogger(__name__)

# (job path, every N seconds)
PERIODIC: list[tuple[str, int]] = [
    ("app.catalog.indexing.sweep_dirty", 60),
    ("app.webhooks.delivery.sweep", 5),  # retries whose time has come, lost jobs, dead workers
    ("app.orders.deadlines.enforce_deadlines", 60),
    ("app.payments.jobs.sweep", 60),  # payments never submitted, results whose event never came
    ("app.oversight.monitoring.evaluate_rules", 300),  # price rules over the listed offers
    ("app.oversight.credit.new_year", 3600),  # on 1 January scores start again at 100
]


def run_due(last_run: dict[str, float], now: float) -> list[str]:
    """Enqueue every periodic job whose interval has passed; returns what was enqueued."""
    sent = []
    for path, every in PERIODIC:
        if now - last_run.get(path, float("-inf")) >= every:
            last_run[path] = now
            try:
                enqueue_now(path)
                sent.append(path)
            except Exception:
                log.exception("scheduler could not enqueue %s", path)
    return sent


def loop(app: Flask, *, tick: float = 1.0, stop: threading.Event | None = None) -> None:
    last_run: dict[str, float] = {}
    stop = stop or threading.Event()
    while not stop.is_set():
        with app.app_context():
            run_due(last_run, time.monotonic())
        stop.wait(tick)


def start_thread(app: Flask) -> threading.Thread:
    thread = threading.Thread(target=loop, args=(app,), name="scheduler", daemon=True)
    thread.start()
    return thread


scheduler_cli = AppGroup("scheduler", help="定时任务 (periodic jobs).")


@scheduler_cli.command("run")
@click.option("--tick", default=1.0, show_default=True, help="Seconds between checks.")
def run_command(tick: float) -> None:
    """Enqueue periodic jobs forever (one scheduler process per deployment)."""
    click.echo(f"scheduler: {', '.join(f'{p} every {s}s' for p, s in PERIODIC)}")
    loop(current_app._get_current_object(), tick=tick)
