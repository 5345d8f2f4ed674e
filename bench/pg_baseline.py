"""A fair PostgreSQL full-text baseline for ``bench/search.py`` (a helper, not a benchmark).

The same products and offers as the tantivy index, in a scratch database created and dropped here:
``products`` (one row per listed product, with typed columns for the attributes the query mix
filters and facets on, and ``tsv``: the analyzer's index tokens as a tsvector, so both engines match
the very same tokens) and ``offers``. GIN on ``tsv``, ``category_path`` and
``regions``, btree on the filter and join columns, ``ANALYZE``.

Each ``SearchQuery`` becomes the SQL a PostgreSQL-backed shop (Saleor-style) would run, one
statement after the other on one connection: the page (grouped by product with the lowest matching
offer and the supplier count), the total with the facets whose own filter is not set (one scan,
``GROUPING SETS``), the price facet, and one ``GROUP BY`` per facet whose own filter is set.
Offer-level conditions hold for one offer (``EXISTS`` / a join on one offer row). Statements are
parametrized, so psycopg prepares them after a few runs.
"""

# SQL here is assembled from fixed fragments and whitelisted column names; values are parameters.
# ruff: noqa: S608

from __future__ import annotations

import sys
import time
import uuid
from collections.abc import Iterable
from decimal import Decimal
from itertools import combinations, pairwise
from math import comb

if __name__ == "__main__":  # `make bench` runs every bench/*.py; this file is only a helper
    sys.exit(0)

import psycopg

from bench.search_data import CATEGORIES
from search.analyzer import analyze
from search.model import (
    Facet,
    FacetBucket,
    FacetKind,
    FacetRequest,
    ProductDoc,
    ProductHit,
    SearchQuery,
    SearchResult,
    Sort,
    format_key,
    price_bucket_selected,
)
from search.tantivy_backend import CachedIndexText
from search.text import TextQuery, parse_text

# Session settings a tuned search database would use (the server's own settings are not touched).
SESSION_SETTINGS = {
    "work_mem": "64MB",
    "jit": "off",  # JIT compilation costs more than it saves on queries this short
    "random_page_cost": "1.1",  # SSD
    "effective_io_concurrency": "200",
    "effective_cache_size": "8GB",
}
# tsvector positions stop here (PostgreSQL's limit).
MAX_POSITION = 16383
# A minimum_should_match over more combinations than this is counted instead of enumerated.
MAX_COMBINATIONS = 64


def _attribute_columns() -> dict[str, str]:
    """attr code → SQL type, for every attribute the mix filters or facets on."""
    columns: dict[str, str] = {}
    for category in CATEGORIES:
        for spec in category.specs:
            if spec.code in category.facets:
                value = spec.values[0]
                columns[spec.code] = (
                    "boolean"
                    if isinstance(value, bool)
                    else "integer"
                    if isinstance(value, int)
                    else "numeric"
                    if isinstance(value, float)
                    else "text"
                )
    return columns


ATTRIBUTES = _attribute_columns()


def _column(code: str) -> str:
    if code not in ATTRIBUTES:
        raise KeyError(f"attribute {code!r} has no column in the baseline")
    return f"p.a_{code}"


def _typed(code: str, value):
    return Decimal(str(value)) if ATTRIBUTES[code] == "numeric" else value


def _lexeme(token: str) -> str:
    return "'" + token.replace("\\", "\\\\").replace("'", "''") + "'"


def tsvector(tokens: str) -> str:
    """The tsvector of space-joined analyzer tokens, written out lexeme by lexeme with positions:
    ``to_tsvector('simple', tokens)`` would split a few of them again (``2.5g`` → ``2.5``, ``g``)."""
    positions: dict[str, list[str]] = {}
    for position, token in enumerate(tokens.split()[:MAX_POSITION], start=1):
        positions.setdefault(token, []).append(str(position))
    return " ".join(f"{_lexeme(token)}:{','.join(p[:256])}" for token, p in positions.items())


