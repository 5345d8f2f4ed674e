"""The embedded search backend: a tantivy index on disk.

tantivy has no nested documents, so every listed offer is one ``offer`` document carrying its
product's fields: one query over offers gives single-offer semantics for free (price, region and
stock must hold for the same document). Each product also has one ``product`` document holding its
indexed version and whether it is active, so late writes of older versions lose; when the product
is listed it also carries the product's fields (under ``p_`` names) and a summary of its offers:
the lowest price and that offer, the number of suppliers and every price.

Most queries have no offer-level condition (text, categories, brands, attributes): they run on the
product documents, one per product, so totals and facets are plain document counts, pages come from
a top-k collector, and a hit's lowest offer and supplier count are read from the product document.
A query with an offer-level condition runs on the offer documents: totals and facets count products
with a ``cardinality`` sub-aggregation, pages come from a top-k collector over offers keeping each
product's first offer, and the page's products are read back offer by offer for their lowest
matching offer and supplier count. Product documents have their own field names so that neither
kind of query needs a ``kind`` clause (intersecting with it would cost as much as the query).

Sort keys pack the value and the product id into one unsigned integer (``_key``), so a top-k
collector ordered by the key already breaks ties by product id.

Layout: ``<dir>/current`` is a symlink to ``<dir>/gen-<n>``; a rebuild fills a new generation and
swaps the link atomically. One writer at a time, across processes, through a file lock.
"""

from __future__ import annotations

import contextlib
import copy
import fcntl
import os
import shutil
import struct
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
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
from search.text import TextQuery, parse_text

Occur = tantivy.Occur
Query = tantivy.Query
Order = tantivy.Order

PRODUCT, OFFER = "product", "offer"
WRITER_HEAP = 256 * 1024 * 1024
# A rebuild indexes on one thread with a heap that holds a large catalogue in one segment: the
# producer (Python building documents) is the bottleneck anyway, and several segments would cost
# merges now and slower queries later. The heap is a budget, not an allocation.
REBUILD_HEAP = 1024 * 1024 * 1024
REBUILD_THREADS = 1
# How stale a reader may be before it reloads: writers in other processes commit anytime.
RELOAD_INTERVAL_S = 0.2
# Terms aggregations are asked for a few more buckets than needed, then cut in Python.
FACET_SLACK = 4
# The product's own fields, on offer documents under these names and on product documents with
# the ``p_`` prefix.
PRODUCT_FIELDS = ("text", "category", "category_path", "brand", "specs", "energy_saving", "environmental")
_NAMES = {
    OFFER: {name: name for name in PRODUCT_FIELDS},
    PRODUCT: {name: f"p_{name}" for name in PRODUCT_FIELDS},
}
LOW32 = 0xFFFFFFFF


def build_schema() -> tantivy.Schema:
    builder = tantivy.SchemaBuilder()
    # Both kinds.
    builder.add_text_field("kind", tokenizer_name="raw", fast=True)
    builder.add_integer_field("product_id", indexed=True, fast=True)
    for name in ("sort_price_asc", "sort_price_desc", "sort_rating", "sort_newest"):
        builder.add_unsigned_field(name, fast=True)  # see _key
    # Product documents; the summary fields only when the product is listed.
    builder.add_integer_field("version", fast=True)
    builder.add_boolean_field("active", indexed=True, fast=True)
    builder.add_boolean_field("listed", indexed=True)
    builder.add_integer_field("min_price_fen", fast=True)
    builder.add_integer_field("min_offer_id", fast=True)
    builder.add_integer_field("supplier_count", fast=True)
    builder.add_integer_field("prices_fen", fast=True)  # every offer's price: the price facet
    # Offer documents.
    builder.add_integer_field("offer_id", fast=True)
    builder.add_integer_field("supplier_id", indexed=True, fast=True)
    builder.add_integer_field("price_fen", indexed=True, fast=True)
    builder.add_text_field("regions", tokenizer_name="raw")
    builder.add_boolean_field("in_stock", indexed=True)
    builder.add_boolean_field("sme", indexed=True)
    # The product's fields: plain names on offer documents, p_ names on product documents.
    for prefix in ("", "p_"):
        # Pre-analyzed tokens (search.analyzer) joined by spaces.
        builder.add_text_field(f"{prefix}text", tokenizer_name="whitespace", index_option="freq")
        builder.add_text_field(f"{prefix}category", tokenizer_name="raw", fast=True)
        builder.add_text_field(f"{prefix}category_path", tokenizer_name="raw")
        builder.add_text_field(f"{prefix}brand", tokenizer_name="raw", fast=True)
        builder.add_json_field(f"{prefix}specs", tokenizer_name="raw", fast=True)
        builder.add_boolean_field(f"{prefix}energy_saving", indexed=True)
        builder.add_boolean_field(f"{prefix}environmental", indexed=True)
    return builder.build()


