"""The import job of one batch: validate every row, then apply all of it or nothing.

1. **Validate** (read only). The stored file is streamed through :func:`catalog_import.validate`
   against the database (:mod:`app.catalog_upload.lookups`). Progress — rows read, errors so far —
   is written every half second in a short transaction of its own, so the batch page sees it while
   the job runs, and the same short transaction reads the cancel flag: a cancelled batch stops at
   the next progress check. Clean rows go to a spool file (compact, on disk: memory does not grow
   with the file); errors to another.
2. **Any error**: nothing is applied. The error report (the supplier's rows plus 错误说明, CSV and
   XLSX, formula-safe) is written by reading the file once more; the batch keeps the first 200
   messages for its page.
3. **Clean**: the spool is applied in **one transaction** through
   :func:`app.catalog_upload.services.apply_rows`, which checks again what may have changed since
   validation. The batch's final status and counters are written in that same transaction.

Memory stays flat: the validator keeps compact per-row hashes, the spool and the error list are
files, and the row numbers the validator saw are one ``array('i')``.
"""

from __future__ import annotations

import gc
import logging
import pickle
import tempfile
import time
from array import array
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from app.catalog.models import Category
from app.catalog_upload import lookups, storage
from app.catalog_upload.models import MAX_STORED_ERRORS, BatchStatus, ImportBatch
from app.catalog_upload.services import ApplyConflict, ApplyRow, ApplyStats, OfferValues, apply_rows
from app.core import audit
from app.core.db import utcnow
from app.extensions import db
from catalog_import import (
    CategorySpec,
    ErrorReportWriter,
    ImportFileError,
    OfferData,
    ProductData,
    RowResult,
    ValidationStats,
    Validator,
    bind_header,
    open_table,
)

log = logging.getLogger(__name__)

PROGRESS_SECONDS = 0.5  # at most two progress writes a second
SPOOL_CHUNK = 1000
FAILED_MESSAGE = (
    "系统在处理该文件时出错，没有写入任何数据；请稍后重新上传，如仍失败请联系卖场运营（批次 #{id}）"
)


class Cancelled(Exception):
    """The supplier cancelled the batch; raised out of the progress callback."""


# --------------------------------------------------------------------------------------------
# Progress: short transactions of their own


def _side_session() -> Session:
    # Its own connection in production, so its commits are visible at once whatever the job's
    # own transaction does. (Bound to a connection in tests, it nests as a savepoint.)
    return Session(bind=db.engine, join_transaction_mode="create_savepoint")


