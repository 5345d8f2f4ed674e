"""SearchQuery → Elasticsearch request body, and the response → SearchResult. Pure functions, so
the request shapes are tested without a cluster (tests/search/fixtures/es/*.json pin them).

How the contract in search/backend.py maps onto one request:

- Product conditions are ``bool.filter`` clauses; text is scored in ``bool.must``.
- All offer conditions live in ONE ``nested`` query on ``offers``, so a single offer must satisfy
  them together. It is always present (``match_all`` inside when there are no offer conditions):
  a product without a listed offer never matches. Its ``inner_hits`` return the matching offers
  cheapest first (ties: lowest offer id) — the first is the hit's lowest matching offer, their
  distinct supplier ids are its supplier count.
- Facets: a filter that belongs to a REQUESTED facet (brands ↔ ``brand``, category_codes ↔
  ``category``, price_min/max ↔ ``price``, attr_terms/attr_ranges of X ↔ ``attr:X``) goes into
  ``post_filter`` instead of the query, and every facet aggregation sits in a ``filter`` agg
  holding all the OTHER post-filter clauses: each facet is counted under every condition except
  its own. A filter whose facet is not requested stays in the query (nothing needs it excluded).
  When the price filter is post-filtered, the query keeps a nested query with the other offer
  conditions, and the post_filter carries the nested query with ALL of them (price included,
  with the inner_hits), so single-offer semantics hold for hits and for the other facets.
- Facet counts are products: terms/range aggs on product fields count root documents; the price
  facet counts offers in a ``nested`` agg and converts back to products with ``reverse_nested``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Any

from search.backend import SearchError
from search.model import (
    AttrValue,
    Facet,
    FacetBucket,
    FacetKind,
    FacetRequest,
    NumericRange,
    ProductHit,
    SearchQuery,
    SearchResult,
    Sort,
    ValueType,
    format_key,
    price_bucket_selected,
)
from search.text import parse_text

OFFERS = "offers"
# Matching offers returned per hit. 100 is Elasticsearch's default index.max_inner_result_window;
# a product with more matching offers gets its supplier count from a follow-up aggregation.
INNER_HITS_SIZE = 100
OFFER_FIELDS = ("offers.offer_id", "offers.supplier_id", "offers.price")
# index.max_result_window: from + size beyond it is an error, so such a page is fetched with
# size 0 (empty, as the contract wants for a page beyond the end; total and facets still right).
MAX_RESULT_WINDOW = 10_000
# Cardinality is exact (up to 32-bit hash collisions) below this; the maximum Elasticsearch allows.
CARDINALITY_PRECISION = 40_000
# Inclusive price bounds are sent half a fen outside the bound: Elasticsearch scales a
# scaled_float range bound as a double and floors/ceils it, so ``lte: 79.99`` becomes
# ``<= 7998`` fen (79.99 × 100 = 7998.999…; elastic/elasticsearch#32570). Half a fen away from
# every stored value the rounding cannot go wrong.
HALF_FEN = Decimal("0.005")

TERMS_ORDER = [{"_count": "desc"}, {"_key": "asc"}]
MATCH_ALL: dict[str, Any] = {"match_all": {}}


# ---------------------------------------------------------------------------------------------
# Request


def build_search_body(query: SearchQuery) -> dict[str, Any]:
    """The body of ``POST /<read alias>/_search`` for ``query``."""
    plan = _FilterPlan(query)
    bool_query: dict[str, Any] = {"filter": plan.query_filters()}
    must = text_clauses(query.text)
    if must:
        bool_query["must"] = must
    body: dict[str, Any] = {
        "query": {"bool": bool_query},
        "sort": sort_clauses(query),
        "track_total_hits": True,
        "_source": False,
    }
    post = plan.post_filters()
    if post:
        body["post_filter"] = {"bool": {"filter": post}}
    # A range facet without ranges has nothing to count (and Elasticsearch refuses an empty
    # range agg): it comes back with no buckets.
    aggs = {facet.name: plan.facet_agg(facet) for facet in query.facets if not _no_ranges(facet)}
    if aggs:
        body["aggs"] = aggs
    if query.offset + query.per_page > MAX_RESULT_WINDOW:
        body["from"], body["size"] = 0, 0
    else:
        body["from"], body["size"] = query.offset, query.per_page
    return body


def text_clauses(text: str) -> list[dict[str, Any]]:
    """Each synonym group must match through one alternative (all of its tokens); the free text
    must match all but a quarter of its tokens (``-25%`` = search.analyzer.required_matches)."""
    parsed = parse_text(text)
    clauses: list[dict[str, Any]] = []
    for group in parsed.groups:
        clauses.append(
            {
                "bool": {
                    "should": [
                        {"match": {"text": {"query": alternative, "operator": "and"}}}
                        for alternative in group
                    ],
                    "minimum_should_match": 1,
                }
            }
        )
    if parsed.free_tokens:
        clauses.append({"match": {"text": {"query": parsed.free_text, "minimum_should_match": "-25%"}}})
    return clauses


def offer_conditions(query: SearchQuery, *, with_price: bool = True) -> list[dict[str, Any]]:
    """Conditions on ONE offer (fields inside the ``offers`` nested documents)."""
    conditions: list[dict[str, Any]] = []
    if with_price and (query.price_min is not None or query.price_max is not None):
        conditions.append(price_condition(query.price_min, query.price_max))
    if query.region is not None:
        conditions.append({"term": {"offers.regions": query.region}})
    if query.in_stock:
        conditions.append({"range": {"offers.stock": {"gt": 0}}})
    if query.sme_only:
        conditions.append({"term": {"offers.supplier_sme": True}})
    if query.supplier_ids:
        conditions.append({"terms": {"offers.supplier_id": sorted(set(query.supplier_ids))}})
    return conditions


def price_condition(price_min: Decimal | None, price_max: Decimal | None) -> dict[str, Any]:
    """``price_min <= price <= price_max`` to the fen (see HALF_FEN)."""
    bounds: dict[str, float] = {}
    if price_min is not None:
        bounds["gte"] = float(Decimal(price_min) - HALF_FEN)
    if price_max is not None:
        bounds["lt"] = float(Decimal(price_max) + HALF_FEN)
    return {"range": {"offers.price": bounds}}


def nested_offers(conditions: list[dict[str, Any]], *, inner_hits: bool) -> dict[str, Any]:
    nested: dict[str, Any] = {"path": OFFERS, "query": _all_of(conditions)}
    if inner_hits:
        nested["inner_hits"] = {
            "name": OFFERS,
            "size": INNER_HITS_SIZE,
            "sort": [{"offers.price": {"order": "asc"}}, {"offers.offer_id": {"order": "asc"}}],
            "_source": False,
            "docvalue_fields": list(OFFER_FIELDS),
        }
    return {"nested": nested}


def sort_clauses(query: SearchQuery) -> list[dict[str, Any]]:
    tie_break = {"product_id": {"order": "asc"}}
    if query.sort in (Sort.PRICE_ASC, Sort.PRICE_DESC):
        # The hit's min_price: the lowest price among the offers matching the query, so the
        # nested sort filter is exactly the query's offer conditions (price included).
        nested: dict[str, Any] = {"path": OFFERS}
        conditions = offer_conditions(query)
        if conditions:
            nested["filter"] = _all_of(conditions)
        order = "asc" if query.sort is Sort.PRICE_ASC else "desc"
        return [{"offers.price": {"order": order, "mode": "min", "nested": nested}}, tie_break]
    if query.sort is Sort.RATING:
        return [{"rating": {"order": "desc"}}, tie_break]
    if query.sort is Sort.NEWEST:
        return [{"listed_at": {"order": "desc"}}, tie_break]
    return [{"_score": {"order": "desc"}}, tie_break]


def attr_terms_condition(code: str, values: Iterable[AttrValue]) -> dict[str, Any] | None:
    """Any of ``values``; each value goes to the typed field its Python type names."""
    by_field: dict[str, list[AttrValue]] = {}
    for value in values:
        field = _attr_field_of(value)
        if isinstance(value, Decimal):
            value = float(value)
        if value not in by_field.setdefault(field, []):
            by_field[field].append(value)
    clauses = [{"terms": {f"{field}.{code}": vals}} for field, vals in sorted(by_field.items())]
    return _any_of(clauses)


def attr_ranges_condition(code: str, ranges: Iterable[NumericRange]) -> dict[str, Any] | None:
    """Any of ``ranges`` (``low <= v < high``) on ``attr_num.<code>``."""
    field = f"attr_num.{code}"
    clauses = [_range_clause(field, r) for r in ranges]
    return _any_of(clauses)


def _range_clause(field: str, r: NumericRange) -> dict[str, Any]:
    bounds: dict[str, float] = {}
    if r.low is not None:
        bounds["gte"] = r.low
    if r.high is not None:
        bounds["lt"] = r.high
    return {"range": {field: bounds}} if bounds else {"exists": {"field": field}}


def _attr_field_of(value: AttrValue) -> str:
    if isinstance(value, bool):  # before int: bool is an int subclass
        return "attr_bool"
    if isinstance(value, int | float | Decimal):
        return "attr_num"
    if isinstance(value, str):
        return "attr_kw"
    raise ValueError(f"unsupported attribute value {value!r}")


def _all_of(clauses: list[dict[str, Any]]) -> dict[str, Any]:
    return {"bool": {"filter": clauses}} if clauses else dict(MATCH_ALL)


def _any_of(clauses: list[dict[str, Any]]) -> dict[str, Any] | None:
    if not clauses:
        return None
    if len(clauses) == 1:
        return clauses[0]
    return {"bool": {"should": clauses, "minimum_should_match": 1}}


class _FilterPlan:
    """Which clause goes where: the query, the post_filter, and each facet's filter agg."""

    def __init__(self, query: SearchQuery) -> None:
        self.query = query
        # Facet-owned product clauses, by facet name, in a stable order.
        owned: dict[str, list[dict[str, Any]]] = {}
        if query.category_codes:
            owned["category"] = [{"terms": {"category_path": list(query.category_codes)}}]
        if query.brands:
            owned["brand"] = [{"terms": {"brand": list(query.brands)}}]
        for code in sorted(set(query.attr_terms) | set(query.attr_ranges)):
            clauses = [
                clause
                for clause in (
                    attr_terms_condition(code, query.attr_terms.get(code, ())),
                    attr_ranges_condition(code, query.attr_ranges.get(code, ())),
                )
                if clause is not None
            ]
            if clauses:
                owned[f"attr:{code}"] = clauses
        self.owned = owned
        self.price_filtered = query.price_min is not None or query.price_max is not None
        # Facet names whose filters move to the post_filter, in the order the facets were asked.
        post: list[str] = []
        for facet in query.facets:
            has_filter = facet.name in owned or (facet.name == "price" and self.price_filtered)
            if has_filter and facet.name not in post:
                post.append(facet.name)
        self.post = post
        self.price_in_post = "price" in post

    def query_filters(self) -> list[dict[str, Any]]:
        q = self.query
        filters: list[dict[str, Any]] = [{"term": {"active": True}}]
        for name, clauses in self.owned.items():
            if name not in self.post:
                filters.extend(clauses)
        if q.energy_saving:
            filters.append({"term": {"energy_saving": True}})
        if q.environmental:
            filters.append({"term": {"environmental": True}})
        if self.price_in_post:
            # At least one offer meets the non-price conditions; the post_filter narrows to an
            # offer meeting all of them (and carries the inner_hits).
            filters.append(nested_offers(offer_conditions(q, with_price=False), inner_hits=False))
        else:
            filters.append(nested_offers(offer_conditions(q), inner_hits=True))
        return filters

    def post_filters(self, *, excluding: str | None = None) -> list[dict[str, Any]]:
        """The post_filter's clauses; with ``excluding``, those of every OTHER facet (the filter
        agg of that facet)."""
        clauses: list[dict[str, Any]] = []
        for name in self.post:
            if name == excluding:
                continue
            if name == "price":
                # The post_filter's nested query carries the inner hits; a facet's filter agg
                # needs only the condition.
                clauses.append(nested_offers(offer_conditions(self.query), inner_hits=excluding is None))
            else:
                clauses.extend(self.owned[name])
        return clauses

    def facet_agg(self, facet: FacetRequest) -> dict[str, Any]:
        others = self.post_filters(excluding=facet.name)
        return {"filter": _all_of(others), "aggs": {"values": self._values_agg(facet)}}

    def _values_agg(self, facet: FacetRequest) -> dict[str, Any]:
        if facet.name == "price":
            return {
                "nested": {"path": OFFERS},
                "aggs": {
                    "matching": {
                        # The other offer conditions: a price bucket counts products with an
                        # offer that matches the query and is priced in the bucket.
                        "filter": _all_of(offer_conditions(self.query, with_price=False)),
                        "aggs": {
                            "ranges": {
                                **_range_agg("offers.price", facet.ranges),
                                "aggs": {"products": {"reverse_nested": {}}},
                            }
                        },
                    }
                },
            }
        if facet.name in ("brand", "category"):
            field = "brand" if facet.name == "brand" else "category_code"
            return {"terms": {"field": field, "size": facet.size, "order": TERMS_ORDER}}
        code = facet.attr_code
        if code is None:
            raise ValueError(f"unknown facet {facet.name!r}")
        if facet.kind is FacetKind.RANGES:
            return _range_agg(f"attr_num.{code}", facet.ranges)
        field = {
            ValueType.KEYWORD: "attr_kw",
            ValueType.NUMBER: "attr_num",
            ValueType.BOOL: "attr_bool",
        }[facet.value_type]
        return {"terms": {"field": f"{field}.{code}", "size": facet.size, "order": TERMS_ORDER}}


