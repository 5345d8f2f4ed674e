"""Checkouts racing on real PostgreSQL: the plan's budget is never overspent.

Every test here runs on a scratch PostgreSQL database whose commits are real (``committed_database``;
a missing server is an error, never a skip), with one thread per buyer, each in its own app context
with its own session and connection, all released at once by a barrier. The SAVEPOINT fixture is
not used: its single connection would serialize the race away.

:func:`run_race` is the harness (through ``checkout.submit``, or through the checkout page with
the test client); :func:`violations` is the one set of assertions. They hold for the real
reservation (``app.procurement.services.reserve``) and catch a deliberately naive read-then-write
reservation defined below, so a regression to that pattern fails this file.
"""

from __future__ import annotations

import dataclasses
import re
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import pytest
import sqlalchemy as sa
from flask import Flask
from flask_migrate import upgrade

from app import create_app
from app.auth.models import OrgKind, Role, User
from app.extensions import db
from app.orders import cart, checkout
from app.orders.models import CartItem, Order, OrderLine
from app.procurement import services as budget
from app.procurement.models import LedgerEntry, LedgerKind, ProcurementPlan
from app.webhooks.models import WebhookEvent
from tests import factories
from tests.conftest import login, make_test_config
from tests.orders.helpers import request_for

pytestmark = pytest.mark.postgres

THREADS = 50
_HIDDEN = re.compile(r'<input type="hidden" name="(\w+)" value="([^"]*)">')
BUDGET_MESSAGE = re.compile(r"^采购计划 \S+ 可用余额 ¥[\d,]+\.\d\d，不足以支付 ¥[\d,]+\.\d\d。$")


@pytest.fixture
def race_app(committed_database) -> Flask:
    """The app on a committed database, with a connection for every thread (no waiting for the
    pool inside the race)."""
    app = create_app(
        make_test_config(
            committed_database,
            SQLALCHEMY_ENGINE_OPTIONS={"pool_size": THREADS, "max_overflow": 0, "pool_timeout": 60},
        )
    )
    with app.app_context():
        upgrade()
        db.session.remove()
    yield app
    with app.app_context():
        db.engine.dispose()


# -- the world ---------------------------------------------------------------------------------


@dataclasses.dataclass
class World:
    plan_id: int
    buyer_ids: list[int]
    usernames: list[str]
    requests: list[checkout.CheckoutRequest]  # requests[i] is buyer_ids[i]'s checkout
    checkout_amount: Decimal  # what each checkout costs
    available: Decimal  # the plan's available budget before the race


def seed(
    app: Flask,
    *,
    buyers: int,
    plan_amount: str,
    prices: tuple[str, ...],
    reserved: str = "0.00",
    consumed: str = "0.00",
    same_buyer: bool = False,
) -> World:
    """One purchasing unit and ONE plan; one supplier per price, each with one listed offer; every
    buyer's cart holds one of each offer. The plan may start partly reserved and consumed. With
    ``same_buyer`` all requests are one buyer's one checkout (a replayed submit)."""
    with app.app_context():
        unit = factories.org(OrgKind.PURCHASING_UNIT, region_code="110000", name="并发测试单位")
        category = factories.category()
        offers = [
            factories.offer(
                factories.product(category),
                factories.org(OrgKind.SUPPLIER, name=f"供应商{chr(ord('A') + i)}"),
                price=Decimal(price),
                stock=100_000,
            )
            for i, price in enumerate(prices)
        ]
        plan = factories.plan(unit, amount=Decimal(plan_amount), categories=[category])
        if Decimal(reserved) + Decimal(consumed) > 0:
            budget.reserve(plan, Decimal(reserved) + Decimal(consumed), reference="SEED")
        if Decimal(consumed) > 0:
            budget.consume(plan, Decimal(consumed), reference="SEED")
        people = [factories.user(unit, Role.PURCHASER) for _ in range(1 if same_buyer else buyers)]
        for person in people:
            for offer in offers:
                cart.add(person, offer.id, 1)
        requests = [request_for(person, plan) for person in people]
        if same_buyer:
            people, requests = people * buyers, requests * buyers
        db.session.commit()
        world = World(
            plan_id=plan.id,
            buyer_ids=[person.id for person in people],
            usernames=[person.username for person in people],
            requests=requests,
            checkout_amount=sum((Decimal(p) for p in prices), Decimal("0.00")),
            available=plan.available,
        )
        db.session.remove()
    assert world.available == Decimal(plan_amount) - Decimal(reserved) - Decimal(consumed)
    return world


