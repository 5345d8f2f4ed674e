"""The operator's review queue: filters, approve and reject (one by one and in bulk, with a
confirmation step), the reason a rejection needs, who may decide, what the supplier then sees,
and that an approved listing reaches search."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from app.auth.models import OrgKind, Role
from app.catalog import indexing
from app.catalog.models import Offer, OfferStatus, Product
from app.core.audit import AuditEvent
from app.core.db import utcnow
from app.extensions import db
from app.review import services
from app.review.models import Decision, OfferSubmission, ProductProposal, ReviewDecision
from search import SearchQuery
from tests import factories
from tests.catalog_upload.helpers import existing_product, registry_category, row, rows_file, supplier, upload
from tests.conftest import csrf_from, login
from tests.ui.pages import parse

QUEUE = "/review/offers"


@pytest.fixture
def pending(db_session):
    """Two suppliers' uploads waiting for review: a new product (two offers) and a new offer."""
    category = registry_category()
    first, first_user = supplier("甲供应商")
    second, second_user = supplier("乙供应商")
    existing = existing_product(category)
    batch = upload(first_user, category, rows_file([row(), row(supplier_sku="SKU-2", price="5200.00")]))
    matched = row(
        supplier_sku="B-1",
        brand=existing.brand,
        model=existing.model,
        manufacturer="",
        origin="",
        energy_saving="",
        environmental="",
        **{
            code: ""
            for code in (
                "cpu",
                "memory_gb",
                "storage_gb",
                "storage_type",
                "os",
                "form_factor",
                "screen_inch",
                "energy_class",
            )
        },
    )
    other = upload(second_user, category, rows_file([matched]))
    assert (batch.status.value, other.status.value) == ("applied", "applied")
    offers = {o.supplier_sku: o for o in db.session.scalars(select(Offer))}
    operator = factories.user(factories.org(OrgKind.OPERATOR, name="卖场运营中心"))
    db.session.commit()
    return {
        "category": category,
        "suppliers": (first, second),
        "supplier_users": (first_user, second_user),
        "batch": batch,
        "offers": offers,
        "operator": operator,
        "existing": existing,
    }


def queue_skus(client, query: str = "") -> list[str]:
    page = parse(client.get(f"{QUEUE}{query}").get_data(as_text=True))
    return [e.text for e in page.find_all("span", class_="code") if e.text.startswith(("SKU", "B-"))]


def test_the_queue_lists_pending_offers_oldest_first_with_their_kind(client, pending):
    login(client, pending["operator"].username)
    response = client.get(QUEUE)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert queue_skus(client) == ["SKU-1", "SKU-2", "B-1"]
    page = parse(html)
    kinds = [e.text for e in page.find_all("span", class_="kind-new_product")] + [
        e.text for e in page.find_all("span", class_="kind-new_offer")
    ]
    assert kinds == ["新商品", "新商品", "新报价"]
    assert page.one("p", class_="result-count").text == "共 3 条待审核"
    assert "98.1%" in html  # 5200 / 5299: close to the market reference, flagged
    assert page.one("a", href=QUEUE + "").text == "上架审核"  # the navigation entry


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("?kind=new_offer", ["B-1"]),
        ("?kind=new_product", ["SKU-1", "SKU-2"]),
        ("?ratio_min=95", ["SKU-2"]),
        ("?ratio_max=95", ["SKU-1", "B-1"]),
        ("?ratio_min=90&ratio_max=99", ["SKU-1", "SKU-2", "B-1"]),
        ("?category=A02010105", ["SKU-1", "SKU-2", "B-1"]),
        ("?category=A02010108", []),
    ],
)
def test_filters(client, pending, query, expected):
    login(client, pending["operator"].username)
    assert queue_skus(client, query) == expected


def test_filter_by_supplier_and_date(client, pending):
    login(client, pending["operator"].username)
    second = pending["suppliers"][1]
    assert queue_skus(client, f"?supplier={second.id}") == ["B-1"]
    today = utcnow().date()
    assert queue_skus(client, f"?submitted_from={today - timedelta(days=1)}") == ["SKU-1", "SKU-2", "B-1"]
    assert queue_skus(client, f"?submitted_to={today - timedelta(days=2)}") == []


def test_bad_filters_are_explained_not_crashed(client, pending):
    login(client, pending["operator"].username)
    response = client.get(f"{QUEUE}?ratio_min=abc&submitted_from=2026-13-45&kind=x")
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "应为数字" in html and "日期格式不正确" in html and "类型取值无效" in html


