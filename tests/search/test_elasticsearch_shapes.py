"""The Elasticsearch backend without a cluster: index body, request shapes (pinned JSON fixtures
in tests/search/fixtures/es/, reviewed by hand), response parsing, bulk actions, and the alias
swap, driven through the real client against a fake HTTP transport that records every request.

Regenerate the request fixtures after a deliberate change with
``UPDATE_ES_FIXTURES=1 pytest tests/search/test_elasticsearch_shapes.py`` and review the diff.
Only the analyzer comparison needs a real cluster (ELASTICSEARCH_URL).
"""

from __future__ import annotations

import json
import os
import re
import uuid
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import pytest
from elastic_transport import ApiResponseMeta, ConnectionError, HttpHeaders, NodeConfig
from elasticsearch import Elasticsearch

from search.analyzer import analyze, index_tokens
from search.backend import SearchError
from search.elasticsearch_backend import ElasticsearchBackend
from search.es_mapping import index_action, index_body, product_source
from search.es_query import (
    INNER_HITS_SIZE,
    build_search_body,
    build_supplier_count_body,
    parse_search_response,
)
from search.model import (
    FacetBucket,
    FacetKind,
    FacetRequest,
    NumericRange,
    OfferDoc,
    ProductDoc,
    ProductHit,
    SearchQuery,
    Sort,
    ValueType,
)

FIXTURES = Path(__file__).parent / "fixtures" / "es"
UPDATE = os.environ.get("UPDATE_ES_FIXTURES") == "1"


def dump(data: Any) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False, sort_keys=True) + "\n"


def plain(data: Any) -> Any:
    """What the client would send: JSON types only (tuples → lists, and so on)."""
    return json.loads(json.dumps(data, ensure_ascii=False))


def assert_fixture(name: str, data: Any) -> None:
    path = FIXTURES / name
    if UPDATE:
        path.write_text(dump(data), encoding="utf-8")
    expected = json.loads(path.read_text(encoding="utf-8"))
    assert plain(data) == expected, f"{name} changed: regenerate with UPDATE_ES_FIXTURES=1 and review"


# ---------------------------------------------------------------------------------------------
# Index body


def test_index_body_matches_fixture():
    assert_fixture("index_body.json", index_body())


def test_index_body_essentials():
    body = index_body()
    analysis = body["settings"]["analysis"]
    assert analysis["analyzer"]["cjk_text"] == {
        "type": "custom",
        "tokenizer": "standard",
        "filter": ["cjk_width", "lowercase", "cjk_bigram"],
    }
    # At index time Han characters are kept as unigrams too, so 纸 finds 复印纸.
    assert analysis["analyzer"]["cjk_text_index"] == {
        "type": "custom",
        "tokenizer": "standard",
        "filter": ["cjk_width", "lowercase", "cjk_bigram_unigrams"],
    }
    assert analysis["filter"]["cjk_bigram_unigrams"] == {"type": "cjk_bigram", "output_unigrams": True}
    mappings = body["mappings"]
    assert mappings["dynamic"] == "strict"
    props = mappings["properties"]
    assert props["offers"]["type"] == "nested"
    assert props["offers"]["properties"]["price"] == {"type": "scaled_float", "scaling_factor": 100}
    for field in ("text", "name"):
        assert props[field] == {"type": "text", "analyzer": "cjk_text_index", "search_analyzer": "cjk_text"}
    for name, es_type in (("attr_num", "double"), ("attr_kw", "keyword"), ("attr_bool", "boolean")):
        assert props[name] == {"type": "object", "dynamic": True}
        assert {name: {"path_match": f"{name}.*", "mapping": {"type": es_type}}} in mappings[
            "dynamic_templates"
        ]


# ---------------------------------------------------------------------------------------------
# Search bodies

PRICE_RANGES = (NumericRange(None, 3000), NumericRange(3000, 6000), NumericRange(6000, None))
MEMORY_RANGES = (NumericRange(None, 16), NumericRange(16, 32), NumericRange(32, None))

QUERIES = {
    "text_only": SearchQuery(text="笔记本电脑 联想"),
    "filtered_with_facets": SearchQuery(
        text="笔记本电脑",
        category_codes=("A02010108",),
        attr_terms={"storage_type": ("SSD",)},
        attr_ranges={"memory_gb": (NumericRange(16, 32), NumericRange(32, None))},
        price_min=Decimal("4000.00"),
        price_max=Decimal("7999.99"),
        facets=(
            FacetRequest("brand"),
            FacetRequest("category"),
            FacetRequest("attr:memory_gb", kind=FacetKind.RANGES, ranges=MEMORY_RANGES),
            FacetRequest("price", kind=FacetKind.RANGES, ranges=PRICE_RANGES),
        ),
    ),
    "category_browse": SearchQuery(
        category_codes=("A02010100",),
        facets=(
            FacetRequest("brand"),
            FacetRequest("category"),
            FacetRequest("attr:cpu"),
            FacetRequest("attr:memory_gb", value_type=ValueType.NUMBER),
            FacetRequest("price", kind=FacetKind.RANGES, ranges=PRICE_RANGES),
        ),
    ),
    "price_sort_region_stock": SearchQuery(
        text="打印机", region="320000", in_stock=True, sort=Sort.PRICE_ASC
    ),
    "deep_page": SearchQuery(category_codes=("A02010105",), sort=Sort.NEWEST, page=40, per_page=20),
}