# -- the harness -------------------------------------------------------------------------------


@dataclasses.dataclass
class Outcome:
    world: World
    succeeded: list[tuple[list[int], bool]]  # per successful thread: its order ids, replayed?
    refused: list[checkout.CheckoutError | str]  # the refusals, or their messages on the page
    errors: list[str]  # anything else a thread raised: must stay empty
    amount: Decimal
    stored_reserved: Decimal
    stored_consumed: Decimal
    ledger: dict[str, Decimal]  # budget.ledger_sums
    orders: int
    reservations: int  # RESERVE ledger entries made by the race (the seed's excluded)
    order_total: Decimal  # sum of the totals of the orders made


def _submit(
    app: Flask, start: threading.Barrier, delay: float, buyer_id: int, request: checkout.CheckoutRequest
):
    """One buyer's submit in its own app context, session and transaction, committed on success
    and rolled back on refusal, as the request cycle does."""
    with app.app_context():
        try:
            user = db.session.get(User, buyer_id)
            start.wait()
            time.sleep(delay)
            orders, replayed = checkout.submit(user, request)
            ids = [order.id for order in orders]
            db.session.commit()
            return "ok", (ids, replayed)
        except checkout.CheckoutError as refused:
            db.session.rollback()
            return "refused", refused
        except Exception as exc:  # every other exception is a finding, reported
            db.session.rollback()
            return "error", f"{type(exc).__name__}: {exc}"
        finally:
            db.session.remove()


def _submit_over_http(app: Flask, start: threading.Barrier, delay: float, username: str, plan_id: int):
    """One buyer through the HTTP stack: log in, open the checkout page, then (with the others)
    submit its form for the plan."""
    client = app.test_client()
    try:
        login(client, username)
        page = client.get("/cart/checkout")
        assert page.status_code == 200, page.status_code
        fields = dict(_HIDDEN.findall(page.get_data(as_text=True)))
        assert {"csrf_token", "checkout_key", "fingerprint"} <= fields.keys(), fields
        fields.update(
            plan_id=str(plan_id),
            delivery_address="北京市东城区测试路 1 号",
            contact_name="张三",
            contact_phone="010-12345678",
        )
        start.wait()
        time.sleep(delay)
        response = client.post("/cart/checkout", data=fields)
    except Exception as exc:  # every exception is a finding, reported
        return "error", f"{type(exc).__name__}: {exc}"
    if response.status_code == 303:
        return "ok", ([], False)
    if response.status_code in (409, 422):
        body = response.get_data(as_text=True)
        found = BUDGET_MESSAGE.pattern.strip("^$")
        match = re.search(found, body)
        return "refused", match.group(0) if match else f"HTTP {response.status_code}: {body[-300:]}"
    return "error", f"HTTP {response.status_code}"