def _no_ranges(facet: FacetRequest) -> bool:
    return (facet.name == "price" or facet.kind is FacetKind.RANGES) and not facet.ranges


def _range_agg(field: str, ranges: Sequence[NumericRange]) -> dict[str, Any]:
    specs: list[dict[str, Any]] = []
    seen: set[str] = set()
    for r in ranges:
        if r.key in seen:
            continue
        seen.add(r.key)
        spec: dict[str, Any] = {"key": r.key}
        if r.low is not None:
            spec["from"] = r.low
        if r.high is not None:
            spec["to"] = r.high
        specs.append(spec)
    # keyed: buckets come back by key (Elasticsearch sorts range buckets by bounds, not by the
    # order asked); the parser restores the requested order.
    return {"range": {"field": field, "keyed": True, "ranges": specs}}


# ---------------------------------------------------------------------------------------------
# Supplier counts beyond the inner hits


def build_supplier_count_body(query: SearchQuery, product_ids: Sequence[int]) -> dict[str, Any]:
    """Distinct suppliers among the matching offers of ``product_ids``: only asked for products
    whose matching offers outnumber the inner hits."""
    return {
        "size": 0,
        "query": {"ids": {"values": [str(pid) for pid in product_ids]}},
        "aggs": {
            "products": {
                "terms": {"field": "product_id", "size": len(product_ids)},
                "aggs": {
                    "offers": {
                        "nested": {"path": OFFERS},
                        "aggs": {
                            "matching": {
                                "filter": _all_of(offer_conditions(query)),
                                "aggs": {
                                    "suppliers": {
                                        "cardinality": {
                                            "field": "offers.supplier_id",
                                            "precision_threshold": CARDINALITY_PRECISION,
                                        }
                                    }
                                },
                            }
                        },
                    }
                },
            }
        },
    }


