"""``load_demo`` on SQLite and PostgreSQL.

The demo data set is loaded once per module and database, inside an outer transaction that is
rolled back at the end — the same design as ``db_session`` in tests/conftest.py, at module scope,
so the tests below share one load instead of paying for it each time. They only read, except the
idempotency test, which reloads inside a SAVEPOINT it rolls back.
"""

from __future__ import annotations

import csv
import re
from collections import Counter, defaultdict
from decimal import Decimal

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from app.auth.models import ROLES_BY_ORG_KIND, Organization, OrgKind, Role, User
from app.auth.passwords import hash_password, verify_password
from app.catalog.models import Category, Offer, OfferStatus, PriceChange, Product
from app.catalog.registry import REGISTRY_BY_CODE
from app.catalog.services import CATALOG_CSV, normalize_key, validate_product_specs
from app.core.db import utcnow
from app.demo.cli import format_summary
from app.demo.generate import DEMO_PASSWORD
from app.demo.load import DemoSummary, load_demo
from app.demo.orders import ENDINGS, ORDER_COUNT
from app.extensions import db, limiter
from app.orders.models import Evaluation, Order, OrderEvent, OrderStatus
from app.procurement.models import ProcurementPlan
from app.procurement.services import ledger_sums


@pytest.fixture(scope="module")
def demo(app):
    with app.app_context():
        engines = db._app_engines[app]
        engine = engines[None]
        connection = engine.connect()
        outer = connection.begin()
        engines[None] = connection
        db.session.remove()
        db.session.configure(join_transaction_mode="create_savepoint")
        try:
            yield load_demo(password_hash=hash_password(DEMO_PASSWORD))
        finally:
            db.session.remove()
            outer.rollback()
            connection.close()
            engines[None] = engine
            db.session.configure(join_transaction_mode="conditional_savepoint")
            limiter.reset()


def scalar_count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def test_counts(demo: DemoSummary):
    units = db.session.scalars(select(Organization).where(Organization.kind == OrgKind.PURCHASING_UNIT)).all()
    assert len(units) >= 5
    plans_per_unit = Counter(db.session.scalars(select(ProcurementPlan.unit_id)))
    assert all(plans_per_unit[u.id] >= 1 for u in units)
    suppliers = db.session.scalars(select(Organization).where(Organization.kind == OrgKind.SUPPLIER)).all()
    assert len(suppliers) >= 12
    assert 0 < sum(s.is_sme for s in suppliers) < len(suppliers)
    for kind in (OrgKind.OPERATOR, OrgKind.REGULATOR, OrgKind.FINANCE):
        assert scalar_count(Organization, Organization.kind == kind) == 1
    leaves_with_products = db.session.scalar(
        select(func.count(func.distinct(Product.category_id)))
        .join(Category)
        .where(Category.is_leaf.is_(True))
    )
    assert leaves_with_products >= 15
    assert scalar_count(Product) >= 2000
    assert scalar_count(Offer) >= 6000
    assert set(db.session.scalars(select(User.role).distinct())) == set(Role)
    assert demo.counts["products"] == scalar_count(Product)
    assert demo.counts["offers"] == scalar_count(Offer)
    assert demo.created["products"] == demo.counts["products"]
    assert demo.counts["attributes"] == sum(len(r.attributes) for r in REGISTRY_BY_CODE.values())


def test_organizations_are_well_formed(demo):
    orgs = db.session.scalars(select(Organization)).all()
    assert all(o.credit_code and len(o.credit_code) == 18 for o in orgs)
    assert all(re.fullmatch(r"[1-6]\d0000", o.region_code) for o in orgs)
    for user in db.session.scalars(select(User).options(selectinload(User.organization))):
        assert user.role in ROLES_BY_ORG_KIND[user.organization.kind]
    per_unit = Counter((u.organization_id, u.role) for u in db.session.scalars(select(User)))
    for unit in db.session.scalars(select(Organization).where(Organization.kind == OrgKind.PURCHASING_UNIT)):
        assert per_unit[(unit.id, Role.PURCHASER)] == 1 and per_unit[(unit.id, Role.APPROVER)] == 1


def test_products_are_2022_leaves_with_registry_valid_specs(demo):
    with CATALOG_CSV.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    parents = {r["parent_code"] for r in rows}
    leaves = {r["code"]: r["name"] for r in rows if r["code"] not in parents}
    products = db.session.scalars(
        select(Product).options(selectinload(Product.category).selectinload(Category.attributes))
    ).all()
    for product in products:
        category = product.category
        assert category.catalog_version == "2022" and category.is_leaf
        assert leaves[category.code] == category.name
        result = validate_product_specs(category, product.specs)
        assert result.errors == {}
        assert result.values == product.specs
        required = {a.code for a in category.attributes if a.required}
        assert required <= set(product.specs), product.name
        assert product.dedup_key == normalize_key(product.brand, product.model)
        assert product.name.startswith(product.brand) and category.name in product.name
    assert len({p.category_id for p in products}) == len(REGISTRY_BY_CODE)
    share = sum(p.energy_saving for p in products) / len(products)
    assert 0.2 < share < 0.9


