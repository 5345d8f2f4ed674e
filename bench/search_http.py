"""The search page through HTTP: p50/p95 of full page responses at N offers.

Builds a scratch SQLite database from the demo catalogue scaled up to N offers (each demo product
is repeated as variant models with their own offers), builds the tantivy index, serves the real
app with a threaded WSGI server on a free local port, then requests a fixed mix of search pages
one at a time (after a warm-up) with a keep-alive HTTP client and times each full response.

    .venv/bin/python bench/search_http.py --offers 100000

Last line: {"offers": N, "requests": …, "p50_ms": …, "p95_ms": …, "index_s": …}
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

QUERIES = [
    "/search?q=台式机",
    "/search?q=笔记本电脑 16GB",
    "/search?q=联想 开天&category=A02010105",
    "/search?category=A02010105&a.memory_gb=16&price_min=3000&price_max=8000",
    "/search?category=A02010108&sort=price_asc",
    "/search?category=A02021003&a.duplex=true&in_stock=true&region=320000",
    "/search?q=复印纸&sort=price_asc",
    "/search?category=A05010301&page=5",
    "/search?q=打印机&sme=true",
    "/search?category=A02010100&sort=newest&page=20",
]


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def build(workdir: Path, offers_wanted: int):
    os.environ.update(
        APP_ENV="development",
        DATABASE_URL=f"sqlite:///{workdir / 'bench.sqlite3'}",
        SEARCH_INDEX_DIR=str(workdir / "search"),
        SECRET_KEY="bench-secret-key-0123456789abcdefghij",
        SEARCH_RATE_LIMIT="1000000 per minute",  # one client on purpose; the limit is for scrapers
    )
    from flask_migrate import upgrade
    from sqlalchemy import func, insert, select

    from app import create_app
    from app.catalog import indexing
    from app.catalog.models import Offer, Product
    from app.demo.load import load_demo
    from app.extensions import db

    app = create_app()
    with app.app_context():
        upgrade()
        load_demo()
        db.session.commit()
        base_products = db.session.scalars(select(Product)).all()
        base_offers = db.session.scalars(select(Offer)).all()
        by_product: dict[int, list[Offer]] = {}
        for offer in base_offers:
            by_product.setdefault(offer.product_id, []).append(offer)
        count = len(base_offers)
        round_no = 0
        next_id = (db.session.scalar(select(func.max(Product.id))) or 0) + 1
        while count < offers_wanted:
            round_no += 1
            products, offers = [], []
            for product in base_products:
                if count >= offers_wanted:
                    break
                model = f"{product.model}-V{round_no}"
                products.append(
                    {
                        "id": next_id,
                        "category_id": product.category_id,
                        "brand": product.brand,
                        "model": model,
                        "manufacturer": product.manufacturer,
                        "name": f"{product.name} V{round_no}",
                        "dedup_key": f"{product.dedup_key}-v{round_no}",
                        "specs": product.specs,
                        "energy_saving": product.energy_saving,
                        "environmental": product.environmental,
                        "origin": product.origin,
                        "description": "",
                        "is_active": True,
                    }
                )
                for offer in by_product.get(product.id, []):
                    offers.append(
                        {
                            "product_id": next_id,
                            "supplier_id": offer.supplier_id,
                            "supplier_sku": f"{offer.supplier_sku}-V{round_no}",
                            "price": offer.price * (100 + round_no % 7) / 100,
                            "market_price": None,
                            "stock": offer.stock,
                            "regions": offer.regions,
                            "warranty_months": offer.warranty_months,
                            "lead_time_days": offer.lead_time_days,
                            "status": offer.status,
                            "listed_at": offer.listed_at,
                        }
                    )
                    count += 1
                next_id += 1
            db.session.execute(insert(Product), products)
            db.session.execute(insert(Offer), offers)
            db.session.commit()
            log(f"  {count} offers")
        started = time.perf_counter()
        indexing.rebuild()
        db.session.commit()
        index_s = time.perf_counter() - started
    return app, count, index_s


def serve(app):
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    return server


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--offers", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=20, help="timed passes over the query mix")
    parser.add_argument("--workdir", help="keep the database and index here (default: a temporary folder)")
    args = parser.parse_args()
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no access log in the timings

    import requests

    with tempfile.TemporaryDirectory(prefix="emall-bench-http-") as tmp:
        workdir = Path(args.workdir or tmp)
        workdir.mkdir(parents=True, exist_ok=True)
        log(f"building {args.offers} offers …")
        app, offers, index_s = build(workdir, args.offers)
        server = serve(app)
        base = f"http://127.0.0.1:{server.server_port}"
        session = requests.Session()
        for url in QUERIES * 3:  # warm-up: caches, the index reader, Jinja
            assert session.get(base + url, timeout=30).status_code == 200, url
        timings = []
        for _ in range(args.rounds):
            for url in QUERIES:
                started = time.perf_counter()
                response = session.get(base + url, timeout=30)
                _ = response.content
                timings.append((time.perf_counter() - started) * 1000)
                assert response.status_code == 200, (url, response.status_code)
        server.shutdown()
    timings.sort()
    result = {
        "offers": offers,
        "requests": len(timings),
        "p50_ms": round(statistics.median(timings), 2),
        "p95_ms": round(timings[int(len(timings) * 0.95) - 1], 2),
        "index_s": round(index_s, 2),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