def parse_supplier_counts(response: Mapping[str, Any]) -> dict[int, int]:
    buckets = response["aggregations"]["products"]["buckets"]
    return {int(bucket["key"]): int(bucket["offers"]["matching"]["suppliers"]["value"]) for bucket in buckets}


def truncated_hits(response: Mapping[str, Any]) -> list[int]:
    """Product ids whose matching offers did not all fit in the inner hits."""
    ids = []
    for hit in response["hits"]["hits"]:
        inner = _inner_hits(hit)
        if inner["total"]["value"] > len(inner["hits"]):
            ids.append(int(hit["_id"]))
    return ids


# ---------------------------------------------------------------------------------------------
# Response


def parse_search_response(
    query: SearchQuery,
    response: Mapping[str, Any],
    supplier_counts: Mapping[int, int] | None = None,
) -> SearchResult:
    """``supplier_counts`` overrides the inner-hit count for products listed by
    :func:`truncated_hits` (from :func:`build_supplier_count_body`)."""
    supplier_counts = supplier_counts or {}
    hits = tuple(_parse_hit(query, hit, supplier_counts) for hit in response["hits"]["hits"])
    aggregations = response.get("aggregations", {})
    facets = {
        facet.name: Facet(facet.name, ())
        if _no_ranges(facet)
        else _parse_facet(query, facet, aggregations[facet.name])
        for facet in query.facets
    }
    return SearchResult(
        total=int(response["hits"]["total"]["value"]),
        hits=hits,
        facets=facets,
        page=query.page,
        per_page=query.per_page,
    )


