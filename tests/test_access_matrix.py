"""Cross-organization access: a user of one organization gets 403/404 on every record of another.

The test walks the application's URL map. Every URL argument must be classified below, either as
naming a record that belongs to an organization (OWNED) or as public (PUBLIC); a new route with an
unclassified argument fails this test until someone decides which it is.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from flask import Flask

from app.auth.models import OrgKind, Role, User
from app.catalog.models import OfferStatus
from tests import factories
from tests.conftest import csrf_from, login

# Arguments that name public things, the same for every visitor.
PUBLIC_ARGS = {"filename", "code", "product_id"}
# Mall-wide configuration owned by no organization; its pages are for operators only, by role
# (tests/orders/test_rules.py checks every other role gets 403).
PUBLIC_ARGS |= {"rule_id"}
# 成交公告: a confirmed order's public notice, the same for everyone (anonymous included); only
# published orders answer (tests/oversight/test_notices.py), the order's own pages stay by order_id.
PUBLIC_ARGS |= {"order_number"}
# Alerts (预警) belong to no organization: every regulator and operator works on all of them and
# nobody else opens any (tests/oversight/test_alert_workflow.py checks every other role gets 403).
# A dashboard figure's name (its CSV export) is the same for every visitor.
PUBLIC_ARGS |= {"alert_id", "figure"}

# Roles that may read a kind of record across organizations by design (DESIGN.md: operators and
# regulators oversee everything read-only; finance systems fund every unit's plans).
CROSS_ORG_READERS: dict[str, frozenset[Role]] = {
    "plan_id": frozenset({Role.OPERATOR, Role.REGULATOR, Role.FINANCE}),
    "record_id": frozenset({Role.OPERATOR, Role.REGULATOR, Role.FINANCE}),
    # An order belongs to its buying unit and to its supplier (both reach it); oversight and finance
    # read every order (app/orders/services.py), and nobody else's order can be acted on.
    "order_id": frozenset({Role.OPERATOR, Role.REGULATOR, Role.FINANCE}),
    # A supplier's credit deduction (信用扣分): its supplier appeals it; operators and regulators
    # read every supplier's ledger (operators decide appeals by a form field, not by URL).
    "event_id": frozenset({Role.OPERATOR, Role.REGULATOR}),
}


@dataclass
class World:
    """One set of organizations with a user of every role and a record of every owned kind."""

    users: dict[Role, User]
    records: dict[str, int]
    secrets: list[str]  # identifiers that must never appear on another organization's pages


def build_world(tag: str) -> World:
    unit = factories.org(OrgKind.PURCHASING_UNIT, name=f"{tag}单位")
    supplier = factories.org(OrgKind.SUPPLIER, name=f"{tag}供应商")
    finance = factories.org(OrgKind.FINANCE, name=f"{tag}财政")
    operator = factories.org(OrgKind.OPERATOR, name=f"{tag}运营")
    regulator = factories.org(OrgKind.REGULATOR, name=f"{tag}监管")
    users = {
        Role.PURCHASER: factories.user(unit, Role.PURCHASER),
        Role.APPROVER: factories.user(unit, Role.APPROVER),
        Role.SUPPLIER: factories.user(supplier, Role.SUPPLIER),
        Role.FINANCE: factories.user(finance, Role.FINANCE),
        Role.OPERATOR: factories.user(operator, Role.OPERATOR),
        Role.REGULATOR: factories.user(regulator, Role.REGULATOR),
    }
    plan = factories.plan(unit, plan_no=f"PLAN-{tag}-SECRET")
    offer = factories.offer(supplier=supplier, supplier_sku=f"SKU-{tag}-SECRET", status=OfferStatus.DRAFT)
    records = {"plan_id": plan.id, "offer_id": offer.id}
    records.update(owned_extra_records(tag, users))
    order = _order(tag, users, supplier)
    records["order_id"] = order.id
    return World(
        users=users,
        records=records,
        secrets=[
            plan.plan_no,
            offer.supplier_sku,
            f"{tag}-BATCH-SECRET",
            order.number,
            f"{tag}-HOOK-SECRET",
            f"{tag}-CREDIT-SECRET",
        ],
    )


def _order(tag: str, users: dict[Role, User], supplier):
    """A submitted order of the unit to the supplier, placed through the real checkout."""
    from app.orders.checkout import fiscal_year, submit
    from tests.orders.helpers import fill_cart, request_for

    category = factories.category()
    offer = factories.offer(factories.product(category), supplier, supplier_sku=f"SKU-{tag}-ORDER")
    buyer = users[Role.PURCHASER]
    plan = factories.plan(
        buyer.organization, plan_no=f"PLAN-{tag}-ORDER", fiscal_year=fiscal_year(), categories=[category]
    )
    fill_cart(buyer, (offer, 1))
    orders, _ = submit(buyer, request_for(buyer, plan))
    return orders[0]


def owned_extra_records(tag: str, users: dict[Role, User]) -> dict[str, int]:
    """Records of features that own more kinds (tokens, comparison records, …)."""
    from flask import current_app

    from app.api import services as token_services
    from app.compare import services as compare_services

    token = token_services.issue_token(
        users[Role.SUPPLIER].organization,
        name=f"{tag}-token",
        scopes=["catalog:read"],
        created_by=users[Role.SUPPLIER],
    )
    listed = [factories.product(name=f"{tag}比价商品{i}") for i in range(2)]
    for product in listed:
        factories.offer(product)
    with current_app.test_request_context():
        record = compare_services.save_record(
            users[Role.PURCHASER], [p.id for p in listed], title=f"{tag}比价记录"
        )
    batch = _failed_batch(tag, users[Role.SUPPLIER])
    return {
        "token_id": token[0].id,
        "record_id": record.id,
        "batch_id": batch.id,
        **_webhook_records(tag, users),
        **_credit_records(tag, users),
    }


def _credit_records(tag: str, users: dict[Role, User]) -> dict[str, int]:
    """A credit deduction of the supplier (the evidence is made up: only the ledger is tested)."""
    from app.extensions import db
    from app.oversight import credit
    from app.oversight.models import CreditReason

    deduction = credit.deduct(
        users[Role.SUPPLIER].organization_id,
        CreditReason.LATE_CONFIRMATION,
        f"access-matrix:{tag}",
        f"{tag}-CREDIT-SECRET 超时未确认",
    )
    db.session.flush()
    return {"event_id": deduction.id}


def _webhook_records(tag: str, users: dict[Role, User]) -> dict[str, int]:
    """A finance organization's webhook endpoint with one delivery in its log."""
    from tests.webhooks.helpers import emit_one, endpoint

    hook = endpoint(users[Role.FINANCE].organization, url=f"https://hooks.example.com/{tag}-HOOK-SECRET")
    _event, deliveries = emit_one()
    mine = next(d for d in deliveries if d.endpoint_id == hook.id)
    return {"endpoint_id": hook.id, "delivery_id": mine.id}


