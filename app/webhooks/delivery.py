"""Delivering events: claim, send, record — safe against dead and racing workers.

One pass over a batch of due deliveries:

1. **Claim** (a short transaction): pending deliveries whose time has come, on enabled endpoints,
   not claimed by a live lease, are locked with ``FOR UPDATE SKIP LOCKED`` (PostgreSQL), given a
   lease (``locked_until`` + a random ``lease_token``) and an attempt number, and an attempt row is
   logged as started. Commit. Two workers never claim the same delivery; a worker that dies
   (SIGKILL) leaves a lease that simply runs out.
2. **Send**, outside any transaction: Standard Webhooks headers (``webhook-id`` = the event id,
   the same on every retry), one keep-alive ``requests`` session per drain, up to
   ``WEBHOOK_SEND_CONCURRENCY`` requests in flight.
3. **Record** (a short transaction): each attempt's result; the delivery becomes succeeded (2xx),
   pending again at the next time of :data:`SCHEDULE` (or later if ``Retry-After`` says so) after
   a network error, a 5xx, 408, 425 or 429, or failed after the last one or on a redirect or any
   other 4xx; a 410 disables the endpoint. A delivery whose lease was lost
   meanwhile keeps the state its new owner gives it.

A delivery whose lease ran out (its worker died mid-request) is claimed again by the next pass —
the periodic :func:`sweep` or any drain — and sent again with the same ``webhook-id``; its
unfinished attempt is logged as interrupted. Receivers deduplicate on ``webhook-id``.

Jobs. With RQ, a commit that creates deliveries asks for a :func:`drain` — at most one queued at a
time (a Redis flag), which claims batch after batch until the queue of due deliveries stays empty
for a moment, and asks for a helper when its batches come back full, so every worker joins in
under load. In-process, :func:`deliver` sends just the transaction's deliveries after its commit.
Retries seconds or days away are picked up by :func:`sweep`, run by the scheduler every few
seconds: it works with a plain ``rq worker`` (no RQ scheduler) and in-process alike.
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import and_, bindparam, delete, insert, or_, select, update

from app.core.db import utcnow
from app.core.jobs import enqueue_now, job, redis_connection
from app.extensions import db
from app.webhooks import signing
from app.webhooks.guard import allowed_hosts
from app.webhooks.models import (
    DeliveryStatus,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
    active_secrets,
)
from app.webhooks.transport import SendResult, build_session, send

log = logging.getLogger(__name__)

# Seconds before each attempt: immediately, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 14 h, 20 h, 24 h —
# ten attempts over about three days; after the last one fails the delivery is given up.
SCHEDULE: tuple[int, ...] = (0, 5, 300, 1800, 7200, 18000, 36000, 50400, 72000, 86400)
MAX_ATTEMPTS = len(SCHEDULE)

DRAIN_JOB = "app.webhooks.delivery.drain"
DELIVER_JOB = "app.webhooks.delivery.deliver"
SWEEP_JOB = "app.webhooks.delivery.sweep"
DRAIN_FLAG_TTL = 30  # seconds a queued drain may wait before another one may be asked for

INTERRUPTED = "投递中断：发送方进程在等待响应时退出，已按同一 webhook-id 重新投递"


@dataclass(frozen=True)
class Settings:
    timeout: float
    lease: float
    batch_size: int
    drain_seconds: float
    idle_seconds: float
    poll_seconds: float
    concurrency: int
    allowed: frozenset[str]

    @property
    def send_window(self) -> float:
        """How long after a claim a pass may still start a request and finish within the lease
        (connect and read are each bounded by the timeout)."""
        return self.lease - 2 * self.timeout - 2


def settings() -> Settings:
    config = current_app.config
    timeout = float(config.get("WEBHOOK_TIMEOUT_SECONDS", 10))
    return Settings(
        timeout=timeout,
        lease=max(float(config.get("WEBHOOK_LEASE_SECONDS", 60)), 2 * timeout + 5),
        batch_size=int(config.get("WEBHOOK_BATCH_SIZE", 50)),
        drain_seconds=float(config.get("WEBHOOK_DRAIN_SECONDS", 60)),
        idle_seconds=float(config.get("WEBHOOK_DRAIN_IDLE_SECONDS", 2)),
        poll_seconds=float(config.get("WEBHOOK_DRAIN_POLL_SECONDS", 0.05)),
        concurrency=max(1, int(config.get("WEBHOOK_SEND_CONCURRENCY", 1))),
        allowed=allowed_hosts(config.get("WEBHOOK_ALLOWED_HOSTS")),
    )


# Client errors that say "later", not "never": retried like network errors and 5xx.
TRANSIENT_CLIENT_ERRORS = frozenset({408, 425, 429})


def retryable(result: SendResult) -> bool:
    """Network errors, 5xx and the transient 4xx are tried again; a redirect (never followed) or
    any other 4xx is the receiver refusing this event for good (an operator can still resend it
    from the delivery page once the receiver is fixed)."""
    code = result.status_code
    # 410 disables the endpoint: its deliveries wait, pending, until an operator enables it again.
    return code is None or code >= 500 or code in TRANSIENT_CLIENT_ERRORS or code == 410


def next_attempt(result: SendResult, step: int, now: datetime) -> tuple[DeliveryStatus, datetime | None]:
    """Where a delivery goes after attempt number ``step`` of its schedule ended with ``result``.
    A ``Retry-After`` postpones the next attempt (never brings it forward)."""
    if result.ok:
        return DeliveryStatus.SUCCEEDED, None
    if step >= MAX_ATTEMPTS or not retryable(result):
        return DeliveryStatus.FAILED, None
    delay = SCHEDULE[step]
    if result.retry_after is not None:
        delay = max(delay, result.retry_after)
    return DeliveryStatus.PENDING, now + timedelta(seconds=delay)


# -- claim ---------------------------------------------------------------------------------------


@dataclass
class Claim:
    delivery_id: int
    number: int  # the attempt's number (1, 2, …)
    step: int  # its place in the retry schedule (1 … MAX_ATTEMPTS)
    manual: bool
    endpoint_id: int
    event_id: str


@dataclass
class Batch:
    """Claimed deliveries with what sending them takes, read in the claiming transaction."""

    token: str
    claims: list[Claim]
    targets: dict[int, tuple[str, list[bytes]]]  # endpoint id → (url, HMAC keys)
    events: dict[str, tuple[str, datetime, dict]]  # event id → (type, created_at, payload)


def _due(now: datetime):
    d = WebhookDelivery
    return and_(
        d.status == DeliveryStatus.PENDING,
        d.next_attempt_at <= now,
        or_(d.locked_until.is_(None), d.locked_until < now),
    )


def claim(limit: int, lease_seconds: float, *, ids: Sequence[int] | None = None) -> Batch:
    """Lease up to ``limit`` due deliveries to this worker, log their attempts as started and read
    what sending them takes; commits. Claims come oldest due first. Four round trips (five when a
    dead worker's claims are taken over)."""
    d, e, ev = WebhookDelivery, WebhookEndpoint, WebhookEvent
    token = secrets.token_hex(16)
    now = utcnow()
    query = (
        select(
            d.id,
            d.replay_requested,
            d.locked_until,
            e.id.label("endpoint_id"),
            e.url,
            e.secret,
            e.previous_secret,
            e.previous_secret_expires_at,
            ev.id.label("event_id"),
            ev.type,
            ev.created_at,
            ev.payload,
        )
        .join(e, e.id == d.endpoint_id)
        .join(ev, ev.id == d.event_id)
        .where(_due(now), e.enabled.is_(True))
        .order_by(d.next_attempt_at, d.id)
        .limit(limit)
        .with_for_update(of=d, skip_locked=True)
    )
    if ids is not None:
        query = query.where(d.id.in_(list(ids)))
    candidates = {row.id: row for row in db.session.execute(query)}
    if not candidates:
        db.session.commit()
        return Batch(token, [], {}, {})
    rows = db.session.execute(
        update(d)
        .where(d.id.in_(list(candidates)), _due(now))
        .values(
            locked_until=now + timedelta(seconds=lease_seconds),
            lease_token=token,
            attempts=d.attempts + 1,
            schedule_step=d.schedule_step + 1,
            last_attempt_at=now,
            replay_requested=False,
        )
        .returning(d.id, d.attempts, d.schedule_step)
        .execution_options(synchronize_session=False)
    ).all()
    claims = [
        Claim(
            row.id,
            row.attempts,
            row.schedule_step,
            candidates[row.id].replay_requested,
            candidates[row.id].endpoint_id,
            candidates[row.id].event_id,
        )
        for row in rows
    ]
    if claims:
        reclaimed = [c.delivery_id for c in claims if candidates[c.delivery_id].locked_until is not None]
        if reclaimed:
            # An attempt still open here belonged to a worker whose lease ran out: interrupted.
            db.session.execute(
                update(WebhookAttempt)
                .where(WebhookAttempt.delivery_id.in_(reclaimed), WebhookAttempt.finished_at.is_(None))
                .values(finished_at=now, error=INTERRUPTED)
                .execution_options(synchronize_session=False)
            )
        db.session.execute(
            insert(WebhookAttempt),
            [
                {"delivery_id": c.delivery_id, "number": c.number, "manual": c.manual, "started_at": now}
                for c in claims
            ],
        )
    db.session.commit()
    order = {delivery_id: index for index, delivery_id in enumerate(candidates)}
    claims.sort(key=lambda c: order[c.delivery_id])
    targets, events = {}, {}
    for c in claims:
        row = candidates[c.delivery_id]
        if c.endpoint_id not in targets:
            active = active_secrets(row.secret, row.previous_secret, row.previous_secret_expires_at, now)
            targets[c.endpoint_id] = (row.url, [signing.secret_key(s) for s in active])
        events[c.event_id] = (row.type, row.created_at, row.payload)
    return Batch(token, claims, targets, events)


# -- send ----------------------------------------------------------------------------------------


@dataclass
class Outcome:
    claim: Claim
    result: SendResult | None  # None: not sent in this pass (deferred)
    finished_at: datetime | None = None
    deferred_until: datetime | None = None


class Sender:
    """The HTTP side of a drain: one keep-alive ``requests`` session for all its batches (a pool of
    connections per endpoint) and, with ``WEBHOOK_SEND_CONCURRENCY`` > 1, threads sending a batch
    side by side — waiting for receivers' answers is most of what sending is."""

    def __init__(self, cfg: Settings):
        self.cfg = cfg
        self.http = build_session(cfg.allowed, pool_size=max(1, cfg.concurrency))
        self.pool = ThreadPoolExecutor(cfg.concurrency, "webhook-send") if cfg.concurrency > 1 else None

    def close(self) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=True)
        self.http.close()

    def send_batch(self, batch: Batch, claimed_at: float) -> list[Outcome]:
        bodies: dict[str, bytes] = {}
        unreachable: set[int] = set()

        def one(item: Claim) -> Outcome:
            if time.monotonic() - claimed_at > self.cfg.send_window:
                return Outcome(item, None)  # out of time: due again at once, for the next pass
            if item.endpoint_id in unreachable:
                return Outcome(item, None, deferred_until=utcnow() + timedelta(seconds=SCHEDULE[1]))
            body = bodies.get(item.event_id)
            if body is None:
                body = bodies[item.event_id] = signing.body_bytes(*batch.events[item.event_id])
            url, keys = batch.targets[item.endpoint_id]
            headers = signing.headers(keys, item.event_id, int(time.time()), body)
            result = send(self.http, url, body=body, headers=headers, timeout=self.cfg.timeout)
            if result.status_code is None:
                unreachable.add(item.endpoint_id)  # the rest of this batch for it waits a little
            return Outcome(item, result, finished_at=utcnow())

        if self.pool is None or len(batch.claims) == 1:
            return [one(item) for item in batch.claims]
        return list(self.pool.map(one, batch.claims))


