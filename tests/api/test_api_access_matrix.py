"""Cross-organization access through the API: a token of one organization gets 403/404 on every
record of another, whatever scopes its kind allows. Walks the application's /api/v1 routes, so a
new route naming an owned record is checked without anyone remembering to add it here."""

from __future__ import annotations

import uuid
from decimal import Decimal

from flask import Flask, current_app, url_for

from app.auth.models import OrgKind, Role
from app.catalog.models import OfferStatus
from app.compare import services as compare_services
from tests import factories
from tests.api.helpers import bearer, issue

# Arguments naming something public (the same for every caller) and records owned by an organization.
PUBLIC_ARGS = {"code", "product_id"}
OWNED_ARGS = {"plan_id", "offer_id", "record_id", "order_id"}
# Kinds that read a kind of record across organizations by design.
CROSS_ORG_READERS = {
    "plan_id": {OrgKind.FINANCE, OrgKind.OPERATOR, OrgKind.REGULATOR},
    "record_id": {OrgKind.FINANCE, OrgKind.OPERATOR, OrgKind.REGULATOR},
    "order_id": {OrgKind.FINANCE, OrgKind.OPERATOR, OrgKind.REGULATOR},
}
# Kinds that act on a kind of record across organizations by design: finance systems mark the
# payment steps of every unit's orders. They reach the order, and the matrix's write (a supplier's
# move) is refused by the order's life with 409, never by ownership.
CROSS_ORG_WRITERS = {"order_id": {OrgKind.FINANCE}}
# A valid body for each write endpoint naming an owned record.
WRITE_BODIES = {
    "api_v1_offer_writes.offer_patch": {"stock": 1},
    "api_v1_orders.order_transition": {"to": "confirmed"},
}
OWNER_KIND = {
    "plan_id": OrgKind.PURCHASING_UNIT,
    "offer_id": OrgKind.SUPPLIER,
    "record_id": OrgKind.PURCHASING_UNIT,
    "order_id": OrgKind.SUPPLIER,  # the supplier moves it; the buying unit reads it too
}
# Other kinds that own a record for reading (an order belongs to the buying unit and the supplier).
ALSO_READ_BY = {"order_id": {OrgKind.PURCHASING_UNIT}}


def _world(tag: str) -> tuple[dict[OrgKind, str], dict[str, int], list[str]]:
    orgs = {kind: factories.org(kind, name=f"{tag}{kind.value}") for kind in OrgKind}
    tokens = {kind: issue(organization) for kind, organization in orgs.items()}  # every scope allowed
    plan = factories.plan(orgs[OrgKind.PURCHASING_UNIT], plan_no=f"PLAN-{tag}-SECRET")
    offer = factories.offer(
        supplier=orgs[OrgKind.SUPPLIER], supplier_sku=f"SKU-{tag}-SECRET", status=OfferStatus.DRAFT
    )
    purchaser = factories.user(orgs[OrgKind.PURCHASING_UNIT], Role.PURCHASER)
    compared = [factories.product(name=f"{tag}比价商品{i}") for i in range(2)]
    for product in compared:
        factories.offer(product)
    with current_app.test_request_context():
        record = compare_services.save_record(
            purchaser, [p.id for p in compared], title=f"{tag}-RECORD-SECRET"
        )
    order = _order(orgs[OrgKind.PURCHASING_UNIT], orgs[OrgKind.SUPPLIER], tag)
    records = {"plan_id": plan.id, "offer_id": offer.id, "record_id": record.id, "order_id": order.id}
    return tokens, records, [plan.plan_no, offer.supplier_sku, record.title, order.number]


