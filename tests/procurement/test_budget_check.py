"""The finance budget API hook, against a real HTTP server on a local port (a thread).

``BUDGET_CHECK_URL`` is asked before any budget is reserved: three tries at most on network errors,
timeouts and 5xx, ``Idempotency-Key`` = the order number (the same on every try, and on a retried
checkout), anything but a clear yes refuses the checkout (fail closed) with nothing reserved, and the
answer with its latency is recorded on the order.
"""

from __future__ import annotations

import dataclasses
import json
import threading
import time
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.orders import cart
from app.orders.checkout import CheckoutError, submit
from app.orders.models import Order
from app.procurement import budget_check
from app.procurement.models import LedgerEntry
from app.webhooks.models import WebhookEvent
from tests.orders.helpers import fill_cart, request_for, shop

UNAVAILABLE = "财政预算系统暂时无法确认预算，订单未提交，请稍后重试。"


@dataclasses.dataclass
class Step:
    """One answer of the fake finance system: HTTP status, JSON body (or raw bytes), delay."""

    status: int = 200
    body: object = dataclasses.field(default_factory=lambda: {"approved": True, "reason": ""})
    delay: float = 0.0
    headers: dict = dataclasses.field(default_factory=dict)


class FinanceBudgetApi:
    """A finance budget API on 127.0.0.1: answers with ``script`` in order (the last step repeats)
    and records every request it receives."""

    def __init__(self, script: list[Step]):
        self.script = list(script)
        self.requests: list[dict] = []
        self._lock = threading.Lock()
        api = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with api._lock:
                    api.requests.append(
                        {
                            "path": self.path,
                            "idempotency_key": self.headers.get("Idempotency-Key"),
                            "content_type": self.headers.get("Content-Type"),
                            "json": json.loads(raw),
                        }
                    )
                    step = api.script.pop(0) if len(api.script) > 1 else api.script[0]
                time.sleep(step.delay)
                payload = step.body if isinstance(step.body, bytes) else json.dumps(step.body).encode()
                try:
                    self.send_response(step.status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    for name, value in step.headers.items():
                        self.send_header(name, value)
                    self.end_headers()
                    self.wfile.write(payload)
                except OSError:
                    pass  # the client gave up waiting (the timeout tests)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/budget/check"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)


@pytest.fixture
def finance_api(app, monkeypatch):
    """Start a fake finance budget API answering with the given steps and point the app at it."""
    started = []

    def start(*script: Step) -> FinanceBudgetApi:
        api = FinanceBudgetApi(list(script)).__enter__()
        started.append(api)
        monkeypatch.setitem(app.config, "BUDGET_CHECK_URL", api.url)
        return api

    yield start
    for api in started:
        api.__exit__(None, None, None)


@pytest.fixture
def world(db_session):
    world = shop(prices=("3000.00", "2000.00"))
    fill_cart(world.purchaser, (world.offers[0], 2))
    return world


def orders_count() -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(Order))


def assert_nothing_reserved(world) -> None:
    assert orders_count() == 0
    assert db.session.scalar(sa.select(sa.func.count()).select_from(LedgerEntry)) == 0
    assert db.session.scalar(sa.select(sa.func.count()).select_from(WebhookEvent)) == 0
    db.session.refresh(world.plan)
    assert (world.plan.reserved, world.plan.available) == (Decimal("0.00"), Decimal("100000.00"))
    assert cart.count(world.purchaser) == 1  # the cart is kept for another try


def test_without_a_configured_url_only_the_local_ledger_is_checked(app, world):
    assert app.config["BUDGET_CHECK_URL"] is None
    [order], _ = submit(world.purchaser, request_for(world.purchaser, world.plan))
    assert order.budget_check == {
        "source": "local",
        "approved": True,
        "reason": "",
        "latency_ms": 0,
        "attempts": 0,
    }


def test_an_approval_is_recorded_on_the_order_with_its_latency(finance_api, world):
    api = finance_api(Step(body={"approved": True, "reason": "指标充足"}, delay=0.15))
    [order], replayed = submit(world.purchaser, request_for(world.purchaser, world.plan))
    assert not replayed
    assert {k: v for k, v in order.budget_check.items() if k != "latency_ms"} == {
        "source": "finance",
        "approved": True,
        "reason": "指标充足",
        "attempts": 1,
    }
    assert 150 <= order.budget_check["latency_ms"] < 3000
    [request] = api.requests
    assert request["path"] == "/budget/check"
    assert request["idempotency_key"] == order.number
    assert request["content_type"] == "application/json"
    assert request["json"] == {
        "order_no": order.number,
        "plan_no": world.plan.plan_no,
        "budget_line_code": "2010301",
        "fiscal_year": world.plan.fiscal_year,
        "amount": "6000.00",
        "currency": "CNY",
    }
    db.session.refresh(world.plan)
    assert world.plan.reserved == Decimal("6000.00")
    # What was recorded is what is stored.
    db.session.expire(order)
    assert order.budget_check["reason"] == "指标充足"


def test_every_suppliers_order_is_checked_with_its_own_number(finance_api, world):
    fill_cart(world.purchaser, (world.offers[1], 1))
    api = finance_api(Step())
    orders, _ = submit(world.purchaser, request_for(world.purchaser, world.plan))
    by_number = {o.number: o for o in orders}
    assert len(by_number) == 2
    assert sorted(r["idempotency_key"] for r in api.requests) == sorted(by_number)
    for request in api.requests:
        order = by_number[request["idempotency_key"]]
        assert request["json"]["order_no"] == order.number
        assert request["json"]["amount"] == str(order.total)


