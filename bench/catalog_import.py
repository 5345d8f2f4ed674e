"""Catalog upload benchmark: a supplier file of N rows through the catalog_import pipeline.

    .venv/bin/python bench/catalog_import.py --rows 100000 --format csv
    .venv/bin/python bench/catalog_import.py --rows 100000 --format xlsx

Generates a valid catalog file of N rows for one category (台式计算机 by default) from its real
attribute registry: about 90 % of the rows quote products of an existing catalogue of 5,000
canonical products (specs filled in, as suppliers do, so they are compared), the rest propose new
products. Then a fresh child process imports it and reports its own wall time and peak RSS
(``ru_maxrss``), so the file generation does not count.

The timed section is the import as the app runs it, end to end on SQLite: the upload stored as
the upload page stores it, then the batch's job (``app.catalog_upload.jobs.run_import``) — open,
header binding, streaming parse and validation against the database (product lookups by dedup
key, the supplier's SKUs), progress written as it goes, and the apply in one transaction (new
canonical products proposed, offers upserted by supplier SKU, price history, review
submissions). The database is a fresh SQLite file holding the category's registry and the
catalogue of existing products, set up before the clock starts.

Progress goes to stderr; the last line of stdout is one JSON object:
{"rows": N, "format": …, "rows_per_s": …, "peak_rss_mb": …} plus details.
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import resource
import subprocess
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if sys.path[0] != str(ROOT):
    sys.path.insert(0, str(ROOT))

SEED = 20261126
CATALOGUE_SIZE = 5_000
NEW_SHARE = 0.10
BRANDS = ("联想", "华为", "惠普", "戴尔", "清华同方", "长城", "浪潮", "宏碁", "华硕", "中科曙光")
REGIONS = ("全国", "江苏省、浙江省、上海市", "110000,120000,130000", "广东、广西、海南", "四川省;重庆市")


def _category(code: str):
    from app.catalog.registry import REGISTRY_BY_CODE
    from catalog_import import CategorySpec

    registry = REGISTRY_BY_CODE[code]
    return CategorySpec(registry.code, "2022", registry.name, tuple(registry.specs()))


def _spec_values(spec, rng: random.Random) -> dict:
    values = {}
    for attribute in spec.attributes:
        if attribute.type == "enum":
            values[attribute.code] = rng.choice(attribute.enum_values)
        elif attribute.type == "bool":
            values[attribute.code] = rng.random() < 0.5
        elif attribute.type == "number":
            low = attribute.min_value if attribute.min_value is not None else Decimal(1)
            high = attribute.max_value if attribute.max_value is not None else low + 100
            value = low + (high - low) * Decimal(rng.randint(0, 20)) / 20
            value = value.quantize(Decimal(1)) if high - low >= 20 else value.quantize(Decimal("0.1"))
            value = min(max(value, low), high)
            values[attribute.code] = int(value) if value == value.to_integral_value() else float(value)
        else:
            values[attribute.code] = f"规格{rng.randint(1, 99)}"
    return values


def catalogue(spec, seed: int = SEED):
    """The existing canonical products of the category (deterministic)."""
    from catalog_import import MatchedProduct

    rng = random.Random(seed)
    for number in range(CATALOGUE_SIZE):
        brand = BRANDS[number % len(BRANDS)]
        yield MatchedProduct(
            id=number + 1,
            category_code=spec.code,
            brand=brand,
            model=f"M{number:05d}-{rng.choice('ABCDEFG')}",
            specs=_spec_values(spec, rng),
            name=f"{brand} M{number:05d} {spec.name}",
            manufacturer=f"{brand}信息技术有限公司",
            energy_saving=rng.random() < 0.6,
            environmental=rng.random() < 0.3,
            origin="domestic" if rng.random() < 0.9 else "imported",
        )


def _cell(value) -> str:
    if isinstance(value, bool):
        return "是" if value else "否"
    return str(value)


def rows(spec, count: int, seed: int = SEED):
    """N valid rows in template column order: most quote the catalogue, some propose new products."""
    from catalog_import.specs import format_spec_value

    products = list(catalogue(spec, seed))
    rng = random.Random(seed + 1)
    attributes = {a.code: a for a in spec.attributes}
    for index in range(count):
        price = Decimal(rng.randint(2000, 9000)) + Decimal(rng.randint(0, 99)) / 100
        market = price + Decimal(rng.randint(0, 800))
        if rng.random() < NEW_SHARE:
            brand = rng.choice(BRANDS)
            model = f"NX{index:07d}"
            specs = _spec_values(spec, rng)
            flags = (rng.random() < 0.5, rng.random() < 0.5, "国产")
            manufacturer, name = f"{brand}信息技术有限公司", f"{brand} {model} {spec.name}"
        else:
            product = products[rng.randrange(len(products))]
            brand, model, specs = product.brand, product.model, product.specs
            flags = (
                product.energy_saving,
                product.environmental,
                "国产" if product.origin == "domestic" else "进口",
            )
            manufacturer, name = product.manufacturer, product.name
        offer = {
            "supplier_sku": f"SKU-{index:08d}",
            "brand": brand,
            "model": model,
            "manufacturer": manufacturer,
            "name": name,
            "price": f"{price:.2f}",
            "market_price": f"{market:.2f}",
            "market_price_source": "京东自营",
            "stock": str(rng.randint(0, 500)),
            "regions": rng.choice(REGIONS),
            "warranty_months": str(rng.choice((12, 24, 36))),
            "lead_time_days": str(rng.randint(1, 7)),
            "energy_saving": _cell(flags[0]),
            "environmental": _cell(flags[1]),
            "origin": flags[2],
        }
        yield [
            offer[c.code]
            if c.code in offer
            else format_spec_value(attributes[c.code], specs.get(c.code))
            if specs.get(c.code) is not None
            else ""
            for c in spec.columns
        ]


def write_file(spec, count: int, fmt: str, path: Path) -> None:
    from catalog_import.templates import header_row

    header = header_row(spec)
    if fmt == "csv":
        with path.open("w", encoding="utf-8-sig", newline="") as handle:
            writer = csv.writer(handle, lineterminator="\r\n")
            writer.writerow(header)
            writer.writerows(rows(spec, count))
        return
    from openpyxl import Workbook

    numeric = {i for i, c in enumerate(spec.columns) if c.kind in ("money", "int")}
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("商品清单")
    sheet.append(header)
    for values in rows(spec, count):
        # Numbers as numbers, as Excel stores what a person types.
        sheet.append([Decimal(v) if i in numeric else v for i, v in enumerate(values)])
    workbook.save(path)


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: kilobytes


def _setup(workdir: Path, category_code: str):
    """A fresh SQLite database with the category, its registry, a supplier and the catalogue."""
    from flask_migrate import upgrade
    from sqlalchemy import insert

    from app import create_app
    from app.auth.models import Organization, OrgKind, Role, User
    from app.auth.passwords import hash_password
    from app.catalog.models import Attribute, Category, Product
    from app.catalog.registry import REGISTRY_BY_CODE, _row_values
    from app.catalog.services import normalize_key
    from app.extensions import db
    from config import TestConfig

    config = type(
        "BenchConfig",
        (TestConfig,),
        {
            "TESTING": False,
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{workdir / 'bench.sqlite3'}",
            "SEARCH_INDEX_DIR": str(workdir / "search"),
            "UPLOAD_DIR": str(workdir / "uploads"),
            "ARGON2_PARAMS": {"time_cost": 1, "memory_cost": 1024, "parallelism": 1},
        },
    )
    app = create_app(config)
    spec = _category(category_code)
    with app.app_context():
        upgrade()
        registry = REGISTRY_BY_CODE[category_code]
        category = Category(code=category_code, name=registry.name, level=4, kind="goods", is_leaf=True)
        db.session.add(category)
        for index, definition in enumerate(registry.attributes, start=1):
            category.attributes.append(Attribute(code=definition.code, **_row_values(definition, index * 10)))
        supplier = Organization(code="BENCH01", name="基准测试供应商", kind=OrgKind.SUPPLIER)
        user = User(
            organization=supplier,
            username="bench",
            display_name="基准",
            role=Role.SUPPLIER,
            password_hash=hash_password("Bench-password-1"),
        )
        db.session.add_all([supplier, user])
        db.session.flush()
        db.session.execute(
            insert(Product),
            [
                {
                    "category_id": category.id,
                    "brand": p.brand,
                    "model": p.model,
                    "manufacturer": p.manufacturer,
                    "name": p.name,
                    "dedup_key": normalize_key(p.brand, p.model),
                    "specs": dict(p.specs),
                    "energy_saving": p.energy_saving,
                    "environmental": p.environmental,
                    "origin": p.origin,
                }
                for p in catalogue(spec)
            ],
        )
        db.session.commit()
        ids = (category.id, user.id)
        db.session.remove()
    return app, ids


def _import(path: Path, fmt: str, category: str, expected: int) -> dict:
    """Runs in the child process: import the file through the app, time it, measure peak RSS."""
    from app.auth.models import User
    from app.catalog.models import Category
    from app.catalog_upload import services
    from app.catalog_upload.jobs import run_import
    from app.catalog_upload.models import ImportBatch
    from app.extensions import db

    with tempfile.TemporaryDirectory() as scratch:
        app, (category_id, user_id) = _setup(Path(scratch), category)
        with app.app_context():
            baseline_mb = _peak_rss_mb()
            started = time.perf_counter()
            cpu_started = time.process_time()
            user = db.session.get(User, user_id)
            with path.open("rb") as stream:
                batch = services.create_batch(user, db.session.get(Category, category_id), stream, path.name)
            batch_id = batch.id
            db.session.commit()  # the upload request ends here; the job runs after its commit
            status = run_import(batch_id)
            seconds = time.perf_counter() - started
            cpu_seconds = time.process_time() - cpu_started
            batch = db.session.get(ImportBatch, batch_id)
            if status != "applied" or batch.rows_ok != expected or batch.offers_created != expected:
                raise SystemExit(
                    f"benchmark file should import cleanly: {status}, {batch.rows_ok} ok, "
                    f"{batch.errors_count} errors: {batch.message} {batch.errors[:3]}"
                )
            result = {
                "rows": expected,
                "format": fmt,
                "rows_per_s": round(expected / seconds),
                "peak_rss_mb": round(_peak_rss_mb(), 1),
                "seconds": round(seconds, 2),
                "cpu_seconds": round(cpu_seconds, 2),
                "rss_before_import_mb": round(baseline_mb, 1),
                "new_products": batch.new_products,
                "matched_rows": batch.matched_products,
                "offers_created": batch.offers_created,
                "file_mb": round(path.stat().st_size / (1024 * 1024), 1),
                "stages": "store+parse+validate+apply (SQLite)",
            }
            db.session.remove()
            db.engine.dispose()
    return result


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--format", choices=("csv", "xlsx"), default="csv")
    parser.add_argument("--category", default="A02010105")
    parser.add_argument("--keep", type=Path, help="write the generated file here and keep it")
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.child:
        print(json.dumps(_import(args.child, args.format, args.category, args.rows), ensure_ascii=False))
        return

    spec = _category(args.category)
    with tempfile.TemporaryDirectory() as scratch:
        path = args.keep or Path(scratch) / f"catalog.{args.format}"
        started = time.perf_counter()
        write_file(spec, args.rows, args.format, path)
        print(
            f"generated {args.rows:,} rows of {spec.title} as {args.format} "
            f"({path.stat().st_size / 1e6:.1f} MB) in {time.perf_counter() - started:.1f}s",
            file=sys.stderr,
        )
        child = subprocess.run(
            [
                sys.executable,
                str(Path(__file__).resolve()),
                "--child",
                str(path),
                "--format",
                args.format,
                "--rows",
                str(args.rows),
                "--category",
                args.category,
            ],
            check=True,
            capture_output=True,
            text=True,
        )
        sys.stderr.write(child.stderr)
        result = json.loads(child.stdout.strip().splitlines()[-1])
    print(
        f"{result['rows']:,} rows in {result['seconds']}s: {result['rows_per_s']:,} rows/s, "
        f"peak RSS {result['peak_rss_mb']} MB",
        file=sys.stderr,
    )
    print(json.dumps(result, ensure_ascii=False))


if __name__ == "__main__":
    main()
