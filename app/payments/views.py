"""Payments: the provider's event receiver, the pay (and pay again) action, the payments list.

``POST /payments/events`` has no login and no CSRF token: it is authenticated by its
``Stripe-Signature`` alone (HMAC over the exact body, 300 s tolerance, constant-time compare). A
forged, stale, malformed or repeated event is refused with 400 and logged; an event for an unknown
intent or with an amount, currency or order number that does not match is refused with 400 and
recorded (so it is never applied later either); nothing is applied twice.
"""

from __future__ import annotations

import json
import logging

import sqlalchemy as sa
from flask import Blueprint, abort, current_app, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from marshmallow import ValidationError
from sqlalchemy.orm import joinedload

from app.auth.access import roles_required, safe_next_url
from app.auth.models import Role
from app.extensions import csrf, db
from app.orders.lifecycle import Actor, TransitionError
from app.orders.models import Order
from app.orders.services import visible_orders
from app.payments import services, signing
from app.payments.models import Payment
from app.payments.provider import event_secrets
from app.payments.schemas import PaymentListQuery, PaymentRequestForm, ProviderEventSchema

log = logging.getLogger(__name__)

bp = Blueprint("payments", __name__, url_prefix="/payments")

MAX_EVENT_BYTES = 256 * 1024
PAYERS = (Role.PURCHASER, Role.FINANCE)
READERS = (Role.PURCHASER, Role.APPROVER, Role.SUPPLIER, Role.FINANCE, Role.OPERATOR, Role.REGULATOR)


def _refuse(reason: str, message: str, event_id: str | None = None):
    log.warning(
        "payments: refused provider event %s from %s: %s (%s)",
        event_id or "-",
        request.remote_addr,
        reason,
        message,
    )
    return jsonify({"received": False, "error": reason, "message": message}), 400


@bp.post("/events")
@csrf.exempt
def provider_events():
    if request.content_length is not None and request.content_length > MAX_EVENT_BYTES:
        return _refuse("too_large", "事件内容过大")
    payload = request.get_data(cache=True)
    if len(payload) > MAX_EVENT_BYTES:
        return _refuse("too_large", "事件内容过大")
    try:
        signing.verify(
            payload,
            request.headers.get("Stripe-Signature"),
            event_secrets(),
            tolerance=current_app.config.get("PAYMENTS_EVENT_TOLERANCE", signing.DEFAULT_TOLERANCE),
        )
    except signing.SignatureError as exc:
        return _refuse(f"signature_{exc.reason}", exc.message)
    try:
        raw = json.loads(payload)
    except (ValueError, UnicodeDecodeError):
        return _refuse("invalid_json", "事件内容不是有效的 JSON")
    if not isinstance(raw, dict):
        return _refuse("invalid_event", "事件内容应为 JSON 对象")
    if isinstance(raw.get("type"), str) and not raw["type"].startswith("payment_intent."):
        log.info("payments: ignored provider event %s of type %s", raw.get("id"), raw["type"])
        return jsonify({"received": True, "outcome": "ignored"})
    try:
        event = ProviderEventSchema().load(raw)
    except ValidationError as exc:
        return _refuse("invalid_event", json.dumps(exc.messages, ensure_ascii=False)[:300], raw.get("id"))
    try:
        received = services.receive_event(event)
    except services.DuplicateEvent:
        return _refuse("duplicate", "该事件已处理过（重复投递或重放）", event["id"])
    if received.refused:
        db.session.rollback()
        services.record_refusal(event, received)
        db.session.commit()  # the refusal is kept although the answer is an error
        return _refuse(received.outcome.value, received.detail, event["id"])
    log.info("payments: provider event %s %s: %s", event["id"], event["type"], received.detail)
    return jsonify({"received": True, "outcome": received.outcome.value})


@bp.post("/request")
@roles_required(*PAYERS)
def request_payment():
    try:
        form = PaymentRequestForm().load(request.form)
    except ValidationError as exc:
        abort(422, description="；".join(str(m) for messages in exc.messages.values() for m in messages))
    order = db.session.scalar(visible_orders(current_user).where(Order.id == form["order_id"]))
    if order is None:
        abort(404)
    try:
        payment = services.request_payment(order, Actor.of_user(current_user))
    except services.PaymentRequestError as exc:
        abort(exc.status, description=exc.message)
    except TransitionError as exc:
        abort(409, description=str(exc))
    flash(
        _(
            "已为订单 %(number)s 发起第 %(attempt)s 次支付，支付结果将自动更新。",
            number=order.number,
            attempt=payment.attempt,
        ),
        "success",
    )
    return redirect(safe_next_url(form["next"], url_for("payments.payment_list")))


@bp.get("/")
@roles_required(*READERS)
def payment_list():
    try:
        args = PaymentListQuery().load(request.args)
    except ValidationError:
        args = {"page": 1, "per_page": 20}
    orders = visible_orders(current_user).subquery()
    base = sa.select(Payment).join(orders, Payment.order_id == orders.c.id)
    total = db.session.scalar(sa.select(sa.func.count()).select_from(base.subquery()))
    payments = db.session.scalars(
        base.options(joinedload(Payment.order))
        .order_by(Payment.created_at.desc(), Payment.id.desc())
        .limit(args["per_page"])
        .offset((args["page"] - 1) * args["per_page"])
    ).all()
    actor = Actor.of_user(current_user)
    # The pay-again button goes on an order's latest attempt, for those who may pay it.
    payable = {
        p.id
        for p in payments
        if current_user.role in PAYERS
        and services.may_pay(actor, p.order)
        and services.can_request(p.order)
        and services.latest_payment(p.order_id) is p
    }
    return render_template(
        "payments/payment_list.html",
        payments=payments,
        total=total,
        page=args["page"],
        per_page=args["per_page"],
        payable=payable,
        failure_label=services.failure_label,
    )
