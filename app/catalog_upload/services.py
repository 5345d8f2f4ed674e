"""Catalog upload verbs: create a batch, cancel it, and apply clean rows. They flush, never commit.

:func:`apply_rows` is the one way rows validated by :mod:`catalog_import` reach the catalogue,
for uploads (the job, one transaction) and for the supplier API (the request's transaction):

- a row proposing a new canonical product creates it, inactive, with a :class:`ProductProposal`
  (specs validated again against the registry); it goes public when an operator approves an offer
  of it;
- offers are upserted by (supplier, supplier SKU): a new offer goes to review; an existing one is
  compared field by field, and nothing happens when nothing changed (re-uploading a file changes
  nothing: no price history row, no version bump, no review);
- on a listed offer, changes of price and stock (and of the market reference price, unless it
  goes up) go live at once; any other change sends it back to review;
- every price an offer takes is kept in its price history.

Existing offers are changed through the ORM, so search sees them (capture on flush, reindex after
commit). New offers and products are inserted in bulk: a new offer is pending review and a new
product inactive, so neither is searchable until an operator's decision changes them (through the
ORM). The race that matters between validation and apply — a SKU or a product created by someone
else meanwhile — is checked again here, inside the transaction; it ends in :class:`ApplyConflict`
and the caller rolls everything back.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from typing import Any, BinaryIO, NamedTuple

import sqlalchemy as sa
from sqlalchemy import func, insert, literal, select

from app.auth.models import Organization, User
from app.catalog.models import Category, Offer, OfferStatus, PriceChange, Product
from app.catalog.services import attribute_specs, normalize_key
from app.catalog_upload import storage
from app.catalog_upload.models import ACTIVE_STATUSES, BatchStatus, ImportBatch
from app.core import audit
from app.core.db import UTCDateTime, utcnow
from app.core.money import to_money
from app.extensions import db
from app.review.models import OfferSubmission, ProductProposal, SubmissionKind
from catalog_import import DEFAULT_LIMITS, ImportFileError, Limits, OfferData, ProductData, RowResult
from catalog_import.specs import SpecValidator

log = logging.getLogger(__name__)

CHUNK = 1000  # rows per bulk statement
MAX_ACTIVE_BATCHES = 3  # per supplier: queued or running at once

# A listed offer whose only changes are these stays listed (price and stock go live at once).
LIVE_FIELDS = frozenset({"price", "stock", "market_price", "market_price_source"})
OFFER_INSERT_COLUMNS = (
    "product_id",
    "supplier_id",
    "supplier_sku",
    "price",
    "market_price",
    "market_price_source",
    "stock",
    "regions",
    "warranty_months",
    "lead_time_days",
    "status",
    "created_at",
    "updated_at",
)
PRODUCT_INSERT_COLUMNS = (
    "category_id",
    "brand",
    "model",
    "manufacturer",
    "name",
    "dedup_key",
    "specs",
    "energy_saving",
    "environmental",
    "origin",
    "description",
    "is_active",
    "row_version",
    "search_dirty",
    "created_at",
    "updated_at",
)
OFFER_FIELDS = (
    "price",
    "market_price",
    "market_price_source",
    "stock",
    "regions",
    "warranty_months",
    "lead_time_days",
)


class UploadError(ValueError):
    """A request the upload page cannot honour; the message is for the supplier."""

    def __init__(self, message: str, field: str = "_schema"):
        super().__init__(message)
        self.message = message
        self.field = field


class ApplyConflict(Exception):
    """The catalogue changed between validation and apply; nothing was written."""

    def __init__(self, problems: Sequence[str]):
        super().__init__("；".join(problems))
        self.problems = list(problems)


# --------------------------------------------------------------------------------------------
# Batches


def active_batch_count(organization_id: int) -> int:
    return (
        db.session.scalar(
            select(func.count())
            .select_from(ImportBatch)
            .where(ImportBatch.organization_id == organization_id, ImportBatch.status.in_(ACTIVE_STATUSES))
        )
        or 0
    )


def create_batch(
    user: User, category: Category, stream: BinaryIO, filename: str | None, limits: Limits = DEFAULT_LIMITS
) -> ImportBatch:
    """Store an upload and create its batch (queued). The caller enqueues the job after commit."""
    if active_batch_count(user.organization_id) >= MAX_ACTIVE_BATCHES:
        raise UploadError(
            f"本单位已有 {MAX_ACTIVE_BATCHES} 个文件正在处理；请等其中一个完成（或取消）后再上传"
        )
    batch = ImportBatch(
        organization_id=user.organization_id,
        uploaded_by_id=user.id,
        category_id=category.id,
        original_filename=storage.display_filename(filename),
        status=BatchStatus.QUEUED,
        errors=[],
    )
    db.session.add(batch)
    db.session.flush()
    try:
        batch.stored_path, batch.file_size = storage.store_upload(batch.id, stream, limits)
    except ImportFileError as exc:
        storage.remove_batch_files(batch.id)
        raise UploadError(exc.message, "file") from exc
    if batch.file_size == 0:
        storage.remove_batch_files(batch.id)
        raise UploadError("文件是空的（0 字节）；请在模板中填写后重新选择文件", "file")
    audit.record(
        "catalog_import.uploaded",
        user=user,
        batch_id=batch.id,
        category=category.code,
        filename=batch.original_filename,
        size=batch.file_size,
    )
    db.session.flush()
    return batch


class CancelRefused(ValueError):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


# A running job writes its progress every half second; a batch silent for longer than this lost
# its worker (a crash, a restart). Its transaction was rolled back with it: nothing was applied.
STALE_AFTER = {BatchStatus.VALIDATING: timedelta(minutes=10), BatchStatus.APPLYING: timedelta(hours=1)}


def is_stale(batch: ImportBatch) -> bool:
    limit = STALE_AFTER.get(batch.status)
    return limit is not None and batch.updated_at is not None and utcnow() - batch.updated_at > limit


def request_cancel(batch: ImportBatch, user: User) -> ImportBatch:
    """Stop a batch: a queued one at once; a validating one at the job's next progress check.
    Once it is writing (one transaction) or finished, it can no longer be cancelled — unless its
    job died: a batch without progress for long is closed at once."""
    now = utcnow()
    if batch.status == BatchStatus.QUEUED or is_stale(batch):
        batch.message = (
            "已取消：文件未经校验，没有写入任何数据"
            if batch.status == BatchStatus.QUEUED
            else "已取消：处理该文件的任务已中断，没有写入任何数据；如需导入请重新上传"
        )
        batch.status = BatchStatus.CANCELLED
        batch.cancel_requested = True
        batch.finished_at = now
    elif batch.status == BatchStatus.VALIDATING:
        batch.cancel_requested = True
    elif batch.status == BatchStatus.APPLYING:
        raise CancelRefused("该批次已通过校验，正在写入（一次性完成），无法再取消；请稍候查看结果")
    else:
        raise CancelRefused("该批次已经结束，无需取消")
    audit.record("catalog_import.cancel", user=user, batch_id=batch.id, status=str(batch.status))
    db.session.flush()
    return batch


# --------------------------------------------------------------------------------------------
# Apply


class OfferValues(NamedTuple):
    """The fields of :class:`catalog_import.OfferData`, as a tuple: cheap to rebuild from a spool."""

    supplier_sku: str
    price: Decimal
    market_price: Decimal
    market_price_source: str
    stock: int
    regions: tuple[str, ...]
    warranty_months: int
    lead_time_days: int


@dataclass(slots=True)
class ApplyRow:
    """A clean row: the offer, and either the existing product it quotes (``product_id``) or the
    new one it proposes (``product``; rows proposing the same model share ``new_product_row``)."""

    row: int
    offer: OfferData | OfferValues
    product_id: int | None
    new_product_row: int | None
    product: ProductData | None

    @classmethod
    def from_result(cls, result: RowResult) -> ApplyRow:
        if not result.ok or result.offer is None:
            raise ValueError(f"row {result.row} has errors")
        return cls(
            row=result.row,
            offer=result.offer,
            product_id=result.product_id,
            new_product_row=result.new_product_row,
            product=result.product if result.product_id is None else None,
        )


@dataclass
class ApplyStats:
    new_products: int = 0
    matched_products: int = 0
    offers_created: int = 0
    offers_updated: int = 0
    offers_unchanged: int = 0
    sent_to_review: int = 0
    live_price_changes: int = 0
    # Per row (API answers only): {"row", "supplier_sku", "offer_id", "product_id", "result", "status"}
    outcomes: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, int]:
        return {
            "new_products": self.new_products,
            "matched_products": self.matched_products,
            "offers_created": self.offers_created,
            "offers_updated": self.offers_updated,
            "offers_unchanged": self.offers_unchanged,
            "sent_to_review": self.sent_to_review,
            "live_price_changes": self.live_price_changes,
        }


def _text(value: Any) -> Any:
    """A field value as stored in a submission's change list (JSON)."""
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    if isinstance(value, tuple):
        return list(value)
    return value


