"""事件推送 pages: a finance or operator organization manages the endpoints its systems receive
events at — list, create (the secret shown once), detail with the delivery log, enable/disable,
secret rotation, manual replay.

Every endpoint is loaded through :func:`_own_endpoint`: another organization's id is a 404.
"""

from __future__ import annotations

from flask import Blueprint, flash, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from marshmallow import ValidationError
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from app.auth.access import roles_required, safe_next_url
from app.extensions import db
from app.webhooks import events, services
from app.webhooks.delivery import MAX_ATTEMPTS, SCHEDULE
from app.webhooks.models import DeliveryStatus, WebhookDelivery, WebhookEndpoint
from app.webhooks.schemas import DeliveryLogQuery, DisableForm, EndpointForm

bp = Blueprint("webhooks", __name__, url_prefix="/webhooks")


def _own_endpoint(endpoint_id: int, *, lock: bool = False) -> WebhookEndpoint:
    query = services.own_endpoints(current_user.organization_id).where(WebhookEndpoint.id == endpoint_id)
    if lock:
        query = query.with_for_update()
    return db.first_or_404(query)


def _no_store(response):
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/")
@roles_required(*services.MANAGERS)
def endpoint_list():
    endpoints = db.session.scalars(
        services.own_endpoints(current_user.organization_id).order_by(WebhookEndpoint.id.desc())
    ).all()
    return render_template(
        "webhooks/list.html",
        endpoints=endpoints,
        counts=services.delivery_counts([e.id for e in endpoints]),
    )


def _render_form(errors: dict, form: dict, status: int = 200):
    return (
        render_template(
            "webhooks/new.html",
            errors=errors,
            form=form,
            groups=events.GROUPS,
            event_types=events.EVENT_TYPES,
        ),
        status,
    )


@bp.route("/new", methods=["GET", "POST"])
@roles_required(*services.MANAGERS)
def endpoint_new():
    if request.method == "GET":
        return _render_form({}, {"url": "", "description": "", "scope": "all", "event_types": []})
    raw = {**request.form.to_dict(), "event_types": request.form.getlist("event_types")}
    form = {
        "url": raw.get("url", ""),
        "description": raw.get("description", ""),
        "scope": raw.get("scope", "all"),
        "event_types": raw["event_types"],
    }
    try:
        data = EndpointForm().load(raw)
        types = data["event_types"] if data["scope"] == "selected" else []
        endpoint, secret = services.create_endpoint(
            current_user.organization,
            current_user._get_current_object(),
            url=data["url"],
            description=data["description"],
            event_types=types,
        )
    except ValidationError as exc:
        return _render_form(exc.messages, form, 422)
    except services.WebhookError as exc:
        return _render_form({exc.field: [exc.message]}, form, 422)
    # The only time the secret is shown: in this answer, never cached.
    return _no_store(
        make_response(
            render_template("webhooks/secret.html", endpoint=endpoint, secret=secret, rotated=False)
        )
    )


@bp.get("/<int:endpoint_id>")
@roles_required(*services.MANAGERS)
def endpoint_detail(endpoint_id: int):
    endpoint = _own_endpoint(endpoint_id)
    raw = request.args.to_dict()
    errors = {}
    try:
        args = DeliveryLogQuery().load(raw)
    except ValidationError as exc:
        errors = exc.messages
        args = DeliveryLogQuery().load({k: v for k, v in raw.items() if k not in exc.messages})
    query = select(WebhookDelivery).where(WebhookDelivery.endpoint_id == endpoint.id)
    if args["status"]:
        query = query.where(WebhookDelivery.status == DeliveryStatus(args["status"]))
    total = db.session.scalar(select(func.count()).select_from(query.subquery())) or 0
    deliveries = db.session.scalars(
        query.options(selectinload(WebhookDelivery.event), selectinload(WebhookDelivery.attempt_log))
        .order_by(WebhookDelivery.id.desc())
        .limit(args["per_page"])
        .offset((args["page"] - 1) * args["per_page"])
    ).all()
    return (
        render_template(
            "webhooks/detail.html",
            endpoint=endpoint,
            deliveries=deliveries,
            total=total,
            counts=services.delivery_counts([endpoint.id])[endpoint.id],
            errors=errors,
            status=args["status"],
            page=args["page"],
            per_page=args["per_page"],
            in_flight=services.in_flight,
            max_attempts=MAX_ATTEMPTS,
            schedule=SCHEDULE,
        ),
        422 if errors else 200,
    )