def _inner_hits(hit: Mapping[str, Any]) -> Mapping[str, Any]:
    try:
        return hit["inner_hits"][OFFERS]["hits"]
    except KeyError as exc:
        raise SearchError(f"search hit {hit.get('_id')} came back without its matching offers") from exc


def _parse_hit(query: SearchQuery, hit: Mapping[str, Any], supplier_counts: Mapping[int, int]) -> ProductHit:
    product_id = int(hit["_id"])
    inner = _inner_hits(hit)
    offers = [offer["fields"] for offer in inner["hits"]]
    if not offers:
        raise SearchError(f"search hit {product_id} has no matching offer")
    cheapest = offers[0]
    suppliers = {int(fields["offers.supplier_id"][0]) for fields in offers}
    score = hit.get("_score") if query.sort is Sort.RELEVANCE else None
    return ProductHit(
        product_id=product_id,
        min_price=to_price(cheapest["offers.price"][0]),
        offer_id=int(cheapest["offers.offer_id"][0]),
        supplier_count=supplier_counts.get(product_id, len(suppliers)),
        score=None if score is None else float(score),
    )


def to_price(value: float | int | str) -> Decimal:
    """A scaled_float doc value (a double: whole fen / 100) back to exact yuan."""
    return Decimal(str(value)).quantize(Decimal("0.01"))