def to_fen(amount: Decimal | float) -> int:
    if not isinstance(amount, Decimal):
        amount = Decimal(str(amount))
    return int((amount * 100).to_integral_value())


def _key(value: int, product_id: int, *, descending: bool = False) -> int:
    """A sort key: ``value`` (clamped to 32 bits) above the product id, or above its complement
    for a descending order, so equal values always come in ascending product id order."""
    if not 0 <= value <= LOW32:
        value = 0 if value < 0 else LOW32
    return value << 32 | (LOW32 - product_id if descending else product_id)


def _rating_bits(rating: float) -> int:
    """A non-negative float's single-precision bits order like the float itself."""
    return struct.unpack(">I", struct.pack(">f", max(float(rating), 0.0)))[0]


def _seconds(moment: datetime) -> int:
    return int(moment.timestamp())  # the key holds it until 2106


def index_text(text: str) -> str:
    return " ".join(index_tokens(text))


class CachedIndexText:
    """``index_text`` for a stream of documents, memoized per whitespace-separated piece: product
    texts repeat brands, series, category names and spec values, and analysing is the costliest
    part of building documents. The analyzer's runs (Han or ``[a-z0-9.]``) never span whitespace,
    so joining the pieces' tokens gives exactly the tokens of the whole text."""

    def __init__(self, limit: int = 500_000):
        self.pieces: dict[str, str] = {}
        self.limit = limit

    def __call__(self, text: str) -> str:
        get = self.pieces.get
        parts = [part if (part := get(piece)) is not None else self._analyze(piece) for piece in text.split()]
        return " ".join(part for part in parts if part)

    def _analyze(self, piece: str) -> str:
        if len(self.pieces) >= self.limit:
            self.pieces.clear()
        tokens = self.pieces[piece] = index_text(piece)
        return tokens


@dataclass(frozen=True)
class ProductDocuments:
    """The tantivy documents of one product: its product document and one per listed offer, each
    offer document being ``offer_shared`` (the product's part, the same for all) plus its own."""

    product: dict
    offer_shared: dict
    offers: list[dict]


