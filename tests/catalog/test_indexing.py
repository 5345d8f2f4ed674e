"""Capture on flush, reindex after commit, the dirty-flag sweeper, rebuilds and the CLI."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from sqlalchemy import select

from app.auth.models import OrgKind
from app.catalog import indexing
from app.catalog.models import OfferStatus, Product
from search import SearchQuery
from tests import factories


@pytest.fixture
def backend(app, db_session):
    backend = indexing.search_backend(app)
    backend.rebuild([])  # every test starts from an empty index
    return backend


def found(backend, **kwargs) -> dict[int, Decimal]:
    backend.refresh()
    return {h.product_id: h.min_price for h in backend.search(SearchQuery(per_page=100, **kwargs)).hits}


def test_a_committed_price_change_reaches_the_index(app, db_session, backend):
    offer = factories.offer(price=Decimal("4999.00"))
    db_session.commit()
    product = offer.product
    assert found(backend)[product.id] == Decimal("4999.00")
    version = product.row_version
    offer.price = Decimal("4888.00")
    db_session.commit()
    db_session.refresh(product)
    assert product.row_version == version + 1
    assert product.search_dirty is False  # the job ran after commit and cleared it
    assert found(backend)[product.id] == Decimal("4888.00")


def test_nothing_is_indexed_on_rollback(app, db_session, backend):
    offer = factories.offer(price=Decimal("4999.00"))
    db_session.commit()
    offer.price = Decimal("1.00")
    db_session.flush()
    db_session.rollback()
    assert found(backend)[offer.product_id] == Decimal("4999.00")


def test_delisting_soft_deletes_and_relisting_returns(app, db_session, backend):
    offer = factories.offer()
    db_session.commit()
    offer.status = OfferStatus.DELISTED
    db_session.commit()
    assert offer.product_id not in found(backend)
    offer.status = OfferStatus.LISTED
    db_session.commit()
    assert offer.product_id in found(backend)


def test_a_lost_job_is_healed_by_the_sweeper(app, db_session, backend, monkeypatch):
    offer = factories.offer(price=Decimal("100.00"))
    db_session.commit()
    monkeypatch.setattr("app.core.jobs.enqueue_now", lambda *a, **k: None)  # the job is lost
    offer.price = Decimal("90.00")
    db_session.commit()
    product = db_session.get(Product, offer.product_id)
    db_session.refresh(product)
    assert product.search_dirty is True
    assert found(backend)[product.id] == Decimal("100.00")
    assert indexing.sweep_dirty() >= 1
    db_session.refresh(product)
    assert product.search_dirty is False
    assert found(backend)[product.id] == Decimal("90.00")


def test_a_suppliers_sme_change_reindexes_its_products(app, db_session, backend):
    supplier = factories.org(OrgKind.SUPPLIER, is_sme=False)
    offer = factories.offer(supplier=supplier)
    db_session.commit()
    assert offer.product_id not in found(backend, sme_only=True)
    supplier.is_sme = True
    db_session.commit()
    assert offer.product_id in found(backend, sme_only=True)


def test_specs_and_units_are_searchable(app, db_session, backend):
    category = factories.category(name="便携式计算机")
    factories.attribute(category, "memory_gb", unit="GB")
    product = factories.product(category, brand="华为", model="MateBook 14", specs={"memory_gb": 16})
    factories.offer(product)
    db_session.commit()
    assert product.id in found(backend, text="16GB")
    assert product.id in found(backend, text="笔记本电脑")  # synonym of the category name
    assert product.id in found(backend, text="matebook")


def test_rebuild_indexes_everything_and_cleans_the_flags(app, db_session, backend, monkeypatch):
    monkeypatch.setattr("app.core.jobs.enqueue_now", lambda *a, **k: None)
    offers = [factories.offer() for _ in range(3)]
    db_session.commit()
    assert db_session.scalar(select(Product).where(Product.search_dirty.is_(True))) is not None
    assert indexing.rebuild() >= 3
    db_session.commit()
    assert {o.product_id for o in offers} <= set(found(backend))
    assert indexing.dirty_count() == 0


def test_cli_status_and_rebuild(app, db_session, backend):
    factories.offer()
    db_session.commit()
    runner = app.test_cli_runner()
    result = runner.invoke(args=["search", "rebuild"])
    assert result.exit_code == 0, result.output
    assert "搜索索引已重建" in result.output
    status = json.loads(runner.invoke(args=["search", "status"]).output)
    assert status["backend"] == "tantivy"
    assert status["products"] >= 1
    assert status["dirty_products"] == 0
