"""What the validator needs to know about the mall's canonical products, behind two protocols the
app implements over its database: :class:`ProductLookup` (products by dedup key, and the
candidates for a renamed duplicate) and :class:`SkuLookup` (which product a supplier's existing
SKU already quotes). :class:`InMemoryProductLookup` implements the first over a list, for tests,
the benchmark and small API batches.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from catalog_import.normalize import normalize_key


@dataclass(frozen=True, slots=True)
class MatchedProduct:
    """A canonical product (标准商品) as the validator sees it. ``specs`` are coerced values
    (``{"memory_gb": 16}``); ``origin`` is ``domestic`` or ``imported``."""

    id: int
    category_code: str
    brand: str
    model: str
    specs: Mapping[str, Any] = field(default_factory=dict)
    name: str = ""
    manufacturer: str = ""
    energy_saving: bool = False
    environmental: bool = False
    origin: str = "domestic"
    catalog_version: str = "2022"

    @property
    def dedup_key(self) -> str:
        return normalize_key(self.brand, self.model)

    @property
    def title(self) -> str:
        return f"{self.brand} {self.model}"


@runtime_checkable
class ProductLookup(Protocol):
    """Canonical products for the validator. Called once per batch of rows (a few hundred), so a
    database implementation makes one query per call."""

    def find_many(self, dedup_keys: Collection[str]) -> Mapping[str, MatchedProduct]:
        """The products whose ``Product.dedup_key`` is one of ``dedup_keys``, by that key."""
        ...

    def similar(
        self, category_code: str, brand_key: str, model_key: str, specs: Mapping[str, Any]
    ) -> Iterable[MatchedProduct]:
        """Candidates for a renamed duplicate of a proposed new product: the products of the
        same category whose dedup key starts with ``brand_key + "|"``. May return more (the
        validator keeps only those whose specs agree and whose model differs by a prefix or a
        suffix); an implementation may narrow by ``model_key`` or ``specs`` when it can."""
        ...


@runtime_checkable
class SkuLookup(Protocol):
    """The uploading supplier's existing offers."""

    def product_ids(self, skus: Collection[str]) -> Mapping[str, int]:
        """For each of ``skus`` the supplier already has an offer under, its product id."""
        ...


class InMemoryProductLookup:
    """:class:`ProductLookup` over products held in memory."""

    def __init__(self, products: Iterable[MatchedProduct] = ()):
        self._by_key: dict[str, MatchedProduct] = {}
        # Renamed-duplicate candidates share the first or the last three characters of the model
        # key with the row (one model key is a prefix or a suffix of the other, at least three
        # characters long), so indexing both ends finds all of them without a scan.
        self._by_end: dict[tuple[str, str, str], list[MatchedProduct]] = {}
        for product in products:
            self.add(product)

    def add(self, product: MatchedProduct) -> None:
        key = product.dedup_key
        if key in self._by_key:
            raise ValueError(f"duplicate dedup key {key!r}")
        self._by_key[key] = product
        brand_key, model_key = key.split("|", 1)
        for end in {model_key[:3], "$" + model_key[-3:]}:
            self._by_end.setdefault((product.category_code, brand_key, end), []).append(product)

    def __len__(self) -> int:
        return len(self._by_key)

    def find_many(self, dedup_keys: Collection[str]) -> Mapping[str, MatchedProduct]:
        found = {}
        for key in dedup_keys:
            product = self._by_key.get(key)
            if product is not None:
                found[key] = product
        return found

    def similar(
        self, category_code: str, brand_key: str, model_key: str, specs: Mapping[str, Any]
    ) -> Iterable[MatchedProduct]:
        found: dict[int, MatchedProduct] = {}
        for end in (model_key[:3], "$" + model_key[-3:]):
            for product in self._by_end.get((category_code, brand_key, end), ()):
                found[product.id] = product
        return list(found.values())


class DictSkuLookup:
    """:class:`SkuLookup` over a dict ``{sku: product_id}``."""

    def __init__(self, mapping: Mapping[str, int]):
        self.mapping = dict(mapping)

    def product_ids(self, skus: Collection[str]) -> Mapping[str, int]:
        return {sku: self.mapping[sku] for sku in skus if sku in self.mapping}