def test_a_refusal_refuses_the_checkout_with_the_reason_and_reserves_nothing(finance_api, world):
    api = finance_api(Step(body={"approved": False, "reason": "该预算项目本年度指标已用完"}))
    with pytest.raises(CheckoutError) as refused:
        submit(world.purchaser, request_for(world.purchaser, world.plan))
    number = api.requests[0]["idempotency_key"]
    assert str(refused.value) == f"财政预算系统拒绝了订单 {number}：该预算项目本年度指标已用完"
    assert len(api.requests) == 1  # a refusal is an answer: never retried
    assert_nothing_reserved(world)


@pytest.mark.parametrize(
    ("step", "reason"),
    [
        (Step(body={"approved": "yes"}), "财政预算系统未通过预算校验"),  # not a clear yes
        (Step(body=b"<html>OK</html>"), "财政预算系统未通过预算校验"),  # not JSON
        (Step(body=["approved"]), "财政预算系统未通过预算校验"),
        (Step(status=400, body={"error": "bad plan"}), "HTTP 400"),
        (Step(status=302, body={}, headers={"Location": "http://127.0.0.1:1/elsewhere"}), "HTTP 302"),
    ],
)
def test_anything_but_a_clear_yes_is_a_no(finance_api, world, step, reason):
    api = finance_api(step)
    with pytest.raises(CheckoutError) as refused:
        submit(world.purchaser, request_for(world.purchaser, world.plan))
    number = api.requests[0]["idempotency_key"]
    assert str(refused.value) == f"财政预算系统拒绝了订单 {number}：{reason}"
    assert len(api.requests) == 1  # neither retried nor redirected
    assert_nothing_reserved(world)


def test_two_5xx_then_an_approval_succeeds_on_the_third_try_with_one_key(finance_api, world):
    api = finance_api(Step(status=503, body={}), Step(status=500, body={}), Step())
    [order], _ = submit(world.purchaser, request_for(world.purchaser, world.plan))
    assert order.budget_check["attempts"] == 3
    assert order.budget_check["approved"] is True
    assert [r["idempotency_key"] for r in api.requests] == [order.number] * 3
    assert [r["json"] for r in api.requests] == [api.requests[0]["json"]] * 3
    db.session.refresh(world.plan)
    assert world.plan.reserved == Decimal("6000.00")


def test_always_5xx_fails_closed_after_three_tries(finance_api, world):
    api = finance_api(Step(status=502, body={}))
    with pytest.raises(CheckoutError) as refused:
        submit(world.purchaser, request_for(world.purchaser, world.plan))
    assert str(refused.value) == UNAVAILABLE
    assert len(api.requests) == 3
    assert len({r["idempotency_key"] for r in api.requests}) == 1
    assert_nothing_reserved(world)


def test_a_finance_system_slower_than_the_timeout_fails_closed(finance_api, world, monkeypatch):
    monkeypatch.setattr(budget_check, "TIMEOUT_S", 0.2)
    api = finance_api(Step(delay=0.6))
    started = time.monotonic()
    with pytest.raises(CheckoutError) as refused:
        submit(world.purchaser, request_for(world.purchaser, world.plan))
    elapsed = time.monotonic() - started
    assert str(refused.value) == UNAVAILABLE
    assert len(api.requests) == 3
    assert 0.6 <= elapsed < 1.8  # three tries of 0.2 s, not three answers of 0.6 s
    assert_nothing_reserved(world)


def test_a_timeout_then_an_answer_in_time_succeeds(finance_api, world, monkeypatch):
    monkeypatch.setattr(budget_check, "TIMEOUT_S", 0.2)
    api = finance_api(Step(delay=0.5), Step(body={"approved": True, "reason": "ok"}))
    [order], _ = submit(world.purchaser, request_for(world.purchaser, world.plan))
    assert (order.budget_check["attempts"], order.budget_check["reason"]) == (2, "ok")
    assert order.budget_check["latency_ms"] >= 200
    assert [r["idempotency_key"] for r in api.requests] == [order.number] * 2


def test_an_unreachable_finance_system_fails_closed(app, world, monkeypatch):
    with FinanceBudgetApi([Step()]) as api:
        url = api.url
    # The server is gone: the port refuses connections.
    monkeypatch.setitem(app.config, "BUDGET_CHECK_URL", url)
    with pytest.raises(CheckoutError) as refused:
        submit(world.purchaser, request_for(world.purchaser, world.plan))
    assert str(refused.value) == UNAVAILABLE
    assert_nothing_reserved(world)


def test_a_retried_checkout_asks_again_with_the_same_order_number(finance_api, world):
    api = finance_api(Step(status=500, body={}), Step(status=500, body={}), Step(status=500, body={}), Step())
    request = request_for(world.purchaser, world.plan)
    with pytest.raises(CheckoutError):
        submit(world.purchaser, request)
    [order], replayed = submit(world.purchaser, request)  # the buyer presses submit again
    assert not replayed
    assert [r["idempotency_key"] for r in api.requests] == [order.number] * 4
    assert order.budget_check["attempts"] == 1
