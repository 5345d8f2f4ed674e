"""Fan-out in the transaction, delivery after commit, and what every kind of answer does: 2xx,
retries on the schedule, Retry-After, 410, redirects, timeouts, network errors, the SSRF guard at
delivery time, secret rotation, leases of dead workers and manual replay — against a real local
HTTP receiver, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import socket
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest
from sqlalchemy import func, select, update

from app.core.db import utcnow
from app.extensions import db
from app.webhooks import delivery, services
from app.webhooks.delivery import SCHEDULE, claim, next_attempt
from app.webhooks.models import DeliveryStatus, WebhookDelivery, WebhookEvent
from app.webhooks.transport import SendResult, parse_retry_after
from tests import factories
from tests.webhooks.helpers import Reply, attempts_of, emit_one, endpoint, free_port, fresh, receiver, verify


def make_due(delivery_id: int) -> None:
    """Let time pass: the delivery's next attempt is due now."""
    db.session.execute(
        update(WebhookDelivery)
        .where(WebhookDelivery.id == delivery_id)
        .values(next_attempt_at=utcnow() - timedelta(seconds=1))
    )
    db.session.flush()


# -- fan-out -------------------------------------------------------------------------------------


def test_emit_fans_out_to_enabled_subscribed_endpoints_in_the_same_transaction(db_session):
    every = endpoint()
    orders = endpoint(event_types=["order.*"])
    budget_only = endpoint(event_types=["budget.reserved"])
    endpoint(enabled=False)
    _event_id, deliveries = emit_one("order.confirmed")
    assert [d.endpoint_id for d in deliveries] == [every.id, orders.id]
    assert all(d.status == DeliveryStatus.PENDING and d.attempts == 0 for d in deliveries)
    assert all(d.next_attempt_at is not None for d in deliveries)
    _id, budget = emit_one("budget.reserved")
    assert [d.endpoint_id for d in budget] == [every.id, budget_only.id]
    _id, none = emit_one("budget.released")
    assert [d.endpoint_id for d in none] == [every.id]


def test_an_endpoint_added_in_the_same_transaction_receives_the_later_events(db_session):
    _e1, before = emit_one()
    assert before == []
    hook = endpoint()
    _e2, after = emit_one()
    assert [d.endpoint_id for d in after] == [hook.id]
    hook.enabled = False
    db.session.flush()
    _e3, disabled = emit_one()
    assert disabled == []


def test_without_endpoints_an_event_is_recorded_and_nothing_else(db_session):
    event_id, deliveries = emit_one()
    assert deliveries == []
    assert db.session.get(WebhookEvent, event_id).type == "order.confirmed"


def test_rollback_leaves_no_event_no_delivery_and_sends_nothing(app, db_session, allow_local):
    with receiver() as server:
        hook = endpoint(url=server.url)
        hook_id = hook.id
        db.session.commit()
        event_id, _deliveries = emit_one()
        db.session.rollback()
        assert db.session.get(WebhookEvent, event_id) is None
        count = (
            select(func.count()).select_from(WebhookDelivery).where(WebhookDelivery.endpoint_id == hook_id)
        )
        assert db.session.scalar(count) == 0
        db.session.commit()  # a later commit has nothing left over to send
        assert server.requests == []


def test_after_commit_the_event_is_delivered_signed(app, db_session, allow_local):
    with receiver(Reply(200, b'{"received":true}')) as server:
        hook = endpoint(url=server.url)
        secret = hook.secret
        event_id, [item] = emit_one("order.confirmed", order_no="DD-42", total="4999.00")
        assert server.requests == []  # nothing before the commit
        db.session.commit()
        [got] = server.wait_for(1)
    assert got.path == "/hooks"
    assert got.headers["webhook-id"] == event_id
    assert got.headers["content-type"] == "application/json"
    assert got.headers["webhook-signature"].startswith("v1,") and " " not in got.headers["webhook-signature"]
    body = verify(secret, got)
    assert body["type"] == "order.confirmed"
    assert body["data"] == {"order_no": "DD-42", "total": "4999.00"}
    assert body["timestamp"].endswith("Z")
    item = fresh(item)
    assert (item.status, item.attempts, item.last_status_code, item.last_error) == (
        DeliveryStatus.SUCCEEDED,
        1,
        200,
        None,
    )
    assert item.next_attempt_at is None and item.locked_until is None and item.lease_token is None
    assert item.succeeded_at is not None
    [attempt] = attempts_of(item.id)
    assert (attempt.number, attempt.status_code, attempt.response_excerpt, attempt.error) == (
        1,
        200,
        '{"received":true}',
        None,
    )
    assert attempt.finished_at >= attempt.started_at and attempt.duration_ms >= 0
    assert attempt.manual is False