@pytest.mark.parametrize("name", sorted(QUERIES))
def test_search_body_matches_fixture(name):
    assert_fixture(f"search_{name}.json", build_search_body(QUERIES[name]))


def _nested(clauses: list[dict]) -> list[dict]:
    return [c["nested"] for c in clauses if "nested" in c]


def test_text_becomes_synonym_groups_and_free_text_with_minimum_should_match():
    must = build_search_body(QUERIES["text_only"])["query"]["bool"]["must"]
    group, free = must
    alternatives = [m["match"]["text"]["query"] for m in group["bool"]["should"]]
    assert alternatives == ["笔记本电脑", "笔记本", "便携式计算机", "laptop", "notebook"]
    assert {m["match"]["text"]["operator"] for m in group["bool"]["should"]} == {"and"}
    assert group["bool"]["minimum_should_match"] == 1
    assert free == {"match": {"text": {"query": "联想", "minimum_should_match": "-25%"}}}


def test_empty_text_scores_nothing_but_still_requires_an_offer():
    body = build_search_body(SearchQuery())
    assert "must" not in body["query"]["bool"]
    (nested,) = _nested(body["query"]["bool"]["filter"])
    assert nested["query"] == {"match_all": {}}
    assert nested["inner_hits"]["size"] == INNER_HITS_SIZE
    assert {"term": {"active": True}} in body["query"]["bool"]["filter"]
    assert "post_filter" not in body and "aggs" not in body


def test_all_offer_conditions_share_one_nested_query_everywhere():
    query = SearchQuery(
        price_min=Decimal("699.00"),
        price_max=Decimal("699.00"),
        region="110000",
        in_stock=True,
        sme_only=True,
        supplier_ids=(7, 3),
        sort=Sort.PRICE_DESC,
    )
    body = build_search_body(query)
    (nested,) = _nested(body["query"]["bool"]["filter"])
    conditions = nested["query"]["bool"]["filter"]
    assert conditions == [
        # Inclusive to the fen: half a fen outside each bound (scaled_float rounds bounds).
        {"range": {"offers.price": {"gte": 698.995, "lt": 699.005}}},
        {"term": {"offers.regions": "110000"}},
        {"range": {"offers.stock": {"gt": 0}}},
        {"term": {"offers.supplier_sme": True}},
        {"terms": {"offers.supplier_id": [3, 7]}},
    ]
    # The sort reads the same matching offers: the hit's min_price, ordered descending.
    assert body["sort"] == [
        {
            "offers.price": {
                "order": "desc",
                "mode": "min",
                "nested": {"path": "offers", "filter": {"bool": {"filter": conditions}}},
            }
        },
        {"product_id": {"order": "asc"}},
    ]
    assert "post_filter" not in body  # no facet asked: nothing to exclude


def test_a_price_facet_moves_the_whole_offer_condition_to_the_post_filter():
    query = replace(QUERIES["filtered_with_facets"], region="110000", in_stock=True)
    body = build_search_body(query)
    region = {"term": {"offers.regions": "110000"}}
    stock = {"range": {"offers.stock": {"gt": 0}}}
    price = {"range": {"offers.price": {"gte": 3999.995, "lt": 7999.995}}}
    # The query keeps the other offer conditions: every aggregation sees only products with an
    # offer in the region and in stock...
    (query_nested,) = _nested(body["query"]["bool"]["filter"])
    assert query_nested["query"]["bool"]["filter"] == [region, stock]
    assert "inner_hits" not in query_nested
    # ...and the post_filter asks ONE offer for all of them, price included, with inner hits.
    (post_nested,) = _nested(body["post_filter"]["bool"]["filter"])
    assert post_nested["query"]["bool"]["filter"] == [price, region, stock]
    assert post_nested["inner_hits"]["name"] == "offers"
    # The price facet counts under the other offer conditions only, in products.
    price_agg = body["aggs"]["price"]
    assert _nested(price_agg["filter"]["bool"]["filter"]) == []
    matching = price_agg["aggs"]["values"]["aggs"]["matching"]
    assert matching["filter"] == {"bool": {"filter": [region, stock]}}
    assert matching["aggs"]["ranges"]["aggs"] == {"products": {"reverse_nested": {}}}
    # Every other facet counts under the full offer condition (without a second inner_hits).
    for name in ("brand", "category", "attr:memory_gb"):
        (nested,) = _nested(body["aggs"][name]["filter"]["bool"]["filter"])
        assert nested["query"]["bool"]["filter"] == [price, region, stock]
        assert "inner_hits" not in nested


