"""The behaviour every search backend shares (see search/backend.py)."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest

from search.model import FacetKind, FacetRequest, NumericRange, SearchQuery, Sort, ValueType
from tests.search.catalog import BJ, DESKTOP, JS, LAPTOP, PAPER, SEARCHABLE, contract_docs


def ids(result) -> list[int]:
    return [hit.product_id for hit in result.hits]


def run(backend, **kwargs):
    kwargs.setdefault("per_page", 50)
    return backend.search(SearchQuery(**kwargs))


def buckets(result, name) -> dict[str, int]:
    return {b.key: b.count for b in result.facets[name].buckets}


# -- matching ------------------------------------------------------------------------------------


def test_browse_finds_every_listed_active_product_once(loaded_backend):
    result = run(loaded_backend)
    assert result.total == len(SEARCHABLE)
    assert sorted(ids(result)) == sorted(SEARCHABLE)


def test_category_includes_descendants(loaded_backend):
    computers = run(loaded_backend, category_codes=("A02010100",))
    assert sorted(ids(computers)) == [1, 2, 3, 4, 5]
    assert sorted(ids(run(loaded_backend, category_codes=(LAPTOP,)))) == [4, 5]
    assert sorted(ids(run(loaded_backend, category_codes=(LAPTOP, PAPER)))) == [4, 5, 7, 8]


def test_price_region_and_stock_hold_for_one_offer(loaded_backend):
    # Product 1: 3999 in Beijing (out of stock), 5999 in Jiangsu (in stock).
    assert 1 not in ids(run(loaded_backend, price_max=Decimal("4000.00"), region=JS))
    assert 1 not in ids(run(loaded_backend, price_max=Decimal("4000.00"), in_stock=True))
    assert 1 not in ids(run(loaded_backend, region=BJ, in_stock=True, category_codes=(DESKTOP,)))
    assert 1 in ids(run(loaded_backend, price_max=Decimal("4000.00"), region=BJ))
    assert 1 in ids(run(loaded_backend, region=JS, in_stock=True))


def test_a_hit_shows_its_lowest_matching_offer_and_matching_suppliers(loaded_backend):
    everything = {h.product_id: h for h in run(loaded_backend).hits}
    assert (everything[1].min_price, everything[1].offer_id, everything[1].supplier_count) == (
        Decimal("3999.00"),
        101,
        2,
    )
    # Two offers at 4499: the lower offer id wins the tie.
    assert (everything[2].min_price, everything[2].offer_id, everything[2].supplier_count) == (
        Decimal("4499.00"),
        202,
        3,
    )
    in_jiangsu = {h.product_id: h for h in run(loaded_backend, region=JS).hits}
    assert (in_jiangsu[1].min_price, in_jiangsu[1].offer_id, in_jiangsu[1].supplier_count) == (
        Decimal("5999.00"),
        102,
        1,
    )
    assert (in_jiangsu[2].min_price, in_jiangsu[2].supplier_count) == (Decimal("4599.00"), 1)


def test_sme_and_supplier_filters_apply_to_the_offer(loaded_backend):
    sme = {h.product_id: h for h in run(loaded_backend, sme_only=True).hits}
    assert sorted(sme) == [1, 2, 7, 8]
    assert sme[1].min_price == Decimal("5999.00")
    assert sorted(ids(run(loaded_backend, supplier_ids=(3,)))) == [2, 5]


def test_price_bounds_are_inclusive(loaded_backend):
    assert ids(run(loaded_backend, price_min=Decimal("699.00"), price_max=Decimal("699.00"))) == [6]


def test_attribute_filters(loaded_backend):
    assert sorted(ids(run(loaded_backend, attr_terms={"memory_gb": (16,)}))) == [1, 4]
    assert sorted(ids(run(loaded_backend, attr_terms={"memory_gb": (16, 32)}))) == [1, 3, 4, 5]
    assert sorted(ids(run(loaded_backend, attr_terms={"os": ("Windows 11 专业版",)}))) == [2, 3]
    assert sorted(ids(run(loaded_backend, attr_ranges={"memory_gb": (NumericRange(low=16),)}))) == [
        1,
        3,
        4,
        5,
    ]
    assert ids(run(loaded_backend, attr_ranges={"screen_inch": (NumericRange(low=15, high=16.5),)})) == [5]
    # Mixed integer and float bounds on one side each.
    assert sorted(
        ids(run(loaded_backend, attr_ranges={"screen_inch": (NumericRange(low=14, high=24.5),)}))
    ) == [4, 5, 6]
    assert ids(run(loaded_backend, attr_terms={"memory_gb": (64,)})) == []


def test_policy_flags(loaded_backend):
    assert sorted(ids(run(loaded_backend, energy_saving=True))) == [1, 4]
    assert sorted(ids(run(loaded_backend, environmental=True))) == [3, 7]


# -- text ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("笔记本电脑", [4, 5]),  # synonym of 便携式计算机; not 会议笔记板 (only 笔记)
        ("laptop", [4, 5]),
        ("台式机", [1, 2, 3]),
        ("联想 台式机", [1, 2]),
        ("纸", [7, 8]),  # a one-character query
        ("i7-1360P", [4, 5]),
        ("15.6", [5]),
        ("thinkpad", [5]),
        ("ＴＨＩＮＫＰＡＤ", [5]),  # full-width
        ("笔记", [6]),
        ("不存在的东西", []),
    ],
)
def test_text(loaded_backend, text, expected):
    assert sorted(ids(run(loaded_backend, text=text))) == expected


@pytest.mark.parametrize(
    "text", ['"(AND OR NOT', "specs.memory_gb:>1", "*:*", "\\", "a" * 10_000, "联想" * 3000, "[1 TO"]
)
def test_hostile_text_never_errors(loaded_backend, text):
    result = run(loaded_backend, text=text)
    assert result.total == len(result.hits) or result.total > len(result.hits)
    assert all(h.product_id in SEARCHABLE for h in result.hits)


def test_relevance_puts_the_better_match_first(loaded_backend):
    result = run(loaded_backend, text="联想 ThinkPad X1 Carbon")
    assert ids(result)[0] == 5


# -- facets --------------------------------------------------------------------------------------

FACETS = (
    FacetRequest("brand"),
    FacetRequest("category"),
    FacetRequest("attr:memory_gb", value_type=ValueType.NUMBER),
    FacetRequest(
        "price",
        kind=FacetKind.RANGES,
        ranges=(NumericRange(None, 1000), NumericRange(1000, 5000), NumericRange(5000, None)),
    ),
)


def test_facets_count_products(loaded_backend):
    result = run(loaded_backend, facets=FACETS)
    assert buckets(result, "brand") == {"联想": 3, "惠普": 1, "华为": 1, "AOC": 1, "得力": 1, "晨光": 1}
    assert [b.key for b in result.facets["brand"].buckets][:1] == ["联想"]
    assert buckets(result, "category") == {DESKTOP: 3, LAPTOP: 2, "A02021104": 1, PAPER: 2}
    assert buckets(result, "attr:memory_gb") == {"16": 2, "32": 2, "8": 1}
    # Product 1 has offers in two price buckets and counts in both; product 2 has three offers in one.
    assert buckets(result, "price") == {"*-1000": 3, "1000-5000": 2, "5000-*": 4}
    assert [b.key for b in result.facets["price"].buckets] == ["*-1000", "1000-5000", "5000-*"]


def test_a_facet_ignores_its_own_selection_but_not_the_others(loaded_backend):
    result = run(loaded_backend, brands=("联想",), facets=FACETS)
    assert sorted(ids(result)) == [1, 2, 5]
    brand = {b.key: b for b in result.facets["brand"].buckets}
    assert brand["联想"].count == 3 and brand["联想"].selected
    assert brand["惠普"].count == 1 and not brand["惠普"].selected
    assert buckets(result, "attr:memory_gb") == {"16": 1, "8": 1, "32": 1}
    assert buckets(result, "category") == {DESKTOP: 2, LAPTOP: 1}


def test_price_facet_follows_the_other_offer_conditions(loaded_backend):
    result = run(loaded_backend, region=JS, category_codes=(DESKTOP,), facets=FACETS)
    # In Jiangsu: product 1 only at 5999, product 2 at 4599, product 3 at 7999.
    assert buckets(result, "price") == {"*-1000": 0, "1000-5000": 1, "5000-*": 2}
    selected = run(
        loaded_backend,
        region=JS,
        category_codes=(DESKTOP,),
        price_min=Decimal("5000.00"),
        price_max=Decimal("4999999.99"),
        facets=FACETS,
    )
    assert sorted(ids(selected)) == [1, 3]
    assert buckets(selected, "price") == {"*-1000": 0, "1000-5000": 1, "5000-*": 2}


def test_selected_values_are_marked(loaded_backend):
    result = run(loaded_backend, attr_terms={"memory_gb": (16,)}, facets=FACETS)
    marked = {b.key: b.selected for b in result.facets["attr:memory_gb"].buckets}
    assert marked == {"16": True, "32": False, "8": False}
    price = run(loaded_backend, price_min=Decimal("1000.00"), price_max=Decimal("4999.99"), facets=FACETS)
    assert [b.selected for b in price.facets["price"].buckets] == [False, True, False]


# -- sorting and paging --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        (Sort.PRICE_ASC, [7, 8, 6, 1, 2, 4, 3, 5]),
        (Sort.PRICE_DESC, [5, 3, 4, 2, 1, 6, 8, 7]),
        (Sort.RATING, [5, 4, 1, 7, 2, 8, 3, 6]),
        (Sort.NEWEST, [3, 6, 4, 2, 7, 1, 5, 8]),
    ],
)
def test_sorts(loaded_backend, sort, expected):
    assert ids(run(loaded_backend, sort=sort)) == expected


def test_price_sort_uses_the_matching_offer(loaded_backend):
    result = run(loaded_backend, region=JS, category_codes=(DESKTOP,), sort=Sort.PRICE_ASC)
    assert [(h.product_id, h.min_price) for h in result.hits] == [
        (2, Decimal("4599.00")),
        (1, Decimal("5999.00")),
        (3, Decimal("7999.00")),
    ]


def test_paging(loaded_backend):
    pages = [run(loaded_backend, sort=Sort.PRICE_ASC, page=p, per_page=3) for p in (1, 2, 3, 4)]
    assert [ids(p) for p in pages] == [[7, 8, 6], [1, 2, 4], [3, 5], []]
    assert {p.total for p in pages} == {8}
    assert pages[0].pages == 3
    relevance = [ids(run(loaded_backend, text="台式机", page=p, per_page=2)) for p in (1, 2)]
    assert sorted(relevance[0] + relevance[1]) == [1, 2, 3]


# -- writes --------------------------------------------------------------------------------------


def test_versions_soft_deletes_and_late_writes(empty_backend):
    docs = {d.product_id: d for d in contract_docs()}
    empty_backend.index([docs[4], docs[5]])
    empty_backend.refresh()
    assert sorted(ids(run(empty_backend))) == [4, 5]
    cheaper = replace(docs[4], version=2, offers=(replace(docs[4].offers[0], price=Decimal("5555.00")),))
    assert empty_backend.index([cheaper]) == 1
    stale = replace(docs[4], version=1, offers=(replace(docs[4].offers[0], price=Decimal("1.00")),))
    assert empty_backend.index([stale]) == 0  # a late write of an older version loses
    empty_backend.refresh()
    hit = next(h for h in run(empty_backend).hits if h.product_id == 4)
    assert (hit.min_price, hit.supplier_count) == (Decimal("5555.00"), 1)
    assert empty_backend.indexed_versions([4, 5, 99]) == {4: 2, 5: 1}
    delisted = replace(docs[5], version=2, active=False)
    empty_backend.index([delisted])
    empty_backend.refresh()
    assert ids(run(empty_backend)) == [4]
    assert empty_backend.index([docs[5]]) == 0  # the soft delete keeps its version
    empty_backend.refresh()
    assert ids(run(empty_backend)) == [4]
    status = empty_backend.status()
    assert status["products"] == 2 and status["max_version"] == 2


def test_rebuild_swaps_in_a_complete_index(empty_backend):
    docs = contract_docs()
    empty_backend.index(docs[:2])
    assert empty_backend.rebuild(docs) == len(docs)
    empty_backend.refresh()
    assert sorted(ids(run(empty_backend))) == sorted(SEARCHABLE)
    assert empty_backend.rebuild(docs[:3]) == 3
    empty_backend.refresh()
    assert sorted(ids(run(empty_backend))) == [1, 2, 3]
