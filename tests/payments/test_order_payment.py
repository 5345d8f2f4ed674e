"""Paying an accepted order end to end in-process: the purchaser asks, the job creates and confirms
an intent at the application's stub with the order's idempotency key, the stub's signed event comes
back through /payments/events, and the order is paid with its budget consumed. Declines leave the
order payment_pending with the reason shown; a new attempt pays it."""

from __future__ import annotations

from decimal import Decimal

import pytest
import sqlalchemy as sa

from app.auth.models import OrgKind, Role
from app.extensions import db
from app.orders import services as services_orders
from app.orders.lifecycle import Actor
from app.orders.models import Order, OrderStatus
from app.payments import jobs, services
from app.payments.models import EventOutcome, Payment, PaymentStatus, ProviderEvent
from app.procurement.models import LedgerEntry, LedgerKind
from tests import factories
from tests.conftest import csrf_from, login
from tests.payments.conftest import accepted_order

TOTAL = Decimal("6000.00")
RETRY_BUTTON = '<button type="submit">重新支付</button>'


def ask(client, order, user=None, **extra):
    if user is not None:
        login(client, user.username)
    token = csrf_from(client, "/payments/")
    return client.post("/payments/request", data={"csrf_token": token, "order_id": order.id, **extra})


def reload(bought):
    db.session.expire_all()
    order = db.session.get(Order, bought.order.id)
    payments = db.session.scalars(
        sa.select(Payment).where(Payment.order_id == order.id).order_by(Payment.attempt)
    )
    return order, list(payments)


def consumed(order) -> list[Decimal]:
    return list(
        db.session.scalars(
            sa.select(LedgerEntry.amount).where(
                LedgerEntry.reference == order.number, LedgerEntry.kind == LedgerKind.CONSUME
            )
        )
    )


def test_the_purchaser_pays_and_the_providers_event_marks_the_order_paid(client, stub):
    bought = accepted_order()
    response = ask(client, bought.order, bought.purchaser, next="/payments/")
    assert response.status_code == 302, response.get_data(as_text=True)
    assert response.headers["Location"] == "/payments/"
    order, (payment,) = reload(bought)
    assert order.status is OrderStatus.PAYMENT_PENDING
    assert payment.status is PaymentStatus.PROCESSING
    assert payment.attempt == 1
    assert payment.idempotency_key == f"pay-{order.number}-1"
    assert payment.amount == TOTAL
    intent = stub.intents[payment.intent_id]
    assert (intent["amount"], intent["currency"], intent["status"]) == (600000, "cny", "processing")
    assert intent["metadata"] == {"order_no": order.number, "attempt": "1", "payment_id": str(payment.id)}
    assert [(m, p, k) for m, p, k in stub.requests_seen if m == "POST"] == [
        ("POST", "/v1/payment_intents", f"pay-{order.number}-1"),
        ("POST", f"/v1/payment_intents/{payment.intent_id}/confirm", f"pay-{order.number}-1-confirm"),
    ]
    assert consumed(order) == []

    assert stub.run_pending() == 2  # the settlement, then the delivery of its event
    (delivery,) = stub.deliveries
    assert delivery.delivered and [a["status"] for a in delivery.attempts] == [200]
    order, (payment,) = reload(bought)
    assert order.status is OrderStatus.PAID
    assert order.paid_at is not None
    assert payment.status is PaymentStatus.SUCCEEDED
    assert consumed(order) == [TOTAL]
    plan = db.session.get(type(bought.world.plan), bought.world.plan.id)
    assert (plan.reserved, plan.consumed) == (Decimal("0.00"), TOTAL)
    assert [(e.id, e.outcome) for e in db.session.scalars(sa.select(ProviderEvent))] == [
        (delivery.event_id, EventOutcome.APPLIED)
    ]

    # The stub's recorded delivery replayed byte for byte: refused, nothing paid twice.
    replay = client.post("/payments/events", data=delivery.body, headers=delivery.headers)
    assert replay.status_code == 400 and replay.get_json()["error"] == "duplicate"
    order, _ = reload(bought)
    assert consumed(order) == [TOTAL]

    page = client.get("/payments/").get_data(as_text=True)
    assert order.number in page and "支付成功" in page and RETRY_BUTTON not in page


