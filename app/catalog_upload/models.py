"""Catalog uploads (批量导入) and the supplier API's idempotency keys.

An :class:`ImportBatch` is one uploaded file: who sent it, for which category, where it is stored
(``UPLOAD_DIR/<batch id>/``, under a name we choose: the client's file name is only shown), and
how far its job got. Its counters are written while the job runs, in short transactions of their
own, so the batch page can show a progress bar; the apply itself is one transaction.
"""

from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.auth.models import Organization, User, _enum
from app.catalog.models import Category
from app.core.db import TimestampMixin, utcnow
from app.extensions import db

# The first error messages kept on the batch for its page; every one is in the downloadable report.
MAX_STORED_ERRORS = 200


class BatchStatus(enum.StrEnum):
    QUEUED = "queued"  # stored, waiting for a worker
    VALIDATING = "validating"  # the job reads and checks every row
    APPLYING = "applying"  # every row is clean; the one transaction is writing them
    FAILED_VALIDATION = "failed_validation"  # errors: nothing applied, a report to download
    CANCELLED = "cancelled"  # stopped by the supplier: nothing applied
    APPLIED = "applied"  # written
    FAILED = "failed"  # the system failed: nothing applied, ``message`` says what to do


ACTIVE_STATUSES = frozenset({BatchStatus.QUEUED, BatchStatus.VALIDATING, BatchStatus.APPLYING})
FINAL_STATUSES = frozenset(set(BatchStatus) - ACTIVE_STATUSES)


class ImportBatch(TimestampMixin, db.Model):
    __tablename__ = "import_batches"
    __table_args__ = (
        sa.Index("ix_import_batches_organization_created", "organization_id", "created_at"),
        sa.CheckConstraint(
            "rows_read >= 0 AND rows_ok >= 0 AND errors_count >= 0 AND error_rows >= 0",
            name="counters_nonnegative",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(sa.ForeignKey("organizations.id"))
    uploaded_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    category_id: Mapped[int] = mapped_column(sa.ForeignKey("categories.id"))
    # As the supplier's computer named it: shown on pages, never used to build a path.
    original_filename: Mapped[str] = mapped_column(sa.String(255))
    # Relative to UPLOAD_DIR: "<batch id>/original-<random>.<ext>".
    stored_path: Mapped[str | None] = mapped_column(sa.String(255))
    file_size: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    format: Mapped[str | None] = mapped_column(sa.String(8))  # csv | xlsx, as detected
    encoding: Mapped[str | None] = mapped_column(sa.String(32))  # CSV only, as detected
    status: Mapped[BatchStatus] = mapped_column(
        _enum(BatchStatus, "import_batch_status"), default=BatchStatus.QUEUED, index=True
    )
    cancel_requested: Mapped[bool] = mapped_column(default=False)
    message: Mapped[str] = mapped_column(sa.Text, default="")  # a file-level error or a failure

    rows_total: Mapped[int | None]  # an estimate while validating (CSV line count), exact after
    rows_read: Mapped[int] = mapped_column(default=0)
    rows_ok: Mapped[int] = mapped_column(default=0)
    error_rows: Mapped[int] = mapped_column(default=0)
    errors_count: Mapped[int] = mapped_column(default=0)
    new_products: Mapped[int] = mapped_column(default=0)
    matched_products: Mapped[int] = mapped_column(default=0)  # rows quoting an existing product
    offers_created: Mapped[int] = mapped_column(default=0)
    offers_updated: Mapped[int] = mapped_column(default=0)
    offers_unchanged: Mapped[int] = mapped_column(default=0)
    sent_to_review: Mapped[int] = mapped_column(default=0)
    live_price_changes: Mapped[int] = mapped_column(default=0)
    # [{"row": 12, "column": "memory_gb", "label": "内存容量", "message": "第 12 行「内存容量」：…"}]
    errors: Mapped[list[dict]] = mapped_column(sa.JSON, default=list)
    # Relative to UPLOAD_DIR: the CSV error report; the XLSX one sits next to it.
    report_path: Mapped[str | None] = mapped_column(sa.String(255))

    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]

    organization: Mapped[Organization] = relationship()
    uploaded_by: Mapped[User | None] = relationship()
    category: Mapped[Category] = relationship()

    @property
    def active(self) -> bool:
        return self.status in ACTIVE_STATUSES

    @property
    def percent(self) -> int | None:
        """How far the job is, for the progress bar; None while the total is unknown."""
        if self.status in FINAL_STATUSES:
            return 100
        if not self.rows_total:
            return None
        return max(0, min(99, self.rows_read * 100 // self.rows_total))


class IdempotencyKey(db.Model):
    """A successful answer of the supplier API, kept 24 hours under the caller's
    ``Idempotency-Key``: the same key with the same request replays it; with another request it
    is refused. Only 2xx answers are kept (a refused request changed nothing and may be retried)."""

    __tablename__ = "api_idempotency_keys"
    __table_args__ = (sa.UniqueConstraint("organization_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(sa.ForeignKey("organizations.id"))
    key: Mapped[str] = mapped_column(sa.String(255))
    method: Mapped[str] = mapped_column(sa.String(8))
    path: Mapped[str] = mapped_column(sa.String(255))
    request_hash: Mapped[str] = mapped_column(sa.String(64))
    response_status: Mapped[int]
    response_body: Mapped[dict] = mapped_column(sa.JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(index=True)
