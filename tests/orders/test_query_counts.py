"""The cart and the checkout read what they need once: the SQL statements of adding to the cart,
opening the checkout page and submitting do not grow with the suppliers in the cart on PostgreSQL
(no query per order, line or category), so the mall's busiest path stays flat however big the cart."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import event

from app.auth.models import OrgKind
from app.extensions import db
from tests import factories
from tests.conftest import csrf_from, login
from tests.orders.helpers import shop


@pytest.fixture
def statements(app):
    seen: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany):
        seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    yield seen
    event.remove(db.engine, "before_cursor_execute", count)


@pytest.fixture
def world(db_session):
    world = shop()
    # A third supplier of the same category, so a cart can make three orders.
    supplier = factories.org(OrgKind.SUPPLIER)
    world.offers.append(factories.offer(factories.product(world.category), supplier, stock=1000))
    return world


def _hidden(html: str, name: str) -> str:
    match = re.search(rf'name="{name}" value="([^"]*)"', html)
    assert match, f"no {name} on the page"
    return match.group(1)


def _checkout(client, statements, plan, offers) -> dict[str, int]:
    """Statements per step of one checkout of ``offers`` (one each)."""
    counts = {}
    token = csrf_from(client, "/cart")
    for offer in offers:
        statements.clear()
        response = client.post("/cart/add", data={"offer_id": offer.id, "quantity": 1, "csrf_token": token})
        assert response.status_code == 302, response.get_data(as_text=True)[-800:]
        counts["add"] = len(statements)
    statements.clear()
    page = client.get("/cart/checkout")
    assert page.status_code == 200
    counts["page"] = len(statements)
    html = page.get_data(as_text=True)
    form = {name: _hidden(html, name) for name in ("checkout_key", "fingerprint", "csrf_token")}
    form.update(
        plan_id=str(plan.id),
        delivery_address="北京市东城区测试路 1 号",
        contact_name="张三",
        contact_phone="010-12345678",
    )
    statements.clear()
    response = client.post("/cart/checkout", data=form)
    assert response.status_code == 303, response.get_data(as_text=True)[-1500:]
    counts["submit"] = len(statements)
    return counts


def test_a_checkout_of_three_suppliers_takes_as_many_statements_as_one_of_one(client, world, statements):
    login(client, world.purchaser.username)
    one = _checkout(client, statements, world.plan, world.offers[:1])
    three = _checkout(client, statements, world.plan, world.offers)
    assert (three["add"], three["page"]) == (one["add"], one["page"])
    if db.engine.dialect.name == "postgresql":
        # One INSERT … RETURNING per table for all the orders (SQLite, in-process and without
        # round trips, inserts rows it must return one by one).
        assert three["submit"] == one["submit"]
    # And few in absolute terms (the signed-in user, the offer, the cart, the write).
    assert one["add"] <= 6