def test_each_facet_is_counted_without_its_own_filter():
    body = build_search_body(QUERIES["filtered_with_facets"])
    category = {"terms": {"category_path": ["A02010108"]}}
    storage = {"terms": {"attr_kw.storage_type": ["SSD"]}}
    memory = {
        "bool": {
            "should": [
                {"range": {"attr_num.memory_gb": {"gte": 16, "lt": 32}}},
                {"range": {"attr_num.memory_gb": {"gte": 32}}},
            ],
            "minimum_should_match": 1,
        }
    }
    query_filters = body["query"]["bool"]["filter"]
    assert storage in query_filters  # its facet is not asked for: it stays in the query
    assert category not in query_filters and memory not in query_filters
    post = body["post_filter"]["bool"]["filter"]
    assert category in post and memory in post and len(_nested(post)) == 1

    def agg_filters(name):
        return body["aggs"][name]["filter"]["bool"]["filter"]

    assert category not in agg_filters("category") and memory in agg_filters("category")
    assert memory not in agg_filters("attr:memory_gb") and category in agg_filters("attr:memory_gb")
    assert category in agg_filters("brand") and memory in agg_filters("brand")
    assert _nested(agg_filters("price")) == [] and category in agg_filters("price")


def test_attribute_values_go_to_their_typed_fields():
    body = build_search_body(
        SearchQuery(
            attr_terms={"memory_gb": (16, 32.5), "os": ("统信UOS", "Windows 11"), "duplex": (True,)},
            attr_ranges={"screen_inch": (NumericRange(14, None),)},
        )
    )
    filters = body["query"]["bool"]["filter"]
    assert {"terms": {"attr_num.memory_gb": [16, 32.5]}} in filters
    assert {"terms": {"attr_kw.os": ["统信UOS", "Windows 11"]}} in filters
    assert {"terms": {"attr_bool.duplex": [True]}} in filters
    assert {"range": {"attr_num.screen_inch": {"gte": 14}}} in filters


def test_a_page_past_the_result_window_asks_for_no_hits():
    body = build_search_body(SearchQuery(page=600, per_page=20))
    assert (body["from"], body["size"], body["track_total_hits"]) == (0, 0, True)
    deep = build_search_body(QUERIES["deep_page"])
    assert (deep["from"], deep["size"]) == (780, 20)


# ---------------------------------------------------------------------------------------------
# Responses

RESPONSE_QUERY = SearchQuery(
    text="计算机",
    brands=("联想",),
    attr_terms={"memory_gb": (16,), "duplex": (True,)},
    price_min=Decimal("3000.00"),
    price_max=Decimal("5999.99"),
    sort=Sort.RELEVANCE,
    page=1,
    per_page=2,
    facets=(
        FacetRequest("brand"),
        FacetRequest("category"),
        FacetRequest("attr:memory_gb", value_type=ValueType.NUMBER),
        FacetRequest("attr:duplex", value_type=ValueType.BOOL),
        FacetRequest(
            "attr:screen_inch",
            kind=FacetKind.RANGES,
            ranges=(NumericRange(None, 14), NumericRange(14, 15.6), NumericRange(15.6, None)),
        ),
        FacetRequest("price", kind=FacetKind.RANGES, ranges=PRICE_RANGES),
    ),
)


def load_response() -> dict:
    return json.loads((FIXTURES / "search_response.json").read_text(encoding="utf-8"))


def test_parse_search_response():
    result = parse_search_response(RESPONSE_QUERY, load_response())
    assert (result.total, result.page, result.per_page, result.pages) == (3, 1, 2, 2)
    assert result.hits == (
        # Three matching offers from two suppliers; the cheapest is first.
        ProductHit(product_id=2, min_price=Decimal("4499.00"), offer_id=202, supplier_count=2, score=7.25),
        ProductHit(product_id=1, min_price=Decimal("3999.90"), offer_id=101, supplier_count=1, score=5.5),
    )
    facets = result.facets
    assert list(facets) == [f.name for f in RESPONSE_QUERY.facets]
    assert facets["brand"].buckets == (
        FacetBucket("联想", 3, selected=True, value="联想"),
        FacetBucket("惠普", 1, selected=False, value="惠普"),
    )
    assert facets["category"].buckets == (
        FacetBucket("A02010105", 2, value="A02010105"),
        FacetBucket("A02010108", 1, value="A02010108"),
    )
    # Numbers without trailing zeros; the typed value is an int when whole. Count desc, then the
    # key as text: "15.5" before "8" (Elasticsearch sent them numerically).
    assert facets["attr:memory_gb"].buckets == (
        FacetBucket("16", 2, selected=True, value=16),
        FacetBucket("15.5", 1, selected=False, value=15.5),
        FacetBucket("8", 1, selected=False, value=8),
    )
    assert facets["attr:duplex"].buckets == (
        FacetBucket("true", 2, selected=True, value=True),
        FacetBucket("false", 1, selected=False, value=False),
    )
    # Ranges in the order asked (the response lists them by bound), empty ones included.
    screen = facets["attr:screen_inch"].buckets
    assert [(b.key, b.count, b.value) for b in screen] == [
        ("*-14", 0, NumericRange(None, 14)),
        ("14-15.6", 1, NumericRange(14, 15.6)),
        ("15.6-*", 2, NumericRange(15.6, None)),
    ]
    # Price buckets count products (reverse_nested), not offers; 3000..5999.99 is "3000-6000".
    price = facets["price"].buckets
    assert [(b.key, b.count, b.selected) for b in price] == [
        ("*-3000", 0, False),
        ("3000-6000", 2, True),
        ("6000-*", 1, False),
    ]


