"""Small factories: each builds one valid record (and what it needs), flushes, and returns it."""

from __future__ import annotations

import itertools
from decimal import Decimal

from app.auth.models import Organization, OrgKind, Role, User
from app.auth.passwords import hash_password
from app.catalog.models import Attribute, AttributeType, Category, Offer, OfferStatus, Product
from app.catalog.services import normalize_key
from app.extensions import db
from app.orders.models import OrderLine
from app.procurement.models import ProcurementPlan

PASSWORD = "Passw0rd-test"
_seq = itertools.count(1)

DEFAULT_ROLE = {
    OrgKind.PURCHASING_UNIT: Role.PURCHASER,
    OrgKind.SUPPLIER: Role.SUPPLIER,
    OrgKind.OPERATOR: Role.OPERATOR,
    OrgKind.REGULATOR: Role.REGULATOR,
    OrgKind.FINANCE: Role.FINANCE,
}


def org(kind: OrgKind = OrgKind.PURCHASING_UNIT, **kw) -> Organization:
    n = next(_seq)
    record = Organization(
        code=kw.pop("code", f"ORG{n:05d}"), name=kw.pop("name", f"测试单位{n}"), kind=kind, **kw
    )
    db.session.add(record)
    db.session.flush()
    return record


def user(organization: Organization | None = None, role: Role | None = None, **kw) -> User:
    organization = organization or org()
    n = next(_seq)
    record = User(
        organization=organization,
        username=kw.pop("username", f"user{n}"),
        display_name=kw.pop("display_name", f"测试用户{n}"),
        role=role or DEFAULT_ROLE[organization.kind],
        password_hash=hash_password(kw.pop("password", PASSWORD)),
        **kw,
    )
    db.session.add(record)
    db.session.flush()
    return record


def category(code: str | None = None, name: str = "台式计算机", **kw) -> Category:
    n = next(_seq)
    record = Category(code=code or f"A99{n:06d}", name=name, level=4, kind="goods", **kw)
    db.session.add(record)
    db.session.flush()
    return record


def attribute(cat: Category, code: str, type_: AttributeType = AttributeType.NUMBER, **kw) -> Attribute:
    record = Attribute(
        category=cat,
        code=code,
        label_zh=kw.pop("label_zh", code),
        label_en=kw.pop("label_en", code),
        type=type_,
        **kw,
    )
    db.session.add(record)
    db.session.flush()
    return record


def product(cat: Category | None = None, **kw) -> Product:
    cat = cat or category()
    n = next(_seq)
    brand = kw.pop("brand", "联想")
    model = kw.pop("model", f"M{n}")
    record = Product(
        category=cat,
        brand=brand,
        model=model,
        manufacturer=kw.pop("manufacturer", "联想(北京)有限公司"),
        name=kw.pop("name", f"{brand} {model}"),
        dedup_key=normalize_key(brand, model),
        **kw,
    )
    db.session.add(record)
    db.session.flush()
    return record


def offer(prod: Product | None = None, supplier: Organization | None = None, **kw) -> Offer:
    prod = prod or product()
    supplier = supplier or org(OrgKind.SUPPLIER)
    n = next(_seq)
    record = Offer(
        product=prod,
        supplier=supplier,
        supplier_sku=kw.pop("supplier_sku", f"SKU{n}"),
        price=kw.pop("price", Decimal("4999.00")),
        market_price=kw.pop("market_price", Decimal("5299.00")),
        stock=kw.pop("stock", 10),
        regions=kw.pop("regions", ["110000"]),
        status=kw.pop("status", OfferStatus.LISTED),
        **kw,
    )
    db.session.add(record)
    db.session.flush()
    return record


def plan(unit: Organization | None = None, **kw) -> ProcurementPlan:
    unit = unit or org()
    n = next(_seq)
    record = ProcurementPlan(
        unit=unit,
        plan_no=kw.pop("plan_no", f"PLAN-2026-{n:05d}"),
        name=kw.pop("name", f"办公设备采购{n}"),
        fiscal_year=kw.pop("fiscal_year", 2026),
        budget_line_code=kw.pop("budget_line_code", "2010301"),
        fund_source=kw.pop("fund_source", "一般公共预算"),
        amount=kw.pop("amount", Decimal("100000.00")),
        **kw,
    )
    db.session.add(record)
    db.session.flush()
    return record


def order_line(offer: Offer, unit_price: Decimal, quantity: int = 1) -> OrderLine:
    """A line frozen from ``offer`` as checkout would, to append to an order (flushed with it)."""
    product = offer.product
    return OrderLine(
        offer_id=offer.id,
        product_id=product.id,
        category_id=product.category_id,
        supplier_sku=offer.supplier_sku,
        name=product.name,
        brand=product.brand,
        model=product.model,
        specs={},
        unit_price=unit_price,
        quantity=quantity,
        amount=unit_price * quantity,
    )