def text_condition(text: TextQuery) -> tuple[str, list]:
    """``p.tsv`` matching the same tokens under the same policy as the tantivy backend: every
    synonym group through one of its alternatives (all of its tokens), and at least
    ``required`` of the free tokens (an OR of ANDs, or a count when that would be too long)."""
    parts: list[str] = []
    for group in text.groups:
        alternatives = [" & ".join(map(_lexeme, tokens)) for tokens in map(analyze, group) if tokens]
        if alternatives:
            parts.append(" | ".join(f"({a})" for a in alternatives))
    tokens, required = text.free_tokens, text.required
    counted: list[str] = []
    if tokens:
        if required == len(tokens):
            parts.append(" & ".join(map(_lexeme, tokens)))
        elif comb(len(tokens), required) <= MAX_COMBINATIONS:
            parts.append(
                " | ".join(f"({' & '.join(map(_lexeme, c))})" for c in combinations(tokens, required))
            )
        else:
            parts.append(" | ".join(map(_lexeme, tokens)))
            counted = tokens
    if not parts:
        return "", []
    sql, params = "p.tsv @@ %s::tsquery", [" & ".join(f"({p})" for p in parts)]
    if counted:
        sql += " AND (" + " + ".join("(p.tsv @@ %s::tsquery)::int" for _ in counted) + ") >= %s"
        params += [_lexeme(t) for t in counted] + [required]
    return sql, params


