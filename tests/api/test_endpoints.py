"""The /api/v1 resources: exact shapes, money as two-place strings, organization scoping, and
pagination bounds."""

from __future__ import annotations

from decimal import Decimal

import pytest

from app.auth.models import OrgKind
from app.catalog.models import AttributeType, Better, OfferStatus, Origin
from app.extensions import db
from tests import factories
from tests.api.helpers import assert_json_error, bearer, issue


def _get(client, url, token):
    response = client.get(url, headers=bearer(token))
    assert response.status_code == 200, response.get_data(as_text=True)[:800]
    return response.get_json()


# --------------------------------------------------------------------------------------------
# Categories


def _category(code: str, name: str, level: int, **kw):
    record = factories.category(code=code, name=name, **kw)
    record.level = level
    db.session.flush()
    return record


@pytest.fixture
def tree(db_session):
    root = _category("A02000000", "设备", 1, is_leaf=False)
    branch = _category("A02010100", "计算机", 3, is_leaf=False, parent=root)
    desktop = _category("A02010105", "台式计算机", 4, parent=branch)
    laptop = _category("A02010108", "便携式计算机", 4, parent=branch)
    old = _category("A02010104", "台式计算机", 4, catalog_version="2013")
    return {"root": root, "branch": branch, "desktop": desktop, "laptop": laptop, "old": old}


def test_category_list_filters_and_shape(client, tree):
    token = issue(factories.org())
    body = _get(client, "/api/v1/categories?leaf=true", token)
    assert body["data"] == [
        {
            "catalog_version": "2022",
            "code": "A02010105",
            "name": "台式计算机",
            "level": 4,
            "parent_code": "A02010100",
            "is_leaf": True,
        },
        {
            "catalog_version": "2022",
            "code": "A02010108",
            "name": "便携式计算机",
            "level": 4,
            "parent_code": "A02010100",
            "is_leaf": True,
        },
    ]
    assert body["pagination"] == {"page": 1, "per_page": 20, "total": 2, "pages": 1}

    codes = [c["code"] for c in _get(client, "/api/v1/categories?leaf=false", token)["data"]]
    assert codes == ["A02000000", "A02010100"]
    assert _get(client, "/api/v1/categories", token)["data"][0]["parent_code"] is None
    assert [c["code"] for c in _get(client, "/api/v1/categories?q=便携", token)["data"]] == ["A02010108"]
    assert [c["code"] for c in _get(client, "/api/v1/categories?q=A020101", token)["data"]] == [
        "A02010100",
        "A02010105",
        "A02010108",
    ]
    assert [c["code"] for c in _get(client, "/api/v1/categories?parent=A02010100", token)["data"]] == [
        "A02010105",
        "A02010108",
    ]
    old = _get(client, "/api/v1/categories?catalog_version=2013", token)["data"]
    assert [(c["catalog_version"], c["code"]) for c in old] == [("2013", "A02010104")]


def test_category_detail_with_attribute_registry(client, tree):
    desktop = tree["desktop"]
    factories.attribute(
        desktop,
        "memory_gb",
        label_zh="内存容量",
        label_en="Memory",
        unit="GB",
        required=True,
        facetable=True,
        better=Better.HIGHER,
        min_value=Decimal("1"),
        max_value=Decimal("512"),
        position=1,
    )
    factories.attribute(
        desktop,
        "energy_class",
        AttributeType.ENUM,
        label_zh="能效等级",
        label_en="Energy class",
        enum_values=["1级", "2级", "3级"],
        comparable=False,
        position=2,
    )
    factories.attribute(
        desktop,
        "screen_inch",
        label_zh="屏幕尺寸",
        label_en="Screen",
        unit="英寸",
        min_value=Decimal("10.5"),
        max_value=Decimal("34.0"),
        position=3,
    )
    token = issue(factories.org(OrgKind.SUPPLIER), scopes=["catalog:read"])
    data = _get(client, "/api/v1/categories/A02010105", token)["data"]
    assert {k: v for k, v in data.items() if k != "attributes"} == {
        "catalog_version": "2022",
        "code": "A02010105",
        "name": "台式计算机",
        "level": 4,
        "parent_code": "A02010100",
        "is_leaf": True,
    }
    assert data["attributes"] == [
        {
            "code": "memory_gb",
            "label_zh": "内存容量",
            "label_en": "Memory",
            "type": "number",
            "unit": "GB",
            "required": True,
            "facetable": True,
            "comparable": True,
            "better": "higher",
            "enum_values": None,
            "min_value": "1",
            "max_value": "512",
        },
        {
            "code": "energy_class",
            "label_zh": "能效等级",
            "label_en": "Energy class",
            "type": "enum",
            "unit": None,
            "required": False,
            "facetable": False,
            "comparable": False,
            "better": None,
            "enum_values": ["1级", "2级", "3级"],
            "min_value": None,
            "max_value": None,
        },
        {
            "code": "screen_inch",
            "label_zh": "屏幕尺寸",
            "label_en": "Screen",
            "type": "number",
            "unit": "英寸",
            "required": False,
            "facetable": False,
            "comparable": True,
            "better": None,
            "enum_values": None,
            "min_value": "10.5",
            "max_value": "34",
        },
    ]
    # A code means nothing without its version: 2013's A02010104 is not 2022's.
    old = _get(client, "/api/v1/categories/A02010104?catalog_version=2013", token)["data"]
    assert old["name"] == "台式计算机"
    body = assert_json_error(client.get("/api/v1/categories/A02010104", headers=bearer(token)), 404)
    assert body["message"] == "品目 A02010104（2022 版）不存在。"


