"""Orders benchmark: N buyers checking out at once, over HTTP, against shared plans that run dry.

    .venv/bin/python bench/orders.py --buyers 50 --seconds 30

What it does, in order:

1. creates a scratch PostgreSQL database (127.0.0.1:5432, trust; admin database ``test``) and
   migrates it with Alembic;
2. seeds three purchasing units sharing the buyers, four suppliers listing office goods (paper,
   keyboards, mice; ¥20–¥300) and, per unit and category, three plans of ¥3,000, ¥12,000 and
   ¥170,000: the first two run out during the run, one after the other (the checkout page offers
   only plans with enough balance, in plan-number order, and every buyer takes the first); then
   the order history a mall in service has (``--history``, default 30,000 completed orders of
   the last two years, older than the anti-splitting window, with their ledger entries, loaded
   with COPY) and ``ANALYZE``. Without statistics PostgreSQL planned the anti-splitting sum as a
   nested loop over every line of the category, which grew with each order of the run;
3. starts the app as in production — ``gunicorn wsgi:app`` (``gunicorn.conf.py``: sync workers,
   one per core and one more) with ``APP_ENV=production``, a fresh ``SECRET_KEY``, ``DATABASE_URL``,
   ``REDIS_URL=redis://127.0.0.1:6379/14`` (rate limits and RQ jobs, on a queue of its own);
4. logs every buyer in through ``/login`` (CSRF token from the form), each from its own loopback
   address (127.0.0.x) as its own user, so the login limits (10 a minute per address and per
   account) apply as designed and none is hit; nothing else on the checkout path is rate-limited;
5. for ``--seconds``: each buyer (a thread with its own urllib3 connection) fills its cart with
   one offer from each of 1–``--cart-suppliers`` (default 3) suppliers of one category
   (``POST /cart/add`` each), opens ``GET /cart/checkout``, takes the first plan offered and
   submits (``POST /cart/checkout``, timed): the checkout makes one order per supplier, all
   reserved at once. A redirect is a checkout; 409/422 with the budget
   refusal (采购计划 … 可用余额 ¥…，不足以支付 ¥…) is a refusal, after which the same cart is checked
   out again against the next plan; anything else (5xx, 429, other 4xx, exceptions) is an error;
6. stops the server and recomputes from the database: orders made in the run, overspent (the sum
   over plans of max(0, reserved + consumed − amount)) and ledger mismatch (the sum over plans of
   |stored − ledger| of reserved and consumed); drops the database and the RQ queue.

``--direct`` runs the same loop in-process against the services (``cart.add``, ``cart.quote`` and
``checkout.eligible_plans`` for the page, ``checkout.submit``), without HTTP: for profiling.

Progress goes to stderr; the last line of stdout is one JSON object:
{"buyers": N, "orders_per_s": …, "p95_ms": …, "refused_budget": …, "overspent_cny": …, "errors": …}
plus details, among them the CPU milliseconds per order of the buyers, the app server and
PostgreSQL (from /proc), which say what a machine can do at most. The exit status is 1 when the
answer is wrong (overspent, ledger mismatch, errors), whatever the timings.

Nothing the checkout enqueues needs a worker: with no webhook endpoint configured it enqueues no
job at all (no offer changes, so no search reindex); each order leaves two outbox rows
(``budget.reserved``, ``order.submitted``) in ``webhook_events``.

Measured on the 2-core development machine, 50 buyers, 3 sync workers, carts of 1–3 suppliers,
six runs in a row: 89.1, 75.1, 67.3, 66.8, 64.8, 56.5 orders/s with submit p95 352, 442, 495, 462,
503, 597 ms (median ≈ 67 orders/s at ≈ 480 ms); overspent 0, errors 0, ledger mismatch 0 in every
run. The spread is the host: the same code and workload cost 17–28 ms of app-server CPU per order
from one run to the next (≈ 20 ms typical, PostgreSQL ≈ 4, buyers ≈ 1.7), every core is busy, and
the latency is the queue of 50 buyers that never pause. With one supplier per cart
(``--cart-suppliers 1``, one order per checkout) 43–49 orders/s at p95 ≈ 500 ms. Before the tuning
of November 2026 it was 37–40 orders/s at p95 1.2–1.7 s: gthread workers let a checkout share the
interpreter lock with the light requests of its process (p95 870–1,150 ms even at 65–74 orders/s),
and tables without statistics made PostgreSQL the bottleneck.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import re
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
if sys.path[0] != str(ROOT):
    sys.path.insert(0, str(ROOT))

PG_ADMIN_URL = os.environ.get("BENCH_PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")
SEED = 20261126
PASSWORD = "Bench-Passw0rd-2026"
UNITS = 3
CATEGORIES = ("A05040101", "A02021109", "A02021110")  # 复印纸, 键盘, 鼠标器 (2022 catalogue)
SUPPLIERS = 4
PRODUCTS_PER_SUPPLIER_AND_CATEGORY = 3
# Per unit and category; plan numbers sort in this order, so buyers drain them one after another.
# Each (unit, category) stays under the ¥200,000 direct-order ceiling in total, so the
# anti-splitting guard never asks for a reason: the bench measures the plain checkout.
PLAN_AMOUNTS = (Decimal("3000.00"), Decimal("12000.00"), Decimal("170000.00"))
# The budget refusal, as checkout and the ledger word it.
BUDGET_REFUSAL = re.compile(r"采购计划 \S+ 可用余额 ¥[\d,]+\.\d\d，不足以支付 ¥[\d,]+\.\d\d。")
_INPUT = re.compile(r"<input\b[^>]*>", re.S)
_ATTR = re.compile(r'(\w[\w-]*)="([^"]*)"')


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _pg_url(dbname: str) -> str:
    return f"{PG_ADMIN_URL.rsplit('/', 1)[0]}/{dbname}"


# -- setup -------------------------------------------------------------------------------------


@dataclass
class Seeded:
    buyers: list[str]  # usernames
    # Offer ids by category, then by supplier: a cart takes 1–N suppliers' offers of one category
    # (each plan covers one category), so one checkout makes 1–N orders.
    shelf: list[list[list[int]]]

    @property
    def offers(self) -> list[int]:
        return [offer for category in self.shelf for supplier in category for offer in supplier]

    plans: int


def seed(database_url: str, buyers: int, workdir: Path, history: int = 0) -> Seeded:
    """Migrate and seed the scratch database (in this process, then let go of it)."""
    import sqlalchemy as sa
    from flask_migrate import upgrade

    from app import create_app
    from app.auth.models import Organization, OrgKind, Role, User
    from app.auth.passwords import hash_password
    from app.catalog.models import Offer, OfferStatus, Product
    from app.catalog.services import category_by_code, load_categories, normalize_key
    from app.extensions import db
    from app.orders.checkout import fiscal_year
    from app.procurement.models import ProcurementPlan
    from config import Config
    from config import database_url as sqlalchemy_url

    config = type(
        "BenchSeedConfig",
        (Config,),
        {
            "SQLALCHEMY_DATABASE_URI": sqlalchemy_url(database_url),
            "SEARCH_INDEX_DIR": str(workdir / "search"),
            "UPLOAD_DIR": str(workdir / "uploads"),
        },
    )
    rng = random.Random(SEED)
    app = create_app(config)
    with app.app_context():
        upgrade()
        load_categories()
        categories = [category_by_code(code) for code in CATEGORIES]
        password_hash = hash_password(PASSWORD)  # production argon2 parameters, one salt for all
        units = [
            Organization(
                code=f"BU{u:03d}", name=f"压测采购单位{u}", kind=OrgKind.PURCHASING_UNIT, region_code="110000"
            )
            for u in range(1, UNITS + 1)
        ]
        suppliers = [
            Organization(code=f"BS{s:03d}", name=f"压测供应商{s}", kind=OrgKind.SUPPLIER)
            for s in range(1, SUPPLIERS + 1)
        ]
        db.session.add_all(units + suppliers)
        db.session.flush()
        usernames = []
        for i in range(buyers):
            username = f"bench-buyer-{i + 1:04d}"
            db.session.add(
                User(
                    organization=units[i % UNITS],
                    username=username,
                    display_name=f"压测经办人{i + 1}",
                    role=Role.PURCHASER,
                    password_hash=password_hash,
                )
            )
            usernames.append(username)
        plans = 0
        for unit in units:
            for category in categories:
                for k, amount in enumerate(PLAN_AMOUNTS, start=1):
                    db.session.add(
                        ProcurementPlan(
                            unit=unit,
                            plan_no=f"BENCH-{unit.code}-{category.code}-{k}",
                            name=f"{category.name}采购（第{k}批）",
                            fiscal_year=fiscal_year(),
                            budget_line_code="2010301",
                            fund_source="一般公共预算",
                            amount=amount,
                            categories=[category],
                        )
                    )
                    plans += 1
        offers = []
        shelf_offers: list[list[list[Offer]]] = []
        for category in categories:
            shelf_offers.append([])
            for s, supplier in enumerate(suppliers, start=1):
                shelf_offers[-1].append([])
                for p in range(1, PRODUCTS_PER_SUPPLIER_AND_CATEGORY + 1):
                    brand, model = f"压测品牌{s}", f"{category.code}-{s}-{p}"
                    product = Product(
                        category=category,
                        brand=brand,
                        model=model,
                        manufacturer=f"压测制造商{s}",
                        name=f"{brand} {category.name} {model}",
                        dedup_key=normalize_key(brand, model),
                    )
                    price = Decimal(rng.randrange(2000, 30000)) / 100
                    shelf_offers[-1][-1].append(
                        Offer(
                            product=product,
                            supplier=supplier,
                            supplier_sku=f"SKU-{model}",
                            price=price,
                            market_price=price * Decimal("1.10"),
                            stock=1_000_000,
                            regions=["110000"],
                            status=OfferStatus.LISTED,
                        )
                    )
                    offers.append(shelf_offers[-1][-1][-1])
        db.session.add_all(offers)
        db.session.commit()
        shelf = [[[offer.id for offer in group] for group in category] for category in shelf_offers]
        if history:
            seed_history(db.session, units, offers, history, rng)
        # Fresh statistics, as a production database has them (autovacuum analyzes as it goes).
        db.session.execute(sa.text("ANALYZE"))
        db.session.commit()
        seeded = Seeded(usernames, shelf, plans)
        db.session.remove()
        db.engine.dispose()
    return seeded


def seed_history(session, units, offers, count: int, rng: random.Random) -> None:
    """``count`` completed orders of the last two years (one line each, paid from a closed plan of
    the last fiscal year per unit, with their ledger entries), all older than the anti-splitting
    window: the order history a mall in service has, loaded with COPY."""
    import sqlalchemy as sa

    from app.auth.models import User
    from app.core.db import utcnow
    from app.orders.checkout import fiscal_year
    from app.procurement.models import PlanStatus, ProcurementPlan

    now = utcnow()
    buyers = {
        unit.id: session.scalars(sa.select(User.id).where(User.organization_id == unit.id)).all()
        for unit in units
    }
    old_plans = {}
    for unit in units:
        plan = ProcurementPlan(
            unit=unit,
            plan_no=f"BENCH-{unit.code}-HISTORY",
            name="上年度办公用品采购",
            fiscal_year=fiscal_year() - 1,
            budget_line_code="2010301",
            fund_source="一般公共预算",
            amount=Decimal("900000000.00"),
            status=PlanStatus.CLOSED,
            categories=sorted({offer.product.category for offer in offers}, key=lambda c: c.code),
        )
        session.add(plan)
        old_plans[unit.id] = plan
    session.flush()
    shelf = [
        (o.id, o.product_id, o.product.category_id, o.supplier_id, o.supplier_sku, o.product.name,
         o.product.brand, o.product.model, o.price, o.market_price)
        for o in offers
    ]  # fmt: skip
    first_id = (session.scalar(sa.text("SELECT coalesce(max(id), 0) FROM orders")) or 0) + 1
    consumed = {unit.id: Decimal("0.00") for unit in units}
    orders, lines, ledger = [], [], []
    for n in range(count):
        unit = units[n % len(units)]
        offer_id, product_id, category_id, supplier_id, sku, name, brand, model, price, market = rng.choice(
            shelf
        )
        quantity = rng.randint(1, 5)
        total = price * quantity
        submitted = now - timedelta(days=35 + rng.random() * 695)
        order_id, number = first_id + n, f"DDHIST{n + 1:010d}"
        plan_id = old_plans[unit.id].id
        orders.append(
            (order_id, number, f"history-{n}", unit.id, rng.choice(buyers[unit.id]), supplier_id, plan_id,
             "completed", total, "110000", "北京市东城区压测路 1 号", "压测", "010-12345678", "", False,
             '{"source": "local"}', submitted, submitted + timedelta(hours=5), submitted + timedelta(days=3),
             submitted + timedelta(days=4), submitted + timedelta(days=20), "[]", "{}", submitted,
             submitted + timedelta(days=20))
        )  # fmt: skip
        lines.append(
            (order_id, offer_id, product_id, category_id, sku, name, brand, model, "{}", price, quantity,
             total, market)
        )  # fmt: skip
        ledger.append((plan_id, "reserve", total, number, "", submitted))
        ledger.append((plan_id, "consume", total, number, "", submitted + timedelta(days=20)))
        consumed[unit.id] += total
    raw = session.connection().connection.driver_connection
    with raw.cursor() as cursor:
        columns = {
            "orders": "id, number, checkout_key, unit_id, buyer_id, supplier_id, plan_id, status, total, "
            "region_code, delivery_address, contact_name, contact_phone, note, needs_approval, "
            "budget_check, submitted_at, confirmed_at, delivered_at, accepted_at, paid_at, "
            "overdue_flags, rules, created_at, updated_at",
            "order_lines": "order_id, offer_id, product_id, category_id, supplier_sku, name, brand, model, "
            "specs, unit_price, quantity, amount, market_price",
            "ledger_entries": "plan_id, kind, amount, reference, note, created_at",
        }
        for table, rows in (("orders", orders), ("order_lines", lines), ("ledger_entries", ledger)):
            with cursor.copy(f"COPY {table} ({columns[table]}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        cursor.execute("SELECT setval(pg_get_serial_sequence('orders', 'id'), (SELECT max(id) FROM orders))")
    for unit in units:
        old_plans[unit.id].consumed = consumed[unit.id]
    session.flush()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextlib.contextmanager
def gunicorn(database_url: str, workdir: Path, queue: str, workers: int, threads: int):
    port = free_port()
    env = {
        **os.environ,
        "APP_ENV": "production",
        "SECRET_KEY": secrets.token_urlsafe(48),
        "DATABASE_URL": database_url,
        "REDIS_URL": REDIS_URL,
        "JOBS_QUEUE": queue,
        "INSTANCE_DIR": str(workdir / "instance"),
        "UPLOAD_DIR": str(workdir / "uploads"),
    }
    log_path = workdir / "gunicorn.log"
    command = [
        str(Path(sys.executable).parent / "gunicorn"),
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(workers),
        "--worker-class",
        "gthread" if threads > 1 else "sync",
        "--threads",
        str(threads),
        "--backlog",
        "512",
        "--timeout",
        "60",
        "--keep-alive",
        "30",
        "wsgi:app",
    ]
    with log_path.open("wb") as output:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        import requests

        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                raise RuntimeError("gunicorn exited:\n" + log_path.read_text()[-3000:])
            try:
                if requests.get(f"{base}/healthz", timeout=2).status_code == 200:
                    break
            except requests.RequestException:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("gunicorn did not answer /healthz:\n" + log_path.read_text()[-3000:])
            time.sleep(0.2)
        yield base, process.pid
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


# -- the buyers --------------------------------------------------------------------------------


@dataclass
class Tally:
    checkouts: int = 0  # successful checkouts
    orders: int = 0  # the orders they made (one per supplier in the cart)
    refused_budget: int = 0
    no_plan: int = 0  # the checkout page offered no plan: the unit's budget is spent
    errors: int = 0
    submit_ms: list[float] = field(default_factory=list)
    samples: list[str] = field(default_factory=list)
    statuses: Counter = field(default_factory=Counter)

    def error(self, what: str) -> None:
        self.errors += 1
        if len(self.samples) < 5:
            self.samples.append(what[:500])

    def merge(self, other: Tally) -> None:
        self.checkouts += other.checkouts
        self.orders += other.orders
        self.refused_budget += other.refused_budget
        self.no_plan += other.no_plan
        self.errors += other.errors
        self.submit_ms += other.submit_ms
        self.samples += other.samples[: max(0, 5 - len(self.samples))]
        self.statuses += other.statuses


def _form_fields(html: str, form_action: str) -> dict[str, str]:
    """The hidden fields of the form posting to ``form_action``, and its first plan choice."""
    start = html.find(f'action="{form_action}"')
    if start < 0:
        return {}
    form = html[start : html.find("</form>", start)]
    fields = {}
    for tag in _INPUT.findall(form):
        attrs = dict(_ATTR.findall(tag))
        if attrs.get("name") == "plan_id" and attrs.get("type") == "radio":
            fields.setdefault("plan_id", attrs.get("value", ""))
        elif "name" in attrs and attrs.get("type") == "hidden":
            fields[attrs["name"]] = attrs.get("value", "")
    return fields


def pick_cart(rng: random.Random, shelf: list[list[list[int]]], max_suppliers: int) -> list[int]:
    """One offer from each of 1–``max_suppliers`` suppliers, all of one category."""
    category = rng.choice(shelf)
    suppliers = rng.sample(category, rng.randint(1, min(max_suppliers, len(category))))
    return [rng.choice(offers) for offers in suppliers]


class HttpBuyer:
    """One buyer on a connection of its own (kept alive by gthread workers; sync workers close
    after each answer) from its own loopback address. urllib3 without
    requests on top: the load generator shares the machine's two cores with the server, so it
    should spend as little of them as it can. Cookies are kept by name; the production cookies
    are ``Secure``, and this client sends them over plain HTTP to loopback, where a TLS proxy
    would sit (nothing changes on the server side)."""

    def __init__(self, base: str, username: str, address: str, max_suppliers: int):
        import urllib3

        host, port = base.removeprefix("http://").split(":")
        self.http = urllib3.HTTPConnectionPool(
            host, int(port), maxsize=1, block=True, retries=False, timeout=60, source_address=(address, 0)
        )
        self.username = username
        self.cookies: dict[str, str] = {}
        self.location = ""  # of the last answer
        self.csrf = ""
        self.cart_full, self.cart_orders = False, 0
        self.max_suppliers = max_suppliers

    def request(self, method: str, path: str, fields: dict | None = None) -> tuple[int, str]:
        headers = {}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{name}={value}" for name, value in self.cookies.items())
        body = None
        if fields is not None:
            body = urlencode(fields)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        response = self.http.request(method, path, body=body, headers=headers, redirect=False)
        for cookie in response.headers.getlist("Set-Cookie"):
            name, _, rest = cookie.partition("=")
            value, _, attributes = rest.partition(";")
            attributes = attributes.lower()
            if value and "max-age=0" not in attributes and "expires=thu, 01 jan 1970" not in attributes:
                self.cookies[name] = value
            else:  # the server deleted it
                self.cookies.pop(name, None)
        self.location = response.headers.get("Location", "")
        return response.status, response.data.decode()

    def _csrf_from(self, html: str) -> str:
        match = re.search(r'name="csrf_token" value="([^"]+)"', html)
        if not match:
            raise RuntimeError("no CSRF token on the page")
        return match.group(1)

    def login(self) -> None:
        _, page = self.request("GET", "/login")
        status, _ = self.request(
            "POST",
            "/login",
            {"username": self.username, "password": PASSWORD, "csrf_token": self._csrf_from(page)},
        )
        if status != 302:
            raise RuntimeError(f"login of {self.username}: HTTP {status}")
        self.csrf = self._csrf_from(self.request("GET", "/cart")[1])

    def step(self, rng: random.Random, shelf: list[list[list[int]]], tally: Tally) -> None:
        if not self.cart_full:
            chosen = pick_cart(rng, shelf, self.max_suppliers)
            for offer_id in chosen:
                status, text = self.request(
                    "POST",
                    "/cart/add",
                    {"offer_id": offer_id, "quantity": rng.randint(1, 3), "csrf_token": self.csrf},
                )
                tally.statuses[f"add {status}"] += 1
                if status not in (302, 303) or self.location.startswith("/login"):
                    tally.error(f"POST /cart/add: HTTP {status} {text[-300:]}")
                    return
            self.cart_full, self.cart_orders = True, len(chosen)
        status, page = self.request("GET", "/cart/checkout")
        tally.statuses[f"page {status}"] += 1
        if status != 200:
            tally.error(f"GET /cart/checkout: HTTP {status} {page[-300:]}")
            return
        fields = _form_fields(page, "/cart/checkout")
        if "plan_id" not in fields:
            tally.no_plan += 1
            self.clear_cart()
            return
        fields.setdefault("csrf_token", self.csrf)
        fields.update(
            delivery_address="北京市东城区压测路 1 号", contact_name="压测", contact_phone="010-12345678"
        )
        started = time.perf_counter()
        status, text = self.request("POST", "/cart/checkout", fields)
        tally.submit_ms.append((time.perf_counter() - started) * 1000)
        tally.statuses[f"submit {status}"] += 1
        if status in (302, 303):
            tally.checkouts += 1
            tally.orders += self.cart_orders
            self.cart_full = False
        elif status in (409, 422) and BUDGET_REFUSAL.search(text):
            tally.refused_budget += 1
        else:
            tally.error(f"POST /cart/checkout: HTTP {status} {text[-300:]}")

    def clear_cart(self) -> None:
        # The buyer gives up on this item (no plan left for it).
        self.request("POST", "/cart/clear", {"confirm": "1", "csrf_token": self.csrf})
        self.cart_full = False


class DirectBuyer:
    """The same loop in-process against the services, one app context per step."""

    def __init__(self, app, username: str, max_suppliers: int):
        from sqlalchemy import select

        from app.auth.models import User
        from app.extensions import db

        self.app = app
        with app.app_context():
            self.user_id = db.session.scalar(select(User.id).where(User.username == username))
            db.session.remove()
        self.cart_full, self.cart_orders = False, 0
        self.max_suppliers = max_suppliers

    def login(self) -> None:
        pass

    def step(self, rng: random.Random, shelf: list[list[list[int]]], tally: Tally) -> None:
        from app.auth.models import User
        from app.extensions import db
        from app.orders import cart, checkout

        with self.app.app_context():
            try:
                user = db.session.get(User, self.user_id)
                if not self.cart_full:
                    chosen = pick_cart(rng, shelf, self.max_suppliers)
                    for offer_id in chosen:
                        cart.add(user, offer_id, rng.randint(1, 3))
                    db.session.commit()
                    self.cart_full, self.cart_orders = True, len(chosen)
                quote = cart.quote(user)
                plans = checkout.eligible_plans(user, quote)
                if not plans:
                    tally.no_plan += 1
                    return
                request = checkout.CheckoutRequest(
                    checkout_key=uuid.uuid4().hex,
                    fingerprint=quote.fingerprint,
                    plan_id=plans[0].id,
                    delivery_address="北京市东城区压测路 1 号",
                    contact_name="压测",
                    contact_phone="010-12345678",
                )
                db.session.commit()
                started = time.perf_counter()
                try:
                    checkout.submit(user, request)
                    db.session.commit()
                except checkout.CheckoutError as refused:
                    db.session.rollback()
                    if not BUDGET_REFUSAL.search(str(refused)):
                        tally.error(f"refused: {refused}")
                    else:
                        tally.refused_budget += 1
                else:
                    tally.checkouts += 1
                    tally.orders += self.cart_orders
                    self.cart_full = False
                tally.submit_ms.append((time.perf_counter() - started) * 1000)
            except Exception as exc:  # every exception is an error of the run, counted and shown
                db.session.rollback()
                tally.error(f"{type(exc).__name__}: {exc}")
            finally:
                db.session.remove()


def _cpu_seconds(pids) -> float:
    total = 0
    for pid in pids:
        with contextlib.suppress(OSError, IndexError):
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime + stime, in clock ticks
    return total / os.sysconf("SC_CLK_TCK")


def _processes() -> list[tuple[int, int, bytes]]:
    """(pid, parent pid, command line) of every process."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, IndexError):
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
                found.append((int(entry.name), parent, (entry / "cmdline").read_bytes()))
    return found