def documents_for(doc: ProductDoc, analyze_text: Callable[[str], str] = index_text) -> ProductDocuments:
    pid = doc.product_id
    if not 0 <= pid <= LOW32:
        raise ValueError(f"product id {pid} does not fit the 32-bit sort keys")
    product: dict = {"kind": PRODUCT, "product_id": pid, "version": doc.version, "active": doc.active}
    if not doc.active or not doc.offers:
        return ProductDocuments(product, {}, [])
    fields = {
        "text": analyze_text(doc.text),
        "category": doc.category_code,
        "category_path": list(doc.category_path),
        "brand": doc.brand,
        "specs": dict(doc.specs),
        "energy_saving": doc.energy_saving,
        "environmental": doc.environmental,
    }
    keys = {
        "sort_rating": _key(_rating_bits(doc.rating), pid, descending=True),
        "sort_newest": _key(_seconds(doc.listed_at), pid, descending=True),
    }
    prices = [to_fen(offer.price) for offer in doc.offers]
    min_price, min_offer_id = min(zip(prices, (offer.offer_id for offer in doc.offers), strict=True))
    product.update({f"p_{name}": value for name, value in fields.items()})
    product.update(
        keys,
        listed=True,
        min_price_fen=min_price,
        min_offer_id=min_offer_id,
        supplier_count=len({offer.supplier_id for offer in doc.offers}),
        prices_fen=prices,
        sort_price_asc=_key(min_price, pid),
        sort_price_desc=_key(min_price, pid, descending=True),
    )
    offers = [
        {
            "offer_id": offer.offer_id,
            "supplier_id": offer.supplier_id,
            "price_fen": price,
            "regions": list(offer.regions),
            "in_stock": offer.stock > 0,
            "sme": offer.supplier_sme,
            "sort_price_asc": _key(price, pid),
            "sort_price_desc": _key(price, pid, descending=True),
        }
        for offer, price in zip(doc.offers, prices, strict=True)
    ]
    return ProductDocuments(product, {"kind": OFFER, "product_id": pid, **fields, **keys}, offers)


def has_offer_conditions(query: SearchQuery, exclude: str | None = None) -> bool:
    """Whether the query (without facet ``exclude``'s own condition) has offer-level conditions,
    and so must run on offer documents."""
    if exclude != "price" and (query.price_min is not None or query.price_max is not None):
        return True
    return bool(query.region) or query.in_stock or query.sme_only or bool(query.supplier_ids)