# -- the schedule ---------------------------------------------------------------------------------


def test_the_schedule_is_ten_attempts_over_about_three_days():
    assert SCHEDULE == (0, 5, 300, 1800, 7200, 18000, 36000, 50400, 72000, 86400)
    assert 3 * 86400 < sum(SCHEDULE) < 3.2 * 86400


@pytest.mark.parametrize("step", range(1, 10))
def test_next_attempt_follows_the_schedule(step):
    now = datetime(2026, 1, 1, tzinfo=UTC)
    status, at = next_attempt(SendResult(status_code=500), step, now)
    assert status == DeliveryStatus.PENDING
    assert at == now + timedelta(seconds=SCHEDULE[step])


def test_after_the_tenth_failure_the_delivery_is_given_up():
    now = datetime(2026, 1, 1, tzinfo=UTC)
    assert next_attempt(SendResult(status_code=500), 10, now) == (DeliveryStatus.FAILED, None)
    assert next_attempt(SendResult(status_code=204), 10, now) == (DeliveryStatus.SUCCEEDED, None)


def test_every_failure_is_retried_on_schedule_then_given_up_with_the_same_webhook_id(
    app, db_session, allow_local
):
    with receiver(Reply(500, b"internal error")) as server:
        hook = endpoint(url=server.url)
        event_id, [item] = emit_one()
        for number in range(1, 11):
            if number > 1:
                make_due(item.id)
            assert delivery.sweep() == 1
            item = fresh(item)
            attempts = attempts_of(item.id)
            assert [a.number for a in attempts] == list(range(1, number + 1))
            assert attempts[-1].status_code == 500 and attempts[-1].response_excerpt == "internal error"
            assert item.attempts == number and item.last_status_code == 500
            assert item.last_error == "HTTP 500"
            if number < 10:
                assert item.status == DeliveryStatus.PENDING
                assert item.next_attempt_at - attempts[-1].finished_at == timedelta(seconds=SCHEDULE[number])
                assert delivery.sweep() == 0  # not due yet: nothing is sent
        assert item.status == DeliveryStatus.FAILED and item.next_attempt_at is None
        assert len(server.requests) == 10
        assert {r.headers["webhook-id"] for r in server.requests} == {event_id}
        assert len({r.headers["webhook-timestamp"] for r in server.requests}) >= 1
        make_due(item.id)
        assert delivery.sweep() == 0  # a failed delivery is not retried on its own
        assert fresh(hook).enabled


@pytest.mark.parametrize(
    ("code", "body"),
    [(500, b"oops"), (503, b"maintenance"), (408, b"timeout"), (425, b"too early"), (429, b"slow down")],
)
def test_server_errors_and_transient_client_errors_are_retried(app, db_session, allow_local, code, body):
    with receiver(Reply(code, body)) as server:
        endpoint(url=server.url)
        _event, [item] = emit_one()
        delivery.sweep()
        item = fresh(item)
        assert item.status == DeliveryStatus.PENDING and item.last_status_code == code
        assert item.next_attempt_at - item.last_attempt_at >= timedelta(seconds=5)
        assert len(server.requests) == 1


@pytest.mark.parametrize(
    ("code", "body"), [(400, b"bad request"), (401, b"bad signature"), (404, b"not found")]
)
def test_other_client_errors_fail_the_delivery_at_once(app, db_session, allow_local, code, body):
    with receiver(Reply(code, body)) as server:
        hook = endpoint(url=server.url)
        _event, [item] = emit_one()
        assert delivery.sweep() == 1
        item = fresh(item)
        assert (item.status, item.next_attempt_at, item.attempts) == (DeliveryStatus.FAILED, None, 1)
        assert item.last_status_code == code and item.last_error == f"HTTP {code}"
        make_due(item.id)
        assert delivery.sweep() == 0  # not tried again on its own
        assert len(server.requests) == 1
        assert fresh(hook).enabled  # only a 410 disables the endpoint


# -- Retry-After -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "step_delay", "expected"),
    [
        ("120", 5, 120),  # later than the schedule: honoured
        ("1", 5, 5),  # sooner than the schedule: the schedule stands
        ("999999999", 5, 86400),  # capped at a day
    ],
)
def test_retry_after_seconds_postpones_the_next_attempt(
    app, db_session, allow_local, header, step_delay, expected
):
    with receiver(Reply(503, b"busy", {"Retry-After": header})) as server:
        endpoint(url=server.url)
        _event, [item] = emit_one()
        delivery.sweep()
        item = fresh(item)
        [attempt] = attempts_of(item.id)
        assert item.next_attempt_at - attempt.finished_at == timedelta(seconds=expected)
        assert server.requests


