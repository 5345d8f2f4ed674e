"""What the app hands the search library (documents, queries) and what it gets back (results).

Plain dataclasses: no Flask, no SQLAlchemy. Money stays Decimal up to the backend boundary.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

# ---------------------------------------------------------------------------------------------
# Documents


@dataclass(frozen=True)
class OfferDoc:
    """One listed offer of a product: the unit that price, region and stock filters apply to."""

    offer_id: int
    supplier_id: int
    price: Decimal
    regions: tuple[str, ...]
    stock: int
    supplier_sme: bool = False
    supplier_rating: float = 0.0


@dataclass(frozen=True)
class ProductDoc:
    product_id: int
    version: int  # the product's row version; older versions never overwrite newer ones
    active: bool  # False: soft-deleted (delisted, no listed offer); kept so late writes lose
    category_code: str
    category_path: tuple[str, ...]  # the category and all its ancestors, root first
    brand: str
    model: str
    name: str
    text: str  # everything searchable: name, brand, model, category, spec values
    specs: Mapping[str, object]
    energy_saving: bool
    environmental: bool
    origin: str
    rating: float
    listed_at: datetime  # newest listing, for the "newest" sort
    offers: tuple[OfferDoc, ...] = ()


# ---------------------------------------------------------------------------------------------
# Queries


class Sort(enum.StrEnum):
    RELEVANCE = "relevance"
    PRICE_ASC = "price_asc"
    PRICE_DESC = "price_desc"
    RATING = "rating"
    NEWEST = "newest"


@dataclass(frozen=True)
class NumericRange:
    """``low <= value < high``; either side may be open."""

    low: float | None = None
    high: float | None = None

    @property
    def key(self) -> str:
        low = "*" if self.low is None else _num(self.low)
        high = "*" if self.high is None else _num(self.high)
        return f"{low}-{high}"


def _num(value: float | Decimal) -> str:
    text = f"{value:f}" if isinstance(value, Decimal) else repr(float(value))
    return text.rstrip("0").rstrip(".") if "." in text else text


class FacetKind(enum.StrEnum):
    TERMS = "terms"  # one bucket per value
    RANGES = "ranges"  # one bucket per given range


class ValueType(enum.StrEnum):
    KEYWORD = "keyword"
    NUMBER = "number"
    BOOL = "bool"


AttrValue = str | int | float | bool


@dataclass(frozen=True)
class FacetRequest:
    """A facet to count, in products. ``name`` is ``brand``, ``category`` (leaf category codes),
    ``price`` (ranges over matching offers' prices) or ``attr:<code>`` (with its value type).
    Each facet is counted under every condition of the query except its own, so the other values
    of a multi-select facet stay visible."""

    name: str
    kind: FacetKind = FacetKind.TERMS
    ranges: tuple[NumericRange, ...] = ()
    value_type: ValueType = ValueType.KEYWORD
    size: int = 30

    @property
    def attr_code(self) -> str | None:
        return self.name.removeprefix("attr:") if self.name.startswith("attr:") else None


@dataclass(frozen=True)
class SearchQuery:
    text: str = ""
    # Products whose category is one of these codes or lies below one of them.
    category_codes: tuple[str, ...] = ()
    brands: tuple[str, ...] = ()
    # attr code -> accepted values, any of them (enum multi-select, exact numbers, booleans). The
    # Python type says which typed field is meant: str → keyword, int/float → number, bool → bool.
    attr_terms: Mapping[str, tuple[AttrValue, ...]] = field(default_factory=dict)
    # attr code -> numeric ranges; several ranges of one attribute are alternatives.
    attr_ranges: Mapping[str, tuple[NumericRange, ...]] = field(default_factory=dict)
    # Offer-level conditions: one offer must satisfy all of them together.
    price_min: Decimal | None = None
    price_max: Decimal | None = None
    region: str | None = None
    in_stock: bool = False
    sme_only: bool = False
    supplier_ids: tuple[int, ...] = ()
    # Product-level policy flags.
    energy_saving: bool = False
    environmental: bool = False
    sort: Sort = Sort.RELEVANCE
    page: int = 1
    per_page: int = 20
    facets: tuple[FacetRequest, ...] = ()

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.per_page

    @property
    def has_offer_conditions(self) -> bool:
        return (
            self.price_min is not None
            or self.price_max is not None
            or self.region is not None
            or self.in_stock
            or self.sme_only
            or bool(self.supplier_ids)
        )


# The deepest page a query may ask for: deep paging costs grow with the offset.
MAX_PAGE = 50
MAX_PER_PAGE = 100


# ---------------------------------------------------------------------------------------------
# Results


@dataclass(frozen=True)
class ProductHit:
    product_id: int
    min_price: Decimal  # the lowest price among the offers that match the query
    offer_id: int  # that offer
    supplier_count: int  # suppliers with a matching offer
    score: float | None = None


@dataclass(frozen=True)
class FacetBucket:
    key: str  # the value as text (numbers without trailing zeros), or NumericRange.key
    count: int  # products
    selected: bool = False
    value: AttrValue | NumericRange | None = None  # the typed value behind the key


@dataclass(frozen=True)
class Facet:
    name: str
    buckets: tuple[FacetBucket, ...]


@dataclass(frozen=True)
class SearchResult:
    total: int  # products
    hits: tuple[ProductHit, ...]
    facets: Mapping[str, Facet]
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


def price_bucket_selected(query: SearchQuery, bucket: NumericRange) -> bool:
    """Whether a price bucket is the query's price filter. Buckets are ``low <= p < high``; the
    query's bounds are inclusive, so a bucket is selected as ``[low, high − ¥0.01]``."""
    if query.price_min is None and query.price_max is None:
        return False
    low = None if bucket.low is None else Decimal(str(bucket.low)).quantize(Decimal("0.01"))
    high = (
        None if bucket.high is None else Decimal(str(bucket.high)).quantize(Decimal("0.01")) - Decimal("0.01")
    )
    return query.price_min == low and query.price_max == high


def format_key(value: object) -> str:
    """Bucket keys as text: numbers without trailing zeros (16, 15.6), booleans true/false."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float | Decimal):
        return _num(value)
    return str(value)