@dataclass(frozen=True)
class _OfferSummary:
    """A product's lowest matching offer and how many suppliers have a matching offer."""

    price_fen: int
    offer_id: int
    suppliers: int


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
            try:
                self._index = tantivy.Index(self.schema, path=str(generation), reuse=True)
            except ValueError as error:  # written with another schema
                raise SearchError("搜索索引格式已更新，请运行 flask search rebuild") from error
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

    def _add(self, writer: tantivy.IndexWriter, doc: ProductDoc, analyze_text=index_text) -> None:
        docs = documents_for(doc, analyze_text)
        writer.add_document(tantivy.Document.from_dict(docs.product, self.schema))
        if docs.offers:
            # Converting the product's part once and copying it costs a third of converting
            # every offer document whole (building documents is most of a rebuild's time).
            shared = tantivy.Document.from_dict(docs.offer_shared, self.schema)
            for own in docs.offers:
                document = copy.copy(shared)
                document.extend(own, self.schema)
                writer.add_document(document)

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
            writer = index.writer(max(self.writer_heap, REBUILD_HEAP), REBUILD_THREADS)
            analyze_text = CachedIndexText()
            count = 0
            for doc in docs:
                self._add(writer, doc, analyze_text)
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

    def _terms(self, field: str, values: Sequence) -> Query:
        if len(values) == 1:
            return self._term(field, values[0])
        return Query.term_set_query(self.schema, field, list(values))

    def _text_clauses(self, parsed: TextQuery, field: str) -> list[Query]:
        clauses = []
        for group in parsed.groups:
            alternatives = []
            for alternative in group:
                tokens = analyze(alternative)
                if tokens:
                    alternatives.append(
                        (
                            Occur.Should,
                            Query.boolean_query([(Occur.Must, self._term(field, t)) for t in tokens]),
                        )
                    )
            if alternatives:
                clauses.append(Query.boolean_query(alternatives))
        tokens = parsed.free_tokens
        if tokens:
            clauses.append(
                Query.boolean_query(
                    [(Occur.Should, self._term(field, t)) for t in tokens],
                    minimum_number_should_match=parsed.required,
                )
            )
        return clauses

    def _spec_range(self, field: str, rng: NumericRange) -> Query:
        # Query.range_query does not take JSON sub-paths, and a two-sided range mixing integer and
        # float bounds panics in tantivy 0.27: combine one-sided ranges parsed from numbers only.
        parts = []
        if rng.low is not None:
            parts.append(f"{field}:>={_number(rng.low)}")
        if rng.high is not None:
            parts.append(f"{field}:<{_number(rng.high)}")
        if not parts:
            return Query.all_query()
        return self._open().parse_query(" AND ".join(parts), [])

    def _build(
        self,
        query: SearchQuery,
        text: TextQuery,
        level: str,
        exclude: str | None = None,
        scored: bool = False,
    ) -> Query:
        """The query over ``level`` documents, leaving out the conditions of facet ``exclude``.
        ``scored``: only the text clauses score; the filters are wrapped in a constant score so
        that ranking does not compute a score for every filter clause of every document."""
        names = _NAMES[level]
        scoring = self._text_clauses(text, names["text"])
        filters: list[Query] = []
        if query.category_codes and exclude != "category":
            filters.append(self._terms(names["category_path"], query.category_codes))
        if query.brands and exclude != "brand":
            filters.append(self._terms(names["brand"], query.brands))
        specs = names["specs"]
        for code, values in query.attr_terms.items():
            if values and exclude != f"attr:{code}":
                filters.append(_any([self._term(f"{specs}.{code}", v) for v in values]))
        for code, ranges in query.attr_ranges.items():
            if ranges and exclude != f"attr:{code}":
                filters.append(_any([self._spec_range(f"{specs}.{code}", r) for r in ranges]))
        if query.energy_saving:
            filters.append(self._term(names["energy_saving"], True))
        if query.environmental:
            filters.append(self._term(names["environmental"], True))
        if level == OFFER:
            filters.extend(self._offer_clauses(query, exclude))
        if not scoring and not filters:
            filters.append(self._term("listed", True))  # everything, on product documents
        if scored and scoring and filters:
            return _all([*scoring, Query.const_score_query(_all(filters), 0.0)])
        return _all(scoring + filters)

    def _offer_clauses(self, query: SearchQuery, exclude: str | None) -> list[Query]:
        clauses = []
        if exclude != "price" and (query.price_min is not None or query.price_max is not None):
            clauses.append(
                Query.range_query(
                    self.schema,
                    "price_fen",
                    tantivy.FieldType.Integer,
                    None if query.price_min is None else to_fen(query.price_min),
                    None if query.price_max is None else to_fen(query.price_max),
                )
            )
        if query.region:
            clauses.append(self._term("regions", query.region))
        if query.in_stock:
            clauses.append(self._term("in_stock", True))
        if query.sme_only:
            clauses.append(self._term("sme", True))
        if query.supplier_ids:
            clauses.append(self._terms("supplier_id", query.supplier_ids))
        return clauses

    # -- search --------------------------------------------------------------------------------

    def search(self, query: SearchQuery) -> SearchResult:
        searcher = self._open().searcher()
        text = parse_text(query.text)
        level = OFFER if has_offer_conditions(query) else PRODUCT
        base = self._build(query, text, level)

        # Facets whose own condition is not set are counted under the main query, in one call.
        own = {f.name: self._facet_is_filtered(query, f) for f in query.facets}
        aggs = {f"f:{f.name}": self._facet_agg(f, level) for f in query.facets if not own[f.name]}
        if level == PRODUCT:
            total, hits = self._product_page(searcher, query, text, base)
        else:
            total, hits = self._offer_page(searcher, query, text, base)
            if total is None:  # the page did not see every matching offer: count products
                aggs["total"] = {"cardinality": {"field": "product_id"}}
        result = searcher.aggregate(base, aggs) if aggs else {}
        if total is None:
            total = int(result["total"]["value"])

        facets: dict[str, Facet] = {}
        for facet in query.facets:
            if own[facet.name]:
                facet_level = OFFER if has_offer_conditions(query, exclude=facet.name) else PRODUCT
                facet_query = self._build(query, text, facet_level, exclude=facet.name)
                raw = searcher.aggregate(facet_query, {"f": self._facet_agg(facet, facet_level)})["f"]
            else:
                facet_level, raw = level, result[f"f:{facet.name}"]
            facets[facet.name] = self._facet(query, facet, raw, facet_level)
        return SearchResult(
            total=total, hits=tuple(hits), facets=facets, page=query.page, per_page=query.per_page
        )

    # -- pages of product documents ------------------------------------------------------------

    def _product_page(
        self, searcher, query: SearchQuery, text: TextQuery, base: Query
    ) -> tuple[int, list[ProductHit]]:
        """The total and the page, from product documents (no offer-level conditions)."""
        if query.sort is Sort.RELEVANCE and not text.is_empty:
            return self._product_page_by_score(searcher, query, text)
        field, descending = _PRODUCT_ORDER[query.sort]
        # Unique keys (product id, or packed with it): the engine pages exactly.
        result = searcher.search(
            base,
            max(1, query.per_page),
            count=True,
            order_by_field=field,
            order=Order.Desc if descending else Order.Asc,
            offset=query.offset,
        )
        return result.count, self._product_hits(searcher, [address for _, address in result.hits], {})

    def _product_page_by_score(
        self, searcher, query: SearchQuery, text: TextQuery
    ) -> tuple[int, list[ProductHit]]:
        """Products by score, ties by product id: fetch until the page's last score is followed
        by a lower one, so every product tied with it is known. Similar names score alike, so
        ties are common: start well past the page and grow fast (each try runs the query again,
        and a longer top-k costs little more)."""
        scored = self._build(query, text, PRODUCT, scored=True)
        needed = query.offset + query.per_page
        limit = needed * 8 + 64
        while True:
            result = searcher.search(scored, limit, count=True)
            hits = result.hits
            if len(hits) < limit or hits[needed - 1][0] != hits[-1][0]:
                break
            limit *= 16
        addresses = [address for _, address in hits]
        product_ids = searcher.fast_field_values("product_id", addresses)
        ranked = sorted(zip(hits, product_ids, strict=True), key=lambda pair: (-pair[0][0], pair[1]))[
            query.offset : needed
        ]
        scores = {product_id: score for (score, _), product_id in ranked}
        return result.count, self._product_hits(searcher, [hit[1] for hit, _ in ranked], scores)

    def _product_hits(self, searcher, addresses: list, scores: dict[int, float]) -> list[ProductHit]:
        columns = [
            searcher.fast_field_values(name, addresses)
            for name in ("product_id", "min_price_fen", "min_offer_id", "supplier_count")
        ]
        return [
            ProductHit(
                product_id=product_id,
                min_price=_yuan(price),
                offer_id=offer_id,
                supplier_count=suppliers,
                score=scores.get(product_id),
            )
            for product_id, price, offer_id, suppliers in zip(*columns, strict=True)
        ]

    # -- pages of offer documents --------------------------------------------------------------

    def _offer_page(
        self, searcher, query: SearchQuery, text: TextQuery, base: Query
    ) -> tuple[int | None, list[ProductHit]]:
        """The page from offer documents: the top offers in the sort order, each product ranked
        by its first offer, fetching more offers until the page is certain. Also the exact total
        when every matching offer was fetched on the way (``cardinality`` only estimates)."""
        needed = query.offset + query.per_page
        if query.sort is Sort.PRICE_DESC:
            return self._offer_page_by_min_price_desc(searcher, query, base)
        scored = query.sort is Sort.RELEVANCE and not text.is_empty
        if scored:
            ranking, field, descending = self._build(query, text, OFFER, scored=True), None, True
        else:
            (field, descending), ranking = _OFFER_ORDER[query.sort], base
        limit = needed * 8 + 64
        while True:
            if field is None:
                hits = searcher.search(ranking, limit, count=False).hits
            else:
                order = Order.Desc if descending else Order.Asc
                hits = searcher.search(ranking, limit, count=False, order_by_field=field, order=order).hits
            product_ids = searcher.fast_field_values("product_id", [address for _, address in hits])
            first: dict[int, float] = {}
            for (value, _), product_id in zip(hits, product_ids, strict=True):
                first.setdefault(product_id, -value if descending else value)
            if len(hits) < limit:  # every matching offer seen
                ranked = list(first)
            else:
                # Products not seen rank after the last offer seen. Keys are unique per product
                # (a product's score is not: a tie with the last offer may be incomplete).
                last = -hits[-1][0] if descending else hits[-1][0]
                ranked = [pid for pid, key in first.items() if key < last or (not scored and key == last)]
            if len(hits) < limit or len(ranked) >= needed:
                break
            limit *= 8
        page = sorted(ranked, key=lambda pid: (first[pid], pid))[query.offset : needed]
        summaries = self._offer_summaries(searcher, base, page)
        exact_total = len(first) if len(hits) < limit else None
        scores = {pid: -first[pid] for pid in page} if scored else {}
        return exact_total, [self._offer_hit(pid, summaries[pid], scores.get(pid)) for pid in page]

    def _offer_page_by_min_price_desc(
        self, searcher, query: SearchQuery, base: Query
    ) -> tuple[int | None, list[ProductHit]]:
        """Highest lowest-matching-price first. Offers come by descending price, so a product's
        first offer is its dearest, not its lowest: summarize the products seen and keep those
        whose lowest matching offer still ranks above the last offer fetched (every product not
        seen, or not kept, has a matching offer at or below it)."""
        needed = query.offset + query.per_page
        limit = needed * 8 + 64
        while True:
            hits = searcher.search(
                base, limit, count=False, order_by_field="sort_price_desc", order=Order.Desc
            ).hits
            product_ids = searcher.fast_field_values("product_id", [address for _, address in hits])
            summaries = self._offer_summaries(searcher, base, list(dict.fromkeys(product_ids)))
            if len(hits) < limit:
                kept = list(summaries)
            else:
                last = hits[-1][0]
                kept = [
                    pid
                    for pid, summary in summaries.items()
                    if _key(summary.price_fen, pid, descending=True) > last
                ]
            if len(hits) < limit or len(kept) >= needed:
                break
            limit *= 8
        kept.sort(key=lambda pid: (-summaries[pid].price_fen, pid))
        total = len(summaries) if len(hits) < limit else None
        return total, [self._offer_hit(pid, summaries[pid], None) for pid in kept[query.offset : needed]]

    def _offer_summaries(self, searcher, base: Query, product_ids: list[int]) -> dict[int, _OfferSummary]:
        """Each product's lowest matching offer (ties: lowest offer id) and matching suppliers."""
        if not product_ids:
            return {}
        query = Query.const_score_query(
            Query.boolean_query(
                [
                    (Occur.Must, base),
                    (Occur.Must, Query.term_set_query(self.schema, "product_id", product_ids)),
                ]
            ),
            1.0,
        )
        limit = len(product_ids) * 16
        while True:
            result = searcher.search(query, limit, count=True)
            if len(result.hits) >= result.count:
                break
            limit = result.count
        addresses = [address for _, address in result.hits]
        best: dict[int, tuple[int, int]] = {}
        suppliers: dict[int, set[int]] = {}
        for product_id, offer_id, supplier_id, price in zip(
            *(
                searcher.fast_field_values(name, addresses)
                for name in ("product_id", "offer_id", "supplier_id", "price_fen")
            ),
            strict=True,
        ):
            if product_id not in best or (price, offer_id) < best[product_id]:
                best[product_id] = (price, offer_id)
            suppliers.setdefault(product_id, set()).add(supplier_id)
        return {
            pid: _OfferSummary(price_fen=price, offer_id=offer_id, suppliers=len(suppliers[pid]))
            for pid, (price, offer_id) in best.items()
        }

    @staticmethod
    def _offer_hit(product_id: int, summary: _OfferSummary, score: float | None) -> ProductHit:
        return ProductHit(
            product_id=product_id,
            min_price=_yuan(summary.price_fen),
            offer_id=summary.offer_id,
            supplier_count=summary.suppliers,
            score=score,
        )

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
    def _facet_field(facet: FacetRequest, level: str) -> str:
        if facet.name == "price":
            return "price_fen" if level == OFFER else "prices_fen"
        if facet.attr_code:
            return f"{_NAMES[level]['specs']}.{facet.attr_code}"
        return _NAMES[level][facet.name]  # brand, category

    def _facet_agg(self, facet: FacetRequest, level: str) -> dict:
        """Product documents are counted as they are; offer documents by distinct product."""
        field = self._facet_field(facet, level)
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
            agg: dict = {"range": {"field": field, "ranges": ranges}}
        else:
            agg = {"terms": {"field": field, "size": facet.size * FACET_SLACK}}
        if level == OFFER:
            agg["aggs"] = {"p": {"cardinality": {"field": "product_id"}}}
        return agg

    def _facet(self, query: SearchQuery, facet: FacetRequest, raw: dict, level: str) -> Facet:
        def count(bucket: dict) -> int:
            if level == PRODUCT or not bucket["doc_count"]:
                return int(bucket["doc_count"])
            return int(bucket["p"]["value"])

        buckets: list[FacetBucket] = []
        if facet.kind is FacetKind.RANGES:
            for rng, bucket in zip(facet.ranges, raw["buckets"], strict=True):
                buckets.append(
                    FacetBucket(
                        key=rng.key,
                        count=count(bucket),
                        value=rng,
                        selected=self._range_selected(query, facet, rng),
                    )
                )
            return Facet(name=facet.name, buckets=tuple(buckets))
        selected = self._selected_values(query, facet)
        for bucket in raw["buckets"]:
            value = _bucket_value(bucket)
            products = count(bucket)
            if products:
                key = format_key(value)
                buckets.append(FacetBucket(key=key, count=products, value=value, selected=key in selected))
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