class CpuMeter:
    """CPU seconds used by the buyers (this process), the app server (gunicorn and its workers)
    and PostgreSQL (the backends of the scratch database), read from /proc."""

    def __init__(self, server_pid: int | None, database: str):
        self.server_pid, self.database = server_pid, database.encode()

    def snapshot(self) -> dict[str, float]:
        processes = _processes()
        server = {self.server_pid} if self.server_pid else set()
        server |= {pid for pid, parent, _ in processes if parent in server}
        postgres = [pid for pid, _, command in processes if self.database in command]
        return {
            "client": time.process_time(),
            "server": _cpu_seconds(server),
            "postgres": _cpu_seconds(postgres),
        }


def run_buyers(buyers, shelf, seconds: float, meter: CpuMeter) -> tuple[Tally, float, dict]:
    tallies = [Tally() for _ in buyers]
    ready = threading.Barrier(len(buyers) + 1)
    window: dict[str, float] = {}

    def loop(index: int) -> None:
        buyer, tally, rng = buyers[index], tallies[index], random.Random(SEED + index)
        try:
            buyer.login()
        except Exception as exc:  # a buyer that cannot log in is an error of the run
            tally.error(f"login: {type(exc).__name__}: {exc}")
            ready.wait()
            return
        ready.wait()
        while time.monotonic() < window["end"]:
            try:
                buyer.step(rng, shelf, tally)
            except Exception as exc:  # network errors, timeouts: counted, and the buyer goes on
                tally.error(f"{type(exc).__name__}: {exc}")

    threads = [threading.Thread(target=loop, args=(i,), daemon=True) for i in range(len(buyers))]
    for thread in threads:
        thread.start()
    window["end"] = float("inf")
    ready.wait()  # every buyer has logged in
    before = meter.snapshot()
    started = time.monotonic()
    window["end"] = started + seconds
    log(f"{len(buyers)} buyers logged in; running for {seconds:.0f} s")
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - started
    after = meter.snapshot()
    total = Tally()
    for tally in tallies:
        total.merge(tally)
    return total, elapsed, {name: after[name] - before[name] for name in before}


