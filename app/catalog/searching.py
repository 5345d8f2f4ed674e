"""From a request's arguments to a search, and from the hits back to products the pages can show.

Shared by the search page and the search API: the same arguments, the same validation and
messages, the same facets. Attribute filters are typed by the registry (``a.<code>=value`` for
enum/bool/number values, ``a.<code>.min`` / ``a.<code>.max`` for numeric ranges).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from flask_babel import lazy_gettext
from marshmallow import ValidationError, fields, validate, validates
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload
from werkzeug.datastructures import MultiDict

from app.catalog.indexing import search_backend
from app.catalog.models import Attribute, AttributeType, Category, Offer, OfferStatus, Product
from app.catalog.regions import PROVINCES
from app.core.schemas import QuerySchema
from app.extensions import db
from search import FacetKind, FacetRequest, NumericRange, SearchQuery, SearchResult, Sort
from search.model import MAX_PAGE, MAX_PER_PAGE, ValueType
from search.text import highlight, parse_text

SORT_LABELS = {
    Sort.RELEVANCE: lazy_gettext("综合排序"),
    Sort.PRICE_ASC: lazy_gettext("价格从低到高"),
    Sort.PRICE_DESC: lazy_gettext("价格从高到低"),
    Sort.RATING: lazy_gettext("供应商信用"),  # the suppliers' credit score (app/oversight/credit.py)
    Sort.NEWEST: lazy_gettext("最新上架"),
}
MAX_QUERY_LENGTH = 200
MAX_PRICE = Decimal("999999999999")
PRICE_EDGE_TTL_S = 300


class SearchArgs(QuerySchema):
    q = fields.String(
        load_default="",
        validate=validate.Length(max=MAX_QUERY_LENGTH, error="搜索词不能超过 200 个字符，请精简后再试"),
    )
    category = fields.String(
        load_default=None, validate=validate.Regexp(r"^[ABC]\d{8}$", error="品目编码格式不正确")
    )
    brand = fields.List(fields.String(validate=validate.Length(min=1, max=64)), load_default=list)
    # Ranges checked below, not by validate.Range: the OpenAPI generator would copy Decimal bounds.
    price_min = fields.Decimal(load_default=None, places=2, metadata={"description": "最低价（元，含）"})
    price_max = fields.Decimal(load_default=None, places=2, metadata={"description": "最高价（元，含）"})

    @validates("price_min", "price_max")
    def check_price(self, value: Decimal | None, data_key: str, **_kwargs) -> None:
        if value is not None and not (0 <= value <= MAX_PRICE):
            raise ValidationError("价格应在 0 到 9999 亿元之间")

    region = fields.String(
        load_default=None, validate=validate.OneOf(sorted(PROVINCES), error="未知的地区代码")
    )
    in_stock = fields.Boolean(load_default=False)
    energy_saving = fields.Boolean(load_default=False)
    environmental = fields.Boolean(load_default=False)
    sme = fields.Boolean(load_default=False)
    supplier = fields.List(fields.Integer(validate=validate.Range(min=1)), load_default=list)
    sort = fields.String(
        load_default=Sort.RELEVANCE.value,
        validate=validate.OneOf([s.value for s in Sort], error="排序方式无效"),
    )
    page = fields.Integer(
        load_default=1,
        validate=validate.Range(
            min=1, max=MAX_PAGE, error=f"页码应在 1 到 {MAX_PAGE} 之间；请添加筛选条件缩小范围"
        ),
    )
    per_page = fields.Integer(
        load_default=20,
        validate=validate.Range(min=1, max=MAX_PER_PAGE, error=f"每页数量应在 1 到 {MAX_PER_PAGE} 之间"),
    )


LIST_ARGS = ("brand", "supplier")


def load_args(args: MultiDict) -> dict:
    """Validate the plain arguments (raises marshmallow.ValidationError with Chinese messages)."""
    raw = {
        key: args.getlist(key) if key in LIST_ARGS else args.get(key)
        for key in args
        if not key.startswith("a.")
    }
    return SearchArgs().load(raw)


@dataclass
class AttrFilters:
    terms: dict[str, tuple] = field(default_factory=dict)
    ranges: dict[str, tuple[NumericRange, ...]] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    chips: list[tuple[str, str, str]] = field(default_factory=list)  # (label, arg key, arg value)


def _number(text: str) -> Decimal | None:
    try:
        value = Decimal(text.strip())
    except (InvalidOperation, AttributeError):
        return None
    return value if value.is_finite() and abs(value) < Decimal("1e12") else None


def parse_attr_filters(args: MultiDict, attributes: list[Attribute]) -> AttrFilters:
    """``a.<code>`` filters, typed by the registry. Unknown codes and values that do not fit their
    type are ignored with a message (old links must not break the page)."""
    by_code = {a.code: a for a in attributes}
    result = AttrFilters()
    for key in sorted({k for k in args if k.startswith("a.")}):
        code, _, bound = key[2:].partition(".")
        attribute = by_code.get(code)
        if attribute is None:
            result.warnings.append(f"未知的规格参数「{code[:40]}」，已忽略该筛选条件")
            continue
        if bound in ("min", "max"):
            if attribute.type is not AttributeType.NUMBER:
                result.warnings.append(f"「{attribute.label_zh}」不是数值参数，不能按范围筛选")
                continue
            value = _number(args.get(key, ""))
            if value is None:
                result.warnings.append(
                    f"「{attribute.label_zh}」的{'下限' if bound == 'min' else '上限'}应为数字，已忽略"
                )
                continue
            current = result.ranges.get(code, (NumericRange(),))[0]
            low = float(value) if bound == "min" else current.low
            # The upper bound a person types is inclusive; ranges are low <= v < high.
            high = float(value) + 1e-9 if bound == "max" else current.high
            result.ranges[code] = (NumericRange(low, high),)
            result.chips.append(
                (
                    f"{attribute.label_zh}{'≥' if bound == 'min' else '≤'}{value}{attribute.unit or ''}",
                    key,
                    args.get(key),
                )
            )
            continue
        if bound:
            result.warnings.append(f"无法识别的筛选条件「{key[:40]}」，已忽略")
            continue
        values = []
        for raw in args.getlist(key):
            value = _typed_value(attribute, raw)
            if value is None:
                result.warnings.append(f"「{attribute.label_zh}」没有「{raw[:40]}」这个取值，已忽略")
                continue
            values.append(value)
            result.chips.append((f"{attribute.label_zh}：{_display(attribute, value)}", key, raw))
        if values:
            result.terms[code] = tuple(values)
    return result


def _typed_value(attribute: Attribute, raw: str):
    if attribute.type is AttributeType.BOOL:
        return {"true": True, "false": False, "是": True, "否": False}.get(raw.strip().lower())
    if attribute.type is AttributeType.NUMBER:
        value = _number(raw)
        if value is None:
            return None
        return int(value) if value == value.to_integral_value() else float(value)
    if attribute.type is AttributeType.ENUM:
        return raw if raw in (attribute.enum_values or ()) else None
    return raw.strip()[:200] or None


def _display(attribute: Attribute, value) -> str:
    if isinstance(value, bool):
        return "是" if value else "否"
    return f"{value}{attribute.unit or ''}" if attribute.type is AttributeType.NUMBER else str(value)


# -- price buckets ---------------------------------------------------------------------------------

_price_edges: dict[str, tuple[float, tuple[float, ...]]] = {}


def nice_edges(low: float, high: float, buckets: int = 5) -> tuple[float, ...]:
    """Round-number edges (1-2-5 steps) splitting [low, high] into about ``buckets`` price ranges on a
    logarithmic scale: prices spread over orders of magnitude."""
    if low <= 0 or high <= low:
        return ()
    edges = []
    for i in range(1, buckets):
        raw = low * (high / low) ** (i / buckets)
        magnitude = 10 ** math.floor(math.log10(raw))
        nice = min((m * magnitude for m in (1, 2, 5, 10)), key=lambda n: abs(n - raw))
        if not edges or nice > edges[-1]:
            edges.append(float(nice))
    return tuple(edges)


def price_ranges(category: Category | None) -> tuple[NumericRange, ...]:
    key = category.code if category else "*"
    cached = _price_edges.get(key)
    if cached is None or time.monotonic() - cached[0] > PRICE_EDGE_TTL_S:
        query = select(func.min(Offer.price), func.max(Offer.price)).where(Offer.status == OfferStatus.LISTED)
        if category is not None:
            query = query.join(Product).where(Product.category_id.in_(descendant_ids(category)))
        low, high = db.session.execute(query).one()
        edges = nice_edges(float(low), float(high)) if low is not None else ()
        cached = (time.monotonic(), edges)
        _price_edges[key] = cached
    edges = cached[1]
    if not edges:
        return ()
    bounds = (None, *edges, None)
    return tuple(NumericRange(bounds[i], bounds[i + 1]) for i in range(len(bounds) - 1))


def descendant_ids(category: Category) -> list[int]:
    ids, frontier = [category.id], [category.id]
    while frontier:
        frontier = list(db.session.scalars(select(Category.id).where(Category.parent_id.in_(frontier))))
        ids.extend(frontier)
    return ids


# -- the search ------------------------------------------------------------------------------------

VALUE_TYPES = {AttributeType.NUMBER: ValueType.NUMBER, AttributeType.BOOL: ValueType.BOOL}


@dataclass
class Search:
    args: dict
    category: Category | None
    attributes: list[Attribute]
    attr_filters: AttrFilters
    query: SearchQuery
    result: SearchResult
    products: dict[int, Product]
    offers: dict[int, Offer]
    categories: dict[str, Category]

    @property
    def warnings(self) -> list[str]:
        return self.attr_filters.warnings

    def highlighted(self, product: Product) -> list[tuple[str, bool]]:
        return highlight(product.name, parse_text(self.args["q"]))


def facet_requests(category: Category | None, attributes: list[Attribute]) -> tuple[FacetRequest, ...]:
    facets = [FacetRequest("category", size=20), FacetRequest("brand", size=20)]
    ranges = price_ranges(category)
    if ranges:
        facets.append(FacetRequest("price", kind=FacetKind.RANGES, ranges=ranges))
    for attribute in attributes:
        if attribute.facetable:
            facets.append(
                FacetRequest(
                    f"attr:{attribute.code}",
                    size=12,
                    value_type=VALUE_TYPES.get(attribute.type, ValueType.KEYWORD),
                )
            )
    return tuple(facets)


def run_search(request_args: MultiDict) -> Search:
    args = load_args(request_args)
    category = None
    if args["category"]:
        category = db.session.scalar(
            select(Category)
            .where(Category.code == args["category"])
            .options(selectinload(Category.attributes))
        )
        if category is None:
            raise ValidationError({"category": [f"品目 {args['category']} 不存在"]})
    # Attribute facets and filters need one registry: a leaf category's.
    attributes = list(category.attributes) if category is not None and category.is_leaf else []
    attr_filters = parse_attr_filters(request_args, attributes)
    if any(k.startswith("a.") for k in request_args) and not attributes:
        attr_filters.warnings.append("请先选择一个末级品目，再按规格参数筛选")
    query = SearchQuery(
        text=args["q"],
        category_codes=(category.code,) if category else (),
        brands=tuple(args["brand"]),
        attr_terms=attr_filters.terms,
        attr_ranges=attr_filters.ranges,
        price_min=args["price_min"],
        price_max=args["price_max"],
        region=args["region"],
        in_stock=args["in_stock"],
        sme_only=args["sme"],
        supplier_ids=tuple(args["supplier"]),
        energy_saving=args["energy_saving"],
        environmental=args["environmental"],
        sort=Sort(args["sort"]),
        page=args["page"],
        per_page=args["per_page"],
        facets=facet_requests(category, attributes),
    )
    result = search_backend().search(query)
    # Show what the database says now: names, specs, the offer's supplier (prices shown are the
    # index's lowest matching price; at order time prices always come from the database).
    ids = [hit.product_id for hit in result.hits]
    products = {
        p.id: p
        for p in db.session.scalars(
            select(Product).where(Product.id.in_(ids)).options(selectinload(Product.category))
        )
    }
    offers = {
        o.id: o
        for o in db.session.scalars(
            select(Offer)
            .where(Offer.id.in_([h.offer_id for h in result.hits]))
            .options(selectinload(Offer.supplier))
        )
    }
    codes = [b.key for b in result.facets["category"].buckets] if "category" in result.facets else []
    categories = {c.code: c for c in db.session.scalars(select(Category).where(Category.code.in_(codes)))}
    return Search(
        args=args,
        category=category,
        attributes=attributes,
        attr_filters=attr_filters,
        query=query,
        result=result,
        products=products,
        offers=offers,
        categories=categories,
    )
