"""Webhook endpoint verbs for the pages. They flush, never commit; deliveries they make
due are handed to the job backend after the commit.

Endpoints belong to finance and operator organizations and are only ever read through
:func:`own_endpoints`, so another organization's endpoint is simply not found.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import timedelta

from flask import current_app
from sqlalchemy import Select, func, select

from app.auth.models import Organization, OrgKind, Role, User
from app.core import audit
from app.core.db import utcnow
from app.extensions import db
from app.webhooks import guard, signing
from app.webhooks.models import DeliveryStatus, WebhookDelivery, WebhookEndpoint
from app.webhooks.outbox import dispatch_after_commit

log = logging.getLogger(__name__)

MANAGERS = (Role.FINANCE, Role.OPERATOR)
MANAGING_ORG_KINDS = frozenset({OrgKind.FINANCE, OrgKind.OPERATOR})
MAX_ENDPOINTS_PER_ORG = 20
ENABLE_REDISPATCH_LIMIT = 1000


class WebhookError(ValueError):
    """A request that cannot be carried out; the message is for the user."""

    def __init__(self, message: str, field: str = "_schema"):
        super().__init__(message)
        self.message = message
        self.field = field


def own_endpoints(organization_id: int) -> Select:
    return select(WebhookEndpoint).where(WebhookEndpoint.organization_id == organization_id)


def allowed() -> frozenset[str]:
    return guard.allowed_hosts(current_app.config.get("WEBHOOK_ALLOWED_HOSTS"))


def check_url(url: str) -> str:
    try:
        return guard.check_url(url, allowed())
    except guard.UrlRejected as exc:
        log.warning("webhook URL refused: %r: %s", url[:300], exc.message)
        raise WebhookError(exc.message, "url") from exc


def create_endpoint(
    organization: Organization, user: User, *, url: str, description: str, event_types: Sequence[str]
) -> tuple[WebhookEndpoint, str]:
    """A new enabled endpoint and its secret (the only time the secret is returned)."""
    if organization.kind not in MANAGING_ORG_KINDS:
        raise WebhookError("只有财政系统和卖场运营单位可以配置事件推送。")
    count = db.session.scalar(select(func.count()).select_from(own_endpoints(organization.id).subquery()))
    if (count or 0) >= MAX_ENDPOINTS_PER_ORG:
        raise WebhookError(f"每个单位最多配置 {MAX_ENDPOINTS_PER_ORG} 个推送地址，请先停用或清理不用的地址。")
    url = check_url(url)
    secret = signing.new_secret()
    endpoint = WebhookEndpoint(
        organization_id=organization.id,
        url=url,
        description=description.strip(),
        secret=secret,
        event_types=sorted(set(event_types)),
        enabled=True,
        created_by_id=user.id,
    )
    db.session.add(endpoint)
    db.session.flush()
    audit.record("webhook.endpoint_created", user=user, endpoint_id=endpoint.id, url=url)
    return endpoint, secret


def rotate_secret(endpoint: WebhookEndpoint, user: User) -> str:
    """A new current secret; the old one keeps signing (beside the new one) for the overlap."""
    now = utcnow()
    hours = int(current_app.config.get("WEBHOOK_ROTATION_OVERLAP_HOURS", 24))
    endpoint.previous_secret = endpoint.secret
    endpoint.previous_secret_expires_at = now + timedelta(hours=hours)
    endpoint.secret = signing.new_secret()
    db.session.flush()
    audit.record("webhook.secret_rotated", user=user, endpoint_id=endpoint.id, overlap_hours=hours)
    return endpoint.secret


def disable(endpoint: WebhookEndpoint, user: User, reason: str = "") -> bool:
    if not endpoint.enabled:
        return False
    endpoint.enabled = False
    endpoint.disabled_reason = (reason.strip() or f"由 {user.display_name} 手动停用")[:200]
    endpoint.disabled_at = utcnow()
    db.session.flush()
    audit.record(
        "webhook.endpoint_disabled", user=user, endpoint_id=endpoint.id, reason=endpoint.disabled_reason
    )
    return True


def enable(endpoint: WebhookEndpoint, user: User) -> bool:
    """Enable again; deliveries that waited meanwhile go out. Callers check the address first
    (:func:`check_url`: it may have moved since), before they lock the row."""
    if endpoint.enabled:
        return False
    endpoint.enabled = True
    endpoint.disabled_reason = None
    endpoint.disabled_at = None
    db.session.flush()
    audit.record("webhook.endpoint_enabled", user=user, endpoint_id=endpoint.id)
    waiting = db.session.scalars(
        select(WebhookDelivery)
        .where(WebhookDelivery.endpoint_id == endpoint.id, WebhookDelivery.status == DeliveryStatus.PENDING)
        .order_by(WebhookDelivery.next_attempt_at)
        .limit(ENABLE_REDISPATCH_LIMIT)
    ).all()
    if waiting:
        dispatch_after_commit(list(waiting))
    return True


def in_flight(delivery: WebhookDelivery) -> bool:
    return delivery.locked_until is not None and delivery.locked_until > utcnow()


def replay(delivery: WebhookDelivery, user: User) -> None:
    """Send a delivery again now (same ``webhook-id``), with a fresh retry schedule. The row is
    locked first, so a worker's claim and a replay cannot cross."""
    db.session.refresh(delivery, with_for_update=True)
    endpoint = delivery.endpoint
    if not endpoint.enabled:
        raise WebhookError("该推送地址已停用，请先启用后再重新投递。")
    if in_flight(delivery):
        raise WebhookError("该事件正在投递中，请稍后刷新查看结果。")
    delivery.status = DeliveryStatus.PENDING
    delivery.schedule_step = 0
    delivery.next_attempt_at = utcnow()
    delivery.replay_requested = True
    delivery.succeeded_at = None
    # A worker whose lease ran out must not write its late result over this replay.
    delivery.locked_until = delivery.lease_token = None
    db.session.flush()
    audit.record(
        "webhook.delivery_replayed",
        user=user,
        endpoint_id=endpoint.id,
        delivery_id=delivery.id,
        event_id=delivery.event_id,
    )
    dispatch_after_commit([delivery])


def delivery_counts(endpoint_ids: Sequence[int]) -> dict[int, dict[str, int]]:
    """Per endpoint: how many deliveries are in each status."""
    counts: dict[int, dict[str, int]] = {i: {s.value: 0 for s in DeliveryStatus} for i in endpoint_ids}
    if not endpoint_ids:
        return counts
    rows = db.session.execute(
        select(WebhookDelivery.endpoint_id, WebhookDelivery.status, func.count())
        .where(WebhookDelivery.endpoint_id.in_(list(endpoint_ids)))
        .group_by(WebhookDelivery.endpoint_id, WebhookDelivery.status)
    )
    for endpoint_id, status, count in rows:
        counts[endpoint_id][DeliveryStatus(status).value] = count
    return counts