class PgBaseline:
    def __init__(self, admin_url: str):
        self.admin_url = admin_url
        self.database = f"emall_bench_{uuid.uuid4().hex[:8]}"
        self.url = f"{admin_url.rsplit('/', 1)[0]}/{self.database}"
        self.conn: psycopg.Connection | None = None

    def __enter__(self) -> PgBaseline:
        with psycopg.connect(self.admin_url, autocommit=True) as admin:
            admin.execute(f'CREATE DATABASE "{self.database}"')
        self.conn = psycopg.connect(self.url, autocommit=True)
        for name, value in SESSION_SETTINGS.items():
            self.conn.execute(f"SET {name} = '{value}'")
        return self

    def __exit__(self, *exc) -> None:
        if self.conn is not None:
            self.conn.close()
        with psycopg.connect(self.admin_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{self.database}" WITH (FORCE)')

    # -- loading --------------------------------------------------------------------------------

    def load(self, docs: Iterable[ProductDoc]) -> float:
        """COPY the products and offers, build the indexes, ANALYZE. Returns the seconds taken."""
        started = time.perf_counter()
        attrs = list(ATTRIBUTES)
        conn = self.conn
        # Unlogged: the load is faster, reads are the same.
        conn.execute(
            "CREATE UNLOGGED TABLE products (id integer PRIMARY KEY, category_code text NOT NULL,"
            " category_path text[] NOT NULL, brand text NOT NULL, tsv tsvector NOT NULL,"
            " energy_saving boolean NOT NULL, environmental boolean NOT NULL, rating real NOT NULL,"
            f" listed_at timestamptz NOT NULL{''.join(f', a_{c} {t}' for c, t in ATTRIBUTES.items())})"
        )
        conn.execute(
            "CREATE UNLOGGED TABLE offers (id integer PRIMARY KEY, product_id integer NOT NULL,"
            " supplier_id integer NOT NULL, price numeric(14, 2) NOT NULL, regions text[] NOT NULL,"
            " stock integer NOT NULL, sme boolean NOT NULL)"
        )
        analyze_text = CachedIndexText()
        columns = ", ".join(
            ["id, category_code, category_path, brand, tsv, energy_saving, environmental, rating, listed_at"]
            + [f"a_{code}" for code in attrs]
        )
        # Two connections, so both COPY streams are filled in one pass over the generator.
        with (
            psycopg.connect(self.url, autocommit=True) as offers_conn,
            conn.cursor().copy(f"COPY products ({columns}) FROM STDIN") as products_copy,
            offers_conn.cursor().copy(
                "COPY offers (id, product_id, supplier_id, price, regions, stock, sme) FROM STDIN"
            ) as offers_copy,
        ):
            for doc in docs:
                if not doc.active or not doc.offers:
                    continue
                products_copy.write_row(
                    (
                        doc.product_id,
                        doc.category_code,
                        list(doc.category_path),
                        doc.brand,
                        tsvector(analyze_text(doc.text)),
                        doc.energy_saving,
                        doc.environmental,
                        doc.rating,
                        doc.listed_at,
                        *(doc.specs.get(code) for code in attrs),
                    )
                )
                for offer in doc.offers:
                    offers_copy.write_row(
                        (
                            offer.offer_id,
                            doc.product_id,
                            offer.supplier_id,
                            offer.price,
                            list(offer.regions),
                            offer.stock,
                            offer.supplier_sme,
                        )
                    )
        statements = [
            "CREATE INDEX ON products USING gin (tsv)",
            "CREATE INDEX ON products USING gin (category_path)",
            "CREATE INDEX ON products (category_code)",
            "CREATE INDEX ON products (brand)",
            "CREATE INDEX ON products (rating)",
            "CREATE INDEX ON products (listed_at)",
            *(f"CREATE INDEX ON products (a_{code})" for code in attrs),
            "CREATE INDEX ON offers (product_id, price)",
            "CREATE INDEX ON offers (price)",
            "CREATE INDEX ON offers (supplier_id)",
            "CREATE INDEX ON offers USING gin (regions)",
            "ANALYZE products",
            "ANALYZE offers",
        ]
        for statement in statements:
            conn.execute(statement)
        return time.perf_counter() - started

    # -- searching ------------------------------------------------------------------------------

    def search(self, query: SearchQuery) -> SearchResult:
        text = parse_text(query.text)
        hits = self._page(query, text)
        own = {f.name: _facet_is_filtered(query, f) for f in query.facets}
        product_facets = [f for f in query.facets if f.name != "price" and not own[f.name]]
        total, raw = self._total_and_facets(query, text, product_facets)
        facets: dict[str, Facet] = {}
        for facet in query.facets:
            if facet.name == "price":
                facets[facet.name] = self._price_facet(query, text, facet)
            elif own[facet.name]:
                exclude = facet.name
                where, params = self._where(query, text, exclude)
                column = _facet_column(facet)
                rows = self.conn.execute(
                    f"SELECT {column}, count(*) FROM products p WHERE {where}"
                    f" AND {column} IS NOT NULL GROUP BY {column}",
                    params,
                ).fetchall()
                facets[facet.name] = _terms_facet(query, facet, rows)
            else:
                facets[facet.name] = _terms_facet(query, facet, raw[facet.name])
        return SearchResult(
            total=total, hits=tuple(hits), facets=facets, page=query.page, per_page=query.per_page
        )

    def _where(self, query: SearchQuery, text: TextQuery, exclude: str | None = None) -> tuple[str, list]:
        """Products matching the query (without facet ``exclude``'s own condition), with a
        matching offer when there are offer-level conditions."""
        conditions, params = self._product_conditions(query, text, exclude)
        offer_sql, offer_params = self._offer_conditions(query, exclude)
        if offer_sql:
            conditions.append(
                f"EXISTS (SELECT 1 FROM offers o WHERE o.product_id = p.id AND {' AND '.join(offer_sql)})"
            )
            params += offer_params
        return (" AND ".join(conditions) or "true"), params

    def _product_conditions(
        self, query: SearchQuery, text: TextQuery, exclude: str | None = None
    ) -> tuple[list[str], list]:
        conditions: list[str] = []
        params: list = []
        sql, text_params = text_condition(text)
        if sql:
            conditions.append(sql)
            params += text_params
        if query.category_codes and exclude != "category":
            conditions.append("p.category_path && %s::text[]")
            params.append(list(query.category_codes))
        if query.brands and exclude != "brand":
            conditions.append("p.brand = ANY(%s)")
            params.append(list(query.brands))
        for code, values in query.attr_terms.items():
            if values and exclude != f"attr:{code}":
                conditions.append(f"{_column(code)} = ANY(%s)")
                params.append([_typed(code, v) for v in values])
        for code, ranges in query.attr_ranges.items():
            if ranges and exclude != f"attr:{code}":
                alternatives = []
                for rng in ranges:
                    bounds = []
                    if rng.low is not None:
                        bounds.append(f"{_column(code)} >= %s")
                        params.append(_typed(code, rng.low))
                    if rng.high is not None:
                        bounds.append(f"{_column(code)} < %s")
                        params.append(_typed(code, rng.high))
                    alternatives.append("(" + (" AND ".join(bounds) or "true") + ")")
                conditions.append("(" + " OR ".join(alternatives) + ")")
        if query.energy_saving:
            conditions.append("p.energy_saving")
        if query.environmental:
            conditions.append("p.environmental")
        return conditions, params

    @staticmethod
    def _offer_conditions(query: SearchQuery, exclude: str | None = None) -> tuple[list[str], list]:
        conditions: list[str] = []
        params: list = []
        if exclude != "price":
            if query.price_min is not None:
                conditions.append("o.price >= %s")
                params.append(query.price_min)
            if query.price_max is not None:
                conditions.append("o.price <= %s")
                params.append(query.price_max)
        if query.region:
            conditions.append("o.regions @> %s::text[]")
            params.append([query.region])
        if query.in_stock:
            conditions.append("o.stock > 0")
        if query.sme_only:
            conditions.append("o.sme")
        if query.supplier_ids:
            conditions.append("o.supplier_id = ANY(%s)")
            params.append(list(query.supplier_ids))
        return conditions, params

    def _page(self, query: SearchQuery, text: TextQuery) -> list[ProductHit]:
        """The page: products in order with their lowest matching offer and supplier count."""
        offer_sql, offer_params = self._offer_conditions(query)
        offer_join = "".join(f" AND {c}" for c in offer_sql)
        summary = "min(o.price), (array_agg(o.id ORDER BY o.price, o.id))[1], count(DISTINCT o.supplier_id)"
        if query.sort in (Sort.PRICE_ASC, Sort.PRICE_DESC):
            # The order depends on the matching offers: group them all, then sort.
            conditions, params = self._product_conditions(query, text)
            where = " AND ".join(conditions) or "true"
            direction = "DESC" if query.sort is Sort.PRICE_DESC else ""
            rows = self.conn.execute(
                f"SELECT p.id, {summary}, NULL FROM products p JOIN offers o ON o.product_id = p.id"
                f"{offer_join} WHERE {where} GROUP BY p.id ORDER BY min(o.price) {direction}, p.id"
                " LIMIT %s OFFSET %s",
                [*offer_params, *params, query.per_page, query.offset],
            ).fetchall()
        else:
            # The order is the product's own: pick the page of products first, then their offers.
            where, params = self._where(query, text)
            text_sql, text_params = text_condition(text)
            if query.sort is Sort.RELEVANCE and text_sql:
                key, direction, key_params = "ts_rank(p.tsv, %s::tsquery)", "DESC", text_params[:1]
            else:
                (key, direction), key_params = _PRODUCT_ORDER[query.sort], []
            rows = self.conn.execute(
                f"WITH page AS (SELECT p.id, {key} AS key FROM products p WHERE {where}"
                f" ORDER BY key {direction}, p.id LIMIT %s OFFSET %s)"
                f" SELECT page.id, {summary}, page.key FROM page"
                f" JOIN offers o ON o.product_id = page.id{offer_join}"
                f" GROUP BY page.id, page.key ORDER BY page.key {direction}, page.id",
                [*key_params, *params, query.per_page, query.offset, *offer_params],
            ).fetchall()
            if not key_params:
                rows = [(*row[:4], None) for row in rows]
        return [
            ProductHit(
                product_id=pid,
                min_price=price,
                offer_id=offer_id,
                supplier_count=suppliers,
                score=None if rank is None else float(rank),
            )
            for pid, price, offer_id, suppliers, rank in rows
        ]

    def _total_and_facets(
        self, query: SearchQuery, text: TextQuery, facets: list[FacetRequest]
    ) -> tuple[int, dict[str, list]]:
        """The total and the product facets counted under the whole query, in one scan."""
        where, params = self._where(query, text)
        columns = [_facet_column(f) for f in facets]
        if not columns:
            return self.conn.execute(f"SELECT count(*) FROM products p WHERE {where}", params).fetchone()[
                0
            ], {}
        sets = ", ".join(["()", *(f"({c})" for c in columns)])
        rows = self.conn.execute(
            f"SELECT GROUPING({', '.join(columns)}), {', '.join(columns)}, count(*) FROM products p"
            f" WHERE {where} GROUP BY GROUPING SETS ({sets})",
            params,
        ).fetchall()
        total = 0
        raw: dict[str, list] = {f.name: [] for f in facets}
        full = (1 << len(columns)) - 1
        for row in rows:
            grouping, values, count = row[0], row[1:-1], row[-1]
            if grouping == full:
                total = count
                continue
            for i, facet in enumerate(facets):
                # GROUPING's bit for a column is 0 when the row groups by that column.
                if not grouping >> (len(columns) - 1 - i) & 1 and values[i] is not None:
                    raw[facet.name].append((values[i], count))
        return total, raw

    def _price_facet(self, query: SearchQuery, text: TextQuery, facet: FacetRequest) -> Facet:
        """Products with a matching offer in each price range (the ranges are contiguous)."""
        ranges = facet.ranges
        edges = [r.low for r in ranges[1:]]
        if any(a.high != b.low for a, b in pairwise(ranges)):
            raise ValueError("the baseline counts contiguous price ranges only")
        conditions, params = self._product_conditions(query, text)
        offer_sql, offer_params = self._offer_conditions(query, exclude="price")
        where = " AND ".join(conditions + offer_sql) or "true"
        params += offer_params
        # width_bucket puts everything below the first edge in bucket 0 and above the last in the
        # last bucket: keep out what lies outside the ranges.
        if ranges[0].low is not None:
            where += " AND o.price >= %s"
            params.append(Decimal(str(ranges[0].low)))
        if ranges[-1].high is not None:
            where += " AND o.price < %s"
            params.append(Decimal(str(ranges[-1].high)))
        # DISTINCT (hashed) then count: count(DISTINCT …) would sort.
        rows = self.conn.execute(
            "SELECT bucket, count(*) FROM (SELECT DISTINCT width_bucket(o.price, %s::numeric[]) AS bucket,"
            f" o.product_id FROM offers o JOIN products p ON p.id = o.product_id WHERE {where}) AS m"
            " GROUP BY bucket",
            [[Decimal(str(e)) for e in edges], *params],
        ).fetchall()
        counts = dict(rows)
        return Facet(
            name=facet.name,
            buckets=tuple(
                FacetBucket(
                    key=rng.key, count=counts.get(i, 0), value=rng, selected=price_bucket_selected(query, rng)
                )
                for i, rng in enumerate(ranges)
            ),
        )


# The product's own sort key and direction; ties by product id.
_PRODUCT_ORDER = {
    Sort.RELEVANCE: ("p.id", "ASC"),
    Sort.RATING: ("p.rating", "DESC"),
    Sort.NEWEST: ("p.listed_at", "DESC"),
}


def _facet_is_filtered(query: SearchQuery, facet: FacetRequest) -> bool:
    if facet.name == "brand":
        return bool(query.brands)
    if facet.name == "category":
        return bool(query.category_codes)
    if facet.name == "price":
        return query.price_min is not None or query.price_max is not None
    code = facet.attr_code
    return bool(code and (query.attr_terms.get(code) or query.attr_ranges.get(code)))


def _facet_column(facet: FacetRequest) -> str:
    if facet.kind is not FacetKind.TERMS:
        raise ValueError("the baseline counts range facets on price only")
    if facet.name == "brand":
        return "p.brand"
    if facet.name == "category":
        return "p.category_code"
    return _column(facet.attr_code)


def _terms_facet(query: SearchQuery, facet: FacetRequest, rows: list) -> Facet:
    if facet.name == "brand":
        selected = set(query.brands)
    elif facet.name == "category":
        selected = set(query.category_codes)
    else:
        selected = {format_key(v) for v in query.attr_terms.get(facet.attr_code, ())}
    buckets = [
        FacetBucket(key=format_key(_plain(value)), count=count, value=_plain(value))
        for value, count in rows
        if count
    ]
    buckets.sort(key=lambda b: (-b.count, b.key))
    return Facet(
        name=facet.name,
        buckets=tuple(
            FacetBucket(key=b.key, count=b.count, value=b.value, selected=b.key in selected)
            for b in buckets[: facet.size]
        ),
    )


def _plain(value):
    """Numeric columns come back as Decimal; facets carry int or float like tantivy's."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value