# --------------------------------------------------------------------------------------------
# Products


def test_product_list_shows_lowest_listed_price_as_string_and_supplier_count(client, tree):
    a, b, c = (factories.org(OrgKind.SUPPLIER) for _ in range(3))
    desktop = factories.product(
        tree["desktop"],
        brand="联想",
        model="启天M450",
        specs={"memory_gb": 16},
        energy_saving=True,
        origin=Origin.DOMESTIC,
    )
    factories.offer(desktop, a, price=Decimal("4999.5"))
    factories.offer(desktop, a, price=Decimal("5100.00"))  # same supplier twice counts once
    factories.offer(desktop, b, price=Decimal("5200.00"))
    factories.offer(desktop, c, price=Decimal("100.00"), status=OfferStatus.DRAFT)  # not listed: ignored
    laptop = factories.product(tree["laptop"], brand="华为", model="MateBook")
    unlisted = factories.product(tree["desktop"], brand="戴尔", model="OptiPlex")
    factories.offer(unlisted, c, status=OfferStatus.DELISTED)
    factories.product(tree["desktop"], brand="停用", model="X", is_active=False)
    factories.offer(laptop, b, price=Decimal("6999"))

    token = issue(factories.org())
    body = _get(client, "/api/v1/products", token)
    assert [p["id"] for p in body["data"]] == [desktop.id, laptop.id, unlisted.id]
    first = body["data"][0]
    assert first == {
        "id": desktop.id,
        "category": {"catalog_version": "2022", "code": "A02010105", "name": "台式计算机"},
        "brand": "联想",
        "model": "启天M450",
        "manufacturer": "联想(北京)有限公司",
        "name": "联想 启天M450",
        "specs": {"memory_gb": 16},
        "energy_saving": True,
        "environmental": False,
        "origin": "domestic",
        "lowest_price": "4999.50",
        "supplier_count": 2,
    }
    assert body["data"][1]["lowest_price"] == "6999.00"
    assert body["data"][2]["lowest_price"] is None
    assert body["data"][2]["supplier_count"] == 0

    by_leaf = _get(client, "/api/v1/products?category=A02010105", token)["data"]
    assert [p["id"] for p in by_leaf] == [desktop.id, unlisted.id]
    for branch in ("A02010100", "A02000000"):
        by_branch = _get(client, f"/api/v1/products?category={branch}", token)["data"]
        assert [p["id"] for p in by_branch] == [desktop.id, laptop.id, unlisted.id]
    assert _get(client, "/api/v1/products?category=A02010104&catalog_version=2013", token)["data"] == []
    assert [p["id"] for p in _get(client, "/api/v1/products?q=matebook", token)["data"]] == [laptop.id]
    assert [p["id"] for p in _get(client, "/api/v1/products?brand=戴尔", token)["data"]] == [unlisted.id]


def test_unknown_category_filter_is_422_with_field_message(client, tree):
    token = issue(factories.org())
    body = assert_json_error(client.get("/api/v1/products?category=A09999999", headers=bearer(token)), 422)
    assert body["errors"] == {"query": {"category": ["品目 A09999999（2022 版）不存在"]}}
    body = assert_json_error(client.get("/api/v1/products?category=电脑", headers=bearer(token)), 422)
    assert body["errors"] == {"query": {"category": ["品目编码格式不正确"]}}
    body = assert_json_error(client.get("/api/v1/categories?parent=A09999999", headers=bearer(token)), 422)
    assert body["errors"] == {"query": {"parent": ["品目 A09999999（2022 版）不存在"]}}