def test_parse_without_relevance_has_no_scores():
    result = parse_search_response(replace(RESPONSE_QUERY, sort=Sort.PRICE_ASC), load_response())
    assert [h.score for h in result.hits] == [None, None]


def test_the_canned_response_answers_the_canned_query():
    """The response fixture has the aggregation names and shapes the request asks for."""
    body = build_search_body(RESPONSE_QUERY)
    response = load_response()
    assert set(body["aggs"]) == set(response["aggregations"])
    assert response["hits"]["hits"][0]["inner_hits"]["offers"]["hits"]["hits"][0]["fields"].keys() == set(
        body["post_filter"]["bool"]["filter"][-1]["nested"]["inner_hits"]["docvalue_fields"]
    )


# ---------------------------------------------------------------------------------------------
# Documents and bulk actions


def make_doc(**changes) -> ProductDoc:
    doc = ProductDoc(
        product_id=42,
        version=7,
        active=True,
        category_code="A02010108",
        category_path=("A02000000", "A02010000", "A02010100", "A02010108"),
        brand="联想",
        model="ThinkPad X1 Carbon",
        name="联想 ThinkPad X1 Carbon 便携式计算机",
        text="联想 ThinkPad X1 Carbon 便携式计算机 i7-1360P 15.6",
        specs={"memory_gb": 32, "screen_inch": 15.6, "cpu": "i7-1360P", "wifi": True, "weight_kg": None},
        energy_saving=True,
        environmental=False,
        origin="domestic",
        rating=4.9,
        listed_at=datetime(2026, 11, 1, 8, 30, tzinfo=UTC),
        offers=(
            OfferDoc(
                offer_id=501,
                supplier_id=3,
                price=Decimal("11999.00"),
                regions=("310000", "320000"),
                stock=4,
                supplier_sme=True,
                supplier_rating=4.5,
            ),
            OfferDoc(offer_id=502, supplier_id=4, price=Decimal("79.99"), regions=("110000",), stock=0),
        ),
    )
    return replace(doc, **changes)


def test_index_action_uses_external_versions_and_typed_specs():
    action = index_action(make_doc(), "products-write")
    source = action.pop("_source")
    assert action == {
        "_op_type": "index",
        "_index": "products-write",
        "_id": "42",
        "version": 7,
        "version_type": "external",
    }
    assert "routing" not in action and "_routing" not in action
    assert source == {
        "product_id": 42,
        "version": 7,
        "active": True,
        "category_code": "A02010108",
        "category_path": ["A02000000", "A02010000", "A02010100", "A02010108"],
        "brand": "联想",
        "model": "ThinkPad X1 Carbon",
        "name": "联想 ThinkPad X1 Carbon 便携式计算机",
        "text": "联想 ThinkPad X1 Carbon 便携式计算机 i7-1360P 15.6",
        "attr_num": {"memory_gb": 32, "screen_inch": 15.6},
        "attr_kw": {"cpu": "i7-1360P"},
        "attr_bool": {"wifi": True},
        "energy_saving": True,
        "environmental": False,
        "origin": "domestic",
        "rating": 4.9,
        "listed_at": "2026-11-01T08:30:00.000Z",
        "offers": [
            {
                "offer_id": 501,
                "supplier_id": 3,
                "price": "11999.00",
                "regions": ["310000", "320000"],
                "stock": 4,
                "supplier_sme": True,
                "supplier_rating": 4.5,
            },
            {
                "offer_id": 502,
                "supplier_id": 4,
                "price": "79.99",
                "regions": ["110000"],
                "stock": 0,
                "supplier_sme": False,
                "supplier_rating": 0.0,
            },
        ],
    }


def test_an_inactive_product_is_indexed_not_deleted():
    action = index_action(make_doc(active=False, version=8, offers=()), "products-write")
    assert action["_op_type"] == "index"
    assert action["_source"]["active"] is False
    assert action["_source"]["offers"] == []
    assert action["version"] == 8


def test_spec_types_are_routed_and_mixed_types_refused():
    source = product_source(make_doc(specs={"ports": [1, 2], "colors": ("黑", "银"), "w": Decimal("1.25")}))
    assert source["attr_num"] == {"ports": [1, 2], "w": 1.25}
    assert source["attr_kw"] == {"colors": ["黑", "银"]}
    assert "attr_bool" not in source
    with pytest.raises(ValueError, match="mixes value types"):
        product_source(make_doc(specs={"odd": [1, "a"]}))