def run_race(
    app: Flask,
    world: World,
    reserve_fn: Callable | None = None,
    spread: float = 0.0,
    *,
    over_http: bool = False,
) -> Outcome:
    """All of ``world``'s checkouts at once, one thread each, through ``checkout.submit`` — whose
    reservation is ``reserve_fn`` (order by order) when given — or ``over_http`` through the
    checkout page; then the plan and its ledger read back. With ``spread`` the threads start evenly
    spread over that many seconds instead of together."""
    original = budget.reserve_all
    if reserve_fn is not None:

        def one_by_one(plan, movements, *, user=None, note=""):
            for reference, amount in movements:
                reserve_fn(plan, amount, reference=reference, user=user)

        budget.reserve_all = one_by_one  # checkout calls it as budget.reserve_all, at call time
    try:
        start = threading.Barrier(len(world.requests), timeout=60)
        with ThreadPoolExecutor(max_workers=len(world.requests)) as pool:
            delays = [spread * i / len(world.requests) for i in range(len(world.requests))]
            if over_http:
                futures = [
                    pool.submit(_submit_over_http, app, start, delay, username, world.plan_id)
                    for delay, username in zip(delays, world.usernames, strict=True)
                ]
            else:
                futures = [
                    pool.submit(_submit, app, start, delay, buyer_id, request)
                    for delay, buyer_id, request in zip(delays, world.buyer_ids, world.requests, strict=True)
                ]
            results = [future.result(timeout=120) for future in futures]
    finally:
        budget.reserve_all = original
    with app.app_context():
        plan = db.session.get(ProcurementPlan, world.plan_id)
        ledger = budget.ledger_sums(plan.id)
        race = Order.plan_id == plan.id
        outcome = Outcome(
            world=world,
            succeeded=[value for kind, value in results if kind == "ok"],
            refused=[value for kind, value in results if kind == "refused"],
            errors=[value for kind, value in results if kind == "error"],
            amount=plan.amount,
            stored_reserved=plan.reserved,
            stored_consumed=plan.consumed,
            ledger=ledger,
            orders=db.session.scalar(sa.select(sa.func.count()).select_from(Order).where(race)),
            reservations=db.session.scalar(
                sa.select(sa.func.count())
                .select_from(LedgerEntry)
                .where(
                    LedgerEntry.plan_id == plan.id,
                    LedgerEntry.kind == LedgerKind.RESERVE,
                    LedgerEntry.reference != "SEED",
                )
            ),
            order_total=db.session.scalar(
                sa.select(sa.func.coalesce(sa.func.sum(Order.total), 0)).where(race)
            ),
        )
        db.session.remove()
    return outcome


