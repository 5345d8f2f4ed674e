"""Catalog verbs. They flush, never commit."""

from __future__ import annotations

import csv
from collections.abc import Iterable
from pathlib import Path

from sqlalchemy import select

from app.catalog.models import CATALOG_VERSION, Attribute, Category, Offer, PriceChange, Product
from app.core.money import to_money
from app.extensions import db
from catalog_import.normalize import normalize_key as import_normalize_key
from catalog_import.specs import AttributeSpec, SpecResult, validate_specs
from config import BASE_DIR

CATALOG_CSV = BASE_DIR / "data" / "gp_catalog_2022.csv"


def load_categories(path: Path = CATALOG_CSV, version: str = CATALOG_VERSION) -> int:
    """Load (or update) the whole item catalogue; idempotent. Returns how many rows were new."""
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    existing = {
        c.code: c for c in db.session.scalars(select(Category).where(Category.catalog_version == version))
    }
    parents_with_children = {row["parent_code"] for row in rows if row["parent_code"]}
    created = 0
    # The file is sorted by code, so a parent always precedes its children.
    for row in rows:
        category = existing.get(row["code"])
        if category is None:
            category = Category(catalog_version=version, code=row["code"])
            db.session.add(category)
            existing[row["code"]] = category
            created += 1
        category.name = row["name"]
        category.level = int(row["level"])
        category.kind = row["kind"]
        category.description = row["description"]
        category.is_leaf = row["code"] not in parents_with_children
        category.parent = existing[row["parent_code"]] if row["parent_code"] else None
    db.session.flush()
    return created


def category_by_code(code: str, version: str = CATALOG_VERSION) -> Category | None:
    return db.session.scalar(
        select(Category).where(Category.catalog_version == version, Category.code == code)
    )


def attribute_specs(attributes: Iterable[Attribute]) -> list[AttributeSpec]:
    return [
        AttributeSpec(
            code=a.code,
            label=a.label_zh,
            type=str(a.type),
            unit=a.unit,
            required=a.required,
            enum_values=tuple(a.enum_values or ()),
            min_value=a.min_value,
            max_value=a.max_value,
        )
        for a in attributes
    ]


def validate_product_specs(category: Category, raw: dict) -> SpecResult:
    return validate_specs(attribute_specs(category.attributes), raw)


def normalize_key(brand: str, model: str) -> str:
    """Duplicate detection key: brand and model compared without case, width or separators.
    The rule lives in ``catalog_import.normalize`` so uploads compute the same key."""
    return import_normalize_key(brand, model)


class SpecsInvalid(ValueError):
    def __init__(self, errors: dict[str, str]):
        super().__init__("；".join(errors.values()))
        self.errors = errors


def save_product(product: Product, raw_specs: dict) -> Product:
    """Validate specs against the registry on every write, then store the coerced values."""
    result = validate_product_specs(product.category, raw_specs)
    if not result.ok:
        raise SpecsInvalid(result.errors)
    product.specs = result.values
    product.dedup_key = normalize_key(product.brand, product.model)
    if product.id is not None:
        product.row_version = (product.row_version or 0) + 1
    db.session.add(product)
    db.session.flush()
    return product


def change_price(offer: Offer, new_price, *, by=None, source: str = "manual") -> bool:
    """Set an offer's price and keep it in the price history. Returns whether it changed."""
    price = to_money(new_price)
    if price <= 0:
        raise ValueError("价格必须大于 0")
    if offer.price == price:
        return False
    offer.price = price
    db.session.add(
        PriceChange(
            offer=offer,
            price=price,
            market_price=offer.market_price,
            changed_by_id=getattr(by, "id", None),
            source=source,
        )
    )
    db.session.flush()
    return True