# ---------------------------------------------------------------------------------------------
# The client against a fake cluster


class FakeCluster:
    """Stands in for the HTTP transport of a real ``Elasticsearch`` client: records each request
    as (method, path, query params, body) and answers from ``routes`` — (method, path regex) →
    (status, body) or a callable returning one; first match wins."""

    def __init__(self, routes: list[tuple[str, str, Any]]) -> None:
        self.routes = routes
        self.calls: list[tuple[str, str, dict, Any]] = []
        self.client = Elasticsearch("http://es.test:9200")
        self.client.transport.perform_request = self.perform_request  # type: ignore[method-assign]

    def perform_request(self, method: str, target: str, *, body: Any = None, **_: Any):
        path, _, query = target.partition("?")
        if isinstance(body, list):  # bulk: pre-serialized NDJSON lines
            body = [json.loads(line) for line in body]
        params = dict(parse_qsl(query))
        self.calls.append((method, path, params, body))
        for route_method, pattern, answer in self.routes:
            if route_method == method and re.fullmatch(pattern, path):
                status, data = answer(path, params, body) if callable(answer) else answer
                break
        else:
            raise AssertionError(f"unexpected request {method} {target}")
        headers = HttpHeaders({"x-elastic-product": "Elasticsearch", "content-type": "application/json"})
        meta = ApiResponseMeta(
            status=status,
            http_version="1.1",
            headers=headers,
            duration=0.0,
            node=NodeConfig("http", "es.test", 9200),
        )
        return meta, data

    def requests(self) -> list[tuple[str, str]]:
        return [(method, path) for method, path, _, _ in self.calls]


def bulk_ok(path, params, body):
    """Every action succeeds; the item shape of a real _bulk response."""
    items = [
        {"index": {"_index": line["index"]["_index"], "_id": line["index"]["_id"], "status": 201}}
        for line in body
        if "index" in line
    ]
    return 200, {"errors": False, "took": 1, "items": items}


ACK = (200, {"acknowledged": True})
LOCK_ROUTES = [
    ("PUT", r"/products-lock", (200, {"acknowledged": True, "index": "products-lock"})),
    (
        "PUT",
        r"/products-lock/_create/rebuild",
        (201, {"_seq_no": 4, "_primary_term": 1, "result": "created"}),
    ),
    ("PUT", r"/products-lock/_doc/rebuild", (200, {"_seq_no": 5, "_primary_term": 1, "result": "updated"})),
    ("DELETE", r"/products-lock/_doc/rebuild", (200, {"result": "deleted"})),
]
NEW = "products-20261101083000000000"
OLD = "products-20261001000000000000"


def backend_on(cluster: FakeCluster) -> ElasticsearchBackend:
    backend = ElasticsearchBackend(cluster.client)
    backend.new_index_name = lambda: NEW  # type: ignore[method-assign]
    return backend


def not_found(what: str) -> tuple[int, dict]:
    return 404, {"error": {"type": "aliases_not_found_exception", "reason": f"aliases [{what}] missing"}}


def test_rebuild_loads_a_new_index_and_swaps_both_aliases_at_once():
    cluster = FakeCluster(
        [
            *LOCK_ROUTES,
            ("GET", r"/_alias/products", (200, {OLD: {"aliases": {"products": {}}}})),
            ("GET", r"/_alias/products-write", (200, {OLD: {"aliases": {"products-write": {}}}})),
            ("GET", r"/_alias/products-rebuilding", not_found("products-rebuilding")),
            ("PUT", f"/{NEW}", ACK),
            ("PUT", r"/_bulk", bulk_ok),
            ("POST", f"/{NEW}/_refresh", (200, {"_shards": {"failed": 0}})),
            ("POST", r"/_aliases", ACK),
            ("DELETE", f"/{OLD}", ACK),
        ]
    )
    docs = [make_doc(), make_doc(product_id=43, active=False)]
    assert backend_on(cluster).rebuild(iter(docs)) == 2
    assert cluster.requests() == [
        ("PUT", "/products-lock"),
        ("PUT", "/products-lock/_create/rebuild"),
        ("GET", "/_alias/products"),
        ("GET", "/_alias/products-write"),
        ("GET", "/_alias/products-rebuilding"),
        ("PUT", f"/{NEW}"),  # create the new index
        ("PUT", "/_bulk"),  # load it
        ("POST", f"/{NEW}/_refresh"),
        ("PUT", "/products-lock/_doc/rebuild"),  # the lock is still ours
        ("POST", "/_aliases"),  # one atomic swap
        ("DELETE", f"/{OLD}"),  # then the old index goes
        ("DELETE", "/products-lock/_doc/rebuild"),
    ]
    by_request = {(m, p): (params, body) for m, p, params, body in cluster.calls}
    _, created = by_request[("PUT", f"/{NEW}")]
    assert created == {**index_body(), "aliases": {"products-rebuilding": {}}}
    _, bulk = by_request[("PUT", "/_bulk")]
    assert bulk[0] == {"index": {"_index": NEW, "_id": "42", "version": 7, "version_type": "external"}}
    assert bulk[3]["active"] is False
    _, swap = by_request[("POST", "/_aliases")]
    assert swap == {
        "actions": [
            {"remove": {"index": OLD, "alias": "products", "must_exist": True}},
            {"remove": {"index": OLD, "alias": "products-write", "must_exist": True}},
            {"add": {"index": NEW, "alias": "products"}},
            {"add": {"index": NEW, "alias": "products-write", "is_write_index": True}},
            {"remove": {"index": NEW, "alias": "products-rebuilding", "must_exist": True}},
        ]
    }
    _, lock_doc = by_request[("PUT", "/products-lock/_create/rebuild")]
    assert set(lock_doc) == {"owner", "purpose", "heartbeat_at"} and lock_doc["purpose"] == "rebuild"
    assert by_request[("DELETE", "/products-lock/_doc/rebuild")][0] == {
        "if_seq_no": "5",
        "if_primary_term": "1",
    }