@bp.post("/<int:endpoint_id>/disable")
@roles_required(*services.MANAGERS)
def endpoint_disable(endpoint_id: int):
    endpoint = _own_endpoint(endpoint_id, lock=True)
    try:
        form = DisableForm().load(request.form.to_dict())
    except ValidationError as exc:
        flash(_("未能停用：%(message)s", message="；".join(exc.messages.get("reason", []))), "error")
        return redirect(url_for("webhooks.endpoint_detail", endpoint_id=endpoint.id))
    if services.disable(endpoint, current_user._get_current_object(), form["reason"]):
        flash(_("推送地址已停用：新事件不再发往该地址，待投递的事件暂停，启用后继续投递。"), "success")
    else:
        flash(_("该推送地址早已停用。"), "info")
    return redirect(url_for("webhooks.endpoint_detail", endpoint_id=endpoint.id))


@bp.post("/<int:endpoint_id>/enable")
@roles_required(*services.MANAGERS)
def endpoint_enable(endpoint_id: int):
    endpoint = _own_endpoint(endpoint_id)
    try:
        services.check_url(endpoint.url)  # a DNS lookup: before the row is locked, never inside
    except services.WebhookError as exc:
        flash(_("未能启用：%(message)s", message=exc.message), "error")
        return redirect(url_for("webhooks.endpoint_detail", endpoint_id=endpoint_id))
    db.session.refresh(endpoint, with_for_update=True)
    if services.enable(endpoint, current_user._get_current_object()):
        flash(_("推送地址已启用，暂停期间待投递的事件将陆续发出。"), "success")
    else:
        flash(_("该推送地址已处于启用状态。"), "info")
    return redirect(url_for("webhooks.endpoint_detail", endpoint_id=endpoint.id))


@bp.route("/<int:endpoint_id>/rotate", methods=["GET", "POST"])
@roles_required(*services.MANAGERS)
def endpoint_rotate(endpoint_id: int):
    endpoint = _own_endpoint(endpoint_id, lock=request.method == "POST")
    if request.method == "GET":
        return render_template("webhooks/rotate.html", endpoint=endpoint)
    secret = services.rotate_secret(endpoint, current_user._get_current_object())
    return _no_store(
        make_response(render_template("webhooks/secret.html", endpoint=endpoint, secret=secret, rotated=True))
    )


@bp.post("/<int:endpoint_id>/deliveries/<int:delivery_id>/replay")
@roles_required(*services.MANAGERS)
def delivery_replay(endpoint_id: int, delivery_id: int):
    endpoint = _own_endpoint(endpoint_id)
    delivery = db.first_or_404(
        select(WebhookDelivery).where(
            WebhookDelivery.id == delivery_id, WebhookDelivery.endpoint_id == endpoint.id
        )
    )
    event_id = delivery.event_id
    try:
        services.replay(delivery, current_user._get_current_object())
    except services.WebhookError as exc:
        db.session.rollback()
        flash(_("未能重新投递：%(message)s", message=exc.message), "error")
    else:
        flash(_("已安排重新投递事件 %(id)s（webhook-id 不变）。", id=event_id), "success")
    # Back to the page of the log the button was on (only ever this endpoint's own page).
    detail = url_for("webhooks.endpoint_detail", endpoint_id=endpoint_id)
    target = safe_next_url(request.form.get("next"), detail)
    return redirect(target if target == detail or target.startswith(detail + "?") else detail)
