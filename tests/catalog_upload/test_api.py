"""The supplier API's writes: batch upsert (same validation and messages as uploads, all or
nothing), price/stock PATCH, Idempotency-Key replay and conflicts, limits and scoping."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select, update

from app.auth.models import ApiScope, OrgKind
from app.catalog.models import Offer, OfferStatus, PriceChange, Product
from app.catalog_upload.models import IdempotencyKey
from app.core.db import utcnow
from app.extensions import db
from app.review.models import OfferSubmission
from tests import factories
from tests.api.helpers import assert_json_error, bearer, issue
from tests.catalog_upload.helpers import GOOD, existing_product, listed_offer, registry_category, supplier

BATCH = "/api/v1/offers/batch"


@pytest.fixture
def api(db_session):
    category = registry_category()
    organization, user = supplier()
    token = issue(organization, created_by=user)
    return category, organization, token


def record(**changes):
    values = dict(GOOD)
    values.update(changes)
    return values


def post(client, token, body, key: str | None = None, **headers):
    if key is not None:
        headers["Idempotency-Key"] = key
    return client.post(BATCH, json=body, headers={**bearer(token), **headers})


def offers_of(organization) -> list[Offer]:
    return list(
        db.session.scalars(select(Offer).where(Offer.supplier_id == organization.id).order_by(Offer.id))
    )


def test_a_batch_creates_offers_for_review(client, api):
    category, organization, token = api
    body = {
        "category": category.code,
        "records": [record(), record(supplier_sku="SKU-2", regions=["江苏省", "浙江"])],
    }
    response = post(client, token, body)
    assert response.status_code == 200, response.get_json()
    data = response.get_json()["data"]
    assert data["counts"] == {
        "new_products": 1,
        "matched_products": 0,
        "offers_created": 2,
        "offers_updated": 0,
        "offers_unchanged": 0,
        "sent_to_review": 2,
        "live_price_changes": 0,
    }
    offers = offers_of(organization)
    assert data["results"] == [
        {
            "index": i + 1,
            "supplier_sku": o.supplier_sku,
            "offer_id": o.id,
            "product_id": o.product_id,
            "result": "created",
            "status": "pending_review",
        }
        for i, o in enumerate(offers)
    ]
    assert offers[1].regions == ["320000", "330000"]
    history = db.session.scalars(select(PriceChange.source).where(PriceChange.offer_id == offers[0].id)).all()
    assert history == ["api"]
    assert (
        db.session.scalar(select(OfferSubmission.source).where(OfferSubmission.offer_id == offers[0].id))
        == "api"
    )


def test_sending_the_same_batch_again_changes_nothing(client, api):
    category, organization, token = api
    body = {"category": category.code, "records": [record()]}
    assert post(client, token, body).status_code == 200
    before = (
        db.session.scalar(select(func.count()).select_from(PriceChange)),
        offers_of(organization)[0].updated_at,
    )
    again = post(client, token, body).get_json()["data"]
    assert again["counts"]["offers_unchanged"] == 1 and again["results"][0]["result"] == "unchanged"
    db.session.expire_all()
    assert (
        db.session.scalar(select(func.count()).select_from(PriceChange)),
        offers_of(organization)[0].updated_at,
    ) == before


def test_record_errors_use_the_upload_messages_and_nothing_is_written(client, api):
    category, organization, token = api
    body = {
        "category": category.code,
        "records": [record(), record(supplier_sku="SKU-2", memory_gb="十六", price="6000", color="红")],
    }
    response = post(client, token, body)
    error = assert_json_error(response, 422)
    assert error["message"] == "共 1 条记录有错误，未写入任何数据；请按 errors.records 改正后重新提交。"
    messages = {(e["index"], e["field"]): e["message"] for e in error["errors"]["records"]}
    assert messages[(2, "memory_gb")] == "第 2 条「内存容量」：应为数字（单位：GB），例如 16，收到「十六」"
    assert messages[(2, "price")].startswith("第 2 条「单价」：价格高于市场参考价")
    assert messages[(2, None)] == "第 2 条：未知字段 color；字段名应为模板中的列代码"
    assert offers_of(organization) == [] and db.session.scalar(select(func.count()).select_from(Product)) == 0


def test_example_skus_are_refused_rather_than_dropped(client, api):
    category, _organization, token = api
    response = post(
        client, token, {"category": category.code, "records": [record(), record(supplier_sku="示例-1")]}
    )
    error = assert_json_error(response, 422)
    assert [(e["index"], e["field"]) for e in error["errors"]["records"]] == [(2, "supplier_sku")]


def test_limits_and_bad_bodies(app, client, api):
    category, _organization, token = api
    too_many = {"category": category.code, "records": [record(supplier_sku=f"S{i}") for i in range(1001)]}
    error = assert_json_error(post(client, token, too_many), 422)
    assert error["errors"]["json"]["records"] == ["每批 1–1000 条记录，请分批提交"]
    assert_json_error(post(client, token, {"category": category.code, "records": []}), 422)
    error = assert_json_error(post(client, token, {"category": "A02010108", "records": [record()]}), 422)
    assert "属性登记表" in error["errors"]["json"]["category"][0]
    assert_json_error(post(client, token, {"category": category.code, "records": [record()], "x": 1}), 422)
    response = client.post(BATCH, data="category=x", headers={**bearer(token), "Content-Type": "text/plain"})
    assert_json_error(response, 415)
    response = client.post(
        BATCH, data="{not json", headers={**bearer(token), "Content-Type": "application/json"}
    )
    assert response.status_code in (400, 422) and response.mimetype == "application/json"
    app.config["API_BATCH_MAX_BYTES"] = 2000
    try:
        error = assert_json_error(
            post(client, token, {"category": category.code, "records": [record()] * 10}), 413
        )
    finally:
        app.config["API_BATCH_MAX_BYTES"] = 8 * 1024 * 1024
    assert "分批提交" in error["message"]


def test_only_supplier_tokens_with_offers_write(client, api):
    category, organization, _token = api
    body = {"category": category.code, "records": [record()]}
    read_only = issue(organization, scopes=[ApiScope.CATALOG_READ.value])
    assert_json_error(post(client, read_only, body), 403)
    unit = issue(factories.org(OrgKind.PURCHASING_UNIT))
    assert_json_error(post(client, unit, body), 403)
    assert_json_error(client.post(BATCH, json=body), 401)
    assert offers_of(organization) == []


# --------------------------------------------------------------------------------------------
# Idempotency-Key


def test_the_same_key_and_body_replays_the_first_answer(client, api):
    category, organization, token = api
    body = {"category": category.code, "records": [record()]}
    first = post(client, token, body, key="order-2026-0001")
    second = post(client, token, body, key="order-2026-0001")
    assert first.status_code == second.status_code == 200
    assert second.headers["Idempotent-Replayed"] == "true" and "Idempotent-Replayed" not in first.headers
    assert second.get_json() == first.get_json()  # "created", not "unchanged": the stored answer
    assert len(offers_of(organization)) == 1
    # The same body under another key is a new request (and changes nothing now).
    third = post(client, token, body, key="order-2026-0002")
    assert third.get_json()["data"]["results"][0]["result"] == "unchanged"


def test_the_same_key_with_another_body_is_refused(client, api):
    category, organization, token = api
    assert (
        post(client, token, {"category": category.code, "records": [record()]}, key="k-1").status_code == 200
    )
    changed = {"category": category.code, "records": [record(price="4000.00")]}
    error = assert_json_error(post(client, token, changed, key="k-1"), 422)
    assert "已用于另一个请求" in error["message"] and "新的键" in error["message"]
    assert offers_of(organization)[0].price == Decimal("4999.00")


def test_keys_belong_to_one_organization_and_expire(client, api):
    category, _organization, token = api
    body = {"category": category.code, "records": [record()]}
    assert post(client, token, body, key="shared").status_code == 200
    other, _user = supplier("其他供应商")
    other_token = issue(other)
    response = post(client, other_token, body, key="shared")
    assert response.status_code == 200 and "Idempotent-Replayed" not in response.headers
    db.session.execute(update(IdempotencyKey).values(expires_at=utcnow() - timedelta(seconds=1)))
    db.session.commit()
    response = post(client, token, body, key="shared")
    assert "Idempotent-Replayed" not in response.headers
    assert response.get_json()["data"]["results"][0]["result"] == "unchanged"


def test_a_refused_request_keeps_no_key(client, api):
    category, organization, token = api
    bad = {"category": category.code, "records": [record(memory_gb="十六")]}
    assert_json_error(post(client, token, bad, key="retry-me"), 422)
    good = {"category": category.code, "records": [record()]}
    assert post(client, token, good, key="retry-me").status_code == 200
    assert len(offers_of(organization)) == 1


def test_a_malformed_key_is_a_400(client, api):
    category, _organization, token = api
    body = {"category": category.code, "records": [record()]}
    assert_json_error(post(client, token, body, key="x" * 256), 400)
    assert_json_error(post(client, token, body, key="含中文"), 400)


def test_the_openapi_document_describes_the_writes(client):
    doc = client.get("/api/v1/openapi.json").get_json()
    batch = doc["paths"]["/api/v1/offers/batch"]["post"]
    patch = doc["paths"]["/api/v1/offers/{offer_id}"]["patch"]
    for operation in (batch, patch):
        assert operation["x-required-scopes"] == ["offers:write"]
        assert [p["name"] for p in operation["parameters"] if p["in"] == "header"] == ["Idempotency-Key"]
        assert {"401", "403", "409", "415", "422"} <= set(operation["responses"])
    assert "413" in batch["responses"] and "404" in patch["responses"]


# --------------------------------------------------------------------------------------------
# PATCH price / stock


@pytest.fixture
def listed(api):
    category, organization, token = api
    offer = listed_offer(existing_product(category), organization, "SKU-1")
    db.session.commit()
    return offer, token


def patch(client, token, offer_id, body, key=None):
    headers = bearer(token) | ({"Idempotency-Key": key} if key else {})
    return client.patch(f"/api/v1/offers/{offer_id}", json=body, headers=headers)


def test_a_price_change_goes_live_with_its_history(client, listed):
    offer, token = listed
    response = patch(client, token, offer.id, {"price": "4799.00", "stock": 5})
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["changes"] == {"price": ["4999.00", "4799.00"], "stock": [100, 5]}
    assert body["data"]["price"] == "4799.00" and body["data"]["status"] == "listed"
    db.session.expire_all()
    offer = db.session.get(Offer, offer.id)
    assert (offer.price, offer.stock, offer.status) == (Decimal("4799.00"), 5, OfferStatus.LISTED)
    history = db.session.scalars(select(PriceChange).where(PriceChange.offer_id == offer.id)).all()
    assert [(h.price, h.source) for h in history] == [(Decimal("4799.00"), "api")]
    assert db.session.get(Product, offer.product_id).search_dirty is False  # reindexed after commit
    unchanged = patch(client, token, offer.id, {"price": "4799.00"}).get_json()
    assert unchanged["changes"] == {}


def test_a_price_above_the_market_reference_is_refused(client, listed):
    offer, token = listed
    error = assert_json_error(patch(client, token, offer.id, {"price": "5300.00"}), 422)
    assert error["errors"]["json"]["price"][0].startswith("价格高于市场参考价")
    db.session.expire_all()
    assert db.session.get(Offer, offer.id).price == Decimal("4999.00")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"price": 4799.5}, "price"),
        ({"price": "47.999"}, "price"),
        ({"price": "0"}, "price"),
        ({"stock": -1}, "stock"),
        ({"stock": "5"}, "stock"),
        ({"status": "listed"}, "status"),
        ({}, "_schema"),
    ],
)
def test_bad_patches_are_422(client, listed, body, field):
    offer, token = listed
    error = assert_json_error(patch(client, token, offer.id, body), 422)
    assert field in error["errors"]["json"], error


def test_another_suppliers_offer_is_a_404(client, listed):
    offer, _token = listed
    other, _user = supplier("其他供应商")
    error = assert_json_error(patch(client, issue(other), offer.id, {"stock": 1}), 404)
    assert error["message"] == "报价不存在。"
    assert_json_error(patch(client, issue(other), 999_999, {"stock": 1}), 404)
    assert_json_error(patch(client, issue(factories.org(OrgKind.OPERATOR)), offer.id, {"stock": 1}), 403)
    db.session.expire_all()
    assert db.session.get(Offer, offer.id).stock == 100


def test_a_patch_replays_under_its_key(client, listed):
    offer, token = listed
    first = patch(client, token, offer.id, {"stock": 7}, key="p-1")
    second = patch(client, token, offer.id, {"stock": 7}, key="p-1")
    assert second.headers["Idempotent-Replayed"] == "true" and second.get_json() == first.get_json()
    assert_json_error(patch(client, token, offer.id, {"stock": 8}, key="p-1"), 422)
