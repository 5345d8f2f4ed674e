"""A small world for order tests: a purchasing unit with its people and a plan, two suppliers with
listed offers in one category."""

from __future__ import annotations

import dataclasses
import uuid
from decimal import Decimal

from app.auth.models import Organization, OrgKind, Role, User
from app.catalog.models import Category, Offer
from app.orders import cart
from app.orders.checkout import CheckoutRequest
from app.procurement.models import ProcurementPlan
from tests import factories


@dataclasses.dataclass
class Shop:
    unit: Organization
    purchaser: User
    approver: User
    category: Category
    plan: ProcurementPlan
    suppliers: list[Organization]
    supplier_users: list[User]
    offers: list[Offer]  # offers[0] from suppliers[0], offers[1] from suppliers[1]


def shop(*, plan_amount: str = "100000.00", prices: tuple[str, str] = ("3000.00", "2000.00")) -> Shop:
    unit = factories.org(OrgKind.PURCHASING_UNIT, region_code="110000")
    category = factories.category()
    suppliers = [factories.org(OrgKind.SUPPLIER), factories.org(OrgKind.SUPPLIER)]
    offers = [
        factories.offer(factories.product(category), supplier, price=Decimal(price), stock=1000)
        for supplier, price in zip(suppliers, prices, strict=True)
    ]
    return Shop(
        unit=unit,
        purchaser=factories.user(unit, Role.PURCHASER),
        approver=factories.user(unit, Role.APPROVER),
        category=category,
        plan=factories.plan(unit, amount=Decimal(plan_amount), categories=[category]),
        suppliers=suppliers,
        supplier_users=[factories.user(supplier) for supplier in suppliers],
        offers=offers,
    )


def fill_cart(user: User, *items: tuple[Offer, int]) -> None:
    for offer, quantity in items:
        cart.add(user, offer.id, quantity)


def request_for(user: User, plan: ProcurementPlan, **overrides) -> CheckoutRequest:
    values = {
        "checkout_key": uuid.uuid4().hex,
        "fingerprint": cart.quote(user).fingerprint,
        "plan_id": plan.id,
        "delivery_address": "北京市东城区测试路 1 号",
        "contact_name": "张三",
        "contact_phone": "010-12345678",
    }
    values.update(overrides)
    return CheckoutRequest(**values)