# Orders as (field, descending). Relevance without text is by product id. Product documents
# carry their lowest price's key; offer documents their own price's.
_PRODUCT_ORDER: dict[Sort, tuple[str, bool]] = {
    Sort.RELEVANCE: ("product_id", False),
    Sort.PRICE_ASC: ("sort_price_asc", False),
    Sort.PRICE_DESC: ("sort_price_desc", True),
    Sort.RATING: ("sort_rating", True),
    Sort.NEWEST: ("sort_newest", True),
}
# PRICE_DESC over offers is not here: see _offer_page_by_min_price_desc.
_OFFER_ORDER: dict[Sort, tuple[str, bool]] = {
    Sort.RELEVANCE: ("product_id", False),
    Sort.PRICE_ASC: ("sort_price_asc", False),
    Sort.RATING: ("sort_rating", True),
    Sort.NEWEST: ("sort_newest", True),
}


def _all(clauses: list[Query]) -> Query:
    return clauses[0] if len(clauses) == 1 else Query.boolean_query([(Occur.Must, c) for c in clauses])


def _any(clauses: list[Query]) -> Query:
    return clauses[0] if len(clauses) == 1 else Query.boolean_query([(Occur.Should, c) for c in clauses])


def _yuan(fen: int) -> Decimal:
    return (Decimal(fen) / 100).quantize(Decimal("0.01"))


def _number(value: float) -> str:
    return format_key(value)


def _bucket_value(bucket: dict):
    if "key_as_string" in bucket and bucket["key_as_string"] in ("true", "false"):
        return bucket["key_as_string"] == "true"
    key = bucket["key"]
    if isinstance(key, float) and key.is_integer():
        return int(key)
    return key