def violations(outcome: Outcome, *, suppliers: int = 1) -> list[str]:
    """Everything that must hold after a race; empty when the budget was kept."""
    world = outcome.world
    problems = []
    if outcome.errors:
        problems.append(f"{len(outcome.errors)} unexpected exceptions, e.g. {outcome.errors[0]}")
    if outcome.stored_reserved + outcome.stored_consumed > outcome.amount:
        problems.append(f"stored reserved+consumed exceeds the plan amount {outcome.amount}")
    if outcome.ledger["reserved"] + outcome.ledger["consumed"] > outcome.amount:
        problems.append(
            f"overspent: the ledger commits {outcome.ledger['reserved'] + outcome.ledger['consumed']}"
            f" of {outcome.amount}"
        )
    if (outcome.stored_reserved, outcome.stored_consumed) != (
        outcome.ledger["reserved"],
        outcome.ledger["consumed"],
    ):
        problems.append(f"stored reserved {outcome.stored_reserved} != ledger {outcome.ledger['reserved']}")
    expected = int(world.available // world.checkout_amount)
    if len(outcome.succeeded) != expected:
        problems.append(f"{len(outcome.succeeded)} checkouts succeeded, expected floor = {expected}")
    if len(outcome.refused) != len(world.requests) - expected:
        problems.append(f"{len(outcome.refused)} refused, expected {len(world.requests) - expected}")
    off_message = [str(r) for r in outcome.refused if not BUDGET_MESSAGE.match(str(r))]
    if off_message:
        problems.append(f"refused for another reason: {off_message[0]}")
    made = len(outcome.succeeded) * suppliers
    if (outcome.orders, outcome.reservations) != (made, made):
        problems.append(f"{outcome.orders} orders / {outcome.reservations} reservations, expected {made}")
    committed = world.available - (outcome.amount - outcome.stored_reserved - outcome.stored_consumed)
    if (
        outcome.order_total != committed
        or outcome.order_total != len(outcome.succeeded) * world.checkout_amount
    ):
        problems.append(f"orders total {outcome.order_total}, budget moved {committed}")
    return problems


# -- a deliberately naive reservation: read, think, write (the bug this file exists to catch) --


def naive_reserve(plan, amount, *, reference, user=None, note=""):
    """Check the balance read a moment ago, then write ``reserved = old + amount``: what a budget
    check without a lock or a guarded UPDATE does. Never use outside this test."""
    current = db.session.execute(
        sa.select(ProcurementPlan.amount, ProcurementPlan.reserved, ProcurementPlan.consumed).where(
            ProcurementPlan.id == plan.id
        )
    ).one()
    if current.amount - current.reserved - current.consumed < amount:
        raise budget.BudgetError(
            f"采购计划 {plan.plan_no} 可用余额 ¥{current.amount - current.reserved - current.consumed:,.2f}，"
            f"不足以支付 ¥{amount:,.2f}。"
        )
    time.sleep(0.1)  # the time a remote check or a slow request takes
    db.session.execute(
        sa.update(ProcurementPlan)
        .where(ProcurementPlan.id == plan.id)
        .values(reserved=current.reserved + amount)
    )
    db.session.add(LedgerEntry(plan_id=plan.id, kind=LedgerKind.RESERVE, amount=amount, reference=reference))
    db.session.flush()


# -- the tests ---------------------------------------------------------------------------------


def test_fifty_buyers_against_one_plan_never_overspend(race_app):
    # 100,000 − 1,000 reserved − 500 consumed = 98,500 available: floor(98,500 / 3,000) = 32 win.
    world = seed(
        race_app,
        buyers=THREADS,
        plan_amount="100000.00",
        prices=("3000.00",),
        reserved="1000.00",
        consumed="500.00",
    )
    outcome = run_race(race_app, world)
    assert violations(outcome) == []
    assert len(outcome.succeeded) == 32
    assert len(outcome.refused) == 18
    assert {r.field for r in outcome.refused} == {"plan_id"}
    assert outcome.stored_reserved == Decimal("1000.00") + 32 * Decimal("3000.00")
    assert outcome.ledger == {
        "reserved": Decimal("97000.00"),
        "released": Decimal("0.00"),
        "consumed": Decimal("500.00"),
    }
    with race_app.app_context():
        # The refused buyers keep their carts; the others' carts were emptied by their orders.
        carts = db.session.scalars(sa.select(CartItem.user_id).where(CartItem.user_id.in_(world.buyer_ids)))
        assert len(set(carts)) == 18
        db.session.remove()


def test_fifty_buyers_through_the_checkout_page_never_overspend(race_app):
    # The same race through the HTTP stack (login, checkout page, form post): no 5xx, refusals
    # are the page's budget message.
    world = seed(race_app, buyers=THREADS, plan_amount="50000.00", prices=("3000.00",), reserved="1000.00")
    outcome = run_race(race_app, world, over_http=True)
    assert violations(outcome) == []
    assert (len(outcome.succeeded), len(outcome.refused)) == (16, 34)  # floor(49,000 / 3,000) = 16
    assert outcome.stored_reserved == outcome.ledger["reserved"] == Decimal("49000.00")


def test_the_same_harness_catches_a_naive_read_then_write_reservation(race_app):
    world = seed(
        race_app,
        buyers=THREADS,
        plan_amount="100000.00",
        prices=("3000.00",),
        reserved="1000.00",
        consumed="500.00",
    )
    outcome = run_race(race_app, world, reserve_fn=naive_reserve)
    found = violations(outcome)
    # More checkouts pass than the budget allows, and the stored total lost updates.
    assert len(outcome.succeeded) > 32
    assert any(problem.startswith("overspent") for problem in found), found
    assert any(problem.startswith("stored reserved") for problem in found), found
    assert any(problem.endswith("expected floor = 32") for problem in found), found


def test_a_two_supplier_checkout_is_all_or_nothing_under_concurrency(race_app):
    # 9,000 for checkouts of 3,000 + 2,000: one wins; each loser reserves its first order out of
    # the 4,000 left, then fails on its second — and must leave nothing of the first behind.
    world = seed(race_app, buyers=10, plan_amount="9000.00", prices=("3000.00", "2000.00"))
    real_reserve_all = budget.reserve_all  # the harness replaces it while the race runs
    calls = threading.local()
    everyone_checked = threading.Barrier(10, timeout=60)
    first_reserved = []

    def reserve_after_everyone_checked(plan, amount, **kw):
        # No thread reserves before all have passed the balance check, so the losers get as
        # far as their second reservation.
        calls.n = getattr(calls, "n", 0) + 1
        if calls.n == 1:
            everyone_checked.wait()
        real_reserve_all(plan, [(kw["reference"], amount)], user=kw.get("user"))
        if calls.n == 1:
            first_reserved.append(kw["reference"])

    outcome = run_race(race_app, world, reserve_fn=reserve_after_everyone_checked)
    assert violations(outcome, suppliers=2) == []
    assert len(outcome.succeeded) == 1 and len(outcome.succeeded[0][0]) == 2
    assert len(first_reserved) == 10  # every loser did reserve its first order...
    assert outcome.stored_reserved == Decimal("5000.00")  # ...and none of it is left
    with race_app.app_context():
        orders = db.session.scalars(sa.select(Order)).all()
        assert len(orders) == 2 and len({order.checkout_key for order in orders}) == 1
        numbers = sorted(order.number for order in orders)
        assert db.session.scalar(sa.select(sa.func.count()).select_from(OrderLine)) == 2
        assert sorted(db.session.scalars(sa.select(LedgerEntry.reference))) == numbers
        # No outbound event speaks of a loser's order: its events were rolled back with it.
        subjects = db.session.scalars(
            sa.select(WebhookEvent.subject).where(WebhookEvent.subject.is_not(None))
        )
        assert set(subjects) == set(numbers)
        # The nine losers still have their two-item carts.
        left = db.session.execute(
            sa.select(CartItem.user_id, sa.func.count()).group_by(CartItem.user_id)
        ).all()
        assert sorted(n for _, n in left) == [2] * 9
        db.session.remove()


def test_twenty_replays_of_one_checkout_make_one_set_of_orders(race_app):
    world = seed(race_app, buyers=20, plan_amount="100000.00", prices=("3000.00", "2000.00"), same_buyer=True)
    assert len({r.checkout_key for r in world.requests}) == 1
    # Spread over 0.2 s: some replays find the orders, some wait on the first's insert, some race it.
    outcome = run_race(race_app, world, spread=0.2)
    assert outcome.errors == [] and outcome.refused == []
    assert len(outcome.succeeded) == 20
    assert len({tuple(ids) for ids, _ in outcome.succeeded}) == 1
    assert sorted(replayed for _, replayed in outcome.succeeded) == [False] + [True] * 19
    assert (outcome.orders, outcome.reservations) == (2, 2)
    assert outcome.stored_reserved == outcome.ledger["reserved"] == Decimal("5000.00")


def test_a_double_click_that_finds_the_cart_already_emptied_gets_the_orders(race_app, monkeypatch):
    # The second submit looks for the checkout's orders before the first commits, and reads the
    # cart after the first has committed (and emptied it): a replay, not "your cart is empty".
    world = seed(race_app, buyers=2, plan_amount="100000.00", prices=("3000.00", "2000.00"), same_buyer=True)
    looked, first_committed = threading.Event(), threading.Event()
    look = checkout.existing_orders

    def existing_orders(user, key):
        found = look(user, key)
        if threading.current_thread().name == "second" and not looked.is_set():
            looked.set()
            assert first_committed.wait(30)
        return found

    monkeypatch.setattr(checkout, "existing_orders", existing_orders)
    results = {}

    def second():
        results["second"] = _submit(race_app, threading.Barrier(1), 0, world.buyer_ids[1], world.requests[1])

    thread = threading.Thread(target=second, name="second")
    thread.start()
    assert looked.wait(30)
    results["first"] = _submit(race_app, threading.Barrier(1), 0, world.buyer_ids[0], world.requests[0])
    first_committed.set()
    thread.join(30)
    kind, (ids, replayed) = results["first"]
    assert (kind, replayed, len(ids)) == ("ok", False, 2)
    assert results["second"] == ("ok", (ids, True))
    with race_app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(LedgerEntry)) == 2
        db.session.remove()