def test_retry_after_as_an_http_date(app, db_session, allow_local):
    later = datetime.now(UTC).replace(microsecond=0) + timedelta(hours=2)
    with receiver(Reply(429, b"", {"Retry-After": format_datetime(later, usegmt=True)})) as server:
        endpoint(url=server.url)
        _event, [item] = emit_one()
        delivery.sweep()
        item = fresh(item)
        assert abs((item.next_attempt_at - later).total_seconds()) <= 2
        assert server.requests


def test_parse_retry_after():
    now = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)
    assert parse_retry_after("30", now) == 30
    assert parse_retry_after("Thu, 01 Jan 2026 12:10:00 GMT", now) == 600
    assert parse_retry_after("Thu, 01 Jan 2026 11:00:00 GMT", now) == 0  # in the past
    assert parse_retry_after("Sat, 01 Jan 2028 12:00:00 GMT", now) == 86400  # capped
    assert parse_retry_after("soon", now) is None
    assert parse_retry_after("", now) is None
    assert parse_retry_after(None, now) is None
    assert parse_retry_after("-5", now) is None


# -- 410, redirects, errors ---------------------------------------------------------------------------


def test_410_disables_the_endpoint_and_pauses_its_deliveries(app, db_session, allow_local):
    with receiver(Reply(410, b"gone")) as server:
        hook = endpoint(url=server.url)
        other = endpoint(url=server.url.replace("/hooks", "/other"))
        _e1, [first, _to_other] = emit_one()
        assert delivery.sweep() == 2  # one each
        hook = fresh(hook)
        assert hook.enabled is False and hook.disabled_reason == "410 Gone" and hook.disabled_at is not None
        assert fresh(other).enabled is False  # it answered 410 too
        first = fresh(first)
        assert first.status == DeliveryStatus.PENDING and first.last_status_code == 410
        # Nothing more goes to a disabled endpoint, and new events skip it.
        make_due(first.id)
        assert delivery.sweep() == 0
        db.session.commit()  # a new transaction reads the endpoints afresh
        _e2, later = emit_one()
        assert later == []
        assert len(server.requests) == 2


def test_a_redirect_is_not_followed(app, db_session, allow_local):
    with receiver(Reply(302, b"", {"Location": "/moved"})) as server:
        endpoint(url=server.url)
        _event, [item] = emit_one()
        delivery.sweep()
        assert [r.path for r in server.requests] == ["/hooks"]
        item = fresh(item)
        # Not retried either: the receiver has to give its endpoint's new address.
        assert item.status == DeliveryStatus.FAILED and item.last_status_code == 302
        assert "重定向" in item.last_error and "/moved" in item.last_error


def test_a_refused_connection_is_retried(app, db_session, allow_local):
    endpoint(url=f"http://127.0.0.1:{free_port()}/hooks")
    _event, [item] = emit_one()
    delivery.sweep()
    item = fresh(item)
    [attempt] = attempts_of(item.id)
    assert attempt.status_code is None and attempt.error.startswith("连接失败")
    assert item.status == DeliveryStatus.PENDING and item.last_status_code is None
    assert item.next_attempt_at - attempt.finished_at == timedelta(seconds=5)


def test_after_a_connection_failure_the_rest_of_the_batch_for_that_endpoint_waits(
    app, db_session, allow_local, monkeypatch
):
    monkeypatch.setitem(app.config, "WEBHOOK_SEND_CONCURRENCY", 1)  # one after the other
    endpoint(url=f"http://127.0.0.1:{free_port()}/hooks")
    _e1, [first] = emit_one()
    _e2, [second] = emit_one()
    before = utcnow()
    assert delivery.sweep() == 2
    first, second = fresh(first), fresh(second)
    assert first.attempts == 1 and len(attempts_of(first.id)) == 1
    # Not attempted, so not counted and not logged; due again a little later.
    assert (second.attempts, second.schedule_step, attempts_of(second.id)) == (0, 0, [])
    assert second.status == DeliveryStatus.PENDING and second.lease_token is None
    assert second.next_attempt_at >= before + timedelta(seconds=5)