def test_a_failed_rebuild_deletes_its_index_and_keeps_the_old_one():
    def bulk_fails(path, params, body):
        return 200, {
            "errors": True,
            "items": [
                {
                    "index": {
                        "_index": NEW,
                        "_id": "42",
                        "status": 400,
                        "error": {"type": "strict_dynamic_mapping_exception", "reason": "no field [x]"},
                    }
                }
            ],
        }

    cluster = FakeCluster(
        [
            *LOCK_ROUTES,
            ("GET", r"/_alias/products", (200, {OLD: {"aliases": {"products": {}}}})),
            ("GET", r"/_alias/products-write", (200, {OLD: {"aliases": {"products-write": {}}}})),
            ("GET", r"/_alias/products-rebuilding", not_found("products-rebuilding")),
            ("PUT", f"/{NEW}", ACK),
            ("PUT", r"/_bulk", bulk_fails),
            ("DELETE", f"/{NEW}", ACK),
        ]
    )
    with pytest.raises(SearchError, match="strict_dynamic_mapping_exception"):
        backend_on(cluster).rebuild([make_doc()])
    assert cluster.requests()[-3:] == [
        ("PUT", "/_bulk"),
        ("DELETE", f"/{NEW}"),
        ("DELETE", "/products-lock/_doc/rebuild"),
    ]
    assert ("POST", "/_aliases") not in cluster.requests()


def test_a_rebuild_never_runs_twice_at_once():
    live_lock = {
        "_seq_no": 9,
        "_primary_term": 1,
        "found": True,
        "_source": {
            "owner": "web-1:77:abcd",
            "purpose": "rebuild",
            "heartbeat_at": datetime.now(UTC).isoformat(),
        },
    }
    cluster = FakeCluster(
        [
            ("PUT", r"/products-lock", (400, {"error": {"type": "resource_already_exists_exception"}})),
            (
                "PUT",
                r"/products-lock/_create/rebuild",
                (409, {"error": {"type": "version_conflict_engine_exception"}}),
            ),
            ("GET", r"/products-lock/_doc/rebuild", (200, live_lock)),
        ]
    )
    with pytest.raises(SearchError, match="web-1:77:abcd"):
        backend_on(cluster).rebuild([make_doc()])
    assert all(path.startswith("/products-lock") for _, path in cluster.requests())


def test_an_expired_lock_is_taken_over_with_compare_and_set():
    stale = {
        "_seq_no": 9,
        "_primary_term": 2,
        "found": True,
        "_source": {
            "owner": "dead:1:0000",
            "purpose": "rebuild",
            "heartbeat_at": "2020-01-01T00:00:00.000+00:00",
        },
    }
    cluster = FakeCluster(
        [
            ("PUT", r"/products-lock", (400, {"error": {"type": "resource_already_exists_exception"}})),
            (
                "PUT",
                r"/products-lock/_create/rebuild",
                (409, {"error": {"type": "version_conflict_engine_exception"}}),
            ),
            ("GET", r"/products-lock/_doc/rebuild", (200, stale)),
            *LOCK_ROUTES[2:],
            ("HEAD", r"/_alias/products", (404, None)),
            ("PUT", r"/products-\d{20}", ACK),
        ]
    )
    backend_on(cluster).ensure_index()
    takeover = [c for c in cluster.calls if c[:2] == ("PUT", "/products-lock/_doc/rebuild")]
    assert takeover[0][2] == {"if_seq_no": "9", "if_primary_term": "2"}


