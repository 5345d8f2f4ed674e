"""The validator's view of the database: a category's spec, its canonical products and the
uploading supplier's SKUs (the :mod:`catalog_import.products` protocols).

The validator asks once per batch of a few hundred rows, so each call is one query. Products are
cached for the whole file (a file usually quotes the same few thousand models over and over);
renamed-duplicate candidates are loaded once per brand.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app.catalog.models import Category, Offer, Product
from app.catalog.services import attribute_specs
from app.extensions import db
from catalog_import import CategorySpec, InMemoryProductLookup, MatchedProduct

# Above this many products of one brand in one category, candidates are queried per row instead
# of being cached: memory stays bounded whatever the catalogue holds.
BRAND_CACHE_LIMIT = 20_000
PRODUCT_CACHE_LIMIT = 50_000

_COLUMNS = (
    Product.id,
    Product.dedup_key,
    Product.brand,
    Product.model,
    Product.specs,
    Product.name,
    Product.manufacturer,
    Product.energy_saving,
    Product.environmental,
    Product.origin,
    Category.code,
    Category.catalog_version,
)


def leaf_categories_with_registry() -> list[Category]:
    """The leaf categories a supplier can upload to: those with an attribute registry."""
    return list(
        db.session.scalars(
            select(Category)
            .where(Category.is_leaf.is_(True), Category.attributes.any())
            .order_by(Category.catalog_version.desc(), Category.code)
        )
    )


def category_for_upload(code: str, version: str | None = None) -> Category | None:
    query = (
        select(Category)
        .where(Category.code == code, Category.is_leaf.is_(True), Category.attributes.any())
        .options(selectinload(Category.attributes))
        .order_by(Category.catalog_version.desc())
    )
    if version:
        query = query.where(Category.catalog_version == version)
    return db.session.scalars(query.limit(1)).first()


def category_spec(category: Category) -> CategorySpec:
    return CategorySpec(
        category.code, category.catalog_version, category.name, tuple(attribute_specs(category.attributes))
    )


def _matched(row) -> MatchedProduct:
    (id_, _key, brand, model, specs, name, manufacturer, energy, environmental, origin, code, version) = row
    return MatchedProduct(
        id=id_,
        category_code=code,
        brand=brand,
        model=model,
        specs=specs or {},
        name=name,
        manufacturer=manufacturer,
        energy_saving=energy,
        environmental=environmental,
        origin=str(origin),
        catalog_version=version,
    )


class DbProductLookup:
    """:class:`catalog_import.ProductLookup` over the ``products`` table."""

    def __init__(self, category: Category):
        self.category_id = category.id
        self._found: dict[str, MatchedProduct] = {}
        self._absent: set[str] = set()
        self._brands: dict[str, InMemoryProductLookup | None] = {}

    def find_many(self, dedup_keys: Collection[str]) -> Mapping[str, MatchedProduct]:
        wanted = [k for k in dedup_keys if k not in self._found and k not in self._absent]
        if wanted:
            if len(self._found) + len(self._absent) > PRODUCT_CACHE_LIMIT:
                self._found.clear()
                self._absent.clear()
            rows = db.session.execute(
                select(*_COLUMNS)
                .join(Category, Product.category_id == Category.id)
                .where(Product.dedup_key.in_(wanted))
            ).all()
            for row in rows:
                self._found[row[1]] = _matched(row)
            self._absent.update(k for k in wanted if k not in self._found)
        found = self._found
        return {k: found[k] for k in dedup_keys if k in found}

    def _brand(self, brand_key: str) -> InMemoryProductLookup | None:
        if brand_key in self._brands:
            return self._brands[brand_key]
        query = (
            select(*_COLUMNS)
            .join(Category, Product.category_id == Category.id)
            .where(
                Product.category_id == self.category_id,
                Product.dedup_key.startswith(brand_key + "|", autoescape=True),
            )
            .limit(BRAND_CACHE_LIMIT + 1)
        )
        rows = db.session.execute(query).all()
        lookup: InMemoryProductLookup | None = None
        if len(rows) <= BRAND_CACHE_LIMIT:
            lookup = InMemoryProductLookup()
            for row in rows:
                try:
                    lookup.add(_matched(row))
                except ValueError:  # two stored keys that normalise alike today: keep the first
                    continue
        self._brands[brand_key] = lookup
        return lookup

    def similar(
        self, category_code: str, brand_key: str, model_key: str, specs: Mapping[str, Any]
    ) -> Iterable[MatchedProduct]:
        lookup = self._brand(brand_key)
        if lookup is not None:
            return lookup.similar(category_code, brand_key, model_key, specs)
        # A brand too big to cache: the candidates share the model's first or last characters.
        prefix = f"{brand_key}|"
        rows = db.session.execute(
            select(*_COLUMNS)
            .join(Category, Product.category_id == Category.id)
            .where(
                Product.category_id == self.category_id,
                Product.dedup_key.startswith(prefix, autoescape=True),
                Product.dedup_key.startswith(prefix + model_key[:3], autoescape=True)
                | Product.dedup_key.endswith(model_key[-3:], autoescape=True),
            )
            .limit(1000)
        ).all()
        return [_matched(row) for row in rows]


class DbSkuLookup:
    """:class:`catalog_import.SkuLookup`: the supplier's existing offers by SKU."""

    def __init__(self, supplier_id: int):
        self.supplier_id = supplier_id
        # A supplier's first upload (the big one) needs no query per batch. Validation only reads:
        # a SKU created meanwhile by someone else is caught again when the batch is applied.
        self._none = (
            db.session.scalar(select(Offer.id).where(Offer.supplier_id == supplier_id).limit(1)) is None
        )

    def product_ids(self, skus: Collection[str]) -> Mapping[str, int]:
        if self._none:
            return {}
        rows = db.session.execute(
            select(Offer.supplier_sku, Offer.product_id).where(
                Offer.supplier_id == self.supplier_id, Offer.supplier_sku.in_(list(skus))
            )
        ).all()
        return dict(rows)