def test_a_decline_at_confirm_keeps_the_order_pending_shows_the_reason_and_a_retry_pays(client, stub):
    bought = accepted_order()
    stub.decline_next(1, decline_code="insufficient_funds")
    assert ask(client, bought.order, bought.purchaser).status_code == 302
    order, (payment,) = reload(bought)
    assert order.status is OrderStatus.PAYMENT_PENDING
    assert payment.status is PaymentStatus.FAILED
    assert (payment.failure_code, payment.failure_message) == (
        "insufficient_funds",
        "Your card has insufficient funds.",
    )
    assert services.failure_label(payment) == "账户余额不足（Your card has insufficient funds.）"
    # Its payment_failed event arrives afterwards and changes nothing.
    stub.run_pending()
    assert [(e.outcome, e.type) for e in db.session.scalars(sa.select(ProviderEvent))] == [
        (EventOutcome.IGNORED, "payment_intent.payment_failed")
    ]
    page = client.get("/payments/").get_data(as_text=True)
    assert "账户余额不足" in page and RETRY_BUTTON in page

    assert ask(client, bought.order).status_code == 302
    order, payments = reload(bought)
    assert [(p.attempt, p.status) for p in payments] == [
        (1, PaymentStatus.FAILED),
        (2, PaymentStatus.PROCESSING),
    ]
    assert payments[1].idempotency_key == f"pay-{order.number}-2"
    assert payments[1].intent_id != payments[0].intent_id
    stub.run_pending()
    order, payments = reload(bought)
    assert order.status is OrderStatus.PAID
    assert [p.status for p in payments] == [PaymentStatus.FAILED, PaymentStatus.SUCCEEDED]
    assert consumed(order) == [TOTAL]


def test_a_decline_after_processing_arrives_as_an_event(client, stub):
    bought = accepted_order()
    stub.decline_next(1, decline_code="processing_error", at_confirm=False)
    ask(client, bought.order, bought.purchaser)
    order, (payment,) = reload(bought)
    assert payment.status is PaymentStatus.PROCESSING
    stub.run_pending()
    order, (payment,) = reload(bought)
    assert order.status is OrderStatus.PAYMENT_PENDING
    assert payment.status is PaymentStatus.FAILED
    assert payment.failure_code == "processing_error"
    assert services.can_request(order)


def test_a_second_request_while_one_is_processing_is_refused(client, stub):
    bought = accepted_order()
    ask(client, bought.order, bought.purchaser)
    response = ask(client, bought.order)
    assert response.status_code == 409
    assert "正在处理中" in response.get_data(as_text=True)
    _order, payments = reload(bought)
    assert len(payments) == 1
    assert len(stub.intents) == 1


def test_payment_is_refused_before_acceptance_and_after_payment(client, stub, db_session):
    bought = accepted_order()
    order = bought.order
    order.status = OrderStatus.DELIVERED
    db.session.flush()
    response = ask(client, order, bought.purchaser)
    assert response.status_code == 409
    assert "验收通过后才能支付" in response.get_data(as_text=True)
    assert reload(bought)[1] == [] and stub.intents == {}


@pytest.mark.parametrize("who", ["other_purchaser", "supplier", "approver", "regulator"])
def test_only_the_buying_unit_or_finance_may_pay(client, stub, who):
    bought = accepted_order()
    users = {
        "other_purchaser": lambda: factories.user(factories.org(OrgKind.PURCHASING_UNIT), Role.PURCHASER),
        "supplier": lambda: bought.world.supplier_users[0],
        "approver": lambda: bought.world.approver,
        "regulator": lambda: factories.user(factories.org(OrgKind.REGULATOR)),
    }
    response = ask(client, bought.order, users[who]())
    assert response.status_code == (404 if who == "other_purchaser" else 403)
    order, payments = reload(bought)
    assert order.status is OrderStatus.ACCEPTED and payments == [] and stub.intents == {}


