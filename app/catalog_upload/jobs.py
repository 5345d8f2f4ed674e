"""The import job and how it is started.

RQ in production (with a job timeout fit for a 200,000-row file, longer than RQ's default); in the
embedded default the job runs in-process — inline after the request's commit, or, with
``CATALOG_IMPORT_IN_THREAD`` (the development server), in a thread of its own so the upload page
answers at once and its progress bar has something to show.
"""

from __future__ import annotations

import logging
import threading

from flask import Flask, current_app

from app.core import jobs
from app.core.transaction import after_commit

JOB = "app.catalog_upload.jobs.run_import"
log = logging.getLogger(__name__)


@jobs.job
def run_import(batch_id: int) -> str:
    from app.catalog_upload import pipeline

    return pipeline.run(batch_id)


def _in_thread(app: Flask, batch_id: int) -> None:
    with app.app_context():
        run_import(batch_id)


def enqueue_import(batch_id: int) -> None:
    """Start the batch's job once the current transaction commits (nothing on rollback)."""
    app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
    if app.config["JOBS_BACKEND"] == "rq":
        timeout = app.config.get("CATALOG_IMPORT_JOB_TIMEOUT", 3600)

        def send() -> None:
            with app.app_context():
                try:
                    jobs.queue().enqueue(JOB, batch_id, job_timeout=timeout)
                except Exception:  # Redis down: the batch stays queued; its supplier may cancel it
                    log.exception("could not enqueue the import of batch %s", batch_id)

        after_commit(send)
    elif app.config.get("CATALOG_IMPORT_IN_THREAD"):

        def start() -> None:
            threading.Thread(
                target=_in_thread, args=(app, batch_id), name=f"catalog-import-{batch_id}", daemon=True
            ).start()

        after_commit(start)
    else:
        jobs.enqueue(JOB, batch_id)
