"""Search benchmark: the embedded tantivy backend against a PostgreSQL full-text baseline.

Generates N offers (``bench/search_data.py``), builds the index through the real code path
(``TantivyBackend.rebuild``), then runs a fixed query mix through ``backend.search`` — text only;
text + category + two spec filters + price range; category browse; sort by price; a deep page —
every query with brand, category, two attribute and price-range facets, and the same mix as SQL on
a scratch PostgreSQL database holding the same data and the same analyzer tokens
(``bench/pg_baseline.py``).

    .venv/bin/python bench/search.py --offers 100000

Progress goes to stderr; the last line of stdout is one JSON object:
{"offers": N, "index_s": …, "p50_ms": …, "p95_ms": …, "baseline_p50_ms": …, "baseline_p95_ms": …,
"speedup_p95": …} plus details (per-kind p95s, index size, load times, engine disagreements).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

# The repository root must come before bench/, whose search.py (this file) would shadow the
# search package when run as a script.
ROOT = Path(__file__).resolve().parent.parent
if sys.path[0] != str(ROOT):
    sys.path.insert(0, str(ROOT))

from bench.search_data import CATEGORIES, PROVINCES, Category, products  # noqa: E402
from search.model import (  # noqa: E402
    FacetKind,
    FacetRequest,
    NumericRange,
    SearchQuery,
    Sort,
    ValueType,
)
from search.tantivy_backend import TantivyBackend  # noqa: E402

KINDS = ("text", "filtered", "browse", "price_sort", "deep_page")
PER_KIND = 12

# Text a buyer types, with the category whose attribute facets the results page shows.
TEXTS: tuple[tuple[str, str], ...] = (
    ("联想 台式机", "A02010105"),
    ("笔记本电脑 i7", "A02010108"),
    ("华为 笔记本", "A02010108"),
    ("thinkpad", "A02010108"),
    ("复印纸 a4 70g", "A05040101"),
    ("得力 复印纸", "A05040101"),
    ("激光打印机 自动双面", "A02021003"),
    ("人体工学 办公椅", "A05010301"),
    ("服务器 2u", "A02010104"),
    ("显示器 27英寸", "A02021104"),
    ("统信uos 台式计算机", "A02010105"),
    ("硒鼓 cf226a", "A05040201"),
    ("激光 投影仪", "A02020200"),
    ("ups 3000va", "A02061504"),
    ("交换机 24口 poe", "A02010202"),
    ("得力 碎纸机", "A02021301"),
    ("文件柜 带锁", "A05010502"),
    ("兆芯 开天", "A02010105"),
    ("多功能一体机 a3 彩色", "A02020400"),
    ("高速 扫描仪", "A02021118"),
    ("网布 职员椅", "A05010301"),
    ("麒麟 擎云", "A02010108"),
)
# Categories browsed from the menu: leaves and the levels above them.
BROWSE = (
    "A02010105",
    "A02010108",
    "A02010100",
    "A05040101",
    "A05010301",
    "A02021104",
    "A02020000",
    "A05000000",
    "A02021003",
    "A05040201",
    "A02000000",
    "A02020400",
)


@dataclass(frozen=True)
class BenchQuery:
    kind: str
    query: SearchQuery


def _nice(value: float) -> int:
    """Round to 1, 2 or 5 times a power of ten, as price facet bounds are shown."""
    magnitude = 10 ** math.floor(math.log10(value))
    return int(min((1, 2, 5, 10), key=lambda step: abs(step * magnitude - value)) * magnitude)


def price_ranges(low: float, high: float) -> tuple[NumericRange, ...]:
    """Four log-scale price buckets with round bounds, as a results page shows them."""
    bounds = sorted({_nice(low * (high / low) ** (k / 4)) for k in (1, 2, 3)})
    edges = [None, *bounds, None]
    return tuple(NumericRange(edges[i], edges[i + 1]) for i in range(len(edges) - 1))


def facets_for(code: str) -> tuple[FacetRequest, ...]:
    """Brand, category, two attribute facets and price ranges for results in category ``code``:
    a category above the leaves shows the attributes of its biggest leaf and prices over all."""
    leaves = [c for c in CATEGORIES if code in c.path]
    category = max(leaves, key=lambda c: c.weight)
    requests = [FacetRequest("brand"), FacetRequest("category")]
    for attr in category.facets:
        spec = next(s for s in category.specs if s.code == attr)
        value_type = (
            ValueType.BOOL if spec.is_bool else ValueType.NUMBER if spec.is_number else ValueType.KEYWORD
        )
        requests.append(FacetRequest(f"attr:{attr}", value_type=value_type))
    low, high = min(c.price[0] for c in leaves), max(c.price[1] for c in leaves)
    requests.append(FacetRequest("price", kind=FacetKind.RANGES, ranges=price_ranges(low, high)))
    return tuple(requests)


def _spec_filter(rng: random.Random, category: Category, code: str, terms: dict, ranges: dict) -> None:
    spec = next(s for s in category.specs if s.code == code)
    if spec.is_bool:
        terms[code] = (True,)
    elif spec.is_number and (isinstance(spec.values[0], float) or rng.random() < 0.5):
        low = spec.values[len(spec.values) // 2]
        ranges[code] = (NumericRange(low=low),)
    else:
        values = list(spec.values)
        terms[code] = tuple(rng.sample(values, min(len(values), rng.choice((1, 2)))))


def _money(value: float) -> Decimal:
    return Decimal(value).quantize(Decimal("0.01"))


def query_mix(seed: int = 7) -> list[BenchQuery]:
    """The fixed mix: PER_KIND queries of each kind, interleaved. Half the filtered and the
    price-sorted queries hold for one offer in a region (and in stock), so both the product-level
    and the offer-level paths of the backend are measured."""
    rng = random.Random(seed)
    per_kind: dict[str, list[BenchQuery]] = {kind: [] for kind in KINDS}
    texts = list(TEXTS)
    leaves = [c for c in CATEGORIES if c.weight >= 3]
    for i in range(PER_KIND):
        text, code = texts[i % len(texts)]
        per_kind["text"].append(BenchQuery("text", SearchQuery(text=text, facets=facets_for(code))))

        category = leaves[i % len(leaves)]
        terms: dict = {}
        ranges: dict = {}
        for attr in category.facets:
            _spec_filter(rng, category, attr, terms, ranges)
        bounds = [r for r in price_ranges(*category.price) if r.low is not None and r.high is not None]
        price = rng.choice(bounds)
        brand = category.brands[rng.randrange(min(3, len(category.brands)))][0]
        per_kind["filtered"].append(
            BenchQuery(
                "filtered",
                SearchQuery(
                    text=brand if i % 3 else f"{brand} {category.words[0]}",
                    category_codes=(category.code,),
                    attr_terms=terms,
                    attr_ranges=ranges,
                    price_min=_money(price.low),
                    price_max=_money(price.high) - Decimal("0.01"),
                    region=rng.choice(PROVINCES) if i % 2 else None,
                    facets=facets_for(category.code),
                ),
            )
        )

        code = BROWSE[i % len(BROWSE)]
        per_kind["browse"].append(
            BenchQuery("browse", SearchQuery(category_codes=(code,), facets=facets_for(code)))
        )

        # Within a category, or (one in four) for a text; every other one in stock in a region.
        category = leaves[(i * 5 + 3) % len(leaves)]
        text, code = texts[(i + 7) % len(texts)] if i % 4 == 3 else ("", category.code)
        per_kind["price_sort"].append(
            BenchQuery(
                "price_sort",
                SearchQuery(
                    text=text,
                    category_codes=() if text else (code,),
                    sort=Sort.PRICE_DESC if i % 3 == 2 else Sort.PRICE_ASC,
                    region=rng.choice(PROVINCES) if i % 2 else None,
                    in_stock=i % 2 == 1,
                    facets=facets_for(code),
                ),
            )
        )

        category = leaves[(i * 7 + 1) % len(leaves)]
        deep_text = texts[(i + 3) % len(texts)]
        per_kind["deep_page"].append(
            BenchQuery(
                "deep_page",
                SearchQuery(
                    text=deep_text[0] if i % 2 else "",
                    category_codes=() if i % 2 else (category.code,),
                    sort=(Sort.RELEVANCE, Sort.PRICE_ASC, Sort.NEWEST, Sort.RATING)[i % 4],
                    page=rng.randint(20, 50),
                    facets=facets_for(deep_text[1] if i % 2 else category.code),
                ),
            )
        )
    return [per_kind[kind][i] for i in range(PER_KIND) for kind in KINDS]


# -- timing ---------------------------------------------------------------------------------------


def percentile(values: list[float], fraction: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


def time_mix(
    run: Callable[[SearchQuery], object], mix: list[BenchQuery], runs: int
) -> dict[str, list[float]]:
    """One warm-up pass, then ``runs`` timed executions cycling through the mix (ms, by kind)."""
    for item in mix:
        run(item.query)
    timings: dict[str, list[float]] = {kind: [] for kind in KINDS}
    for i in range(runs):
        item = mix[i % len(mix)]
        started = time.perf_counter()
        run(item.query)
        timings[item.kind].append((time.perf_counter() - started) * 1000)
    return timings


def summarize(timings: dict[str, list[float]]) -> tuple[float, float, dict[str, float]]:
    every = [t for values in timings.values() for t in values]
    return (
        round(percentile(every, 0.5), 2),
        round(percentile(every, 0.95), 2),
        {kind: round(percentile(values, 0.95), 2) for kind, values in timings.items() if values},
    )


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def directory_mb(path: Path) -> float:
    return round(sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 2**20, 1)


# -- the two engines -----------------------------------------------------------------------------


def build_index(index_dir: Path, docs: Iterable) -> tuple[TantivyBackend, float]:
    backend = TantivyBackend(index_dir)
    started = time.perf_counter()
    backend.rebuild(docs)
    elapsed = time.perf_counter() - started
    backend.refresh()
    return backend, elapsed


def compare(tantivy_backend, baseline, mix: list[BenchQuery]) -> dict[str, int]:
    """Where the engines disagree on the mix: product totals; page ids where the order is fully
    defined (every sort but relevance with text, whose scores differ by design); facets (queries
    with offer-level conditions count products on offers with tantivy's estimating
    ``cardinality``, so large counts there may differ by a percent or two)."""
    totals = pages = facets = 0
    for item in mix:
        ours = tantivy_backend.search(item.query)
        theirs = baseline.search(item.query)
        totals += ours.total != theirs.total
        if item.query.sort is not Sort.RELEVANCE or not item.query.text:
            pages += [h.product_id for h in ours.hits] != [h.product_id for h in theirs.hits]
        for name, facet in ours.facets.items():
            facets += [(b.key, b.count) for b in facet.buckets] != [
                (b.key, b.count) for b in theirs.facets[name].buckets
            ]
    return {"total_mismatches": totals, "page_mismatches": pages, "facet_mismatches": facets}


def run(args: argparse.Namespace) -> dict:
    mix = query_mix()
    workdir = Path(tempfile.mkdtemp(prefix="emall-bench-search-", dir=args.workdir))
    report: dict = {"offers": args.offers}
    load_before = os.getloadavg()[0]
    try:
        started = time.perf_counter()
        product_count = sum(1 for _ in products(args.offers))
        generate_s = time.perf_counter() - started
        log(f"generated {product_count} products / {args.offers} offers in {generate_s:.1f}s")

        backend, index_s = build_index(workdir / "index", products(args.offers))
        log(f"index built in {index_s:.1f}s (includes generating the documents)")
        timings = time_mix(backend.search, mix, args.queries)
        p50, p95, by_kind = summarize(timings)
        log(f"tantivy: p50 {p50} ms, p95 {p95} ms, by kind {by_kind}")
        report.update(index_s=round(index_s, 2), p50_ms=p50, p95_ms=p95)
        report.update(baseline_p50_ms=None, baseline_p95_ms=None, speedup_p95=None)
        extra = {
            "products": product_count,
            "generate_s": round(generate_s, 2),
            "index_mb": directory_mb(workdir / "index"),
            "queries": len(mix),
            "timed_runs": args.queries,
            "p95_ms_by_kind": by_kind,
        }

        if not args.skip_baseline:
            from bench.pg_baseline import PgBaseline

            with PgBaseline(args.pg_url) as baseline:
                load_s = baseline.load(products(args.offers))
                log(f"PostgreSQL baseline loaded in {load_s:.1f}s ({baseline.database})")
                runs = min(args.queries, len(mix) * args.baseline_passes)
                base_timings = time_mix(baseline.search, mix, runs)
                b50, b95, b_by_kind = summarize(base_timings)
                log(f"PostgreSQL: p50 {b50} ms, p95 {b95} ms, by kind {b_by_kind}")
                report.update(baseline_p50_ms=b50, baseline_p95_ms=b95, speedup_p95=round(b95 / p95, 1))
                extra.update(
                    baseline_load_s=round(load_s, 2),
                    baseline_timed_runs=runs,
                    baseline_p95_ms_by_kind=b_by_kind,
                    **compare(backend, baseline, mix),
                )
        # Other work on the machine skews timings: say how busy it was (1-minute load average).
        extra["load_avg"] = [round(load_before, 2), round(os.getloadavg()[0], 2)]
        report.update(extra)
        return report
    finally:
        if args.keep:
            log(f"kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--offers", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=600, help="timed runs, cycling through the mix")
    parser.add_argument(
        "--baseline-passes", type=int, default=3, help="timed passes of the mix on PostgreSQL"
    )
    parser.add_argument("--skip-baseline", action="store_true")
    parser.add_argument("--keep", action="store_true", help="keep the index directory")
    parser.add_argument("--workdir", default=None, help="where the index goes (default: the temp dir)")
    parser.add_argument(
        "--pg-url",
        default=os.environ.get("TEST_PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/test"),
        help="a database to connect to: the baseline creates its own scratch database and drops it",
    )
    report = run(parser.parse_args(argv))
    print(json.dumps(report, ensure_ascii=False))


if __name__ == "__main__":
    main()