def test_a_finance_user_may_pay_any_units_order(client, stub):
    bought = accepted_order()
    finance = factories.user(factories.org(OrgKind.FINANCE))
    assert ask(client, bought.order, finance).status_code == 302
    order, (payment,) = reload(bought)
    assert order.status is OrderStatus.PAYMENT_PENDING
    assert payment.requested_by_label == finance.display_name


def test_bad_form_input_is_a_clear_422_not_a_500(client, stub):
    bought = accepted_order()
    login(client, bought.purchaser.username)
    token = csrf_from(client, "/payments/")
    for data in ({}, {"order_id": "abc"}, {"order_id": "-3"}, {"order_id": "99999999999999999999"}):
        response = client.post("/payments/request", data={"csrf_token": token, **data})
        assert response.status_code == 422
    assert client.post("/payments/request", data={"order_id": bought.order.id}).status_code == 400  # no CSRF


def test_the_list_shows_only_the_users_own_units_payments(client, stub):
    mine, theirs = accepted_order(), accepted_order()
    for bought in (mine, theirs):
        services.request_payment(bought.order, Actor.of_user(bought.purchaser))
    login(client, mine.purchaser.username)
    page = client.get("/payments/").get_data(as_text=True)
    assert mine.order.number in page and theirs.order.number not in page
    other = app_login_supplier(client, theirs)
    page = other.get("/payments/").get_data(as_text=True)
    assert theirs.order.number in page and mine.order.number not in page


def app_login_supplier(client, bought):
    fresh = client.application.test_client()
    login(fresh, bought.world.supplier_users[0].username)
    return fresh


def test_a_provider_outage_leaves_the_attempt_pending_and_the_sweeper_submits_it_again(client, stub):
    bought = accepted_order()
    stub.add_fault("error", status=503, method="POST", count=4)  # the first try and three retries
    ask(client, bought.order, bought.purchaser)
    order, (payment,) = reload(bought)
    assert order.status is OrderStatus.PAYMENT_PENDING
    assert payment.status is PaymentStatus.PENDING
    assert payment.intent_id is None
    assert "503" in payment.provider_error
    assert stub.intents == {}
    # Later the provider is back and the job runs again (the sweeper enqueues it): same keys.
    jobs.submit_payment(payment.id)
    order, (payment,) = reload(bought)
    assert payment.status is PaymentStatus.PROCESSING and payment.provider_error is None
    keys = {k for m, _p, k in stub.calls if m == "POST"}
    assert keys == {f"pay-{order.number}-1", f"pay-{order.number}-1-confirm"}
    assert len(stub.intents) == 1
    stub.run_pending()
    assert reload(bought)[0].status is OrderStatus.PAID


def test_running_the_submission_twice_creates_and_confirms_one_intent(client, stub):
    bought = accepted_order()
    stub.add_fault("error", when="after", path="/confirm", count=4)  # confirmed, but every answer lost
    ask(client, bought.order, bought.purchaser)
    _order, (payment,) = reload(bought)
    assert payment.status is PaymentStatus.PENDING and payment.intent_id is not None
    jobs.submit_payment(payment.id)  # again: the intent is known, the confirm replays
    _order, (payment,) = reload(bought)
    assert payment.status is PaymentStatus.PROCESSING
    assert len(stub.intents) == 1
    stub.run_pending()
    order, (payment,) = reload(bought)
    assert (order.status, payment.status) == (OrderStatus.PAID, PaymentStatus.SUCCEEDED)
    assert consumed(order) == [TOTAL]


def test_the_sweeper_asks_about_a_confirmed_attempt_whose_event_never_came(client, stub, app):
    bought = accepted_order()
    ask(client, bought.order, bought.purchaser)
    _order, (payment,) = reload(bought)
    stub.configure_events(None, None)  # the event is lost
    stub.run_pending()
    stub.configure_events("http://emall.internal/payments/events", "whsec_test_events_secret")
    assert reload(bought)[0].status is OrderStatus.PAYMENT_PENDING
    jobs.reconcile_payment(payment.id)
    order, (payment,) = reload(bought)
    assert (order.status, payment.status) == (OrderStatus.PAID, PaymentStatus.SUCCEEDED)
    assert consumed(order) == [TOTAL]


