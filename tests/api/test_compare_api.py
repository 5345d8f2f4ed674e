"""/api/v1/comparisons: a purchasing unit's token sees its own records, finance, operator and
regulator tokens see every unit's, suppliers are refused; money is a two-place string."""

from __future__ import annotations

from decimal import Decimal

import pytest
from flask import current_app

from app.auth.models import OrgKind, Role
from app.catalog.models import Better
from app.compare import services
from app.core.db import utcnow
from tests import factories
from tests.api.helpers import assert_json_error, bearer, issue


@pytest.fixture
def records(db_session):
    category = factories.category(code="A02010105", name="台式计算机")
    factories.attribute(category, "memory_gb", label_zh="内存容量", unit="GB", better=Better.HIGHER)
    supplier = factories.org(OrgKind.SUPPLIER, name="甲科技有限公司", is_sme=True)
    products = [
        factories.product(category, brand="联想", model=f"M{i}", specs={"memory_gb": 8 * (i + 1)})
        for i in range(3)
    ]
    offers = [
        factories.offer(products[0], supplier, price=Decimal("4999.50"), market_price=Decimal("5299.00")),
        factories.offer(products[1], supplier, price=Decimal("5100.00"), market_price=None),
        factories.offer(products[2], supplier, price=Decimal("3999.00")),
    ]
    mine = factories.org(OrgKind.PURCHASING_UNIT, name="甲单位")
    theirs = factories.org(OrgKind.PURCHASING_UNIT, name="乙单位")
    buyer = factories.user(mine, Role.PURCHASER, display_name="张经办")
    with current_app.test_request_context():
        own = services.save_record(buyer, [products[0].id, products[1].id], title="甲的比价", now=utcnow())
        foreign = services.save_record(
            factories.user(theirs, Role.PURCHASER),
            [products[1].id, products[2].id],
            title="乙的比价",
            now=utcnow(),
        )
    return {"mine": mine, "theirs": theirs, "buyer": buyer, "own": own, "foreign": foreign, "offers": offers}


def _get(client, url, token):
    response = client.get(url, headers=bearer(token))
    assert response.status_code == 200, response.get_data(as_text=True)[:800]
    return response.get_json()


def test_a_unit_lists_and_reads_its_own_records(client, records):
    own = records["own"]
    token = issue(records["mine"])
    body = _get(client, "/api/v1/comparisons", token)
    assert body["pagination"] == {"page": 1, "per_page": 20, "total": 1, "pages": 1}
    assert body["data"] == [
        {
            "id": own.id,
            "number": own.number,
            "title": "甲的比价",
            "note": "",
            "organization": {"id": records["mine"].id, "code": records["mine"].code, "name": "甲单位"},
            "created_by": {"id": records["buyer"].id, "display_name": "张经办"},
            "created_at": own.created_at.isoformat(),
            "product_ids": own.product_ids,
            "product_count": 2,
            "lowest_price": "4999.50",
            "lowest_offer_id": records["offers"][0].id,
        }
    ]
    detail = _get(client, f"/api/v1/comparisons/{own.id}", token)["data"]
    assert {k: v for k, v in detail.items() if k != "snapshot"} == body["data"][0]
    snapshot = detail["snapshot"]
    assert snapshot["version"] == 1
    assert [a["code"] for a in snapshot["attributes"]] == ["memory_gb"]
    first, second = snapshot["products"]
    assert first["lowest_price"] == "4999.50"
    assert first["offers"][0]["price"] == "4999.50"
    assert first["offers"][0]["market_price"] == "5299.00"
    assert first["offers"][0]["supplier_sme"] is True
    assert second["offers"][0]["market_price"] is None
    assert first["specs"] == {"memory_gb": 8}


def test_another_units_record_is_not_found(client, records):
    body = assert_json_error(
        client.get(f"/api/v1/comparisons/{records['foreign'].id}", headers=bearer(issue(records["mine"]))),
        404,
    )
    assert body["message"] == "比价记录不存在。"
    listing = client.get("/api/v1/comparisons", headers=bearer(issue(records["mine"]))).get_data(as_text=True)
    assert records["foreign"].number not in listing


@pytest.mark.parametrize("kind", [OrgKind.FINANCE, OrgKind.OPERATOR, OrgKind.REGULATOR])
def test_oversight_and_finance_see_every_unit(client, records, kind):
    token = issue(factories.org(kind))
    numbers = {r["number"] for r in _get(client, "/api/v1/comparisons", token)["data"]}
    assert numbers == {records["own"].number, records["foreign"].number}
    assert _get(client, f"/api/v1/comparisons/{records['foreign'].id}", token)["data"]["title"] == "乙的比价"


def test_suppliers_are_refused(client, records):
    token = issue(factories.org(OrgKind.SUPPLIER))
    for url in ("/api/v1/comparisons", f"/api/v1/comparisons/{records['own'].id}"):
        body = assert_json_error(client.get(url, headers=bearer(token)), 403)
        assert body["message"] == "供应商不能查看比价记录。"


def test_the_orders_read_scope_is_needed(client, records):
    token = issue(records["mine"], scopes=["catalog:read", "plans:read"])
    response = client.get("/api/v1/comparisons", headers=bearer(token))
    assert_json_error(response, 403)
    assert 'scope="orders:read"' in response.headers["WWW-Authenticate"]
    assert_json_error(client.get("/api/v1/comparisons"), 401)


def test_paging_newest_first_and_bad_arguments(client, records):
    token = issue(factories.org(OrgKind.REGULATOR))
    body = _get(client, "/api/v1/comparisons?per_page=1", token)
    assert body["pagination"] == {"page": 1, "per_page": 1, "total": 2, "pages": 2}
    assert body["data"][0]["number"] == records["foreign"].number
    assert (
        _get(client, "/api/v1/comparisons?per_page=1&page=2", token)["data"][0]["number"]
        == records["own"].number
    )
    body = assert_json_error(client.get("/api/v1/comparisons?per_page=0", headers=bearer(token)), 422)
    assert body["errors"] == {"query": {"per_page": ["每页数量应在 1–100 之间"]}}


def test_documented_with_money_as_decimal_strings(client):
    doc = client.get("/api/v1/openapi.json").get_json()
    assert set(doc["paths"]) >= {"/api/v1/comparisons", "/api/v1/comparisons/{record_id}"}
    operation = doc["paths"]["/api/v1/comparisons/{record_id}"]["get"]
    assert operation["x-required-scopes"] == ["orders:read"]
    assert {"401", "403", "404"} <= set(operation["responses"])
    schemas = doc["components"]["schemas"]
    for schema, field in [
        ("Comparison", "lowest_price"),
        ("SnapshotOffer", "price"),
        ("SnapshotProduct", "lowest_price"),
    ]:
        assert (
            schemas[schema]["properties"][field]["type"],
            schemas[schema]["properties"][field]["format"],
        ) == (
            "string",
            "decimal",
        )