def _order(unit, supplier, tag: str):
    """A submitted order of ``unit`` to ``supplier``, placed through the real checkout."""
    from app.orders import cart
    from app.orders.checkout import CheckoutRequest, fiscal_year, submit

    category = factories.category()
    offer = factories.offer(
        factories.product(category), supplier, supplier_sku=f"SKU-{tag}-ORDER", price=Decimal("100.00")
    )
    plan = factories.plan(unit, plan_no=f"PLAN-{tag}-ORDER", fiscal_year=fiscal_year(), categories=[category])
    buyer = factories.user(unit, Role.PURCHASER)
    cart.add(buyer, offer.id, 1)
    request = CheckoutRequest(
        checkout_key=uuid.uuid4().hex,
        fingerprint=cart.quote(buyer).fingerprint,
        plan_id=plan.id,
        delivery_address="北京市东城区测试路 1 号",
        contact_name="张三",
        contact_phone="010-12345678",
    )
    orders, _ = submit(buyer, request)
    return orders[0]


def _owned_api_rules(app: Flask):
    rules = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/"):
            continue
        unknown = set(rule.arguments) - PUBLIC_ARGS - OWNED_ARGS
        assert not unknown, f"{rule.rule}: classify URL argument(s) {sorted(unknown)} in {__name__}"
        if set(rule.arguments) & OWNED_ARGS:
            rules.append(rule)
    return rules


def _url(app: Flask, rule, records: dict[str, int]) -> str:
    with app.test_request_context():
        return url_for(rule.endpoint, **{arg: records[arg] for arg in rule.arguments})


def test_no_token_reaches_another_organizations_records(app, client):
    mine, _, _ = _world("甲")
    _, theirs, _ = _world("乙")
    rules = _owned_api_rules(app)
    assert {r.endpoint for r in rules} >= {
        "api_v1_plans.plan_detail",
        "api_v1_offers.offer_detail",
        "api_v1_orders.order_detail",
        "api_v1_orders.order_transition",
    }
    for kind, token in mine.items():
        for rule in rules:
            arg = next(a for a in rule.arguments if a in OWNED_ARGS)
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                # A write carries a valid body, so only ownership can refuse it.
                body = WRITE_BODIES.get(rule.endpoint) if method != "GET" else None
                response = client.open(
                    _url(app, rule, theirs), method=method, json=body, headers=bearer(token)
                )
                if method == "GET" and kind in CROSS_ORG_READERS.get(arg, ()):
                    assert response.status_code == 200, (kind, rule.rule)
                elif method != "GET" and kind in CROSS_ORG_WRITERS.get(arg, ()):
                    assert response.status_code == 409, (kind, method, rule.rule, response.status_code)
                else:
                    assert response.status_code in (403, 404), (kind, method, rule.rule, response.status_code)
                    assert response.mimetype == "application/json"


def test_owners_reach_their_own_records(app, client):
    tokens, records, _ = _world("丙")
    for rule in _owned_api_rules(app):
        arg = next(a for a in rule.arguments if a in OWNED_ARGS)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            body = WRITE_BODIES.get(rule.endpoint) if method != "GET" else None
            response = client.open(
                _url(app, rule, records), method=method, json=body, headers=bearer(tokens[OWNER_KIND[arg]])
            )
            assert response.status_code == 200, (method, rule.rule)
            for kind in ALSO_READ_BY.get(arg, ()) if method == "GET" else ():
                response = client.get(_url(app, rule, records), headers=bearer(tokens[kind]))
                assert response.status_code == 200, (kind, rule.rule)


def test_lists_never_show_another_organizations_records(app, client):
    mine, _, _ = _world("丁")
    _, _, secrets = _world("戊")
    for kind, token in mine.items():
        for url in (
            "/api/v1/plans",
            "/api/v1/offers",
            "/api/v1/products",
            "/api/v1/comparisons",
            "/api/v1/orders",
        ):
            oversight_lists = ("/api/v1/plans", "/api/v1/comparisons", "/api/v1/orders")
            if kind in CROSS_ORG_READERS["plan_id"] and url in oversight_lists:
                continue  # oversight and finance read every unit's plans and records by design
            body = client.get(url, headers=bearer(token)).get_data(as_text=True)
            for secret in secrets:
                assert secret not in body, (kind, url)