# -- afterwards --------------------------------------------------------------------------------


def audit_database(database_url: str) -> dict:
    """The figures that count, recomputed from the database."""
    import psycopg

    with psycopg.connect(database_url) as conn:
        plans = conn.execute(
            """
            SELECT p.id, p.amount, p.reserved, p.consumed,
                   coalesce(sum(e.amount) FILTER (WHERE e.kind = 'reserve'), 0)
                 - coalesce(sum(e.amount) FILTER (WHERE e.kind IN ('release', 'consume')), 0),
                   coalesce(sum(e.amount) FILTER (WHERE e.kind = 'consume'), 0)
              FROM procurement_plans p LEFT JOIN ledger_entries e ON e.plan_id = p.id
             GROUP BY p.id
            """
        ).fetchall()
        orders, order_total = conn.execute(
            "SELECT count(*) FILTER (WHERE checkout_key NOT LIKE 'history-%'), coalesce(sum(total), 0)"
            " FROM orders"
        ).fetchone()
        events = conn.execute("SELECT count(*) FROM webhook_events").fetchone()[0]
    overspent = sum((max(Decimal(0), r + c - a) for _, a, r, c, _, _ in plans), Decimal(0))
    mismatch = sum((abs(r - lr) + abs(c - lc) for _, _, r, c, lr, lc in plans), Decimal(0))
    reserved = sum((r + c for _, _, r, c, _, _ in plans), Decimal(0))
    exhausted = sum(1 for _, a, r, c, _, _ in plans if a - r - c < Decimal("20.00"))
    return {
        "orders": orders,
        "order_total": order_total,
        "reserved_total": reserved,
        "overspent": overspent,
        "mismatch": mismatch,
        "exhausted": exhausted,
        "outbox_events": events,
    }