def test_product_detail_lists_only_listed_offers_with_string_money(client, tree):
    sme = factories.org(OrgKind.SUPPLIER, name="京东方中小供应商", is_sme=True)
    big = factories.org(OrgKind.SUPPLIER, name="大型供应商")
    product = factories.product(tree["desktop"])
    cheap = factories.offer(
        product,
        sme,
        price=Decimal("4999"),
        market_price=Decimal("5299.9"),
        stock=7,
        regions=["110000", "120000"],
        warranty_months=36,
        lead_time_days=2,
    )
    dear = factories.offer(product, big, price=Decimal("5100.00"), market_price=None)
    factories.offer(product, big, status=OfferStatus.PENDING_REVIEW)
    token = issue(factories.org())
    data = _get(client, f"/api/v1/products/{product.id}", token)["data"]
    assert data["lowest_price"] == "4999.00"
    assert data["supplier_count"] == 2
    assert [o["id"] for o in data["offers"]] == [cheap.id, dear.id]
    offer = data["offers"][0]
    assert {k: v for k, v in offer.items() if k != "listed_at"} == {
        "id": cheap.id,
        "supplier": {"id": sme.id, "name": "京东方中小供应商", "is_sme": True},
        "supplier_sku": cheap.supplier_sku,
        "price": "4999.00",
        "market_price": "5299.90",
        "stock": 7,
        "regions": ["110000", "120000"],
        "warranty_months": 36,
        "lead_time_days": 2,
    }
    assert data["offers"][1]["market_price"] is None

    inactive = factories.product(tree["desktop"], is_active=False)
    assert_json_error(client.get(f"/api/v1/products/{inactive.id}", headers=bearer(token)), 404)


# --------------------------------------------------------------------------------------------
# A supplier's own offers


def test_supplier_sees_only_its_own_offers_in_any_status(client, tree):
    mine, theirs = factories.org(OrgKind.SUPPLIER), factories.org(OrgKind.SUPPLIER)
    product = factories.product(tree["desktop"])
    draft = factories.offer(product, mine, supplier_sku="A-1", status=OfferStatus.DRAFT, price=Decimal("10"))
    listed = factories.offer(product, mine, supplier_sku="A-2", price=Decimal("4999.00"))
    other = factories.offer(product, theirs, supplier_sku="B-1")
    token = issue(mine, scopes=["catalog:read"])

    body = _get(client, "/api/v1/offers", token)
    assert [o["id"] for o in body["data"]] == [draft.id, listed.id]
    assert body["data"][0]["status"] == "draft"
    assert body["data"][0]["price"] == "10.00"
    assert body["data"][0]["product"] == {
        "id": product.id,
        "name": product.name,
        "brand": product.brand,
        "model": product.model,
        "category": {"catalog_version": "2022", "code": "A02010105", "name": "台式计算机"},
    }
    assert "B-1" not in str(body)
    assert [o["id"] for o in _get(client, "/api/v1/offers?status=listed", token)["data"]] == [listed.id]

    detail = _get(client, f"/api/v1/offers/{listed.id}", token)["data"]
    assert detail["supplier_sku"] == "A-2"
    assert detail["price"] == "4999.00"
    assert detail["price_history"] == []
    body = assert_json_error(client.get(f"/api/v1/offers/{other.id}", headers=bearer(token)), 404)
    assert "B-1" not in str(body)


@pytest.mark.parametrize(
    "kind", [OrgKind.PURCHASING_UNIT, OrgKind.FINANCE, OrgKind.OPERATOR, OrgKind.REGULATOR]
)
def test_offers_are_only_for_suppliers(client, tree, kind):
    offer = factories.offer(factories.product(tree["desktop"]))
    token = issue(factories.org(kind), scopes=["catalog:read"])
    body = assert_json_error(client.get("/api/v1/offers", headers=bearer(token)), 403)
    assert body["message"] == "只有供应商可以查看本单位的报价。"
    assert_json_error(client.get(f"/api/v1/offers/{offer.id}", headers=bearer(token)), 403)


# --------------------------------------------------------------------------------------------
# Procurement plans