def test_offer_prices_and_history(demo):
    offers = db.session.scalars(select(Offer).options(selectinload(Offer.product))).all()
    market_by_product: dict[int, set] = defaultdict(set)
    per_product = Counter()
    listed_per_product = Counter()
    for offer in offers:
        assert isinstance(offer.price, Decimal) and offer.price.as_tuple().exponent == -2
        assert Decimal(0) < offer.price <= offer.market_price
        assert offer.market_price_source
        assert offer.regions and all(re.fullmatch(r"\d{6}", r) for r in offer.regions)
        assert (offer.listed_at is not None) == (offer.status == OfferStatus.LISTED)
        market_by_product[offer.product_id].add(offer.market_price)
        per_product[offer.product_id] += 1
        listed_per_product[offer.product_id] += offer.status == OfferStatus.LISTED
    assert all(len(prices) == 1 for prices in market_by_product.values())
    assert set(per_product.values()) <= {2, 3, 4, 5}
    assert all(listed_per_product[p] >= 1 for p in per_product)
    skus = Counter((o.supplier_id, o.supplier_sku) for o in offers)
    assert max(skus.values()) == 1
    statuses = Counter(o.status for o in offers)
    assert statuses[OfferStatus.PENDING_REVIEW] and statuses[OfferStatus.DRAFT]

    history: dict[int, list[PriceChange]] = defaultdict(list)
    for change in db.session.scalars(
        select(PriceChange).order_by(PriceChange.offer_id, PriceChange.changed_at)
    ):
        history[change.offer_id].append(change)
    current = {o.id: o.price for o in offers}
    assert set(history) == set(current)
    assert all(rows[-1].price == current[offer_id] for offer_id, rows in history.items())
    assert all(row.source == "demo" and row.changed_by_id for rows in history.values() for row in rows)
    assert sum(len(rows) > 1 for rows in history.values()) > len(offers) / 5


def test_demo_orders_cover_the_order_life(demo):
    assert demo.created["orders"] == ORDER_COUNT == demo.counts["orders"]
    statuses = Counter(db.session.scalars(select(Order.status)))
    assert statuses == Counter(ENDINGS)
    history = db.session.scalars(select(OrderEvent)).all()
    assert all(event.created_at <= utcnow() for event in history)
    assert db.session.scalar(select(func.count()).select_from(Evaluation)) == statuses[OrderStatus.COMPLETED]
    late = db.session.scalars(select(Order).where(Order.paid_at.is_not(None))).all()
    assert any(order.paid_at > order.pay_due_at for order in late)
    waiting = db.session.scalars(select(Order).where(Order.status == OrderStatus.SUBMITTED)).all()
    assert waiting and all(order.confirm_due_at > utcnow() for order in waiting)  # not auto-cancelled at once


def test_plans(demo):
    demo_codes = set(REGISTRY_BY_CODE)
    plans = db.session.scalars(
        select(ProcurementPlan).options(selectinload(ProcurementPlan.categories))
    ).all()
    assert len(plans) >= 10
    for plan in plans:
        assert re.fullmatch(r"JN-2026-CG-\d{4}", plan.plan_no)
        assert plan.fiscal_year == 2026
        assert Decimal("200000") <= plan.amount <= Decimal("3000000")
        assert plan.amount.as_tuple().exponent == -2
        # The demo orders moved the budget: every total is what the plan's ledger says.
        assert ledger_sums(plan.id) == {
            "reserved": plan.reserved,
            "released": plan.released,
            "consumed": plan.consumed,
        }
        assert Decimal("0.00") <= plan.available <= plan.amount
        assert plan.fund_source in ("一般公共预算", "政府性基金预算")
        assert plan.budget_line_code
        assert plan.categories and {c.code for c in plan.categories} <= demo_codes


def test_demo_users_log_in_with_the_demo_password(demo):
    by_role = {}
    for user in db.session.scalars(select(User).order_by(User.username)):
        by_role.setdefault(user.role, user)
    assert set(by_role) == set(Role)
    for user in by_role.values():
        assert verify_password(user.password_hash, DEMO_PASSWORD), user.username
        assert not verify_password(user.password_hash, "wrong-password-1")
    assert {login.username for login in demo.logins} == set(db.session.scalars(select(User.username)))


def test_cli_summary_lists_every_login(demo):
    text = format_summary(demo, 1.0)
    assert "演示账号 (密码均为 Demo-2026-pass)" in text
    for login in demo.logins:
        assert re.search(rf"\b{login.username}\b", text)
    for username in ("buyer1", "approver1", "supplier1", "operator", "regulator", "finance"):
        assert username in text


def snapshot() -> tuple:
    return (
        tuple(scalar_count(m) for m in (Organization, User, ProcurementPlan, Product, Offer, PriceChange)),
        tuple(
            db.session.execute(
                select(Offer.supplier_id, Offer.supplier_sku, Offer.price, Offer.market_price).order_by(
                    Offer.supplier_id, Offer.supplier_sku
                )
            ).all()
        ),
        tuple(
            db.session.execute(
                select(Product.dedup_key, Product.row_version, Product.updated_at).order_by(Product.dedup_key)
            ).all()
        ),
        tuple(
            db.session.execute(
                select(User.username, User.password_hash, User.session_token).order_by(User.username)
            ).all()
        ),
    )


def test_second_load_changes_nothing(demo):
    before = snapshot()
    savepoint = db.session.begin_nested()
    try:
        again = load_demo()
        assert not again.changed_anything, (again.created, again.updated)
        assert again.counts == demo.counts
        assert snapshot() == before
    finally:
        savepoint.rollback()
