"""The embedded default as ``make run`` has it: the stub mounted in-process settling and delivering
on its own thread, the event coming back through the application's own receiver on another
thread, real commits — and no other process."""

from __future__ import annotations

import time

import pytest
from flask_migrate import upgrade

from app import create_app
from app.extensions import db
from app.orders.models import Order, OrderStatus
from app.payments.models import Payment, PaymentStatus
from app.payments.provider import stub_for
from tests.conftest import csrf_from, login, make_test_config
from tests.payments.conftest import accepted_order


@pytest.fixture(params=["sqlite", "postgresql"])
def committed_url(request, tmp_path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'embedded.sqlite3'}"
    return request.getfixturevalue("committed_database")


def test_an_order_is_paid_by_the_background_stub_with_no_other_process(committed_url):
    app = create_app(
        make_test_config(committed_url, PAYMENTS_STUB_BACKGROUND=True, PAYMENTS_STUB_SETTLE_DELAY=0.05)
    )
    try:
        with app.app_context():
            upgrade()
            bought = accepted_order()
            db.session.commit()
            order_id, username = bought.order.id, bought.purchaser.username
            db.session.remove()
        client = app.test_client()
        login(client, username)
        token = csrf_from(client, "/payments/")
        assert (
            client.post("/payments/request", data={"csrf_token": token, "order_id": order_id}).status_code
            == 302
        )
        deadline = time.monotonic() + 20
        while True:
            with app.app_context():
                order = db.session.get(Order, order_id)
                status = order.status
                payments = [
                    (p.attempt, p.status) for p in db.session.query(Payment).filter_by(order_id=order_id)
                ]
                db.session.remove()
            if status is OrderStatus.PAID:
                break
            assert time.monotonic() < deadline, (status, payments)
            time.sleep(0.05)
        assert payments == [(1, PaymentStatus.SUCCEEDED)]
        stub = stub_for(app)
        assert stub.wait_idle(5)
        (delivery,) = stub.deliveries
        assert delivery.delivered and [a["status"] for a in delivery.attempts] == [200]
    finally:
        stub_for(app).close()
        with app.app_context():
            db.engine.dispose()