def test_ensure_index_creates_the_index_behind_both_aliases_once():
    cluster = FakeCluster([*LOCK_ROUTES, ("HEAD", r"/_alias/products", (404, None)), ("PUT", f"/{NEW}", ACK)])
    backend_on(cluster).ensure_index()
    assert cluster.requests() == [
        ("HEAD", "/_alias/products"),
        ("PUT", "/products-lock"),
        ("PUT", "/products-lock/_create/rebuild"),
        ("HEAD", "/_alias/products"),  # again, under the lock
        ("PUT", f"/{NEW}"),
        ("DELETE", "/products-lock/_doc/rebuild"),
    ]
    created = cluster.calls[4][3]
    assert created["aliases"] == {"products": {}, "products-write": {"is_write_index": True}}
    assert created["mappings"] == index_body()["mappings"]

    existing = FakeCluster([("HEAD", r"/_alias/products", (200, None))])
    backend_on(existing).ensure_index()
    assert existing.requests() == [("HEAD", "/_alias/products")]


def test_index_writes_through_the_write_alias_and_skips_older_versions():
    def bulk_with_conflict(path, params, body):
        return 200, {
            "errors": True,
            "items": [
                {"index": {"_index": OLD, "_id": "42", "status": 200}},
                {
                    "index": {
                        "_index": OLD,
                        "_id": "43",
                        "status": 409,
                        "error": {
                            "type": "version_conflict_engine_exception",
                            "reason": "current version [9]",
                        },
                    }
                },
            ],
        }

    cluster = FakeCluster(
        [("PUT", r"/_bulk", bulk_with_conflict), ("HEAD", r"/_alias/products-rebuilding", (404, None))]
    )
    written = ElasticsearchBackend(cluster.client).index([make_doc(), make_doc(product_id=43)])
    assert written == 1
    method, path, params, body = cluster.calls[1]
    assert (method, path, params) == ("PUT", "/_bulk", {"require_alias": "true"})
    assert [line["index"]["_index"] for line in body[::2]] == ["products-write", "products-write"]
    assert cluster.requests() == [("HEAD", "/_alias/products-rebuilding"), ("PUT", "/_bulk")]


def test_index_during_a_rebuild_also_writes_the_new_index():
    cluster = FakeCluster(
        [("PUT", r"/_bulk", bulk_ok), ("HEAD", r"/_alias/products-rebuilding", (200, None))]
    )
    assert ElasticsearchBackend(cluster.client).index([make_doc()]) == 1
    bulks = [body for method, path, _, body in cluster.calls if path == "/_bulk"]
    assert [b[0]["index"]["_index"] for b in bulks] == ["products-write", "products-rebuilding"]


def test_index_errors_other_than_conflicts_raise():
    cluster = FakeCluster(
        [
            (
                "PUT",
                r"/_bulk",
                (
                    200,
                    {
                        "errors": True,
                        "items": [
                            {
                                "index": {
                                    "_id": "42",
                                    "status": 404,
                                    "error": {"type": "index_not_found_exception", "reason": "no such index"},
                                }
                            }
                        ],
                    },
                ),
            ),
            ("HEAD", r"/_alias/products-rebuilding", (404, None)),
        ]
    )
    with pytest.raises(SearchError, match="index_not_found_exception"):
        ElasticsearchBackend(cluster.client).index([make_doc()])


def test_a_rebuild_that_ends_meanwhile_is_not_an_error():
    def bulk(path, params, body):
        target = body[0]["index"]["_index"]
        if target == "products-write":
            return bulk_ok(path, params, body)
        missing = {"type": "index_not_found_exception", "reason": "no such index [products-rebuilding]"}
        return 200, {"errors": True, "items": [{"index": {"_id": "42", "status": 404, "error": missing}}]}

    cluster = FakeCluster([("PUT", r"/_bulk", bulk), ("HEAD", r"/_alias/products-rebuilding", (200, None))])
    assert ElasticsearchBackend(cluster.client).index([make_doc()]) == 1


def test_search_sends_the_built_body_and_counts_suppliers_beyond_the_inner_hits():
    response = load_response()
    truncated = response["hits"]["hits"][0]["inner_hits"]["offers"]["hits"]
    truncated["total"]["value"] = 250  # more matching offers than inner hits returned
    counts = {
        "hits": {"total": {"value": 1, "relation": "eq"}, "hits": []},
        "aggregations": {
            "products": {
                "buckets": [
                    {
                        "key": 2,
                        "doc_count": 1,
                        "offers": {
                            "doc_count": 300,
                            "matching": {"doc_count": 250, "suppliers": {"value": 180}},
                        },
                    }
                ]
            }
        },
    }
    answers = iter([(200, response), (200, counts)])
    cluster = FakeCluster([("POST", r"/products/_search", lambda *_: next(answers))])
    result = ElasticsearchBackend(cluster.client).search(RESPONSE_QUERY)
    assert [h.supplier_count for h in result.hits] == [180, 1]
    (_, _, _, search_body), (_, _, _, count_body) = cluster.calls
    assert search_body == plain(build_search_body(RESPONSE_QUERY))
    assert count_body == plain(build_supplier_count_body(RESPONSE_QUERY, [2]))
    assert count_body["query"] == {"ids": {"values": ["2"]}}