# -- record --------------------------------------------------------------------------------------


def record(token: str, outcomes: list[Outcome]) -> None:
    """Write the attempts' results and move each delivery on; commits."""
    attempts = WebhookAttempt.__table__
    deliveries = WebhookDelivery.__table__
    attempt_rows, delivery_rows, gone = [], [], set()
    deferred = [o for o in outcomes if o.result is None]
    for outcome in outcomes:
        result, item = outcome.result, outcome.claim
        if result is None:
            continue
        status, next_at = next_attempt(result, item.step, outcome.finished_at)
        if result.status_code == 410:
            gone.add(item.endpoint_id)
        attempt_rows.append(
            {
                "b_delivery": item.delivery_id,
                "b_number": item.number,
                "b_finished": outcome.finished_at,
                "b_duration": result.duration_ms,
                "b_code": result.status_code,
                "b_excerpt": result.excerpt,
                "b_error": result.error[:500] if result.error else None,
            }
        )
        delivery_rows.append(
            {
                "b_id": item.delivery_id,
                "b_token": token,
                "b_status": status,
                "b_next": next_at,
                "b_code": result.status_code,
                "b_error": None if result.ok else (result.error or f"HTTP {result.status_code}")[:500],
                "b_succeeded": outcome.finished_at if result.ok else None,
            }
        )
    if attempt_rows:
        db.session.execute(
            update(attempts)
            .where(
                attempts.c.delivery_id == bindparam("b_delivery"), attempts.c.number == bindparam("b_number")
            )
            .values(
                finished_at=bindparam("b_finished"),
                duration_ms=bindparam("b_duration"),
                status_code=bindparam("b_code"),
                response_excerpt=bindparam("b_excerpt"),
                error=bindparam("b_error"),
            ),
            attempt_rows,
        )
        db.session.execute(
            update(deliveries)
            .where(deliveries.c.id == bindparam("b_id"), deliveries.c.lease_token == bindparam("b_token"))
            .values(
                status=bindparam("b_status"),
                next_attempt_at=bindparam("b_next"),
                last_status_code=bindparam("b_code"),
                last_error=bindparam("b_error"),
                succeeded_at=bindparam("b_succeeded"),
                locked_until=None,
                lease_token=None,
            ),
            delivery_rows,
        )
    if deferred:
        _release(token, deferred)
    for endpoint_id in sorted(gone):
        db.session.execute(
            update(WebhookEndpoint)
            .where(WebhookEndpoint.id == endpoint_id, WebhookEndpoint.enabled.is_(True))
            .values(enabled=False, disabled_reason="410 Gone", disabled_at=utcnow())
            .execution_options(synchronize_session=False)
        )
        log.warning("webhook endpoint %s answered 410 Gone and was disabled", endpoint_id)
    db.session.commit()


