"""A small catalogue for comparison tests: two categories whose registries share ``memory_gb``,
with every kind of attribute (number higher/lower, enum by position, bool, not comparable)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

import pytest
from flask import current_app

from app.auth.models import Organization, OrgKind, Role, User
from app.catalog.models import AttributeType, Better, Category, Product
from app.compare import services
from app.compare.models import ComparisonRecord
from app.core.db import utcnow
from tests import factories

HIGHER, LOWER = Better.HIGHER, Better.LOWER


@dataclass
class Catalog:
    desktop: Category
    laptop: Category
    products: dict[str, Product]
    suppliers: dict[str, Organization]


@pytest.fixture
def catalog(db_session) -> Catalog:
    desktop = factories.category(code="A02010105", name="台式计算机")
    laptop = factories.category(code="A02010108", name="便携式计算机")
    for cat in (desktop, laptop):
        factories.attribute(
            cat, "memory_gb", label_zh="内存容量", label_en="Memory", unit="GB", better=HIGHER, position=10
        )
    a = factories.attribute  # registry rows: the product's category decides which apply
    a(desktop, "weight_kg", label_zh="重量", unit="kg", better=LOWER, position=20)
    a(
        desktop,
        "energy_class",
        AttributeType.ENUM,
        label_zh="能效等级",
        better=LOWER,
        enum_values=["1级", "2级", "3级"],
        position=30,
    )
    a(
        desktop,
        "port_speed",
        AttributeType.ENUM,
        label_zh="端口速率",
        better=HIGHER,
        enum_values=["百兆", "千兆", "万兆"],
        position=40,
    )
    a(desktop, "wifi", AttributeType.BOOL, label_zh="无线网络", better=HIGHER, position=50)
    a(
        desktop,
        "color",
        AttributeType.ENUM,
        label_zh="颜色",
        comparable=False,
        better=HIGHER,
        enum_values=["黑色", "银色"],
        position=60,
    )
    a(
        desktop,
        "os",
        AttributeType.ENUM,
        label_zh="操作系统",
        enum_values=["统信UOS", "银河麒麟"],
        position=70,
    )
    a(laptop, "battery_wh", label_zh="电池容量", unit="Wh", better=HIGHER, position=20)
    a(
        laptop,
        "energy_class",
        AttributeType.ENUM,
        label_zh="能效等级",
        better=LOWER,
        enum_values=["1级", "2级"],
        position=30,
    )

    sme = factories.org(OrgKind.SUPPLIER, name="甲科技有限公司", is_sme=True)
    big = factories.org(OrgKind.SUPPLIER, name="乙电子有限公司")
    p = factories.product
    products = {
        "d1": p(desktop, brand="联想", model="D1", name="联想 D1",
                specs={"memory_gb": 8, "weight_kg": 5.5, "energy_class": "3级", "port_speed": "千兆",
                       "wifi": False, "color": "黑色", "os": "统信UOS"}),
        "d2": p(desktop, brand="华为", model="D2", name="华为 D2", energy_saving=True,
                specs={"memory_gb": 16, "weight_kg": 4.2, "energy_class": "1级", "port_speed": "万兆",
                       "wifi": True, "color": "银色", "os": "统信UOS"}),
        "d3": p(desktop, brand="浪潮", model="D3", name="浪潮 D3",
                specs={"memory_gb": 16.0, "energy_class": "2级", "port_speed": "百兆", "wifi": True,
                       "color": "黑色", "os": "统信UOS"}),
        "l1": p(laptop, brand="联想", model="L1", name="联想 L1",
                specs={"memory_gb": 32, "battery_wh": 57, "energy_class": "1级"}),
        "d4": p(desktop, brand="清华同方", model="D4", name="清华同方 D4", specs={"memory_gb": 8}),
        "gone": p(desktop, brand="旧", model="X", name="已下架商品", is_active=False),
    }  # fmt: skip
    factories.offer(products["d1"], sme, price=Decimal("4999.00"), market_price=Decimal("5299.00"))
    factories.offer(products["d1"], big, price=Decimal("5100.00"), market_price=None)
    factories.offer(products["d2"], big, price=Decimal("5899.00"), market_price=Decimal("6099.00"), stock=0)
    factories.offer(products["d3"], sme, price=Decimal("4999.00"), market_price=Decimal("5199.00"))
    factories.offer(products["l1"], sme, price=Decimal("6999.00"))
    factories.offer(products["d4"], big, price=Decimal("3999.00"))
    return Catalog(desktop=desktop, laptop=laptop, products=products, suppliers={"sme": sme, "big": big})


_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def token(client) -> str:
    """The session's CSRF token, from a page that has a form for this visitor (the log-out form
    when signed in, the login form otherwise)."""
    for url in ("/", "/login"):
        match = _CSRF.search(client.get(url).get_data(as_text=True))
        if match:
            return match.group(1)
    raise AssertionError("no page with a CSRF token")


def add(client, product_id: int, next_url: str | None = None):
    data = {"product_id": product_id, "csrf_token": token(client)}
    if next_url:
        data["next"] = next_url
    return client.post("/compare/add", data=data)


def session_ids(client) -> list[int]:
    with client.session_transaction() as session:
        return list(session.get("compare", []))


def flashes(client) -> list[tuple[str, str]]:
    with client.session_transaction() as session:
        return list(session.get("_flashes", []))


def make_record(user: User, products: list[Product], **kw) -> ComparisonRecord:
    """Save a record as the service does for a request (messages need a request's language)."""
    with current_app.test_request_context():
        return services.save_record(user, [p.id for p in products], now=kw.pop("now", utcnow()), **kw)


NUMBER = re.compile(r"^BJ-\d{8}-\d{4}$")


@pytest.fixture
def purchaser(db_session) -> User:
    return factories.user(factories.org(OrgKind.PURCHASING_UNIT, name="市教育局"), Role.PURCHASER)