def _failed_batch(tag: str, supplier):
    """A catalog upload that failed validation, so it has an error report to download."""
    from tests.catalog_upload.helpers import ensure_registry_category, row, rows_file, upload

    data = rows_file([row(supplier_sku=f"SKU-{tag}-BATCH", memory_gb="十六")])
    return upload(supplier, ensure_registry_category(), data, f"{tag}-BATCH-SECRET.csv")


def owned_rules(app: Flask):
    rules = []
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/"):
            continue  # token-authenticated: tests/api/test_api_access_matrix.py walks those
        args = set(rule.arguments)
        unknown = args - PUBLIC_ARGS - set(OWNED_ARG_NAMES)
        assert not unknown, f"{rule.rule}: classify URL argument(s) {sorted(unknown)} in {__name__}"
        owned = args & set(OWNED_ARG_NAMES)
        if owned:
            rules.append(rule)
    return rules


OWNED_ARG_NAMES = (
    "plan_id",
    "offer_id",
    "token_id",
    "record_id",
    "batch_id",
    "order_id",
    "endpoint_id",
    "delivery_id",
    "event_id",
)


def _url(app: Flask, rule, records: dict[str, int]) -> str:
    with app.test_request_context():
        from flask import url_for

        return url_for(rule.endpoint, **{arg: records[arg] for arg in rule.arguments})


def _request(client, method: str, url: str):
    if method == "GET":
        return client.get(url)
    return client.open(url, method=method, data={"csrf_token": csrf_from(client, "/")})


def test_every_owned_record_is_out_of_reach_of_other_organizations(app, db_session):
    mine, theirs = build_world("甲"), build_world("乙")
    rules = owned_rules(app)
    assert {r.endpoint for r in rules} >= {"procurement.plan_detail", "supplier.offer_detail"}
    checked = 0
    for role, user in mine.users.items():
        client = app.test_client()
        login(client, user.username)
        for rule in rules:
            arg = next(a for a in rule.arguments if a in OWNED_ARG_NAMES)
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                url = _url(app, rule, theirs.records)
                response = _request(client, method, url)
                response.close()
                allowed = method == "GET" and role in CROSS_ORG_READERS.get(arg, ())
                if allowed:
                    assert response.status_code == 200, (role, method, url, response.status_code)
                else:
                    assert response.status_code in (403, 404), (role, method, url, response.status_code)
                checked += 1
    assert checked >= len(rules) * len(mine.users)


def test_owners_do_reach_their_own_records(app, db_session):
    """The positive control: the same URLs work for the organization that owns the record, so the
    403/404s above are about ownership and not about broken pages."""
    world = build_world("丙")
    owner_role = {
        "plan_id": Role.PURCHASER,
        "offer_id": Role.SUPPLIER,
        "token_id": Role.SUPPLIER,
        "record_id": Role.PURCHASER,
        "batch_id": Role.SUPPLIER,
        "endpoint_id": Role.FINANCE,
        "delivery_id": Role.FINANCE,
        "order_id": Role.PURCHASER,  # the supplier's side: tests/orders/test_order_pages.py
        "event_id": Role.SUPPLIER,
    }
    for rule in owned_rules(app):
        if "GET" not in rule.methods:
            continue
        arg = next(a for a in rule.arguments if a in OWNED_ARG_NAMES)
        client = app.test_client()
        login(client, world.users[owner_role[arg]].username)
        url = _url(app, rule, world.records)
        response = client.get(url)
        response.close()  # downloads are streamed from files
        assert response.status_code == 200, url


@pytest.mark.parametrize(
    "endpoint",
    [
        "procurement.plan_list",
        "supplier.offer_list",
        "api_tokens.token_list",
        "catalog_upload.uploads",
        "orders.order_list",
        "orders.approvals",
        "webhooks.endpoint_list",
        "monitor.my_credit",
    ],
)
def test_list_pages_never_show_another_organizations_records(app, db_session, endpoint):
    mine, theirs = build_world("丁"), build_world("戊")
    with app.test_request_context():
        from flask import url_for

        url = url_for(endpoint)
    for role, user in mine.users.items():
        oversight_lists = ("procurement.plan_list", "orders.order_list")
        if role in (Role.OPERATOR, Role.REGULATOR, Role.FINANCE) and endpoint in oversight_lists:
            continue  # oversight reads every unit's plans by design
        client = app.test_client()
        login(client, user.username)
        response = client.get(url)
        body = response.get_data(as_text=True)
        for secret in theirs.secrets:
            assert secret not in body, (role, endpoint)