def test_the_periodic_sweep_resubmits_lost_submissions_and_reconciles_lost_events(client, stub):
    from datetime import timedelta

    from app.core.db import utcnow
    from app.core.scheduler import PERIODIC

    assert ("app.payments.jobs.sweep", 60) in PERIODIC
    lost_job, lost_event, fresh = accepted_order(), accepted_order(), accepted_order()
    stub.add_fault("error", status=503, count=4)
    services.request_payment(lost_job.order, Actor.of_user(lost_job.purchaser))
    db.session.commit()  # the job runs after commit and fails: the provider is down
    stub.clear_faults()
    services.request_payment(lost_event.order, Actor.of_user(lost_event.purchaser))
    db.session.commit()
    stub.configure_events(None, None)
    stub.run_pending()  # settled, but its event is lost
    stub.configure_events("http://emall.internal/payments/events", "whsec_test_events_secret")
    services.request_payment(fresh.order, Actor.of_user(fresh.purchaser))
    db.session.commit()
    _order, (pending,) = reload(lost_job)
    assert pending.status is PaymentStatus.PENDING
    _order, (processing,) = reload(fresh)
    assert processing.status is PaymentStatus.PROCESSING

    jobs.sweep()  # too early: nothing is old enough
    assert reload(lost_job)[1][0].status is PaymentStatus.PENDING
    assert reload(lost_event)[0].status is OrderStatus.PAYMENT_PENDING

    long_ago = utcnow() - timedelta(minutes=30)
    for bought in (lost_job, lost_event):
        db.session.execute(
            sa.update(Payment)
            .where(Payment.order_id == bought.order.id)
            .values(created_at=long_ago, updated_at=long_ago, submitted_at=long_ago)
        )
    db.session.commit()
    jobs.sweep()
    assert reload(lost_event)[0].status is OrderStatus.PAID  # asked the provider
    assert reload(lost_job)[1][0].status is PaymentStatus.PROCESSING  # submitted again
    assert reload(fresh)[1][0].status is PaymentStatus.PROCESSING  # left alone
    stub.run_pending()
    assert [reload(b)[0].status for b in (lost_job, lost_event, fresh)] == [OrderStatus.PAID] * 3
    assert [consumed(reload(b)[0]) for b in (lost_job, lost_event, fresh)] == [[TOTAL]] * 3


def test_the_order_pages_payment_section_renders_attempts_reasons_and_the_button(app, client, stub):
    from flask import render_template_string
    from flask_login import login_user

    bought = accepted_order()
    stub.decline_next(1, decline_code="insufficient_funds")
    services.request_payment(bought.order, Actor.of_user(bought.purchaser))
    db.session.commit()
    order, _payments = reload(bought)
    template = (
        '{% from "payments/_macros.html" import order_payment_section %}'
        "{{ order_payment_section(order, payments, can_pay, failure_label) }}"
    )
    with app.test_request_context("/orders/x"):
        login_user(bought.purchaser)
        html = render_template_string(
            template, order=order, **services.order_section(order, bought.purchaser)
        )
        supplier = bought.world.supplier_users[0]
        login_user(supplier)
        seen_by_supplier = render_template_string(
            template, order=order, **services.order_section(order, supplier)
        )
    assert "账户余额不足" in html and "支付失败" in html
    assert "重新支付 ¥6,000.00" in html and f'name="order_id" value="{order.id}"' in html
    assert "账户余额不足" in seen_by_supplier and "重新支付" not in seen_by_supplier


def test_an_order_evaluated_before_payment_is_completed_by_the_payment(client, stub):
    bought = accepted_order()
    services_orders.evaluate(bought.order, bought.purchaser, quality=5, delivery=5, service=4)
    assert ask(client, bought.order, bought.purchaser).status_code == 302
    stub.run_pending()
    order, (payment,) = reload(bought)
    assert payment.status is PaymentStatus.SUCCEEDED
    assert order.status is OrderStatus.COMPLETED
    assert [e.to_status for e in order.history][-2:] == ["paid", "completed"]