def _stored(name: str, value: Any) -> Any:
    """An OfferData value as the Offer column holds it."""
    if name == "regions":
        return sorted(value)
    if name == "market_price_source":
        return value or None
    return value


def offer_changes(current: dict[str, Any], offer: OfferData | OfferValues) -> dict[str, tuple[Any, Any]]:
    """The fields of ``current`` (an offer's stored values) that ``offer`` changes: (old, new)."""
    changes = {}
    for name in OFFER_FIELDS:
        old, new = current[name], getattr(offer, name)
        if name == "regions":
            if sorted(old or ()) != sorted(new):
                changes[name] = (sorted(old or ()), sorted(new))
        elif name == "market_price_source":
            if (old or "") != (new or ""):
                changes[name] = (old or "", new or "")
        elif old != new:
            changes[name] = (old, new)
    return changes


def needs_review(changes: dict[str, tuple[Any, Any]]) -> bool:
    """Whether changes of a listed offer need an operator: anything but price and stock, and a
    market reference price that goes up (it is what the price is checked against)."""
    if set(changes) - LIVE_FIELDS:
        return True
    market = changes.get("market_price")
    return market is not None and (market[0] is None or market[1] > market[0])


class BulkInsert:
    """``INSERT INTO table (columns) VALUES (…)`` run as the driver's ``executemany``, each value
    converted by its column type's own bind processor (Money, UTC datetimes, JSON: stored exactly
    as the ORM stores them), without SQLAlchemy's per-row statement machinery: for a hundred
    thousand rows that machinery costs more than the database does. ``repeated`` columns take few
    distinct values (a timestamp, a region list): each is converted once."""

    def __init__(self, table: sa.Table, columns: Sequence[str], repeated: Sequence[str] = ()):
        connection = db.session.connection()
        dialect = connection.dialect
        self.connection = connection
        preparer = dialect.identifier_preparer
        mark = {"qmark": "?", "numeric": ":{}", "named": ":p{}"}.get(dialect.paramstyle, "%s")
        if mark not in ("?", "%s"):  # pragma: no cover - SQLite and psycopg only
            raise NotImplementedError(dialect.paramstyle)
        names = ", ".join(preparer.quote(c) for c in columns)
        marks = ", ".join(mark for _ in columns)
        # Table and column names come from the models, quoted by the dialect; values are bound.
        self.sql = f"INSERT INTO {preparer.format_table(table)} ({names}) VALUES ({marks})"  # noqa: S608
        processors = [table.c[c].type.dialect_impl(dialect).bind_processor(dialect) for c in columns]
        self.converters: list[Callable[[Any], Any] | None] = [
            (self._cached(processor) if name in repeated else processor) if processor is not None else None
            for name, processor in zip(columns, processors, strict=True)
        ]

    @staticmethod
    def _cached(processor: Callable[[Any], Any]) -> Callable[[Any], Any]:
        cache: dict[Any, Any] = {}

        def convert(value: Any) -> Any:
            if value is None:
                return processor(None)
            found = cache.get(value)
            if found is None:
                if len(cache) > 10_000:
                    cache.clear()
                found = cache[value] = processor(list(value) if isinstance(value, tuple) else value)
            return found

        return convert

    def execute(self, rows: Sequence[Sequence[Any]]) -> None:
        """Insert ``rows`` (tuples in the order of ``columns``). Converted column by column: bind
        processors take None as the ORM gives it to them (NULL)."""
        if not rows:
            return
        columns = [
            column if convert is None else list(map(convert, column))
            for convert, column in zip(self.converters, zip(*rows, strict=True), strict=True)
        ]
        self.connection.exec_driver_sql(self.sql, list(zip(*columns, strict=True)))