def loopback_address(index: int) -> str:
    return f"127.0.{1 + index // 250}.{2 + index % 250}"


def run_direct(database_url: str, workdir: Path, seeded: Seeded, args, meter: CpuMeter):
    from app import create_app
    from config import Config
    from config import database_url as sqlalchemy_url

    config = type(
        "BenchDirectConfig",
        (Config,),
        {
            "SQLALCHEMY_DATABASE_URI": sqlalchemy_url(database_url),
            "SQLALCHEMY_ENGINE_OPTIONS": {"pool_size": args.buyers, "max_overflow": 0},
            "SEARCH_INDEX_DIR": str(workdir / "search"),
            "UPLOAD_DIR": str(workdir / "uploads"),
        },
    )
    app = create_app(config)
    buyers = [DirectBuyer(app, username, args.cart_suppliers) for username in seeded.buyers]
    result = run_buyers(buyers, seeded.shelf, args.seconds, meter)
    with app.app_context():
        from app.extensions import db

        db.engine.dispose()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--buyers", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=30)
    # As gunicorn.conf.py: sync workers, one per core and one more (on 2 cores, 4x1 sync answered
    # with a p95 of 480 ms where 2x6, 3x4 and 4x2 gthread workers took 870-1,150 ms at the same
    # throughput; 3x1 a little faster than 4x1).
    parser.add_argument("--workers", type=int, default=(os.cpu_count() or 1) + 1, help="gunicorn workers")
    parser.add_argument("--threads", type=int, default=1, help="threads per gunicorn worker (1: sync)")
    parser.add_argument(
        "--cart-suppliers",
        type=int,
        default=3,
        help="a cart holds offers of 1 to this many suppliers (one order each); 1: one order per checkout",
    )
    parser.add_argument(
        "--history", type=int, default=30_000, help="completed orders of earlier years in the database"
    )
    parser.add_argument("--direct", action="store_true", help="in-process services, no HTTP (profiling)")
    parser.add_argument("--keep", action="store_true", help="keep the scratch database (for a look)")
    args = parser.parse_args()

    import psycopg
    from redis import Redis
    from rq import Queue

    name = f"emall_bench_{uuid.uuid4().hex[:8]}"
    database_url = _pg_url(name)
    queue_name = f"bench-orders-{uuid.uuid4().hex[:8]}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    workdir = Path(tempfile.mkdtemp(prefix="emall-bench-orders-"))
    server_log = workdir / "gunicorn.log"
    try:
        started = time.monotonic()
        seeded = seed(database_url, args.buyers, workdir, args.history)
        log(
            f"seeded {len(seeded.buyers)} buyers, {len(seeded.offers)} offers, {seeded.plans} plans "
            f"in {time.monotonic() - started:.1f} s"
        )
        if args.direct:
            tally, elapsed, cpu = run_direct(database_url, workdir, seeded, args, CpuMeter(None, name))
            jobs = 0
        else:
            with gunicorn(database_url, workdir, queue_name, args.workers, args.threads) as (base, pid):
                buyers = [
                    HttpBuyer(base, username, loopback_address(i), args.cart_suppliers)
                    for i, username in enumerate(seeded.buyers)
                ]
                tally, elapsed, cpu = run_buyers(buyers, seeded.shelf, args.seconds, CpuMeter(pid, name))
            jobs = Queue(queue_name, connection=Redis.from_url(REDIS_URL)).count
        figures = audit_database(database_url)
    finally:
        with contextlib.suppress(Exception):
            Queue(queue_name, connection=Redis.from_url(REDIS_URL)).delete(delete_jobs=True)
        if not args.keep:
            with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        else:
            log(f"kept database {database_url}")

    if figures["orders"] != tally.orders:
        tally.error(f"the buyers counted {tally.orders} orders, the database holds {figures['orders']}")
    if figures["reserved_total"] != figures["order_total"]:
        tally.error(f"reserved {figures['reserved_total']} != sum of order totals {figures['order_total']}")
    p95 = statistics.quantiles(tally.submit_ms, n=20)[18] if len(tally.submit_ms) >= 20 else None
    log(f"statuses: {dict(sorted(tally.statuses.items()))}")
    log(
        f"plans run dry: {figures['exhausted']} of {seeded.plans}; jobs left on the RQ queue: {jobs}; "
        f"outbox events written: {figures['outbox_events']} (no webhook endpoint, so no deliveries)"
    )
    p50 = statistics.median(tally.submit_ms) if tally.submit_ms else 0
    log(f"submit p50 {p50:.0f} ms; checkout pages without a plan: {tally.no_plan}")
    per_order = {name: round(seconds * 1000 / max(1, figures["orders"]), 1) for name, seconds in cpu.items()}
    ceiling = 2000 / max(0.1, sum(per_order.values()))
    log(f"CPU ms per order: {per_order} (2 cores: {ceiling:.0f} orders/s at most)")
    for sample in tally.samples:
        log(f"error: {sample}")
    if tally.errors and server_log.exists():
        log("gunicorn log (tail):\n" + server_log.read_text(errors="replace")[-3000:])
    print(
        json.dumps(
            {
                "buyers": args.buyers,
                "orders_per_s": round(figures["orders"] / elapsed, 1),
                "checkouts_per_s": round(tally.checkouts / elapsed, 1),
                "p95_ms": round(p95, 1) if p95 is not None else None,
                "refused_budget": tally.refused_budget,
                "overspent_cny": float(figures["overspent"]),
                "errors": tally.errors,
                "ledger_mismatch_cny": float(figures["mismatch"]),
                "orders": figures["orders"],
                "cpu_ms_per_order": per_order,
                "seconds": round(elapsed, 1),
                "mode": "direct" if args.direct else f"gunicorn {args.workers}x{args.threads}",
            },
            ensure_ascii=False,
        )
    )
    if not args.keep:
        shutil.rmtree(workdir, ignore_errors=True)
    # Timings depend on the machine; a wrong answer does not.
    if figures["overspent"] or figures["mismatch"] or tally.errors:
        sys.exit(1)


if __name__ == "__main__":
    main()