def test_a_slow_receiver_times_out(app, db_session, allow_local, monkeypatch):
    monkeypatch.setitem(app.config, "WEBHOOK_TIMEOUT_SECONDS", 0.5)
    with receiver(Reply(200, b"late", delay=1.5)) as server:
        endpoint(url=server.url)
        _event, [item] = emit_one()
        delivery.sweep()
        item = fresh(item)
        [attempt] = attempts_of(item.id)
        assert attempt.status_code is None and attempt.error.startswith("超时")
        assert item.status == DeliveryStatus.PENDING
        assert len(server.requests) == 1


def test_only_a_kilobyte_of_the_answer_is_kept(app, db_session, allow_local):
    with receiver(Reply(500, "汉".encode() * 3000)) as server:
        endpoint(url=server.url)
        _event, [item] = emit_one()
        delivery.sweep()
        [attempt] = attempts_of(item.id)
        assert attempt.response_excerpt == "汉" * 341  # 1023 bytes: a character is never cut in half
        assert len(attempt.response_excerpt.encode()) <= 1024
        assert server.requests


def test_nul_bytes_in_an_answer_are_dropped(app, db_session, allow_local):
    with receiver(Reply(200, b"o\x00k")) as server:
        endpoint(url=server.url)
        _event, [item] = emit_one()
        delivery.sweep()
        [attempt] = attempts_of(item.id)
        assert attempt.response_excerpt == "ok"
        assert server.requests


# -- the guard at delivery time ---------------------------------------------------------------------


def test_a_loopback_target_is_refused_at_delivery_unless_allow_listed(app, db_session, monkeypatch):
    monkeypatch.setitem(app.config, "WEBHOOK_ALLOWED_HOSTS", "")
    with receiver() as server:
        endpoint(url=server.url)  # saved when it was allowed, say
        _event, [item] = emit_one()
        delivery.sweep()
        [attempt] = attempts_of(item.id)
        assert attempt.error.startswith("目标地址被拒绝") and "回环地址" in attempt.error
        assert attempt.status_code is None
        assert fresh(item).status == DeliveryStatus.PENDING
        assert server.requests == []


def test_a_name_that_now_resolves_to_loopback_is_refused_at_delivery(app, db_session, monkeypatch):
    real = socket.getaddrinfo

    def rebinding(host, port, *args, **kwargs):
        if host == "finance.example.gov.cn":
            return real("127.0.0.1", port, *args, **kwargs)
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", rebinding)
    monkeypatch.setitem(app.config, "WEBHOOK_ALLOWED_HOSTS", "")
    with receiver() as server:
        endpoint(url=f"http://finance.example.gov.cn:{server.port}/hooks")
        _event, [item] = emit_one()
        delivery.sweep()
        [attempt] = attempts_of(item.id)
        assert "finance.example.gov.cn（解析为 127.0.0.1）" in attempt.error
        assert server.requests == []


