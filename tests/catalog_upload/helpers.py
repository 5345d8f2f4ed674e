"""Builders for catalog upload tests: a category with its real attribute registry, a supplier, an
uploaded batch run through the job."""

from __future__ import annotations

import io
from collections.abc import Iterable, Mapping
from decimal import Decimal

from sqlalchemy import select

from app.auth.models import Organization, OrgKind, Role, User
from app.catalog.models import Attribute, Category, Offer, OfferStatus, Product
from app.catalog.registry import REGISTRY_BY_CODE, _row_values
from app.catalog.services import normalize_key
from app.catalog_upload import services
from app.catalog_upload.jobs import run_import
from app.catalog_upload.models import ImportBatch
from app.core.db import utcnow
from app.extensions import db
from tests import factories
from tests.catalog_import.helpers import GOOD, file_bytes, row

DESKTOP = "A02010105"
# The specs GOOD proposes, as stored after coercion.
GOOD_SPECS = {
    "cpu": "英特尔酷睿i5-13500",
    "memory_gb": 16,
    "storage_gb": 512,
    "storage_type": "SSD",
    "os": "统信UOS",
    "form_factor": "立式",
    "screen_inch": 23.8,
    "energy_class": "1级",
}

__all__ = ["GOOD", "file_bytes", "row"]


def registry_category(code: str = DESKTOP) -> Category:
    """A leaf category with the attribute registry the mall ships for it."""
    registry = REGISTRY_BY_CODE[code]
    category = Category(code=code, name=registry.name, level=4, kind="goods", is_leaf=True)
    db.session.add(category)
    for index, definition in enumerate(registry.attributes, start=1):
        category.attributes.append(Attribute(code=definition.code, **_row_values(definition, index * 10)))
    db.session.flush()
    return category


def ensure_registry_category(code: str = DESKTOP) -> Category:
    found = db.session.scalar(select(Category).where(Category.code == code))
    return found if found is not None else registry_category(code)


def supplier(name: str = "测试供应商") -> tuple[Organization, User]:
    organization = factories.org(OrgKind.SUPPLIER, name=name)
    return organization, factories.user(organization, Role.SUPPLIER)


def existing_product(
    category: Category, brand: str = "联想", model: str = "ThinkCentre M80t", **kw
) -> Product:
    specs = kw.pop("specs", dict(GOOD_SPECS))
    product = factories.product(category, brand=brand, model=model, specs=specs, energy_saving=True, **kw)
    assert product.dedup_key == normalize_key(brand, model)
    return product


def listed_offer(product: Product, organization: Organization, sku: str, **kw) -> Offer:
    values = {
        "price": Decimal("4999.00"),
        "market_price": Decimal("5299.00"),
        "market_price_source": "京东自营",
        "stock": 100,
        "regions": sorted(kw.pop("regions", ["110000"])),
        "warranty_months": 36,
        "lead_time_days": 3,
        "status": OfferStatus.LISTED,
        "listed_at": utcnow(),
    }
    values.update(kw)
    return factories.offer(product, organization, supplier_sku=sku, **values)


def upload(
    user: User, category: Category, data: bytes, filename: str = "catalog.csv", *, run: bool = True
) -> ImportBatch:
    """Create a batch as the upload page does and run its job (in-process), then reload it."""
    batch = services.create_batch(user, category, io.BytesIO(data), filename)
    batch_id = batch.id
    if run:
        run_import(batch_id)
    db.session.expire_all()
    return db.session.get(ImportBatch, batch_id)


def rows_file(rows: Iterable[Mapping[str, str]], fmt: str = "csv") -> bytes:
    return file_bytes(list(rows), fmt)