def test_purchasing_unit_sees_only_its_own_plans(client, tree):
    mine, theirs = factories.org(), factories.org()
    own = factories.plan(
        mine,
        plan_no="PLAN-MINE",
        amount=Decimal("100000"),
        reserved=Decimal("1234.5"),
        consumed=Decimal("20000.00"),
        released=Decimal("99.99"),
    )
    own.categories.append(tree["desktop"])
    other = factories.plan(theirs, plan_no="PLAN-THEIRS-SECRET")
    token = issue(mine, scopes=["plans:read"])

    body = _get(client, "/api/v1/plans", token)
    assert [p["plan_no"] for p in body["data"]] == ["PLAN-MINE"]
    assert "PLAN-THEIRS-SECRET" not in str(body)
    assert body["pagination"]["total"] == 1
    data = _get(client, f"/api/v1/plans/{own.id}", token)["data"]
    assert {k: v for k, v in data.items() if k != "approved_at"} == {
        "id": own.id,
        "plan_no": "PLAN-MINE",
        "name": own.name,
        "fiscal_year": 2026,
        "unit": {"id": mine.id, "code": mine.code, "name": mine.name},
        "budget_line_code": "2010301",
        "fund_source": "一般公共预算",
        "amount": "100000.00",
        "reserved": "1234.50",
        "consumed": "20000.00",
        "released": "99.99",
        "available": "78765.50",
        "status": "approved",
        "categories": [{"catalog_version": "2022", "code": "A02010105", "name": "台式计算机"}],
    }
    body = assert_json_error(client.get(f"/api/v1/plans/{other.id}", headers=bearer(token)), 404)
    assert "PLAN-THEIRS-SECRET" not in str(body)


@pytest.mark.parametrize("kind", [OrgKind.FINANCE, OrgKind.OPERATOR, OrgKind.REGULATOR])
def test_oversight_and_finance_see_every_units_plans(client, kind):
    first = factories.plan(plan_no="PLAN-A", fiscal_year=2025)
    second = factories.plan(plan_no="PLAN-B", fiscal_year=2026)
    token = issue(factories.org(kind), scopes=["plans:read"])
    body = _get(client, "/api/v1/plans", token)
    assert [p["plan_no"] for p in body["data"]] == ["PLAN-B", "PLAN-A"]
    assert [p["plan_no"] for p in _get(client, "/api/v1/plans?fiscal_year=2025", token)["data"]] == ["PLAN-A"]
    assert _get(client, f"/api/v1/plans/{first.id}", token)["data"]["plan_no"] == "PLAN-A"
    assert _get(client, f"/api/v1/plans/{second.id}", token)["data"]["unit"]["id"] == second.unit_id


def test_suppliers_never_read_plans(client):
    plan = factories.plan()
    token = issue(factories.org(OrgKind.SUPPLIER))  # every scope a supplier may hold
    for url in ("/api/v1/plans", f"/api/v1/plans/{plan.id}"):
        assert_json_error(client.get(url, headers=bearer(token)), 403)


# --------------------------------------------------------------------------------------------
# Pagination and query arguments


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ("per_page=1000", "per_page", "每页数量应在 1–100 之间"),
        ("per_page=0", "per_page", "每页数量应在 1–100 之间"),
        ("page=0", "page", "页码应在 1–10000 之间"),
        ("page=abc", "page", "应为整数"),
        ("fiscal_year=1900", "fiscal_year", "年度超出范围"),
        ("status=open", "status", "状态取值无效"),
    ],
)
def test_out_of_range_arguments_are_422_json_in_chinese(client, query, field, message):
    token = issue(factories.org(OrgKind.REGULATOR))
    body = assert_json_error(client.get(f"/api/v1/plans?{query}", headers=bearer(token)), 422)
    assert body["errors"] == {"query": {field: [message]}}
    assert body["status"] == "内容有误"


@pytest.mark.parametrize(
    "url",
    ["/api/v1/categories?per_page=1000", "/api/v1/products?per_page=1000", "/api/v1/offers?per_page=101"],
)
def test_every_list_caps_per_page(client, url):
    token = issue(factories.org(OrgKind.SUPPLIER), scopes=["catalog:read"])
    body = assert_json_error(client.get(url, headers=bearer(token)), 422)
    assert body["errors"]["query"]["per_page"] == ["每页数量应在 1–100 之间"]


def test_pages_and_unknown_arguments_are_ignored(client):
    unit = factories.org()
    for n in range(3):
        factories.plan(unit, plan_no=f"PLAN-P{n}")
    token = issue(unit)
    body = _get(client, "/api/v1/plans?per_page=2&page=2&utm_source=mail&_=123", token)
    assert [p["plan_no"] for p in body["data"]] == ["PLAN-P2"]
    assert body["pagination"] == {"page": 2, "per_page": 2, "total": 3, "pages": 2}
    beyond = _get(client, "/api/v1/plans?per_page=2&page=9", token)
    assert beyond["data"] == []
    assert beyond["pagination"]["total"] == 3