def test_unreachable_cluster_is_a_search_error():
    client = Elasticsearch("http://es.test:9200")

    def refuse(*args, **kwargs):
        raise ConnectionError("Connection refused")

    client.transport.perform_request = refuse  # type: ignore[method-assign]
    backend = ElasticsearchBackend(client)
    with pytest.raises(SearchError, match="unreachable"):
        backend.search(SearchQuery())
    with pytest.raises(SearchError, match="unreachable"):
        backend.index([make_doc()])


def test_missing_index_is_a_clear_search_error():
    cluster = FakeCluster(
        [
            (
                "POST",
                r"/products/_search",
                (404, {"error": {"type": "index_not_found_exception", "reason": "no such index [products]"}}),
            )
        ]
    )
    with pytest.raises(SearchError, match=r"ensure_index\(\) or rebuild\(\)"):
        ElasticsearchBackend(cluster.client).search(SearchQuery())


def test_indexed_versions_read_the_read_alias():
    cluster = FakeCluster(
        [
            (
                "POST",
                r"/products/_mget",
                (
                    200,
                    {
                        "docs": [
                            {"_index": OLD, "_id": "4", "_version": 2, "found": True},
                            {"_index": OLD, "_id": "99", "found": False},
                        ]
                    },
                ),
            )
        ]
    )
    assert ElasticsearchBackend(cluster.client).indexed_versions([99, 4, 4]) == {4: 2}
    assert cluster.calls == [("POST", "/products/_mget", {"_source": "false"}, {"ids": ["4", "99"]})]
    assert ElasticsearchBackend(cluster.client).indexed_versions([]) == {}


def test_status_reports_aliases_counts_and_max_version():
    cluster = FakeCluster(
        [
            ("GET", r"/_alias/products", (200, {OLD: {"aliases": {"products": {}}}})),
            ("GET", r"/_alias/products-write", (200, {OLD: {"aliases": {"products-write": {}}}})),
            ("GET", r"/_alias/products-rebuilding", not_found("products-rebuilding")),
            (
                "POST",
                r"/products/_search",
                (
                    200,
                    {
                        "hits": {"total": {"value": 10, "relation": "eq"}, "hits": []},
                        "aggregations": {
                            "active": {"doc_count": 9},
                            "offers": {"doc_count": 23},
                            "max_version": {"value": 12.0},
                        },
                    },
                ),
            ),
        ]
    )
    assert ElasticsearchBackend(cluster.client).status() == {
        "backend": "elasticsearch",
        "index": OLD,
        "aliases": {"products": [OLD], "products-write": [OLD], "products-rebuilding": []},
        "rebuilding": False,
        "products": 10,
        "active_products": 9,
        "offers": 23,
        "max_version": 12,
    }


def test_refresh_refreshes_the_read_alias():
    cluster = FakeCluster([("POST", r"/products/_refresh", (200, {"_shards": {"failed": 0}}))])
    ElasticsearchBackend(cluster.client).refresh()
    assert cluster.requests() == [("POST", "/products/_refresh")]


def test_prefix_names_every_index_and_alias():
    backend = ElasticsearchBackend(Elasticsearch("http://es.test:9200"), index_prefix="test-1a2b")
    assert (backend.read_alias, backend.write_alias, backend.rebuild_alias, backend.lock_index) == (
        "test-1a2b",
        "test-1a2b-write",
        "test-1a2b-rebuilding",
        "test-1a2b-lock",
    )
    assert re.fullmatch(r"test-1a2b-\d{20}", backend.new_index_name())
    with pytest.raises(ValueError, match="index prefix"):
        ElasticsearchBackend(Elasticsearch("http://es.test:9200"), index_prefix="Products")


# ---------------------------------------------------------------------------------------------
# The analyzer against a live cluster

ANALYZER_SAMPLES = [
    "笔记本电脑",
    "台式计算机 i7-1360P 16GB",
    "ThinkPad X1 Carbon 15.6英寸",
    "纸",
    "ＭＡＴＥＢＯＯＫ",
]


@pytest.mark.skipif(not os.environ.get("ELASTICSEARCH_URL"), reason="no Elasticsearch cluster")
def test_cjk_analyzers_match_the_python_analyzer():
    backend = ElasticsearchBackend.from_url(
        os.environ["ELASTICSEARCH_URL"], index_prefix=f"test-{uuid.uuid4().hex[:8]}"
    )
    index = f"{backend.index_prefix}-analyzer"
    backend.client.indices.create(index=index, **index_body())
    try:
        for sample in ANALYZER_SAMPLES:
            for es_analyzer, python_analyzer in (("cjk_text", analyze), ("cjk_text_index", index_tokens)):
                response = backend.client.indices.analyze(index=index, analyzer=es_analyzer, text=sample)
                assert [t["token"] for t in response["tokens"]] == python_analyzer(sample), (
                    es_analyzer,
                    sample,
                )
    finally:
        backend.client.indices.delete(index=index)