def _parse_facet(query: SearchQuery, facet: FacetRequest, agg: Mapping[str, Any]) -> Facet:
    values = agg["values"]
    if facet.name == "price":
        buckets = values["matching"]["ranges"]["buckets"]
        return Facet(
            name=facet.name,
            buckets=tuple(
                FacetBucket(
                    key=r.key,
                    count=int(buckets[r.key]["products"]["doc_count"]) if r.key in buckets else 0,
                    selected=price_bucket_selected(query, r),
                    value=r,
                )
                for r in facet.ranges
            ),
        )
    code = facet.attr_code
    if facet.kind is FacetKind.RANGES and code is not None:
        buckets = values["buckets"]
        selected_ranges = set(query.attr_ranges.get(code, ()))
        return Facet(
            name=facet.name,
            buckets=tuple(
                FacetBucket(
                    key=r.key,
                    count=int(buckets[r.key]["doc_count"]) if r.key in buckets else 0,
                    selected=r in selected_ranges,
                    value=r,
                )
                for r in facet.ranges
            ),
        )
    if facet.name == "brand":
        chosen: tuple[AttrValue, ...] = query.brands
        value_type = ValueType.KEYWORD
    elif facet.name == "category":
        chosen = query.category_codes
        value_type = ValueType.KEYWORD
    else:
        chosen = query.attr_terms.get(code or "", ())
        value_type = facet.value_type
    buckets_out = []
    for bucket in values["buckets"]:
        value = _bucket_value(bucket, value_type)
        buckets_out.append(
            FacetBucket(
                key=format_key(value),
                count=int(bucket["doc_count"]),
                selected=_typed_in(value, chosen),
                value=value,
            )
        )
    # Count desc, then the key as text (the contract's order; for numbers "16" < "8"): the same
    # order the tantivy backend gives. Elasticsearch already ordered by count, so only ties move.
    buckets_out.sort(key=lambda b: (-b.count, b.key))
    return Facet(name=facet.name, buckets=tuple(buckets_out))


def _bucket_value(bucket: Mapping[str, Any], value_type: ValueType) -> AttrValue:
    key = bucket["key"]
    if value_type is ValueType.BOOL:
        # Boolean terms buckets: key 1/0, key_as_string "true"/"false".
        return bucket.get("key_as_string", "true" if key else "false") == "true"
    if value_type is ValueType.NUMBER:
        number = float(key)
        return int(number) if number.is_integer() else number
    return str(key)


def _typed_in(value: AttrValue, chosen: Iterable[AttrValue]) -> bool:
    """``value in chosen`` without True == 1 == 1.0 confusion across types."""
    for candidate in chosen:
        if isinstance(value, bool) or isinstance(candidate, bool):
            if isinstance(value, bool) and isinstance(candidate, bool) and value == candidate:
                return True
        elif isinstance(value, str) or isinstance(candidate, str):
            if isinstance(value, str) and isinstance(candidate, str) and value == candidate:
                return True
        elif float(value) == float(candidate):
            return True
    return False