def write_batch(batch_id: int, *conditions, **values) -> bool:
    """``UPDATE import_batches SET …`` in a transaction of its own; whether a row matched."""
    values.setdefault("updated_at", utcnow())
    with _side_session() as session, session.begin():
        result = session.execute(
            update(ImportBatch)
            .where(ImportBatch.id == batch_id, *conditions)
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        return result.rowcount > 0


class Progress:
    """The validator's progress callback: counters to the batch, the cancel flag back."""

    def __init__(self, batch_id: int, every: float = PROGRESS_SECONDS):
        self.batch_id = batch_id
        self.every = every
        self._last = 0.0

    def __call__(self, stats: ValidationStats) -> None:
        now = time.monotonic()
        if not stats.done and now - self._last < self.every:
            return
        self._last = now
        with _side_session() as session, session.begin():
            session.execute(
                update(ImportBatch)
                .where(ImportBatch.id == self.batch_id)
                .values(
                    rows_read=stats.rows,
                    rows_ok=stats.ok_rows,
                    error_rows=stats.error_rows,
                    errors_count=stats.errors,
                    updated_at=utcnow(),
                )
                .execution_options(synchronize_session=False)
            )
            cancelled = session.scalar(
                select(ImportBatch.cancel_requested).where(ImportBatch.id == self.batch_id)
            )
        if cancelled:
            raise Cancelled


# --------------------------------------------------------------------------------------------
# Spool files


def _offer_tuple(offer: OfferData) -> tuple:
    return (
        offer.supplier_sku,
        offer.price,
        offer.market_price,
        offer.market_price_source,
        offer.stock,
        offer.regions,
        offer.warranty_months,
        offer.lead_time_days,
    )


def _product_tuple(product: ProductData | None) -> tuple | None:
    if product is None:
        return None
    return (
        product.brand,
        product.model,
        product.manufacturer,
        product.name,
        product.dedup_key,
        product.specs,
        product.energy_saving,
        product.environmental,
        product.origin,
    )


class Spool:
    """Clean rows on disk, pickled a thousand at a time."""

    def __init__(self) -> None:
        self._file: IO[bytes] = tempfile.TemporaryFile()  # noqa: SIM115 - closed by close()
        self._pending: list[tuple] = []
        self.count = 0

    def add(self, result: RowResult) -> None:
        offer = result.offer
        if offer is None:  # pragma: no cover - only clean rows are spooled
            raise ValueError("only clean rows are spooled")
        product = result.product if result.product_id is None else None
        self._pending.append(
            (
                result.row,
                _offer_tuple(offer),
                result.product_id,
                result.new_product_row,
                _product_tuple(product),
            )
        )
        self.count += 1
        if len(self._pending) >= SPOOL_CHUNK:
            self._dump()

    def _dump(self) -> None:
        if self._pending:
            pickle.dump(self._pending, self._file, protocol=pickle.HIGHEST_PROTOCOL)
            self._pending = []

    def chunks(self) -> Iterator[list[ApplyRow]]:
        self._dump()
        self._file.seek(0)
        while True:
            try:
                items = pickle.load(self._file)  # noqa: S301 - our own file, written above
            except EOFError:
                return
            make = OfferValues._make
            yield [
                ApplyRow(
                    row=row,
                    offer=make(offer),
                    product_id=product_id,
                    new_product_row=new_product_row,
                    product=ProductData(*product) if product is not None else None,
                )
                for row, offer, product_id, new_product_row, product in items
            ]

    def close(self) -> None:
        self._file.close()


class ErrorLog:
    """Every error row's message on disk (for the report), the first few kept for the page."""

    def __init__(self) -> None:
        self._file: IO[bytes] = tempfile.TemporaryFile()  # noqa: SIM115 - closed by close()
        self.first: list[dict[str, Any]] = []
        self.rows = 0

    def add(self, result: RowResult) -> None:
        pickle.dump((result.row, result.message), self._file, protocol=pickle.HIGHEST_PROTOCOL)
        self.rows += 1
        for error in result.errors:
            if len(self.first) >= MAX_STORED_ERRORS:
                break
            self.first.append(
                {"row": error.row, "column": error.column, "label": error.label, "message": error.message}
            )

    def messages(self) -> Iterator[tuple[int, str]]:
        self._file.seek(0)
        while True:
            try:
                yield pickle.load(self._file)  # noqa: S301 - our own file, written above
            except EOFError:
                return

    def close(self) -> None:
        self._file.close()


# --------------------------------------------------------------------------------------------


def estimate_rows(path: Path, fmt: str) -> int | None:
    """Data rows of a CSV file counted by its line breaks (an estimate: quoted line breaks and
    blank lines count too); None for XLSX, whose rows are only known once read."""
    if fmt != "csv":
        return None
    lines = 0
    last = b""
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            lines += chunk.count(b"\n")
            last = chunk[-1:]
    if last and last != b"\n":
        lines += 1
    return max(lines - 1, 0)


@dataclass
class Outcome:
    stats: ValidationStats
    spool: Spool
    errors: ErrorLog
    seen: array  # row numbers the validator handed back, in order (for the report)
    table_format: str
    encoding: str | None


def validate_file(
    path: Path,
    filename: str,
    spec: CategorySpec,
    category: Category,
    supplier_id: int,
    progress: Progress | None = None,
) -> Outcome:
    """Read and check every row of a stored file. Raises :class:`ImportFileError` for a file-level
    problem and :class:`Cancelled` when the supplier cancels."""
    spool, errors, seen = Spool(), ErrorLog(), array("i")
    try:
        with path.open("rb") as stream, open_table(stream, filename) as table:
            validator = Validator(
                spec,
                lookups.DbProductLookup(category),
                existing_skus=lookups.DbSkuLookup(supplier_id),
                on_progress=progress,
                progress_every=1000,
                batch_size=1000,  # one product query and one SKU query per thousand rows
            )
            for result in validator.run(table.rows(), validator.bind(table.header)):
                seen.append(result.row)
                if result.ok:
                    spool.add(result)
                else:
                    errors.add(result)
            return Outcome(validator.stats, spool, errors, seen, table.format, table.encoding)
    except BaseException:
        spool.close()
        errors.close()
        raise


def write_reports(batch: ImportBatch, spec: CategorySpec, outcome: Outcome) -> str:
    """The error report in both formats: the file's rows as the validator saw them (the example
    row left out), each with its messages. Returns the CSV's path (relative to UPLOAD_DIR)."""
    directory = storage.batch_dir(batch.id)
    csv_path = f"{directory.name}/{storage.new_name('report', 'csv')}"
    xlsx_path = storage.xlsx_report_path(csv_path)
    seen, position = outcome.seen, 0
    messages = outcome.errors.messages()
    pending = next(messages, None)
    with (
        storage.resolve(batch.stored_path).open("rb") as stream,
        open_table(stream, batch.original_filename) as table,
        storage.resolve(csv_path).open("wb") as csv_out,
        storage.resolve(xlsx_path).open("wb") as xlsx_out,
    ):
        columns = bind_header(table.header, spec)
        writers = (ErrorReportWriter(csv_out, "csv", columns), ErrorReportWriter(xlsx_out, "xlsx", columns))
        for row, cells in table.rows():
            if position >= len(seen):
                break
            if row != seen[position]:
                continue  # a row the validator skipped: the template's example row
            position += 1
            message = ""
            if pending is not None and pending[0] == row:
                message = pending[1]
                pending = next(messages, None)
            for writer in writers:
                writer.write(row, cells, message)
        for writer in writers:
            writer.close()
    return csv_path


# --------------------------------------------------------------------------------------------
# The job


def _load(batch_id: int) -> ImportBatch | None:
    return db.session.scalar(
        select(ImportBatch)
        .where(ImportBatch.id == batch_id)
        .options(
            selectinload(ImportBatch.category).selectinload(Category.attributes),
            selectinload(ImportBatch.uploaded_by),
        )
    )


def _begin_write(batch_id: int) -> ImportBatch:
    """A fresh transaction of the job's session that writes first: it ends the read-only snapshot
    of the validation phase, and on SQLite takes the write lock now rather than failing to
    upgrade a stale read transaction later."""
    db.session.rollback()
    db.session.execute(
        update(ImportBatch)
        .where(ImportBatch.id == batch_id)
        .values(updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    batch = _load(batch_id)
    if batch is None:  # pragma: no cover - batches are never deleted
        raise LookupError(batch_id)
    return batch


def _finish(batch_id: int, status: BatchStatus, **values) -> ImportBatch:
    """Final state through the job's own session (committed by the job)."""
    batch = _begin_write(batch_id)
    batch.status = status
    batch.finished_at = utcnow()
    for key, value in values.items():
        setattr(batch, key, value)
    return batch


def _counters(stats: ValidationStats) -> dict[str, int]:
    return {
        "rows_read": stats.rows,
        "rows_total": stats.rows,
        "rows_ok": stats.ok_rows,
        "error_rows": stats.error_rows,
        "errors_count": stats.errors,
    }


def run(batch_id: int) -> str:
    """Validate and apply one batch; returns its final status. Never raises for a bad file."""
    started = utcnow()
    if not write_batch(
        batch_id,
        ImportBatch.status == BatchStatus.QUEUED,
        ImportBatch.cancel_requested.is_(False),
        status=BatchStatus.VALIDATING,
        started_at=started,
    ):
        return "skipped"  # cancelled while queued, or another worker has it
    try:
        with fewer_collections():
            return _run(batch_id)
    except Exception:
        log.exception("catalog import of batch %s failed", batch_id)
        db.session.rollback()
        _finish(batch_id, BatchStatus.FAILED, message=FAILED_MESSAGE.format(id=batch_id))
        return str(BatchStatus.FAILED)


@contextmanager
def fewer_collections(threshold: int = 50_000):
    """A file of rows allocates millions of short-lived objects; with the default settings the
    cyclic garbage collector runs thousands of times, each full pass over every object of the
    process (the whole app, not just the rows): a fifth of the import's time. For the job they
    are rarer. Freed memory still returns at once (reference counting); only cycles wait a little
    longer."""
    previous = gc.get_threshold()
    gc.set_threshold(max(previous[0], threshold), max(previous[1], 20), max(previous[2], 20))
    try:
        yield
    finally:
        gc.set_threshold(*previous)


def _run(batch_id: int) -> str:
    batch = _load(batch_id)
    if batch is None or batch.stored_path is None:  # pragma: no cover - created with its file
        raise LookupError(batch_id)
    category = batch.category
    spec = lookups.category_spec(category)
    path = storage.resolve(batch.stored_path)
    write_batch(batch_id, rows_total=estimate_rows(path, batch.format or path.suffix.lstrip(".")))
    clock = time.perf_counter()
    try:
        outcome = validate_file(
            path, batch.original_filename, spec, category, batch.organization_id, Progress(batch_id)
        )
    except ImportFileError as exc:
        errors = [{"row": exc.row, "column": exc.column, "label": "", "message": p} for p in exc.problems]
        _finish(
            batch_id,
            BatchStatus.FAILED_VALIDATION,
            message=exc.message,
            errors=errors,
            errors_count=len(errors),
        )
        return str(BatchStatus.FAILED_VALIDATION)
    except Cancelled:
        _finish(batch_id, BatchStatus.CANCELLED, message="已按您的要求取消：没有写入任何数据")
        return str(BatchStatus.CANCELLED)
    log.info(
        "batch %s: %s rows validated in %.2fs (%s with errors)",
        batch_id,
        outcome.stats.rows,
        time.perf_counter() - clock,
        outcome.stats.error_rows,
    )
    try:
        return _conclude(batch_id, spec, outcome)
    finally:
        outcome.spool.close()
        outcome.errors.close()


def _conclude(batch_id: int, spec: CategorySpec, outcome: Outcome) -> str:
    stats = outcome.stats
    details = {"format": outcome.table_format, "encoding": outcome.encoding, **_counters(stats)}
    if not stats.ok:
        db.session.rollback()
        batch = _load(batch_id)
        report = write_reports(batch, spec, outcome)  # type: ignore[arg-type]
        db.session.rollback()
        _finish(
            batch_id,
            BatchStatus.FAILED_VALIDATION,
            report_path=report,
            errors=outcome.errors.first,
            message=f"共 {stats.error_rows:,} 行有错误，未写入任何数据；请下载错误报告，改正后重新上传",
            **details,
        )
        return str(BatchStatus.FAILED_VALIDATION)
    if not write_batch(
        batch_id,
        ImportBatch.status == BatchStatus.VALIDATING,
        ImportBatch.cancel_requested.is_(False),
        status=BatchStatus.APPLYING,
        **details,
    ):
        _finish(batch_id, BatchStatus.CANCELLED, message="已按您的要求取消：没有写入任何数据")
        return str(BatchStatus.CANCELLED)
    batch = _begin_write(batch_id)  # the apply: one transaction, from here to the job's commit
    clock = time.perf_counter()
    try:
        applied = apply_rows(
            outcome.spool.chunks(),
            supplier=batch.organization_id,
            category=batch.category,
            user=batch.uploaded_by,
            source="import",
            batch_id=batch_id,
        )
        log.info("batch %s: applied in %.2fs (commit follows)", batch_id, time.perf_counter() - clock)
    except (ApplyConflict, IntegrityError) as exc:
        # Someone else wrote the same SKU or product meanwhile (IntegrityError: past the checks,
        # on the unique indexes themselves). The transaction is rolled back: nothing applied.
        problems = (
            exc.problems
            if isinstance(exc, ApplyConflict)
            else ["另一个批次或接口请求同时写入了相同的货号或商品"]
        )
        errors = [
            {"row": None, "column": None, "label": "", "message": p} for p in problems[:MAX_STORED_ERRORS]
        ]
        _finish(
            batch_id,
            BatchStatus.FAILED_VALIDATION,
            message="校验之后卖场数据发生了变化，未写入任何数据；请重新上传同一文件",
            errors=errors,
            errors_count=len(problems),
        )
        return str(BatchStatus.FAILED_VALIDATION)
    _record_applied(batch, applied, details)
    return str(BatchStatus.APPLIED)


def _record_applied(batch: ImportBatch, applied: ApplyStats, details: dict) -> None:
    for key, value in details.items():
        setattr(batch, key, value)
    batch.status = BatchStatus.APPLIED
    batch.finished_at = utcnow()
    batch.message = ""
    for key, value in applied.as_dict().items():
        setattr(batch, key, value)
    audit.record(
        "catalog_import.applied",
        user=batch.uploaded_by,
        organization_id=batch.organization_id,
        batch_id=batch.id,
        category=batch.category.code,
        **applied.as_dict(),
    )
    db.session.flush()
