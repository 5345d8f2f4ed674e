"""The embedded search backend: a tantivy index on disk.

tantivy has no nested documents, so every listed offer is one document carrying its product's
fields; one query over offers then gives single-offer semantics for free (price, region and stock
must hold for the same document). Each product also has one ``kind=product`` document holding its
indexed version and whether it is active, so late writes of older versions lose.

Grouping by product: sorts by price, rating or recency order a ``terms`` aggregation on
``product_id`` by a metric; relevance collects top offers by score and keeps each product's first.
The page's products are then read back offer by offer to get their lowest matching offer and
supplier count exactly. Facets count products with a ``cardinality`` sub-aggregation.

Layout: ``<dir>/current`` is a symlink to ``<dir>/gen-<n>``; a rebuild fills a new generation and
swaps the link atomically. One writer at a time, across processes, through a file lock.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC
from decimal import Decimal
from pathlib import Path

import tantivy

from search.analyzer import analyze, index_tokens
from search.backend import SearchError
from search.model import (
    Facet,
    FacetBucket,
    FacetKind,
    FacetRequest,
    NumericRange,
    ProductDoc,
    ProductHit,
    SearchQuery,
    SearchResult,
    Sort,
    format_key,
    price_bucket_selected,
)
from search.text import parse_text

Occur = tantivy.Occur
Query = tantivy.Query

PRODUCT, OFFER = "product", "offer"
WRITER_HEAP = 256 * 1024 * 1024
# How stale a reader may be before it reloads: writers in other processes commit anytime.
RELOAD_INTERVAL_S = 0.2
# Terms aggregations are asked for a few more buckets than needed, then cut in Python.
FACET_SLACK = 4


def build_schema() -> tantivy.Schema:
    builder = tantivy.SchemaBuilder()
    builder.add_text_field("kind", tokenizer_name="raw", fast=True)
    builder.add_integer_field("product_id", indexed=True, fast=True)
    builder.add_integer_field("version", fast=True)
    builder.add_boolean_field("active", indexed=True, fast=True)
    builder.add_integer_field("offer_id", fast=True)
    builder.add_integer_field("supplier_id", indexed=True, fast=True)
    builder.add_integer_field("price_fen", indexed=True, fast=True)
    builder.add_text_field("regions", tokenizer_name="raw")
    builder.add_boolean_field("in_stock", indexed=True)
    builder.add_boolean_field("sme", indexed=True)
    # Pre-analyzed tokens (search.analyzer) joined by spaces.
    builder.add_text_field("text", tokenizer_name="whitespace", index_option="freq")
    builder.add_text_field("category", tokenizer_name="raw", fast=True)
    builder.add_text_field("category_path", tokenizer_name="raw")
    builder.add_text_field("brand", tokenizer_name="raw", fast=True)
    builder.add_json_field("specs", tokenizer_name="raw", fast=True)
    builder.add_boolean_field("energy_saving", indexed=True)
    builder.add_boolean_field("environmental", indexed=True)
    builder.add_float_field("rating", fast=True)
    builder.add_integer_field("listed_at", fast=True)
    return builder.build()


def to_fen(amount: Decimal | float) -> int:
    return int((Decimal(str(amount)) * 100).to_integral_value())


def documents_for(doc: ProductDoc) -> list[dict]:
    """The tantivy documents of one product: its version marker and one per listed offer."""
    docs: list[dict] = [
        {"kind": PRODUCT, "product_id": doc.product_id, "version": doc.version, "active": doc.active}
    ]
    if not doc.active:
        return docs
    shared = {
        "kind": OFFER,
        "product_id": doc.product_id,
        "version": doc.version,
        "active": True,
        "text": " ".join(index_tokens(doc.text)),
        "category": doc.category_code,
        "category_path": list(doc.category_path),
        "brand": doc.brand,
        "specs": dict(doc.specs),
        "energy_saving": doc.energy_saving,
        "environmental": doc.environmental,
        "rating": float(doc.rating),
        "listed_at": int(doc.listed_at.astimezone(UTC).timestamp()),
    }
    for offer in doc.offers:
        docs.append(
            {
                **shared,
                "offer_id": offer.offer_id,
                "supplier_id": offer.supplier_id,
                "price_fen": to_fen(offer.price),
                "regions": list(offer.regions),
                "in_stock": offer.stock > 0,
                "sme": offer.supplier_sme,
            }
        )
    return docs


class TantivyBackend:
    name = "tantivy"

    def __init__(self, index_dir: str | Path, writer_heap: int = WRITER_HEAP):
        self.root = Path(index_dir)
        self.writer_heap = writer_heap
        self.schema = build_schema()
        self._index: tantivy.Index | None = None
        self._opened: Path | None = None
        self._reloaded_at = 0.0
        self._thread_lock = threading.Lock()

    # -- index files ---------------------------------------------------------------------------

    @property
    def _link(self) -> Path:
        return self.root / "current"

    def _current_generation(self) -> Path | None:
        try:
            return self.root / os.readlink(self._link)
        except FileNotFoundError:
            return None

    def ensure_index(self) -> None:
        with self._write_lock():
            if self._current_generation() is None:
                generation = self._new_generation()
                tantivy.Index(self.schema, path=str(generation))
                self._switch_to(generation)

    def _new_generation(self) -> Path:
        self.root.mkdir(parents=True, exist_ok=True)
        generation = self.root / f"gen-{time.time_ns()}"
        generation.mkdir()
        return generation

    def _switch_to(self, generation: Path) -> None:
        temporary = self.root / f".current-{os.getpid()}"
        with contextlib.suppress(FileNotFoundError):
            temporary.unlink()
        temporary.symlink_to(generation.name)
        os.replace(temporary, self._link)  # atomic: readers see the old or the new index

    def _open(self) -> tantivy.Index:
        generation = self._current_generation()
        if generation is None:
            raise SearchError("搜索索引尚未建立，请运行 flask search rebuild")
        now = time.monotonic()
        if self._index is None or generation != self._opened:
            self._index = tantivy.Index(self.schema, path=str(generation), reuse=True)
            self._opened = generation
            self._reloaded_at = now
        elif now - self._reloaded_at > RELOAD_INTERVAL_S:
            self._index.reload()
            self._reloaded_at = now
        return self._index

    @contextlib.contextmanager
    def _write_lock(self) -> Iterator[None]:
        """One writer per index, across threads and processes."""
        self.root.mkdir(parents=True, exist_ok=True)
        with self._thread_lock, open(self.root / ".write.lock", "w") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def _add(self, writer: tantivy.IndexWriter, doc: ProductDoc) -> None:
        for fields in documents_for(doc):
            writer.add_document(tantivy.Document.from_dict(fields, self.schema))

    # -- writes --------------------------------------------------------------------------------

    def index(self, docs: Sequence[ProductDoc]) -> int:
        if not docs:
            return 0
        with self._write_lock():
            if self._current_generation() is None:
                generation = self._new_generation()
                tantivy.Index(self.schema, path=str(generation))
                self._switch_to(generation)
            index = self._open()
            index.reload()
            indexed = self.indexed_versions([d.product_id for d in docs])
            newest: dict[int, ProductDoc] = {}
            for doc in docs:
                if doc.version > indexed.get(doc.product_id, 0) and (
                    doc.product_id not in newest or doc.version > newest[doc.product_id].version
                ):
                    newest[doc.product_id] = doc
            if not newest:
                return 0
            writer = index.writer(self.writer_heap)
            for doc in newest.values():
                writer.delete_documents_by_term("product_id", doc.product_id)
                self._add(writer, doc)
            writer.commit()
            writer.wait_merging_threads()
            index.reload()
            self._reloaded_at = time.monotonic()
            return len(newest)

    def rebuild(self, docs: Iterable[ProductDoc]) -> int:
        with self._write_lock():
            old = self._current_generation()
            generation = self._new_generation()
            index = tantivy.Index(self.schema, path=str(generation))
            writer = index.writer(self.writer_heap)
            count = 0
            for doc in docs:
                self._add(writer, doc)
                count += 1
            writer.commit()
            writer.wait_merging_threads()
            self._switch_to(generation)
            if old is not None and old != generation:
                shutil.rmtree(old, ignore_errors=True)
            return count

    def refresh(self) -> None:
        self._open().reload()
        self._reloaded_at = time.monotonic()

    def status(self) -> dict:
        generation = self._current_generation()
        if generation is None:
            return {"backend": self.name, "index": None, "products": 0, "offers": 0}
        index = self._open()
        searcher = index.searcher()
        products = searcher.search(self._kind(PRODUCT), 1).count
        offers = searcher.search(self._kind(OFFER), 1).count
        versions = searcher.aggregate(self._kind(PRODUCT), {"v": {"max": {"field": "version"}}})
        return {
            "backend": self.name,
            "index": str(generation),
            "products": products,
            "offers": offers,
            "max_version": int(versions["v"]["value"] or 0),
        }

    def indexed_versions(self, product_ids: Sequence[int]) -> dict[int, int]:
        if not product_ids or self._current_generation() is None:
            return {}
        searcher = self._open().searcher()
        query = Query.boolean_query(
            [
                (Occur.Must, self._kind(PRODUCT)),
                (Occur.Must, Query.term_set_query(self.schema, "product_id", list(product_ids))),
            ]
        )
        result = searcher.search(query, len(product_ids))
        addresses = [address for _, address in result.hits]
        ids = searcher.fast_field_values("product_id", addresses)
        versions = searcher.fast_field_values("version", addresses)
        return dict(zip(ids, versions, strict=True))

    # -- queries -------------------------------------------------------------------------------

    def _kind(self, kind: str) -> Query:
        return Query.term_query(self.schema, "kind", kind)

    def _term(self, field: str, value) -> Query:
        return Query.term_query(self.schema, field, value)

    def _text_clauses(self, text: str) -> list[Query]:
        parsed = parse_text(text)
        clauses = []
        for group in parsed.groups:
            alternatives = []
            for alternative in group:
                tokens = analyze(alternative)
                if tokens:
                    alternatives.append(
                        (
                            Occur.Should,
                            Query.boolean_query([(Occur.Must, self._term("text", t)) for t in tokens]),
                        )
                    )
            if alternatives:
                clauses.append(Query.boolean_query(alternatives))
        tokens = parsed.free_tokens
        if tokens:
            clauses.append(
                Query.boolean_query(
                    [(Occur.Should, self._term("text", t)) for t in tokens],
                    minimum_number_should_match=parsed.required,
                )
            )
        return clauses

    def _spec_range(self, code: str, rng: NumericRange) -> Query:
        # Query.range_query does not take JSON sub-paths, and a two-sided range mixing integer and
        # float bounds panics in tantivy 0.27: combine one-sided ranges parsed from numbers only.
        parts = []
        if rng.low is not None:
            parts.append(f"specs.{code}:>={_number(rng.low)}")
        if rng.high is not None:
            parts.append(f"specs.{code}:<{_number(rng.high)}")
        if not parts:
            return Query.all_query()
        return self._open().parse_query(" AND ".join(parts), [])

    def _build(self, query: SearchQuery, exclude: str | None = None) -> Query:
        """The offer-level query for ``query``, leaving out the conditions of facet ``exclude``."""
        must: list[Query] = [self._kind(OFFER)]
        must.extend(self._text_clauses(query.text))
        if query.category_codes and exclude != "category":
            must.append(Query.term_set_query(self.schema, "category_path", list(query.category_codes)))
        if query.brands and exclude != "brand":
            must.append(Query.term_set_query(self.schema, "brand", list(query.brands)))
        for code, values in query.attr_terms.items():
            if values and exclude != f"attr:{code}":
                must.append(
                    Query.boolean_query([(Occur.Should, self._term(f"specs.{code}", v)) for v in values])
                )
        for code, ranges in query.attr_ranges.items():
            if ranges and exclude != f"attr:{code}":
                must.append(Query.boolean_query([(Occur.Should, self._spec_range(code, r)) for r in ranges]))
        if query.energy_saving:
            must.append(self._term("energy_saving", True))
        if query.environmental:
            must.append(self._term("environmental", True))
        if exclude != "price" and (query.price_min is not None or query.price_max is not None):
            must.append(
                Query.range_query(
                    self.schema,
                    "price_fen",
                    tantivy.FieldType.Integer,
                    None if query.price_min is None else to_fen(query.price_min),
                    None if query.price_max is None else to_fen(query.price_max),
                )
            )
        if query.region:
            must.append(self._term("regions", query.region))
        if query.in_stock:
            must.append(self._term("in_stock", True))
        if query.sme_only:
            must.append(self._term("sme", True))
        if query.supplier_ids:
            must.append(Query.term_set_query(self.schema, "supplier_id", list(query.supplier_ids)))
        return Query.boolean_query([(Occur.Must, q) for q in must])

    # -- search --------------------------------------------------------------------------------

    def search(self, query: SearchQuery) -> SearchResult:
        index = self._open()
        searcher = index.searcher()
        base = self._build(query)
        needed = query.offset + query.per_page

        aggs: dict = {"total": {"cardinality": {"field": "product_id"}}}
        order = _AGG_ORDER.get(query.sort)
        if order is None and parse_text(query.text).is_empty:
            order = ("min", "product_id", "asc")  # relevance without text: stable by product id
        if order is not None:
            metric, field, direction = order
            aggs["page"] = {
                "terms": {"field": "product_id", "size": needed, "order": {"s": direction}},
                "aggs": {"s": {metric: {"field": field}}},
            }
        # Facets whose own condition is not set are counted under the main query, in this call.
        own = {f.name: self._facet_is_filtered(query, f) for f in query.facets}
        for facet in query.facets:
            if not own[facet.name]:
                aggs[f"f:{facet.name}"] = self._facet_agg(facet)
        result = searcher.aggregate(base, aggs)
        total = int(result["total"]["value"])

        if order is not None:
            buckets = result["page"]["buckets"]
            keyed = [(_sort_value(b["s"]["value"], direction), b["key"]) for b in buckets]
            keyed.sort()
            page_ids = [int(product_id) for _, product_id in keyed][query.offset : needed]
            scores: dict[int, float] = {}
        else:
            page_ids, scores = self._by_relevance(searcher, base, needed)
            page_ids = page_ids[query.offset : needed]

        facets: dict[str, Facet] = {}
        for facet in query.facets:
            raw = (
                result[f"f:{facet.name}"]
                if not own[facet.name]
                else searcher.aggregate(
                    self._build(query, exclude=facet.name), {"f": self._facet_agg(facet)}
                )["f"]
            )
            facets[facet.name] = self._facet(query, facet, raw)

        hits = self._page_hits(searcher, base, page_ids, scores)
        return SearchResult(
            total=total, hits=tuple(hits), facets=facets, page=query.page, per_page=query.per_page
        )

    def _by_relevance(self, searcher, base: Query, needed: int) -> tuple[list[int], dict[int, float]]:
        """Products in order of their best-scoring offer; ties by product id."""
        limit = max(needed * 4, 64)
        while True:
            result = searcher.search(base, limit, count=True)
            addresses = [address for _, address in result.hits]
            product_ids = searcher.fast_field_values("product_id", addresses)
            best: dict[int, float] = {}
            for (score, _), product_id in zip(result.hits, product_ids, strict=True):
                if product_id not in best:
                    best[product_id] = score
            if len(best) >= needed or len(result.hits) >= result.count:
                ranked = sorted(best, key=lambda pid: (-best[pid], pid))
                return ranked, best
            limit *= 4

    def _page_hits(
        self, searcher, base: Query, page_ids: list[int], scores: dict[int, float]
    ) -> list[ProductHit]:
        if not page_ids:
            return []
        query = Query.boolean_query(
            [
                (Occur.Must, base),
                (Occur.Must, Query.term_set_query(self.schema, "product_id", page_ids)),
            ]
        )
        limit = len(page_ids) * 16
        while True:
            result = searcher.search(query, limit, count=True)
            if len(result.hits) >= result.count:
                break
            limit = result.count
        addresses = [address for _, address in result.hits]
        columns = {
            name: searcher.fast_field_values(name, addresses)
            for name in ("product_id", "offer_id", "supplier_id", "price_fen")
        }
        best: dict[int, tuple[int, int]] = {}
        suppliers: dict[int, set[int]] = {}
        for product_id, offer_id, supplier_id, price in zip(
            columns["product_id"],
            columns["offer_id"],
            columns["supplier_id"],
            columns["price_fen"],
            strict=True,
        ):
            if product_id not in best or (price, offer_id) < best[product_id]:
                best[product_id] = (price, offer_id)
            suppliers.setdefault(product_id, set()).add(supplier_id)
        return [
            ProductHit(
                product_id=pid,
                min_price=(Decimal(best[pid][0]) / 100).quantize(Decimal("0.01")),
                offer_id=best[pid][1],
                supplier_count=len(suppliers[pid]),
                score=scores.get(pid),
            )
            for pid in page_ids
            if pid in best
        ]

    # -- facets --------------------------------------------------------------------------------

    @staticmethod
    def _facet_is_filtered(query: SearchQuery, facet: FacetRequest) -> bool:
        if facet.name == "brand":
            return bool(query.brands)
        if facet.name == "category":
            return bool(query.category_codes)
        if facet.name == "price":
            return query.price_min is not None or query.price_max is not None
        code = facet.attr_code
        return bool(code and (query.attr_terms.get(code) or query.attr_ranges.get(code)))

    @staticmethod
    def _facet_field(facet: FacetRequest) -> str:
        if facet.name == "price":
            return "price_fen"
        if facet.attr_code:
            return f"specs.{facet.attr_code}"
        return facet.name  # brand, category

    def _facet_agg(self, facet: FacetRequest) -> dict:
        products = {"p": {"cardinality": {"field": "product_id"}}}
        field = self._facet_field(facet)
        if facet.kind is FacetKind.RANGES:
            scale = 100 if facet.name == "price" else 1
            ranges = []
            for rng in facet.ranges:
                bound = {}
                if rng.low is not None:
                    bound["from"] = rng.low * scale
                if rng.high is not None:
                    bound["to"] = rng.high * scale
                ranges.append(bound)
            return {"range": {"field": field, "ranges": ranges}, "aggs": products}
        return {"terms": {"field": field, "size": facet.size * FACET_SLACK}, "aggs": products}

    def _facet(self, query: SearchQuery, facet: FacetRequest, raw: dict) -> Facet:
        buckets: list[FacetBucket] = []
        if facet.kind is FacetKind.RANGES:
            counted = raw["buckets"]
            for rng, bucket in zip(facet.ranges, counted, strict=True):
                count = int(bucket["p"]["value"]) if bucket["doc_count"] else 0
                buckets.append(
                    FacetBucket(
                        key=rng.key, count=count, value=rng, selected=self._range_selected(query, facet, rng)
                    )
                )
            return Facet(name=facet.name, buckets=tuple(buckets))
        selected = self._selected_values(query, facet)
        for bucket in raw["buckets"]:
            value = _bucket_value(bucket)
            count = int(bucket["p"]["value"])
            if count:
                buckets.append(
                    FacetBucket(
                        key=format_key(value),
                        count=count,
                        value=value,
                        selected=format_key(value) in selected,
                    )
                )
        buckets.sort(key=lambda b: (-b.count, b.key))
        return Facet(name=facet.name, buckets=tuple(buckets[: facet.size]))

    @staticmethod
    def _selected_values(query: SearchQuery, facet: FacetRequest) -> set[str]:
        if facet.name == "brand":
            return set(query.brands)
        if facet.name == "category":
            return set(query.category_codes)
        if facet.attr_code:
            return {format_key(v) for v in query.attr_terms.get(facet.attr_code, ())}
        return set()

    @staticmethod
    def _range_selected(query: SearchQuery, facet: FacetRequest, rng: NumericRange) -> bool:
        if facet.name == "price":
            return price_bucket_selected(query, rng)
        return bool(facet.attr_code) and rng in query.attr_ranges.get(facet.attr_code, ())


# Sorts done by ordering a terms aggregation on product_id: (metric, field, direction).
_AGG_ORDER: dict[Sort, tuple[str, str, str]] = {
    Sort.PRICE_ASC: ("min", "price_fen", "asc"),
    Sort.PRICE_DESC: ("min", "price_fen", "desc"),
    Sort.RATING: ("max", "rating", "desc"),
    Sort.NEWEST: ("max", "listed_at", "desc"),
}


def _sort_value(value: float, direction: str) -> float:
    return -value if direction == "desc" else value


def _number(value: float) -> str:
    return format_key(value)


def _bucket_value(bucket: dict):
    if "key_as_string" in bucket and bucket["key_as_string"] in ("true", "false"):
        return bucket["key_as_string"] == "true"
    key = bucket["key"]
    if isinstance(key, float) and key.is_integer():
        return int(key)
    return key