def _release(token: str, deferred: list[Outcome]) -> None:
    """Give back claims that were not sent: no attempt happened, so none is counted or logged."""
    d = WebhookDelivery
    for outcome in deferred:
        item = outcome.claim
        values = {
            "locked_until": None,
            "lease_token": None,
            "attempts": d.attempts - 1,
            "schedule_step": d.schedule_step - 1,
            "replay_requested": item.manual,
        }
        if outcome.deferred_until is not None:
            values["next_attempt_at"] = outcome.deferred_until
        db.session.execute(
            update(d)
            .where(d.id == item.delivery_id, d.lease_token == token)
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        db.session.execute(
            delete(WebhookAttempt)
            .where(WebhookAttempt.delivery_id == item.delivery_id, WebhookAttempt.number == item.number)
            .execution_options(synchronize_session=False)
        )


# -- passes and jobs -----------------------------------------------------------------------------


def run_pass(sender: Sender, *, ids: Sequence[int] | None = None) -> int:
    """Claim one batch, send it, record it. Returns how many were claimed (0: nothing was due)."""
    claimed_at = time.monotonic()
    batch = claim(sender.cfg.batch_size, sender.cfg.lease, ids=ids)
    if not batch.claims:
        return 0
    outcomes = sender.send_batch(batch, claimed_at)  # on a crash the leases simply run out
    record(batch.token, outcomes)
    return len(batch.claims)


def _loop(*, linger: bool, ids: Sequence[int] | None = None) -> int:
    cfg = settings()
    started = time.monotonic()
    idle_since: float | None = None
    total = 0
    sender = Sender(cfg)
    try:
        while time.monotonic() - started < cfg.drain_seconds:
            claimed = run_pass(sender, ids=ids)
            if claimed:
                total += claimed
                idle_since = None
                if linger and claimed >= cfg.batch_size:
                    request_drain()  # more is waiting: let another worker help
                continue
            if not linger:
                break
            idle_since = idle_since or time.monotonic()
            if time.monotonic() - idle_since >= cfg.idle_seconds:
                break
            time.sleep(cfg.poll_seconds)
        else:
            if linger:
                request_drain()  # out of time with work perhaps left: hand over to a fresh job
    finally:
        sender.close()
    return total


@job
def drain() -> int:
    """RQ: deliver whatever is due, batch after batch, until nothing has been due for a moment."""
    _clear_drain_flag()
    return _loop(linger=True)


@job
def deliver(delivery_ids: Sequence[int]) -> int:
    """Deliver these deliveries if they are due (in-process, right after their commit)."""
    return _loop(linger=False, ids=list(delivery_ids))


@job
def sweep() -> int:
    """Periodic: deliver every due delivery — retries whose time has come, deliveries whose job was
    lost, and those whose worker died (their lease ran out)."""
    return _loop(linger=False)


# -- asking for delivery after commit -------------------------------------------------------------


def _redis():
    """One client (and connection pool) per app: a commit asking for a drain costs one round trip,
    not a new connection."""
    client = current_app.extensions.get("webhooks_redis")
    if client is None:
        client = current_app.extensions["webhooks_redis"] = redis_connection()
    return client


def _drain_queue() -> str:
    """``WEBHOOK_QUEUE`` when set — a queue of its own, which workers may list first (``rq worker
    webhooks default``) so deliveries never wait behind imports — else the jobs queue."""
    return current_app.config.get("WEBHOOK_QUEUE") or current_app.config["JOBS_QUEUE"]


def _flag_key() -> str:
    return f"emall:webhooks:drain-requested:{_drain_queue()}"


def _clear_drain_flag() -> None:
    if current_app.config["JOBS_BACKEND"] != "rq":
        return
    _drain_queued_until.pop(_flag_key(), None)  # this process now asks again at the next commit
    try:
        _redis().delete(_flag_key())
    except Exception:
        log.exception("could not clear the webhook drain flag")


# Per process: until when a drain is known to be queued (its flag was found set), so commits in
# quick succession skip the round trip to Redis. A queued drain lingers for seconds after its last
# delivery, far longer than this, so it still finds what they committed.
_QUEUED_MEMO_SECONDS = 0.5
_drain_queued_until: dict[str, float] = {}


def request_drain() -> None:
    """RQ: make sure a drain job is queued (at most one waits at a time). Never raises: should
    Redis be away, the sweeper delivers later."""
    if current_app.config["JOBS_BACKEND"] != "rq":
        return
    key = _flag_key()
    if _drain_queued_until.get(key, 0.0) > time.monotonic():
        return
    try:
        if _redis().set(key, "1", nx=True, ex=DRAIN_FLAG_TTL):
            enqueue_now(DRAIN_JOB, queue_name=_drain_queue())
        else:
            _drain_queued_until[key] = time.monotonic() + _QUEUED_MEMO_SECONDS
    except Exception:
        log.exception("could not enqueue a webhook drain; the sweeper will deliver")


def dispatch(delivery_ids: Sequence[int]) -> None:
    """After a commit that made deliveries due: get them delivered."""
    if not delivery_ids:
        return
    app = current_app._get_current_object()
    if app.config["JOBS_BACKEND"] == "rq":
        request_drain()
    elif app.config.get("WEBHOOK_DELIVER_IN_THREAD"):

        def run() -> None:
            with app.app_context():
                try:
                    deliver(list(delivery_ids))
                except Exception:
                    log.exception("in-process webhook delivery failed; the sweeper will retry")

        threading.Thread(target=run, name="webhook-delivery", daemon=True).start()
    else:
        enqueue_now(DELIVER_JOB, list(delivery_ids))