def _in(name: str):
    return sa.bindparam(name, expanding=True)


class _Applier:
    """One apply: statements compiled once, then run per chunk of rows."""

    def __init__(
        self,
        *,
        supplier_id: int,
        category: Category,
        user_id: int | None,
        source: str,
        batch_id: int | None,
        collect: bool,
    ):
        self.supplier_id = supplier_id
        self.category = category
        self.user_id = user_id
        self.source = source
        self.batch_id = batch_id
        self.collect = collect
        self.stats = ApplyStats()
        self.new_ids: dict[int, int] = {}  # first proposing row → new product id
        self.specs = SpecValidator(attribute_specs(category.attributes))
        self.now = utcnow()
        self.params = {"supplier": supplier_id, "now": self.now, "user": user_id, "source": source}
        offers = Offer.__table__
        self._offer_insert = BulkInsert(
            offers, OFFER_INSERT_COLUMNS, repeated=("regions", "status", "created_at", "updated_at")
        )
        self._product_insert = BulkInsert(
            Product.__table__, PRODUCT_INSERT_COLUMNS, repeated=("created_at", "updated_at")
        )
        self._proposal_insert = BulkInsert(
            ProductProposal.__table__,
            ("product_id", "organization_id", "batch_id", "created_at"),
            repeated=("created_at",),
        )
        mine = (Offer.supplier_id == sa.bindparam("supplier"), Offer.supplier_sku.in_(_in("skus")))
        self._products_by_key = select(Product.dedup_key, Product.id).where(
            Product.dedup_key.in_(_in("keys"))
        )
        self._existing = select(
            offers.c.id,
            offers.c.supplier_sku,
            offers.c.product_id,
            offers.c.status,
            offers.c.listed_at,
            *(offers.c[name] for name in OFFER_FIELDS),
        ).where(*mine)
        self._unapproved = select(ProductProposal.product_id).where(
            ProductProposal.product_id.in_(_in("ids")), ProductProposal.approved_at.is_(None)
        )
        self._offer_ids = select(Offer.supplier_sku, Offer.id).where(*mine)
        # The first price of each new offer, and its submission for review, straight from the
        # rows just inserted: one statement each, run in the database.
        self._first_prices = insert(PriceChange.__table__).from_select(
            ["offer_id", "price", "market_price", "changed_at", "changed_by_id", "source"],
            select(
                Offer.id,
                Offer.price,
                Offer.market_price,
                sa.bindparam("now", type_=UTCDateTime()),
                sa.bindparam("user", type_=sa.Integer()),
                sa.bindparam("source", type_=sa.String()),
            ).where(*mine),
        )
        self._submissions = insert(OfferSubmission.__table__).from_select(
            ["offer_id", "organization_id", "batch_id", "source", "kind", "changes", "submitted_at"],
            select(
                Offer.id,
                Offer.supplier_id,
                literal(batch_id, sa.Integer()),
                sa.bindparam("source", type_=sa.String()),
                sa.bindparam("kind", type_=sa.String()),
                literal({}, sa.JSON()),
                sa.bindparam("now", type_=UTCDateTime()),
            ).where(*mine),
        )

    # -- new products --------------------------------------------------------------------------

    def _create_products(self, rows: list[ApplyRow]) -> None:
        proposals: dict[int, ProductData] = {}
        for r in rows:
            if r.product_id is None and r.new_product_row not in self.new_ids and r.product is not None:
                proposals.setdefault(r.new_product_row or r.row, r.product)
        if not proposals:
            return
        keyed = {normalize_key(p.brand, p.model): (row, p) for row, p in proposals.items()}
        taken = db.session.execute(self._products_by_key, {"keys": list(keyed)}).all()
        if taken:
            problems = []
            for key, product_id in taken:
                row, product = keyed[key]
                problems.append(
                    f"第 {row} 行：品牌型号「{product.brand} {product.model}」在校验之后已被创建为"
                    f"标准商品 #{product_id}；请重新上传，届时将自动引用该商品"
                )
            raise ApplyConflict(problems)
        values = []
        for key, (row, product) in keyed.items():
            checked = self.specs(product.specs)
            if not checked.ok:  # the validator coerced them already; a failure here is a bug
                raise ApplyConflict(
                    [f"第 {row} 行：规格参数未通过校验：{'；'.join(checked.errors.values())}"]
                )
            values.append(
                (
                    self.category.id,
                    product.brand,
                    product.model,
                    product.manufacturer,
                    product.name or f"{product.brand} {product.model}",
                    key,
                    checked.values,
                    product.energy_saving,
                    product.environmental,
                    product.origin,
                    "",
                    False,  # is_active: public once an operator approves an offer of it
                    1,
                    True,  # search_dirty: the sweeper indexes it (as inactive until approved)
                    self.now,
                    self.now,
                )
            )
        self._product_insert.execute(values)
        ids = dict(db.session.execute(self._products_by_key, {"keys": list(keyed)}).all())
        for key, (row, _product) in keyed.items():
            self.new_ids[row] = ids[key]
        self._proposal_insert.execute(
            [(ids[key], self.supplier_id, self.batch_id, self.now) for key in keyed]
        )
        self.stats.new_products += len(keyed)

    def _product_of(self, r: ApplyRow) -> int:
        if r.product_id is not None:
            return r.product_id
        return self.new_ids[r.new_product_row or r.row]

    # -- one chunk -----------------------------------------------------------------------------

    def chunk(self, rows: list[ApplyRow]) -> None:
        self._create_products(rows)
        existing = {
            row.supplier_sku: row._asdict()
            for row in db.session.execute(
                self._existing, {**self.params, "skus": [r.offer.supplier_sku for r in rows]}
            )
        }
        matched_ids = list({r.product_id for r in rows if r.product_id is not None})
        unapproved = set(db.session.scalars(self._unapproved, {"ids": matched_ids})) if matched_ids else set()
        inserts: list[tuple[ApplyRow, int, bool]] = []
        updates: list[tuple[ApplyRow, dict, dict]] = []
        problems = []
        for r in rows:
            product_id = self._product_of(r)
            if r.product_id is not None:
                self.stats.matched_products += 1
            current = existing.get(r.offer.supplier_sku)
            if current is None:
                inserts.append((r, product_id, r.product_id is None or product_id in unapproved))
                continue
            if current["product_id"] != product_id:
                problems.append(
                    f"第 {r.row} 行：货号「{r.offer.supplier_sku}」在校验之后已被用于标准商品 "
                    f"#{current['product_id']} 的报价，不能改为另一商品；请使用新的货号后重新上传"
                )
                continue
            changes = offer_changes(current, r.offer)
            if not changes:
                self.stats.offers_unchanged += 1
                self._outcome(r, current["id"], product_id, "unchanged", current["status"])
                continue
            updates.append((r, current, changes))
        if problems:
            raise ApplyConflict(problems)
        if inserts:
            self._insert_offers(inserts)
        if updates:
            self._update_offers(updates, unapproved)

    def _outcome(self, r: ApplyRow, offer_id: int, product_id: int, result: str, status) -> None:
        if self.collect:
            self.stats.outcomes.append(
                {
                    "row": r.row,
                    "supplier_sku": r.offer.supplier_sku,
                    "offer_id": offer_id,
                    "product_id": product_id,
                    "result": result,
                    "status": str(status),
                }
            )

    def _insert_offers(self, inserts: list[tuple[ApplyRow, int, bool]]) -> None:
        pending = OfferStatus.PENDING_REVIEW.value
        self._offer_insert.execute(
            [
                (
                    product_id,
                    self.supplier_id,
                    r.offer.supplier_sku,
                    r.offer.price,
                    r.offer.market_price,
                    r.offer.market_price_source or None,
                    r.offer.stock,
                    tuple(sorted(r.offer.regions)),
                    r.offer.warranty_months,
                    r.offer.lead_time_days,
                    pending,
                    self.now,
                    self.now,
                )
                for r, product_id, _new in inserts
            ]
        )
        skus = [r.offer.supplier_sku for r, _pid, _new in inserts]
        db.session.execute(self._first_prices, {**self.params, "skus": skus})
        for kind, new_product in ((SubmissionKind.NEW_PRODUCT, True), (SubmissionKind.NEW_OFFER, False)):
            some = [r.offer.supplier_sku for r, _pid, new in inserts if new is new_product]
            if some:
                db.session.execute(self._submissions, {**self.params, "skus": some, "kind": kind.value})
        self.stats.offers_created += len(inserts)
        self.stats.sent_to_review += len(inserts)
        if self.collect:
            ids = dict(db.session.execute(self._offer_ids, {**self.params, "skus": skus}).all())
            for r, product_id, _new in inserts:
                self._outcome(r, ids[r.offer.supplier_sku], product_id, "created", OfferStatus.PENDING_REVIEW)

    def _update_offers(self, updates: list[tuple[ApplyRow, dict, dict]], unapproved: set[int]) -> None:
        ids = [current["id"] for _r, current, _c in updates]
        objects = {o.id: o for o in db.session.scalars(select(Offer).where(Offer.id.in_(ids)))}
        open_submissions = {
            s.offer_id: s
            for s in db.session.scalars(
                select(OfferSubmission).where(
                    OfferSubmission.offer_id.in_(ids), OfferSubmission.closed_at.is_(None)
                )
            )
        }
        for r, current, changes in updates:
            offer = objects[current["id"]]
            for name in changes:
                setattr(offer, name, _stored(name, getattr(r.offer, name)))
            if "price" in changes:
                # What change_price records, without its flush per row: one flush per chunk.
                db.session.add(
                    PriceChange(
                        offer_id=offer.id,
                        price=offer.price,
                        market_price=offer.market_price,
                        changed_at=self.now,
                        changed_by_id=self.user_id,
                        source=self.source,
                    )
                )
            if offer.status == OfferStatus.LISTED and not needs_review(changes):
                if "price" in changes:
                    self.stats.live_price_changes += 1
            else:
                offer.status = OfferStatus.PENDING_REVIEW
                self._submit_change(offer, changes, open_submissions.get(offer.id), unapproved)
                self.stats.sent_to_review += 1
            self.stats.offers_updated += 1
            self._outcome(r, offer.id, offer.product_id, "updated", offer.status)
        db.session.flush()

    def _submit_change(
        self, offer: Offer, changes: dict, submission: OfferSubmission | None, unapproved: set[int]
    ) -> None:
        stored = {name: [_text(old), _text(new)] for name, (old, new) in changes.items()}
        if submission is None:
            kind = (
                SubmissionKind.NEW_PRODUCT
                if offer.product_id in unapproved
                else SubmissionKind.CHANGE
                if offer.listed_at is not None
                else SubmissionKind.NEW_OFFER
            )
            db.session.add(
                OfferSubmission(
                    offer_id=offer.id,
                    organization_id=self.supplier_id,
                    batch_id=self.batch_id,
                    source=self.source,
                    kind=kind,
                    changes=stored,
                    submitted_at=self.now,
                )
            )
            return
        # Still waiting for review: the new values join the open submission (oldest "old" kept).
        merged = dict(submission.changes or {})
        for name, (old, new) in stored.items():
            merged[name] = [merged[name][0] if name in merged else old, new]
        submission.changes = merged
        if self.batch_id is not None:
            submission.batch_id = self.batch_id
        submission.source = self.source
        submission.submitted_at = self.now


