"""Payments test fixtures: the application's in-process stub (reset around each test) and an
accepted order ready to be paid."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import pytest
import requests

from app.auth.models import User
from app.orders import checkout
from app.orders.lifecycle import Actor, transition
from app.orders.models import Order, OrderStatus
from app.payments.client import PaymentsClient
from app.payments.provider import get_client, stub_for
from app.payments.stub import StubProvider
from app.payments.transport import WSGIAdapter
from tests.orders.helpers import Shop, fill_cart, request_for, shop

STUB_URL = "http://stub.test"
TEST_KEY = "sk_test_payments_suite"


@pytest.fixture
def stub(app, monkeypatch) -> Iterator[StubProvider]:
    """The application's own in-process stub, emptied before and after the test; the application's
    client retries without waiting."""
    provider = stub_for(app)
    assert provider.background is False  # TestConfig: tests run settlements and deliveries themselves
    provider.reset()
    monkeypatch.setattr(get_client(app), "sleep", lambda _seconds: None)
    yield provider
    provider.reset()


@pytest.fixture
def lone_stub() -> Iterator[StubProvider]:
    """A stub of its own (no application), its events going nowhere unless a test says so."""
    provider = StubProvider(background=False, hang_seconds=5.0)
    yield provider
    provider.close()


def client_for(provider: StubProvider, **options) -> PaymentsClient:
    session = requests.Session()
    session.mount(STUB_URL + "/", WSGIAdapter(provider))
    options.setdefault("sleep", lambda _seconds: None)
    return PaymentsClient(STUB_URL, TEST_KEY, session=session, **options)


@pytest.fixture
def app_client(app, stub) -> PaymentsClient:
    return get_client(app)


@dataclasses.dataclass
class Bought:
    world: Shop
    order: Order

    @property
    def purchaser(self) -> User:
        return self.world.purchaser


def accepted_order(quantity: int = 2, **shop_options) -> Bought:
    """An order of ``quantity`` × ¥3,000.00 from suppliers[0], delivered and accepted."""
    world = shop(**shop_options)
    fill_cart(world.purchaser, (world.offers[0], quantity))
    orders, _replayed = checkout.submit(world.purchaser, request_for(world.purchaser, world.plan))
    (order,) = orders
    supplier = Actor.of_user(world.supplier_users[0])
    transition(order, OrderStatus.CONFIRMED, supplier)
    transition(order, OrderStatus.SHIPPED, supplier, tracking_number="SF1234567890")
    transition(order, OrderStatus.DELIVERED, supplier)
    transition(order, OrderStatus.ACCEPTED, Actor.of_user(world.purchaser))
    return Bought(world, order)