def test_an_allow_listed_name_is_reached(app, db_session, monkeypatch):
    real = socket.getaddrinfo

    def intranet(host, port, *args, **kwargs):
        return real("127.0.0.1" if host == "treasury.intranet" else host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", intranet)
    monkeypatch.setitem(app.config, "WEBHOOK_ALLOWED_HOSTS", "treasury.intranet")
    with receiver() as server:
        endpoint(url=f"http://treasury.intranet:{server.port}/hooks")
        _event, [item] = emit_one()
        delivery.sweep()
        assert fresh(item).status == DeliveryStatus.SUCCEEDED
        assert server.requests[0].headers["host"] == f"treasury.intranet:{server.port}"


# -- rotation, leases, replay ---------------------------------------------------------------------------


def test_during_a_rotation_both_signatures_are_sent(app, db_session, allow_local):
    with receiver() as server:
        hook = endpoint(url=server.url)
        old = hook.secret
        user = factories.user(hook.organization)
        new = services.rotate_secret(hook, user)
        assert new != old and new.startswith("whsec_")
        emit_one()
        delivery.sweep()
        [got] = server.requests
        assert len(got.headers["webhook-signature"].split(" ")) == 2
        assert verify(old, got) == verify(new, got)
        # After the overlap only the new secret signs.
        hook.previous_secret_expires_at = utcnow() - timedelta(seconds=1)
        db.session.flush()
        emit_one()
        delivery.sweep()
        latest = server.requests[1]
        assert len(latest.headers["webhook-signature"].split(" ")) == 1
        verify(new, latest)
        with pytest.raises(ValueError, match="no matching signature"):
            verify(old, latest)


def test_a_dead_workers_claim_runs_out_and_is_sent_again_with_the_same_webhook_id(
    app, db_session, allow_local
):
    with receiver() as server:
        endpoint(url=server.url)
        event_id, [item] = emit_one()
        batch = claim(10, 60)  # a worker claims … and dies before it records anything
        assert [c.delivery_id for c in batch.claims] == [item.id] and batch.claims[0].number == 1
        assert delivery.sweep() == 0  # its lease still holds: nobody else sends it
        db.session.execute(
            update(WebhookDelivery)
            .where(WebhookDelivery.id == item.id)
            .values(locked_until=utcnow() - timedelta(seconds=1))
        )
        db.session.flush()
        assert delivery.sweep() == 1
        [got] = server.requests
        assert got.headers["webhook-id"] == event_id
        item = fresh(item)
        assert item.status == DeliveryStatus.SUCCEEDED and item.attempts == 2
        first, second = attempts_of(item.id)
        assert first.error == delivery.INTERRUPTED and first.status_code is None and first.finished_at
        assert second.status_code == 200 and second.error is None


def test_a_late_result_does_not_overwrite_the_new_owners_state(app, db_session, allow_local):
    with receiver() as server:
        endpoint(url=server.url)
        _event, [item] = emit_one()
        old = claim(10, 60)
        [old_claim] = old.claims
        db.session.execute(
            update(WebhookDelivery)
            .where(WebhookDelivery.id == item.id)
            .values(locked_until=utcnow() - timedelta(seconds=1))
        )
        db.session.flush()
        assert delivery.sweep() == 1  # the new owner delivers it
        # The old worker comes back with a failure: its attempt is logged, the delivery stays done.
        failed = delivery.Outcome(old_claim, SendResult(status_code=500, duration_ms=5), finished_at=utcnow())
        delivery.record(old.token, [failed])
        item = fresh(item)
        assert item.status == DeliveryStatus.SUCCEEDED and item.last_status_code == 200
        assert [a.status_code for a in attempts_of(item.id)] == [500, 200]
        assert len(server.requests) == 1


def test_replay_sends_again_with_the_same_webhook_id_and_a_fresh_schedule(app, db_session, allow_local):
    with receiver(*[Reply(500)] * 10, Reply(200)) as server:
        hook = endpoint(url=server.url)
        user = factories.user(hook.organization)
        event_id, [item] = emit_one()
        for _ in range(10):
            make_due(item.id)
            delivery.sweep()
        item = fresh(item)
        assert item.status == DeliveryStatus.FAILED and item.attempts == 10
        services.replay(item, user)
        db.session.commit()  # after the commit it is handed over and sent
        item = fresh(item)
        assert item.status == DeliveryStatus.SUCCEEDED and item.attempts == 11
        assert item.replay_requested is False
        last = attempts_of(item.id)[-1]
        assert (last.number, last.manual, last.status_code) == (11, True, 200)
        assert [r.headers["webhook-id"] for r in server.requests] == [event_id] * 11


def test_replay_is_refused_for_a_disabled_endpoint_or_a_delivery_in_flight(app, db_session, allow_local):
    hook = endpoint(url=f"http://127.0.0.1:{free_port()}/hooks")
    user = factories.user(hook.organization)
    _event, [item] = emit_one()
    claim(10, 60)
    with pytest.raises(services.WebhookError, match="正在投递中"):
        services.replay(fresh(item), user)
    services.disable(hook, user, "维护")
    with pytest.raises(services.WebhookError, match="已停用"):
        services.replay(fresh(item), user)


def test_enabling_again_sends_what_waited(app, db_session, allow_local):
    with receiver() as server:
        hook = endpoint(url=server.url)
        user = factories.user(hook.organization)
        services.disable(hook, user, "接收端维护")
        hook_id = hook.id
        db.session.commit()
        hook = fresh(hook)
        assert hook.disabled_reason == "接收端维护"
        # A delivery created while it was enabled, paused by the disabling.
        hook.enabled = True
        db.session.flush()
        _event, [item] = emit_one()
        hook.enabled = False
        db.session.flush()
        assert delivery.sweep() == 0 and server.requests == []
        assert services.enable(fresh(hook), user) is True
        db.session.commit()
        assert fresh(item).status == DeliveryStatus.SUCCEEDED
        assert len(server.requests) == 1
        assert fresh(hook).id == hook_id and fresh(hook).disabled_reason is None


def test_payload_is_json_of_the_event_as_written(app, db_session, allow_local):
    with receiver() as server:
        endpoint(url=server.url)
        payload = {"order_no": "DD-1", "lines": [{"name": "台式计算机", "qty": 2, "price": "4999.00"}]}
        emit_one("order.paid", **payload)
        delivery.sweep()
        body = json.loads(server.requests[0].body)
        assert body["type"] == "order.paid" and body["data"] == payload