def chunked(rows: Iterable[ApplyRow], size: int = CHUNK) -> Iterator[list[ApplyRow]]:
    chunk: list[ApplyRow] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def apply_rows(
    chunks: Iterable[list[ApplyRow]],
    *,
    supplier: Organization | int,
    category: Category,
    user: User | int | None = None,
    source: str = "import",
    batch_id: int | None = None,
    collect: bool = False,
) -> ApplyStats:
    """Write clean rows (in chunks of at most a few thousand) in the current transaction. Raises
    :class:`ApplyConflict` when the catalogue changed since validation; the caller rolls back."""
    applier = _Applier(
        supplier_id=supplier if isinstance(supplier, int) else supplier.id,
        category=category,
        user_id=user.id if isinstance(user, User) else user,
        source=source,
        batch_id=batch_id,
        collect=collect,
    )
    for rows in chunks:
        if rows:
            applier.chunk(rows)
    db.session.flush()
    return applier.stats


# --------------------------------------------------------------------------------------------
# Price and stock of one offer (the API's PATCH)


class OfferUpdateError(ValueError):
    def __init__(self, errors: dict[str, list[str]]):
        super().__init__("；".join(m for messages in errors.values() for m in messages))
        self.errors = errors


def update_price_stock(
    offer: Offer,
    *,
    price: Decimal | None,
    stock: int | None,
    by: User | int | None = None,
    source: str = "api",
) -> dict[str, Any]:
    """Change an offer's price and/or stock. A listed offer stays listed (the change is live);
    the price may not exceed the market reference price. Returns what changed."""
    changes: dict[str, Any] = {}
    if price is not None:
        price = to_money(price)
        if offer.market_price is not None and price > offer.market_price:
            raise OfferUpdateError(
                {
                    "price": [
                        f"价格高于市场参考价：单价 {price:,} 元高于市场参考价 {offer.market_price:,} 元；"
                        "请下调单价，或通过上传更新市场参考价及其来源"
                    ]
                }
            )
        if price != offer.price:
            changes["price"] = [f"{offer.price:.2f}", f"{price:.2f}"]
            offer.price = price
            db.session.add(
                PriceChange(
                    offer_id=offer.id,
                    price=price,
                    market_price=offer.market_price,
                    changed_by_id=by.id if isinstance(by, User) else by,
                    source=source,
                )
            )
    if stock is not None and stock != offer.stock:
        changes["stock"] = [offer.stock, stock]
        offer.stock = stock
    db.session.flush()
    return changes
