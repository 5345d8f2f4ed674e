"""Cross-organization access through the API: a token of one organization gets 403/404 on every
record of another, whatever scopes its kind allows. Walks the application's /api/v1 routes, so a
new route naming an owned record is checked without anyone remembering to add it here."""

from __future__ import annotations

from flask import Flask, current_app, url_for

from app.auth.models import OrgKind, Role
from app.catalog.models import OfferStatus
from app.compare import services as compare_services
from tests import factories
from tests.api.helpers import bearer, issue

# Arguments naming something public (the same for every caller) and records owned by an organization.
PUBLIC_ARGS = {"code", "product_id"}
OWNED_ARGS = {"plan_id", "offer_id", "record_id"}
# Kinds that read a kind of record across organizations by design.
CROSS_ORG_READERS = {
    "plan_id": {OrgKind.FINANCE, OrgKind.OPERATOR, OrgKind.REGULATOR},
    "record_id": {OrgKind.FINANCE, OrgKind.OPERATOR, OrgKind.REGULATOR},
}
# A valid body for each write endpoint naming an owned record.
WRITE_BODIES = {"api_v1_offer_writes.offer_patch": {"stock": 1}}
OWNER_KIND = {
    "plan_id": OrgKind.PURCHASING_UNIT,
    "offer_id": OrgKind.SUPPLIER,
    "record_id": OrgKind.PURCHASING_UNIT,
}


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
    records = {"plan_id": plan.id, "offer_id": offer.id, "record_id": record.id}
    return tokens, records, [plan.plan_no, offer.supplier_sku, record.title]


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
    assert {r.endpoint for r in rules} >= {"api_v1_plans.plan_detail", "api_v1_offers.offer_detail"}
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


def test_lists_never_show_another_organizations_records(app, client):
    mine, _, _ = _world("丁")
    _, _, secrets = _world("戊")
    for kind, token in mine.items():
        for url in ("/api/v1/plans", "/api/v1/offers", "/api/v1/products", "/api/v1/comparisons"):
            if kind in CROSS_ORG_READERS["plan_id"] and url in ("/api/v1/plans", "/api/v1/comparisons"):
                continue  # oversight and finance read every unit's plans and records by design
            body = client.get(url, headers=bearer(token)).get_data(as_text=True)
            for secret in secrets:
                assert secret not in body, (kind, url)