@pytest.mark.parametrize("role", [Role.SUPPLIER, Role.PURCHASER, Role.REGULATOR, Role.FINANCE])
def test_only_operators_review(client, pending, role):
    kind = {
        Role.SUPPLIER: OrgKind.SUPPLIER,
        Role.PURCHASER: OrgKind.PURCHASING_UNIT,
        Role.REGULATOR: OrgKind.REGULATOR,
        Role.FINANCE: OrgKind.FINANCE,
    }[role]
    user = factories.user(factories.org(kind), role)
    login(client, user.username)
    assert client.get(QUEUE).status_code == 403
    token = csrf_from(client, "/")
    offer = pending["offers"]["SKU-1"]
    response = client.post(
        f"{QUEUE}/decide", data={"csrf_token": token, "offer_id": offer.id, "decision": "approve"}
    )
    assert response.status_code == 403
    response = client.post(
        f"{QUEUE}/bulk",
        data={"csrf_token": token, "offer_ids": [offer.id], "decision": "approve", "confirm": "1"},
    )
    assert response.status_code == 403
    db.session.expire_all()
    assert db.session.get(Offer, offer.id).status == OfferStatus.PENDING_REVIEW


def test_approving_lists_the_offer_publishes_its_product_and_reaches_search(app, client, pending):
    backend = indexing.search_backend(app)
    backend.rebuild([])
    login(client, pending["operator"].username)
    offer = pending["offers"]["SKU-1"]
    token = csrf_from(client, QUEUE)
    response = client.post(
        f"{QUEUE}/decide",
        data={
            "csrf_token": token,
            "offer_id": offer.id,
            "decision": "approve",
            "next": f"{QUEUE}?kind=new_product",
        },
    )
    assert response.status_code == 302 and response.headers["Location"] == f"{QUEUE}?kind=new_product"
    db.session.expire_all()
    offer = db.session.get(Offer, offer.id)
    assert offer.status == OfferStatus.LISTED and offer.listed_at is not None
    product = db.session.get(Product, offer.product_id)
    assert product.is_active is True
    proposal = db.session.scalar(select(ProductProposal).where(ProductProposal.product_id == product.id))
    assert proposal.approved_by_id == pending["operator"].id
    (decision,) = db.session.scalars(select(ReviewDecision).where(ReviewDecision.offer_id == offer.id)).all()
    assert (decision.decision, decision.batch_id, decision.operator_id) == (
        Decision.APPROVE,
        pending["batch"].id,
        pending["operator"].id,
    )
    submission = db.session.scalar(select(OfferSubmission).where(OfferSubmission.offer_id == offer.id))
    assert submission.closed_at is not None
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "review.approve")).detail[
        "offer_ids"
    ] == [offer.id]
    backend.refresh()
    hits = {h.product_id: h.min_price for h in backend.search(SearchQuery(per_page=50)).hits}
    assert hits == {product.id: Decimal("4999.00")}  # searchable; SKU-2 is still in review
    assert client.get(f"/products/{product.id}").status_code == 200  # and public


def test_rejecting_needs_a_reason(client, pending):
    login(client, pending["operator"].username)
    offer = pending["offers"]["SKU-2"]
    token = csrf_from(client, QUEUE)
    response = client.post(
        f"{QUEUE}/decide",
        data={"csrf_token": token, "offer_id": offer.id, "decision": "reject", "reason": "  "},
    )
    assert response.status_code == 422
    assert "驳回必须填写理由" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Offer, offer.id).status == OfferStatus.PENDING_REVIEW
    assert db.session.scalar(select(func.count()).select_from(ReviewDecision)) == 0


def test_a_rejection_is_what_the_supplier_sees(client, pending):
    login(client, pending["operator"].username)
    offer = pending["offers"]["SKU-2"]
    token = csrf_from(client, QUEUE)
    reason = "市场参考价来源不可核实，请提供链接"
    response = client.post(
        f"{QUEUE}/decide",
        data={"csrf_token": token, "offer_id": offer.id, "decision": "reject", "reason": reason},
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Offer, offer.id).status == OfferStatus.REJECTED
    product = db.session.get(Product, offer.product_id)
    assert product.is_active is False  # a rejected proposal stays private

    supplier_client = client.application.test_client()
    login(supplier_client, pending["supplier_users"][0].username)
    html = supplier_client.get(f"/supplier/offers/{offer.id}").get_data(as_text=True)
    page = parse(html)
    assert page.one("div", class_="error-summary").text.startswith("已被驳回 驳回理由：" + reason)
    cells = [td.text for td in page.find_all("td")]
    assert "驳回" in cells and reason in cells  # the decision history
    batch_page = supplier_client.get(f"/supplier/catalog/uploads/{pending['batch'].id}").get_data(
        as_text=True
    )
    assert reason in batch_page and "SKU-2" in batch_page


