"""Write the generated demo data set into the database: upserts by natural keys, bulk inserts.

``load_demo`` flushes and never commits (the CLI commits once), so tests can run it inside their
transaction. Natural keys: organization ``code``, ``username``, product ``dedup_key``,
(supplier, ``supplier_sku``), ``plan_no``, (category, attribute code). A second run on an
unchanged database finds every row equal and writes nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, insert, select

from app.auth.models import ROLES_BY_ORG_KIND, Organization, OrgKind, Role, User
from app.auth.passwords import hash_password, verify_password
from app.catalog.models import (
    CATALOG_VERSION,
    Attribute,
    Category,
    Offer,
    OfferStatus,
    Origin,
    PriceChange,
    Product,
)
from app.catalog.registry import REGISTRY_BY_CODE, load_registries
from app.catalog.services import load_categories, validate_product_specs
from app.core.db import utcnow
from app.demo.generate import DEFAULT_SEED, DEMO_PASSWORD, DemoData, OfferDraft, ProductDraft, generate
from app.demo.orders import load_orders
from app.extensions import db
from app.orders.models import Order
from app.procurement.models import ProcurementPlan

CHUNK = 500  # keys per IN (...) and rows per bulk INSERT

ROLE_LABELS = {
    Role.PURCHASER: "采购经办人",
    Role.APPROVER: "审批人",
    Role.SUPPLIER: "供应商",
    Role.OPERATOR: "卖场运营",
    Role.REGULATOR: "财政监管",
    Role.FINANCE: "财政系统",
}


@dataclass(frozen=True)
class DemoLogin:
    role: Role
    username: str
    display_name: str
    organization: str


@dataclass
class DemoSummary:
    password: str
    logins: list[DemoLogin]
    counts: dict[str, int]  # rows in the database after the load
    created: dict[str, int] = field(default_factory=dict)  # rows this load inserted
    updated: dict[str, int] = field(default_factory=dict)  # existing rows this load changed

    @property
    def changed_anything(self) -> bool:
        return any(self.created.values()) or any(self.updated.values())


def _chunks(items: Sequence[Any], size: int = CHUNK) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _fetch(model, column, keys: Iterable[Any]) -> list:
    keys = sorted(set(keys))
    rows = []
    for chunk in _chunks(keys):
        rows.extend(db.session.scalars(select(model).where(column.in_(chunk))))
    return rows


def _bulk_insert(model, rows: list[dict]) -> None:
    for chunk in _chunks(rows):
        db.session.execute(insert(model), list(chunk))


def _assign(record, values: dict[str, Any]) -> bool:
    """Set the attributes that differ; report whether any did."""
    changed = False
    for key, value in values.items():
        if getattr(record, key) != value:
            setattr(record, key, value)
            changed = True
    return changed


# ---------------------------------------------------------------------------------------------


def _load_organizations(data: DemoData) -> tuple[dict[str, Organization], int, int]:
    existing = {
        o.code: o for o in _fetch(Organization, Organization.code, (o.code for o in data.organizations))
    }
    created = updated = 0
    for draft in data.organizations:
        values = {
            "name": draft.name,
            "kind": draft.kind,
            "credit_code": draft.credit_code,
            "region_code": draft.region_code,
            "is_sme": draft.is_sme,
            "contact_phone": draft.contact_phone,
            "is_active": True,
        }
        org = existing.get(draft.code)
        if org is None:
            org = Organization(code=draft.code, **values)
            db.session.add(org)
            existing[draft.code] = org
            created += 1
        else:
            updated += _assign(org, values)
    db.session.flush()
    return existing, created, updated


def _load_users(data: DemoData, orgs: dict[str, Organization], password_hash: str | None) -> tuple[int, int]:
    existing = {u.username: u for u in _fetch(User, User.username, (u.username for u in data.users))}
    # Every demo user has the same password. Argon2 is slow on purpose, so hash (or verify) once
    # per distinct hash string instead of once per user.
    hashes = sorted({u.password_hash for u in existing.values()})
    good = {h for h in hashes if verify_password(h, DEMO_PASSWORD)}
    shared = password_hash or (min(good) if good else None)
    created = updated = 0
    for draft in data.users:
        org = orgs[draft.org_code]
        if draft.role not in ROLES_BY_ORG_KIND[org.kind]:
            raise ValueError(f"角色 {draft.role} 不适用于 {org.kind} 类型的单位")
        user = existing.get(draft.username)
        if shared is None and (user is None or user.password_hash not in good):
            shared = hash_password(DEMO_PASSWORD)
        if user is None:
            db.session.add(
                User(
                    organization=org,
                    username=draft.username,
                    display_name=draft.display_name,
                    role=draft.role,
                    password_hash=shared,
                )
            )
            created += 1
            continue
        values = {
            "organization": org,
            "display_name": draft.display_name,
            "role": draft.role,
            "is_active_account": True,
        }
        if user.password_hash not in good:
            values["password_hash"] = shared
            values["password_changed_at"] = utcnow()
        updated += _assign(user, values)
    db.session.flush()
    return created, updated


def _load_plans(
    data: DemoData, orgs: dict[str, Organization], categories: dict[str, Category]
) -> tuple[int, int]:
    existing = {
        p.plan_no: p
        for p in _fetch(ProcurementPlan, ProcurementPlan.plan_no, (p.plan_no for p in data.plans))
    }
    created = updated = 0
    for draft in data.plans:
        plan_categories = [categories[code] for code in sorted(draft.category_codes)]
        values = {
            "unit_id": orgs[draft.unit_code].id,
            "name": draft.name,
            "fiscal_year": draft.fiscal_year,
            "budget_line_code": draft.budget_line_code,
            "fund_source": draft.fund_source,
        }
        plan = existing.get(draft.plan_no)
        if plan is None:
            plan = ProcurementPlan(
                plan_no=draft.plan_no, amount=draft.amount, approved_at=draft.approved_at, **values
            )
            plan.categories = plan_categories
            db.session.add(plan)
            created += 1
            continue
        # The ledger (reserved/consumed/released) belongs to the orders placed since; never reset
        # it, and only restore the amount while it still covers what is booked against it.
        if plan.reserved + plan.consumed <= draft.amount:
            values["amount"] = draft.amount
        changed = _assign(plan, values)
        if sorted(c.code for c in plan.categories) != [c.code for c in plan_categories]:
            plan.categories = plan_categories
            changed = True
        updated += changed
    db.session.flush()
    return created, updated


def _product_values(draft: ProductDraft, category: Category) -> dict[str, Any]:
    return {
        "category_id": category.id,
        "brand": draft.brand,
        "model": draft.model,
        "manufacturer": draft.manufacturer,
        "name": draft.name,
        "specs": draft.specs,
        "energy_saving": draft.energy_saving,
        "environmental": draft.environmental,
        "origin": Origin(draft.origin),
        "description": draft.description,
        "is_active": True,
    }


def _load_products(data: DemoData, categories: dict[str, Category]) -> tuple[dict[str, int], int, int]:
    # Specs were coerced against the registry definitions when generated; check them once more
    # against the rows now in the database, so a drifted registry fails loudly here.
    for draft in data.products:
        result = validate_product_specs(categories[draft.category_code], draft.specs)
        if not result.ok or result.values != draft.specs:
            raise ValueError(f"演示商品 {draft.name} 的规格参数与属性注册表不符: {result.errors}")
    existing = {
        p.dedup_key: p for p in _fetch(Product, Product.dedup_key, (p.dedup_key for p in data.products))
    }
    new_rows = []
    updated = 0
    for draft in data.products:
        values = _product_values(draft, categories[draft.category_code])
        product = existing.get(draft.dedup_key)
        if product is None:
            new_rows.append(
                {
                    **values,
                    "dedup_key": draft.dedup_key,
                    "row_version": 1,
                    "created_at": draft.created_at,
                    "updated_at": draft.created_at,
                }
            )
        elif _assign(product, values):
            product.row_version = (product.row_version or 0) + 1
            updated += 1
    db.session.flush()
    _bulk_insert(Product, new_rows)
    return _product_ids(data), len(new_rows), updated


def _product_ids(data: DemoData) -> dict[str, int]:
    keys = sorted({p.dedup_key for p in data.products})
    ids: dict[str, int] = {}
    for chunk in _chunks(keys):
        query = select(Product.dedup_key, Product.id).where(Product.dedup_key.in_(chunk))
        ids.update(db.session.execute(query).all())
    return ids


def _offer_values(draft: OfferDraft, product_id: int) -> dict[str, Any]:
    return {
        "product_id": product_id,
        "price": draft.price,
        "market_price": draft.market_price,
        "market_price_source": draft.market_price_source,
        "stock": draft.stock,
        "regions": list(draft.regions),
        "warranty_months": draft.warranty_months,
        "lead_time_days": draft.lead_time_days,
        "status": OfferStatus(draft.status),
        "listed_at": draft.listed_at,
    }


def _load_offers(
    data: DemoData, orgs: dict[str, Organization], product_ids: dict[str, int], supplier_users: dict[str, int]
) -> tuple[int, int, int]:
    supplier_ids = sorted({orgs[o.supplier_code].id for o in data.offers})
    existing: dict[tuple[int, str], Offer] = {}
    for chunk in _chunks(supplier_ids):
        for offer in db.session.scalars(select(Offer).where(Offer.supplier_id.in_(chunk))):
            existing[(offer.supplier_id, offer.supplier_sku)] = offer
    new_rows, new_keys = [], []
    updated = repriced = 0
    now = utcnow()
    for draft in data.offers:
        supplier_id = orgs[draft.supplier_code].id
        values = _offer_values(draft, product_ids[draft.dedup_key])
        offer = existing.get((supplier_id, draft.supplier_sku))
        if offer is None:
            new_rows.append(
                {
                    **values,
                    "supplier_id": supplier_id,
                    "supplier_sku": draft.supplier_sku,
                    "created_at": draft.created_at,
                    "updated_at": draft.history[-1].changed_at,
                }
            )
            new_keys.append((supplier_id, draft))
            continue
        old_price = offer.price
        if _assign(offer, values):
            updated += 1
            if old_price != draft.price:
                # Keep the history honest when a reload puts the demo price back.
                db.session.add(
                    PriceChange(
                        offer=offer,
                        price=draft.price,
                        market_price=draft.market_price,
                        changed_at=now,
                        changed_by_id=supplier_users.get(draft.supplier_code),
                        source="demo",
                    )
                )
                repriced += 1
    db.session.flush()
    _bulk_insert(Offer, new_rows)
    if new_keys:
        offer_ids: dict[tuple[int, str], int] = {}
        for chunk in _chunks(supplier_ids):
            offer_ids.update(
                ((s, sku), i)
                for i, s, sku in db.session.execute(
                    select(Offer.id, Offer.supplier_id, Offer.supplier_sku).where(
                        Offer.supplier_id.in_(chunk)
                    )
                )
            )
        history = [
            {
                "offer_id": offer_ids[(supplier_id, draft.supplier_sku)],
                "price": row.price,
                "market_price": row.market_price,
                "changed_at": row.changed_at,
                "changed_by_id": supplier_users.get(draft.supplier_code),
                "source": "demo",
            }
            for supplier_id, draft in new_keys
            for row in draft.history
        ]
        _bulk_insert(PriceChange, history)
    else:
        history = []
    return len(new_rows), updated, len(history) + repriced


def _counts() -> dict[str, int]:
    def count(model, *where) -> int:
        return db.session.scalar(select(func.count()).select_from(model).where(*where)) or 0

    demo_categories = sorted(REGISTRY_BY_CODE)
    category_ids = select(Category.id).where(
        Category.catalog_version == CATALOG_VERSION, Category.code.in_(demo_categories)
    )
    return {
        "categories": count(Category, Category.catalog_version == CATALOG_VERSION),
        "demo_categories": count(Category, Category.id.in_(category_ids)),
        "attributes": count(Attribute, Attribute.category_id.in_(category_ids)),
        "purchasing_units": count(Organization, Organization.kind == OrgKind.PURCHASING_UNIT),
        "suppliers": count(Organization, Organization.kind == OrgKind.SUPPLIER),
        "sme_suppliers": count(
            Organization, Organization.kind == OrgKind.SUPPLIER, Organization.is_sme.is_(True)
        ),
        "users": count(User),
        "plans": count(ProcurementPlan),
        "products": count(Product),
        "offers": count(Offer),
        "listed_offers": count(Offer, Offer.status == OfferStatus.LISTED),
        "price_changes": count(PriceChange),
        "orders": count(Order),
    }


def load_demo(*, password_hash: str | None = None, seed: int = DEFAULT_SEED) -> DemoSummary:
    """Load the 2022 catalogue, the attribute registries and the demo data set; idempotent.

    ``password_hash`` is a ready argon2 hash of the demo password (tests pass a cheap one); without
    it the password is hashed once, or not at all when the demo users already have a valid hash.
    Flushes, never commits."""
    created: dict[str, int] = {}
    updated: dict[str, int] = {}
    created["categories"] = load_categories()
    registries = load_registries()
    created["attributes"], updated["attributes"] = registries.created, registries.updated
    categories = registries.categories

    data = generate(seed)
    orgs, created["organizations"], updated["organizations"] = _load_organizations(data)
    created["users"], updated["users"] = _load_users(data, orgs, password_hash)
    created["plans"], updated["plans"] = _load_plans(data, orgs, categories)
    product_ids, created["products"], updated["products"] = _load_products(data, categories)

    usernames = {u.org_code: u.username for u in data.users if u.role is Role.SUPPLIER}
    query = select(User.username, User.id).where(User.username.in_(sorted(usernames.values())))
    user_ids = dict(db.session.execute(query).all())
    supplier_users = {org: user_ids[name] for org, name in usernames.items()}
    offers = _load_offers(data, orgs, product_ids, supplier_users)
    created["offers"], updated["offers"], created["price_changes"] = offers
    db.session.flush()
    created["orders"] = load_orders(seed)

    names = {o.code: o.name for o in data.organizations}
    logins = [DemoLogin(u.role, u.username, u.display_name, names[u.org_code]) for u in data.users]
    return DemoSummary(
        password=DEMO_PASSWORD, logins=logins, counts=_counts(), created=created, updated=updated
    )
