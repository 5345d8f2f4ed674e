"""The import job end to end (in-process backend): all or nothing, idempotent re-uploads, what goes
live and what goes to review, new product proposals, refusals, cancellation, progress, reports."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from app.catalog.models import Offer, OfferStatus, PriceChange, Product
from app.catalog_upload import lookups, pipeline, services, storage
from app.catalog_upload.jobs import run_import
from app.catalog_upload.models import BatchStatus, ImportBatch
from app.core.audit import AuditEvent
from app.extensions import db
from app.review.models import OfferSubmission, ProductProposal, SubmissionKind
from tests import factories
from tests.catalog_import.helpers import csv_bytes, matrix
from tests.catalog_upload.helpers import (
    GOOD,
    GOOD_SPECS,
    existing_product,
    listed_offer,
    registry_category,
    row,
    rows_file,
    supplier,
    upload,
)


@pytest.fixture
def world(db_session):
    category = registry_category()
    organization, user = supplier()
    return category, organization, user


def count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where)) or 0


def offers_of(organization) -> list[Offer]:
    return list(
        db.session.scalars(select(Offer).where(Offer.supplier_id == organization.id).order_by(Offer.id))
    )


def matched_row(product: Product, sku: str = "SKU-1", **changes) -> dict[str, str]:
    """A row quoting an existing product: brand + model, specs left blank (inherited)."""
    values = {code: "" for code in GOOD_SPECS}
    values.update(
        supplier_sku=sku,
        brand=product.brand,
        model=product.model,
        manufacturer="",
        name=product.name,
        warranty_months="36",
        regions="北京市",
        energy_saving="",
        environmental="",
        origin="",
    )
    values.update(changes)
    return row(**values)


# --------------------------------------------------------------------------------------------
# All or nothing


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_a_batch_with_one_bad_row_applies_nothing(world, fmt):
    category, organization, user = world
    rows = [
        row(),
        row(supplier_sku="SKU-2", model="ThinkCentre X1", memory_gb="十六"),
        row(supplier_sku="SKU-3", model="Q3"),
    ]
    products_before, prices_before = count(Product), count(PriceChange)
    batch = upload(user, category, rows_file(rows, fmt), f"目录.{fmt}")

    assert batch.status == BatchStatus.FAILED_VALIDATION
    assert (batch.rows_read, batch.rows_ok, batch.error_rows, batch.errors_count) == (3, 2, 1, 1)
    assert batch.errors == [
        {
            "row": 3,
            "column": "memory_gb",
            "label": "内存容量",
            "message": "第 3 行「内存容量」：应为数字（单位：GB），例如 16，收到「十六」",
        }
    ]
    assert "未写入任何数据" in batch.message and "错误报告" in batch.message
    assert offers_of(organization) == []
    assert (count(Product), count(PriceChange), count(OfferSubmission)) == (products_before, prices_before, 0)
    assert batch.format == fmt
    assert batch.finished_at is not None and batch.offers_created == 0


def test_the_error_report_holds_every_row_and_neutralises_formulas(world):
    category, _organization, user = world
    rows = [
        row(name='=HYPERLINK("http://evil.example","点我")'),
        row(supplier_sku="SKU-2", model="X2", price="6000", market_price="5000"),
        row(supplier_sku="SKU-3", model="X3", stock="-5"),
    ]
    batch = upload(user, category, rows_file(rows))
    assert batch.status == BatchStatus.FAILED_VALIDATION
    assert batch.report_path

    text = storage.resolve(batch.report_path).read_bytes().decode("utf-8-sig")
    report = list(csv.reader(io.StringIO(text)))
    assert report[0][:2] == ["错误说明", "原行号"]
    assert [r[1] for r in report[1:]] == ["2", "3", "4"]
    assert report[1][0] == ""  # a clean row, kept so the whole file can be fixed and re-uploaded
    assert "价格高于市场参考价" in report[2][0]
    assert "库存" in report[3][0] and "不能小于 0" in report[3][0]
    name = report[0].index(next(h for h in report[0] if h.endswith("|name") or h.endswith("｜name")))
    assert report[1][name].startswith("'=HYPERLINK")  # a spreadsheet shows it as text

    workbook = load_workbook(storage.resolve(storage.xlsx_report_path(batch.report_path)), read_only=True)
    sheet = workbook.worksheets[0]
    values = list(sheet.iter_rows(values_only=True))
    assert values[0][:2] == ("错误说明", "原行号")
    assert len(values) == 4 and values[1][name].startswith("'=")
    workbook.close()


def test_the_fixed_report_uploads_as_it_is(world):
    category, organization, user = world
    batch = upload(user, category, rows_file([row(), row(supplier_sku="SKU-2", model="X2", stock="很多")]))
    assert batch.status == BatchStatus.FAILED_VALIDATION
    report = storage.resolve(batch.report_path).read_bytes().decode("utf-8-sig")
    table = list(csv.reader(io.StringIO(report)))
    stock = table[0].index(next(h for h in table[0] if h.endswith("stock")))
    table[2][stock] = "20"
    fixed = csv_bytes(table)
    again = upload(user, category, fixed, "错误报告_目录.csv")
    assert again.status == BatchStatus.APPLIED, again.errors
    assert [o.supplier_sku for o in offers_of(organization)] == ["SKU-1", "SKU-2"]


# --------------------------------------------------------------------------------------------
# Applying


def test_a_clean_batch_creates_offers_for_review_and_proposes_new_products(world):
    category, organization, user = world
    existing = existing_product(category)
    rows = [row(), row(supplier_sku="SKU-2"), matched_row(existing, "SKU-3")]
    batch = upload(user, category, rows_file(rows))

    assert batch.status == BatchStatus.APPLIED, batch.errors
    assert (batch.new_products, batch.matched_products, batch.offers_created) == (1, 1, 3)
    assert (batch.sent_to_review, batch.live_price_changes, batch.offers_unchanged) == (3, 0, 0)
    offers = offers_of(organization)
    assert [o.status for o in offers] == [OfferStatus.PENDING_REVIEW] * 3
    proposed = db.session.scalar(select(Product).where(Product.dedup_key == "联想|thinkcentrem70t"))
    assert proposed is not None and proposed.is_active is False  # public only once approved
    assert proposed.specs == GOOD_SPECS
    assert (proposed.manufacturer, proposed.energy_saving, str(proposed.origin)) == (
        "联想(北京)有限公司",
        True,
        "domestic",
    )
    assert offers[0].product_id == offers[1].product_id == proposed.id  # two rows, one proposal
    assert offers[2].product_id == existing.id
    assert offers[0].price == Decimal("4999.00") and offers[0].regions[:2] == ["110000", "120000"]
    proposal = db.session.scalar(select(ProductProposal).where(ProductProposal.product_id == proposed.id))
    assert (proposal.organization_id, proposal.batch_id, proposal.approved_at) == (
        organization.id,
        batch.id,
        None,
    )
    kinds = dict(
        db.session.execute(
            select(OfferSubmission.offer_id, OfferSubmission.kind).where(OfferSubmission.batch_id == batch.id)
        ).all()
    )
    assert kinds == {
        offers[0].id: SubmissionKind.NEW_PRODUCT,
        offers[1].id: SubmissionKind.NEW_PRODUCT,
        offers[2].id: SubmissionKind.NEW_OFFER,
    }
    # Every offer's first price is in its history.
    history = db.session.scalars(
        select(PriceChange).where(PriceChange.offer_id.in_([o.id for o in offers]))
    ).all()
    assert sorted((h.offer_id, h.price, h.source, h.changed_by_id) for h in history) == [
        (o.id, Decimal("4999.00"), "import", user.id) for o in offers
    ]
    events = db.session.scalars(
        select(AuditEvent.action).where(AuditEvent.organization_id == organization.id)
    ).all()
    assert {"catalog_import.uploaded", "catalog_import.applied"} <= set(events)


def test_uploading_the_same_file_again_changes_nothing(world):
    category, organization, user = world
    existing = existing_product(category)
    listed_offer(existing, organization, "SKU-9")
    data = rows_file([row(), matched_row(existing, "SKU-9", price="4999.00", stock="100", regions="北京市")])
    first = upload(user, category, data)
    assert first.status == BatchStatus.APPLIED, first.errors
    assert (first.offers_created, first.offers_unchanged) == (1, 1)
    db.session.expire_all()
    snapshot = [(o.id, o.price, o.stock, o.status, o.updated_at) for o in offers_of(organization)]
    versions = {p.id: p.row_version for p in db.session.scalars(select(Product))}
    counts = (count(PriceChange), count(OfferSubmission), count(Product), count(ProductProposal))

    second = upload(user, category, data)
    assert second.status == BatchStatus.APPLIED
    assert (second.offers_created, second.offers_updated, second.offers_unchanged) == (0, 0, 2)
    assert (second.sent_to_review, second.live_price_changes, second.new_products) == (0, 0, 0)
    db.session.expire_all()
    assert [(o.id, o.price, o.stock, o.status, o.updated_at) for o in offers_of(organization)] == snapshot
    assert {p.id: p.row_version for p in db.session.scalars(select(Product))} == versions
    assert (count(PriceChange), count(OfferSubmission), count(Product), count(ProductProposal)) == counts


def test_a_price_change_of_a_listed_offer_goes_live_with_its_history(world):
    category, organization, user = world
    existing = existing_product(category)
    offer = listed_offer(existing, organization, "SKU-1")
    version = existing.row_version
    db.session.commit()
    batch = upload(user, category, rows_file([matched_row(existing, price="4799.00")]))

    assert batch.status == BatchStatus.APPLIED, batch.errors
    assert (batch.offers_updated, batch.live_price_changes, batch.sent_to_review) == (1, 1, 0)
    db.session.expire_all()
    offer = db.session.get(Offer, offer.id)
    assert (offer.status, offer.price) == (OfferStatus.LISTED, Decimal("4799.00"))
    history = db.session.scalars(select(PriceChange).where(PriceChange.offer_id == offer.id)).all()
    assert [(h.price, h.market_price, h.source, h.changed_by_id) for h in history] == [
        (Decimal("4799.00"), Decimal("5299.00"), "import", user.id)
    ]
    product = db.session.get(Product, existing.id)
    assert product.row_version == version + 1  # captured on flush for search …
    assert product.search_dirty is False  # … and reindexed after the job's commit
    assert count(OfferSubmission, OfferSubmission.offer_id == offer.id) == 0


def test_a_stock_change_of_a_listed_offer_goes_live_without_a_price_row(world):
    category, organization, user = world
    existing = existing_product(category)
    offer = listed_offer(existing, organization, "SKU-1")
    batch = upload(user, category, rows_file([matched_row(existing, stock="7")]))
    assert (batch.offers_updated, batch.live_price_changes, batch.sent_to_review) == (1, 0, 0)
    db.session.expire_all()
    assert (db.session.get(Offer, offer.id).stock, db.session.get(Offer, offer.id).status) == (
        7,
        OfferStatus.LISTED,
    )
    assert count(PriceChange, PriceChange.offer_id == offer.id) == 0


@pytest.mark.parametrize(
    ("changes", "field", "old", "new"),
    [
        ({"warranty_months": "24"}, "warranty_months", 36, 24),
        ({"lead_time_days": "10"}, "lead_time_days", 3, 10),
        ({"regions": "江苏省"}, "regions", ["110000"], ["320000"]),
        ({"market_price": "5999.00"}, "market_price", "5299.00", "5999.00"),  # a higher reference
    ],
)
def test_other_changes_of_a_listed_offer_go_to_review(world, changes, field, old, new):
    category, organization, user = world
    existing = existing_product(category)
    offer = listed_offer(existing, organization, "SKU-1")
    batch = upload(user, category, rows_file([matched_row(existing, **changes)]))
    assert batch.status == BatchStatus.APPLIED, batch.errors
    assert (batch.offers_updated, batch.sent_to_review, batch.live_price_changes) == (1, 1, 0)
    db.session.expire_all()
    assert (
        db.session.get(Offer, offer.id).status == OfferStatus.PENDING_REVIEW
    )  # out of search until approved
    submission = db.session.scalar(select(OfferSubmission).where(OfferSubmission.offer_id == offer.id))
    assert submission.batch_id == batch.id and submission.closed_at is None
    assert submission.kind == SubmissionKind.CHANGE
    assert submission.changes == {field: [old, new]}


def test_a_lower_reference_price_with_a_lower_price_stays_live(world):
    category, organization, user = world
    existing = existing_product(category)
    offer = listed_offer(existing, organization, "SKU-1")
    batch = upload(
        user, category, rows_file([matched_row(existing, price="4500.00", market_price="4999.00")])
    )
    assert (batch.sent_to_review, batch.live_price_changes) == (0, 1)
    db.session.expire_all()
    assert db.session.get(Offer, offer.id).status == OfferStatus.LISTED


def test_changes_of_a_pending_offer_join_its_open_submission(world):
    category, organization, user = world
    upload(user, category, rows_file([row()]))
    batch = upload(user, category, rows_file([row(price="4899.00", warranty_months="24")]))
    assert (batch.offers_updated, batch.sent_to_review) == (1, 1)
    (offer,) = offers_of(organization)
    submissions = db.session.scalars(
        select(OfferSubmission).where(OfferSubmission.offer_id == offer.id)
    ).all()
    assert len(submissions) == 1  # still one request for review, now with the new values
    assert submissions[0].batch_id == batch.id
    assert submissions[0].changes == {"price": ["4999.00", "4899.00"], "warranty_months": [36, 24]}


# --------------------------------------------------------------------------------------------
# Refusals


def test_a_price_above_the_market_reference_is_refused(world):
    category, organization, user = world
    batch = upload(user, category, rows_file([row(price="5300.00")]))
    assert batch.status == BatchStatus.FAILED_VALIDATION
    assert "价格高于市场参考价" in batch.errors[0]["message"]
    assert offers_of(organization) == []


def test_a_price_change_above_the_market_reference_is_refused_for_a_listed_offer(world):
    category, organization, user = world
    existing = existing_product(category)
    offer = listed_offer(existing, organization, "SKU-1")
    batch = upload(user, category, rows_file([matched_row(existing, price="5500.00")]))
    assert batch.status == BatchStatus.FAILED_VALIDATION
    db.session.expire_all()
    assert db.session.get(Offer, offer.id).price == Decimal("4999.00")


def test_a_sku_cannot_move_to_another_product(world):
    category, organization, user = world
    first = existing_product(category)
    second = existing_product(category, model="ThinkCentre M90t")
    offer = listed_offer(first, organization, "SKU-1")
    batch = upload(user, category, rows_file([matched_row(second, "SKU-1")]))
    assert batch.status == BatchStatus.FAILED_VALIDATION
    assert "不能改为另一商品" in batch.errors[0]["message"]
    db.session.expire_all()
    assert db.session.get(Offer, offer.id).product_id == first.id


def test_specs_contradicting_the_canonical_product_are_refused(world):
    category, _organization, user = world
    existing = existing_product(category)
    batch = upload(user, category, rows_file([matched_row(existing, memory_gb="32GB")]))
    assert batch.status == BatchStatus.FAILED_VALIDATION
    assert "规格不一致" in batch.errors[0]["message"]


def test_a_renamed_duplicate_of_an_existing_product_is_refused(world):
    category, _organization, user = world
    existing_product(category, model="M70t", specs=dict(GOOD_SPECS))
    batch = upload(user, category, rows_file([row(model="M70t-G")]))
    assert batch.status == BatchStatus.FAILED_VALIDATION
    assert "疑似已有标准商品" in batch.errors[0]["message"]


def test_another_suppliers_skus_do_not_matter(world):
    category, _organization, user = world
    other, _other_user = supplier("其他供应商")
    existing = existing_product(category, model="ThinkCentre M90t")
    listed_offer(existing, other, "SKU-1")
    batch = upload(user, category, rows_file([row()]))  # same SKU, another product: fine
    assert batch.status == BatchStatus.APPLIED


# --------------------------------------------------------------------------------------------
# Races, cancellation, progress, failures


def test_a_sku_taken_between_validation_and_apply_fails_the_whole_batch(world):
    category, organization, user = world
    batch = services.create_batch(
        user, category, io.BytesIO(rows_file([row(), row(supplier_sku="SKU-2", model="X2")])), "a.csv"
    )
    outcome = pipeline.validate_file(
        storage.resolve(batch.stored_path),
        "a.csv",
        lookups.category_spec(category),
        category,
        organization.id,
    )
    assert outcome.stats.ok
    other = existing_product(category, model="Other")
    factories.offer(other, organization, supplier_sku="SKU-2")  # another upload won the race
    with pytest.raises(services.ApplyConflict) as caught:
        services.apply_rows(outcome.spool.chunks(), supplier=organization, category=category, user=user)
    assert "SKU-2" in caught.value.problems[0] and "第 3 行" in caught.value.problems[0]
    outcome.spool.close()
    outcome.errors.close()


def test_a_product_created_between_validation_and_apply_fails_the_whole_batch(world):
    category, organization, user = world
    batch = services.create_batch(user, category, io.BytesIO(rows_file([row()])), "a.csv")
    outcome = pipeline.validate_file(
        storage.resolve(batch.stored_path),
        "a.csv",
        lookups.category_spec(category),
        category,
        organization.id,
    )
    existing_product(category, model=GOOD["model"])
    with pytest.raises(services.ApplyConflict) as caught:
        services.apply_rows(outcome.spool.chunks(), supplier=organization, category=category, user=user)
    assert "请重新上传" in caught.value.problems[0]
    outcome.spool.close()
    outcome.errors.close()


def test_cancelling_a_queued_batch_means_the_job_does_nothing(world):
    category, organization, user = world
    batch = upload(user, category, rows_file([row()]), run=False)
    services.request_cancel(batch, user)
    assert batch.status == BatchStatus.CANCELLED
    assert run_import(batch.id) == "skipped"
    assert offers_of(organization) == []


def test_cancelling_while_validating_stops_at_the_next_progress_check(world, monkeypatch):
    category, organization, user = world
    batch = upload(
        user, category, rows_file([row(supplier_sku=f"SKU-{i}", model=f"M{i}") for i in range(3)]), run=False
    )
    real = lookups.DbSkuLookup.product_ids

    def supplier_presses_cancel(self, skus):
        pipeline.write_batch(batch.id, cancel_requested=True)
        return real(self, skus)

    monkeypatch.setattr(lookups.DbSkuLookup, "product_ids", supplier_presses_cancel)
    assert run_import(batch.id) == "cancelled"
    db.session.expire_all()
    batch = db.session.get(ImportBatch, batch.id)
    assert batch.status == BatchStatus.CANCELLED and "没有写入任何数据" in batch.message
    assert offers_of(organization) == []


def test_progress_is_written_while_the_job_runs(world, monkeypatch):
    category, _organization, user = world
    rows = [row(supplier_sku=f"SKU-{i}", model=f"M{i:04d}") for i in range(2500)]
    batch = upload(user, category, rows_file(rows), run=False)
    seen = []
    real = pipeline.Progress.__call__

    def watch(self, stats):
        self.every = 0
        real(self, stats)
        with pipeline._side_session() as session:
            seen.append(session.scalar(select(ImportBatch.rows_read).where(ImportBatch.id == batch.id)))

    monkeypatch.setattr(pipeline.Progress, "__call__", watch)
    assert run_import(batch.id) == "applied"
    assert seen == [1000, 2000, 2500]
    db.session.expire_all()
    assert db.session.get(ImportBatch, batch.id).offers_created == 2500


def test_a_crash_in_the_apply_leaves_nothing_and_says_so(world, monkeypatch):
    category, organization, user = world
    batch = upload(user, category, rows_file([row()]), run=False)

    def broken(*args, **kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(pipeline, "apply_rows", broken)
    assert run_import(batch.id) == "failed"
    db.session.expire_all()
    batch = db.session.get(ImportBatch, batch.id)
    assert batch.status == BatchStatus.FAILED
    assert "没有写入任何数据" in batch.message and f"#{batch.id}" in batch.message
    assert offers_of(organization) == []


def test_a_gbk_csv_is_detected(world):
    category, organization, user = world
    table = matrix([row()])
    batch = upload(user, category, csv_bytes(table, encoding="gbk"))
    assert batch.status == BatchStatus.APPLIED, batch.errors
    assert (batch.format, batch.encoding) == ("csv", "gb18030")
    assert len(offers_of(organization)) == 1


def test_the_stored_file_is_named_by_us(world, upload_dir):
    category, _organization, user = world
    batch = upload(user, category, rows_file([row()]), "../../etc/passwd\x00.csv")
    assert batch.original_filename == "passwd.csv"
    stored = storage.resolve(batch.stored_path)
    assert stored.parent == (upload_dir / str(batch.id)).resolve()
    assert stored.name.startswith("original-") and stored.suffix == ".csv"
    with pytest.raises(ValueError):
        storage.resolve("../outside.csv")
