"""The real order flow: a checkout commits its order and budget events, and a finance system's
endpoint receives them signed, carrying the full order (plan, lines, amounts)."""

from __future__ import annotations

import json

from app.extensions import db
from app.orders.checkout import submit
from app.webhooks.models import DeliveryStatus, WebhookDelivery
from tests.orders.helpers import fill_cart, request_for, shop
from tests.webhooks.helpers import endpoint, receiver, verify


def test_a_checkout_delivers_its_order_and_budget_events(app, db_session, allow_local):
    world = shop()
    with receiver() as server:
        hook = endpoint(url=server.url)
        budget_only = endpoint(url=server.url.replace("/hooks", "/budget"), event_types=["budget.*"])
        fill_cart(world.purchaser, (world.offers[0], 2))
        orders, replayed = submit(world.purchaser, request_for(world.purchaser, world.plan))
        assert not replayed and len(orders) == 1
        order = orders[0]
        assert server.requests == []  # not before the commit
        db.session.commit()
        received = {(r.path, json.loads(r.body)["type"]): r for r in server.requests}
    types = sorted(received)
    assert types == [
        ("/budget", "budget.reserved"),
        ("/hooks", "budget.reserved"),
        ("/hooks", f"order.{order.status.value}"),
    ]
    event = verify(hook.secret, received[("/hooks", f"order.{order.status.value}")])
    data = event["data"]
    assert data["order_no"] == order.number and data["total"] == str(order.total) == "6000.00"
    assert data["plan"]["plan_no"] == world.plan.plan_no
    assert [(line["supplier_sku"], line["quantity"], line["amount"]) for line in data["lines"]] == [
        (world.offers[0].supplier_sku, 2, "6000.00")
    ]
    budget = verify(budget_only.secret, received[("/budget", "budget.reserved")])["data"]
    assert (budget["order_no"], budget["amount"], budget["plan_no"]) == (
        order.number,
        "6000.00",
        world.plan.plan_no,
    )
    # Both endpoints got the same event under the same webhook-id.
    assert (
        received[("/budget", "budget.reserved")].headers["webhook-id"]
        == received[("/hooks", "budget.reserved")].headers["webhook-id"]
    )
    db.session.expire_all()
    statuses = db.session.query(WebhookDelivery.status).all()
    assert statuses == [(DeliveryStatus.SUCCEEDED,)] * 3
