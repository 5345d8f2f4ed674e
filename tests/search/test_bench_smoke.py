"""The search benchmark (bench/search.py) end to end at a tiny size: data generation, the tantivy
index, the PostgreSQL baseline on a scratch database, one pass of the query mix. Benchmarks are
never timed tests: nothing here looks at a duration."""

from __future__ import annotations

import json
import os
from itertools import islice

import psycopg
import pytest

from bench import search as bench
from bench.search_data import CATEGORIES, products
from search.tantivy_backend import CachedIndexText, index_text

pytestmark = pytest.mark.postgres

PG_ADMIN_URL = os.environ.get("TEST_PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/test")
ISSUE_KEYS = ("offers", "index_s", "p50_ms", "p95_ms", "baseline_p50_ms", "baseline_p95_ms", "speedup_p95")


def test_the_data_is_deterministic_and_spread_out():
    first = list(products(2000))
    assert [(p.product_id, p.name, p.offers) for p in first] == [
        (p.product_id, p.name, p.offers) for p in products(2000)
    ]
    assert sum(len(p.offers) for p in first) == 2000
    assert all(1 <= len(p.offers) <= 5 for p in first)
    assert {p.category_code for p in first} == {c.code for c in CATEGORIES}
    offers = [o for p in first for o in p.offers]
    assert any(o.stock == 0 for o in offers) and any(o.supplier_sme for o in offers)
    assert all(1 <= len(o.regions) <= 6 for o in offers)


def test_cached_index_text_matches_the_analyzer():
    cached = CachedIndexText()
    for doc in islice(products(5000), 1500):
        assert cached(doc.text) == index_text(doc.text)


def _scratch_databases() -> set[str]:
    with psycopg.connect(PG_ADMIN_URL) as conn:
        rows = conn.execute("SELECT datname FROM pg_database WHERE datname LIKE 'emall_bench_%'")
        return {name for (name,) in rows}


def test_the_benchmark_runs_end_to_end(tmp_path, capsys):
    before = _scratch_databases()
    bench.main(
        [
            "--offers",
            "2000",
            "--queries",
            str(len(bench.query_mix())),
            "--baseline-passes",
            "1",
            "--workdir",
            str(tmp_path),
            "--pg-url",
            PG_ADMIN_URL,
        ]
    )
    report = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert list(report)[: len(ISSUE_KEYS)] == list(ISSUE_KEYS)
    assert report["offers"] == 2000
    assert all(isinstance(report[key], int | float) for key in ISSUE_KEYS)
    assert set(report["p95_ms_by_kind"]) == set(bench.KINDS)
    # Both engines see the same products: same totals, same pages wherever the order is defined.
    assert report["total_mismatches"] == 0
    assert report["page_mismatches"] == 0
    assert list(tmp_path.iterdir()) == []  # the index directory is gone
    assert _scratch_databases() <= before  # and so is the scratch database


def test_the_mix_covers_every_kind_and_the_offer_level_path():
    mix = bench.query_mix()
    assert {item.kind for item in mix} == set(bench.KINDS)
    assert any(item.query.has_offer_conditions for item in mix)
    assert any(not item.query.has_offer_conditions for item in mix)
    assert all(item.query.facets for item in mix)