def test_bulk_decisions_confirm_first(client, pending):
    login(client, pending["operator"].username)
    ids = [pending["offers"]["SKU-1"].id, pending["offers"]["B-1"].id]
    token = csrf_from(client, QUEUE)
    response = client.post(
        f"{QUEUE}/bulk", data={"csrf_token": token, "offer_ids": ids, "decision": "approve"}
    )
    assert response.status_code == 200
    page = parse(response.get_data(as_text=True))
    assert page.one("h1").text == "确认通过 2 条报价？"
    confirm = page.one("form", action=f"{QUEUE}/bulk")
    hidden = {
        e.get("name"): e.get("value") for e in page.inside(confirm, "input") if e.get("name") != "offer_ids"
    }
    assert hidden["confirm"] == "1" and hidden["decision"] == "approve"
    assert sorted(int(e.get("value")) for e in page.inside(confirm, "input", name="offer_ids")) == sorted(ids)
    db.session.expire_all()
    assert {db.session.get(Offer, i).status for i in ids} == {OfferStatus.PENDING_REVIEW}  # nothing yet

    response = client.post(
        f"{QUEUE}/bulk", data={"csrf_token": token, "offer_ids": ids, "decision": "approve", "confirm": "1"}
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert {db.session.get(Offer, i).status for i in ids} == {OfferStatus.LISTED}
    assert queue_skus(client) == ["SKU-2"]


def test_bulk_rejection_needs_a_reason_and_names_it_on_the_confirmation(client, pending):
    login(client, pending["operator"].username)
    ids = [pending["offers"]["SKU-1"].id, pending["offers"]["SKU-2"].id]
    token = csrf_from(client, QUEUE)
    response = client.post(
        f"{QUEUE}/bulk", data={"csrf_token": token, "offer_ids": ids, "decision": "reject"}
    )
    assert response.status_code == 422 and "驳回必须填写理由" in response.get_data(as_text=True)
    response = client.post(
        f"{QUEUE}/bulk",
        data={"csrf_token": token, "offer_ids": ids, "decision": "reject", "reason": "型号不符"},
    )
    assert "确认驳回 2 条报价？" in response.get_data(as_text=True) and "型号不符" in response.get_data(
        as_text=True
    )
    response = client.post(
        f"{QUEUE}/bulk",
        data={
            "csrf_token": token,
            "offer_ids": ids,
            "decision": "reject",
            "reason": "型号不符",
            "confirm": "1",
        },
    )
    assert response.status_code == 302
    reasons = db.session.scalars(select(ReviewDecision.reason).where(ReviewDecision.offer_id.in_(ids))).all()
    assert reasons == ["型号不符", "型号不符"]
    assert client.post(f"{QUEUE}/bulk", data={"csrf_token": token, "decision": "approve"}).status_code == 422


def test_an_offer_decided_meanwhile_is_skipped(client, pending):
    offer = pending["offers"]["SKU-1"]
    services.decide([offer.id], Decision.APPROVE, "", pending["operator"])
    db.session.commit()
    login(client, pending["operator"].username)
    token = csrf_from(client, QUEUE)
    response = client.post(
        f"{QUEUE}/decide",
        data={"csrf_token": token, "offer_id": offer.id, "decision": "reject", "reason": "迟了"},
        follow_redirects=True,
    )
    assert "1 条报价已不在待审核状态" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Offer, offer.id).status == OfferStatus.LISTED
    assert db.session.scalar(select(func.count()).select_from(ReviewDecision)) == 1


def test_decisions_need_their_csrf_token(client, pending):
    login(client, pending["operator"].username)
    offer = pending["offers"]["SKU-1"]
    assert (
        client.post(f"{QUEUE}/decide", data={"offer_id": offer.id, "decision": "approve"}).status_code == 400
    )


def test_a_resubmitted_rejected_offer_comes_back_as_a_change_of_its_own(client, pending):
    offer = pending["offers"]["B-1"]
    services.decide([offer.id], Decision.REJECT, "质保期过短", pending["operator"])
    db.session.commit()
    second_user = pending["supplier_users"][1]
    existing = pending["existing"]
    matched = row(
        supplier_sku="B-1",
        brand=existing.brand,
        model=existing.model,
        manufacturer="",
        origin="",
        energy_saving="",
        environmental="",
        warranty_months="60",
        **{
            code: ""
            for code in (
                "cpu",
                "memory_gb",
                "storage_gb",
                "storage_type",
                "os",
                "form_factor",
                "screen_inch",
                "energy_class",
            )
        },
    )
    batch = upload(second_user, pending["category"], rows_file([matched]))
    assert (batch.offers_updated, batch.sent_to_review) == (1, 1)
    db.session.expire_all()
    assert db.session.get(Offer, offer.id).status == OfferStatus.PENDING_REVIEW
    open_ = db.session.scalar(
        select(OfferSubmission).where(
            OfferSubmission.offer_id == offer.id, OfferSubmission.closed_at.is_(None)
        )
    )
    assert open_.changes == {"warranty_months": [36, 60]} and open_.batch_id == batch.id
