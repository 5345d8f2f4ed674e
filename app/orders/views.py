"""The order pages after submit: the buyer's orders (我的订单), the approver's queue (待审批), the
supplier's orders (订单管理), the order page with its timeline and the moves allowed now, the
acceptance form (验收单) and the evaluation (履约评价). Thin: the verbs are in
:mod:`app.orders.services`, the rules in :mod:`app.orders.lifecycle`.

Every POST goes through a schema; an illegal move answers 409 with the page re-rendered, the
message on top and what was typed kept. Rejecting, cancelling and returning ask for confirmation.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from marshmallow import ValidationError

from app.auth.access import roles_required, safe_next_url
from app.auth.models import Role
from app.catalog.display import format_spec_value
from app.compare.services import RECORD_READERS
from app.core.db import utcnow
from app.extensions import db
from app.orders import services
from app.orders.lifecycle import STATUS_LABELS, Actor, TransitionError, allowed_targets
from app.orders.models import Order, OrderLine
from app.orders.models import OrderStatus as S
from app.orders.schemas import AcceptanceForm, EvaluationForm, MoveForm, OrderListQuery, PageQuery
from app.payments import services as payment_services
from app.procurement.views import PLAN_READERS

bp = Blueprint("orders", __name__, url_prefix="/orders")

FILTERS = ("status", "date_from", "date_to", "q")


@bp.app_template_global()
def order_status_label(status) -> str:
    return str(STATUS_LABELS[S(status)])


def _user():
    return current_user._get_current_object()


def _order_or_404(order_id: int) -> Order:
    order = services.get_visible(_user(), order_id)
    if order is None:
        abort(404)
    return order


# --------------------------------------------------------------------------------------------
# Lists


@bp.get("/")
@roles_required(*services.READERS)
def order_list():
    raw = request.args.to_dict()
    errors = {}
    try:
        args = OrderListQuery().load(raw)
    except ValidationError as exc:
        errors = exc.messages
        args = OrderListQuery().load({k: v for k, v in raw.items() if k not in exc.messages})
    filters = {key: args[key] for key in FILTERS}
    orders, total = services.order_page(_user(), filters, args["page"], args["per_page"])
    role = current_user.role
    return (
        render_template(
            "orders/list.html",
            orders=orders,
            total=total,
            filters=filters,
            params={key: raw.get(key) for key in FILTERS if raw.get(key) not in (None, "")},
            errors=errors,
            statuses=list(S),
            show_unit=role not in services.BUYER_ROLES,
            show_supplier=role is not Role.SUPPLIER,
            page=args["page"],
            per_page=args["per_page"],
            now=utcnow(),
        ),
        422 if errors else 200,
    )


@bp.get("/approvals")
@roles_required(Role.APPROVER)
def approvals():
    args = PageQuery().load(request.args.to_dict())
    orders, total = services.approval_page(_user(), args["page"], args["per_page"])
    return render_template("orders/approvals.html", orders=orders, total=total, **args)


# --------------------------------------------------------------------------------------------
# The order page


def _kept(form: dict) -> list[tuple[str, str]]:
    """What the person typed into a refused form, shown back with the 409 so it is not lost."""
    labels = {"note": _("原因或说明"), "tracking_number": _("物流单号"), "comment": _("评价内容")}
    return [(label, form[key].strip()) for key, label in labels.items() if (form.get(key) or "").strip()]


def _render_detail(order: Order, status: int = 200, **state):
    user = _user()
    allowed = allowed_targets(order, Actor.of_user(user)) if user.role in services.ACTORS else []
    return (
        render_template(
            "orders/detail.html",
            order=order,
            buttons=[to for to in allowed if to in services.BUTTON_MOVES],
            can_accept=S.ACCEPTED in allowed or S.RETURNED in allowed,
            can_evaluate=services.may_evaluate(order, user),
            can_see_plan=user.role in PLAN_READERS,
            can_see_record=user.role in RECORD_READERS,
            now=utcnow(),
            spec_rows=_spec_rows,
            S=S,
            conflict=state.get("conflict"),
            kept=_kept(state.get("form") or {}) if state.get("conflict") else [],
            errors=state.get("errors") or {},
            form=state.get("form") or {},
            form_kind=state.get("form_kind"),
            payment=payment_services.order_section(order, user),
        ),
        status,
    )


def _spec_rows(line: OrderLine) -> list[tuple[str, str]]:
    """The frozen specs with the registry's labels; a code no longer registered shows as is."""
    specs = line.specs or {}
    attributes = {attribute.code: attribute for attribute in line.category.attributes}
    rows = []
    for code, value in specs.items():
        attribute = attributes.get(code)
        if attribute is None:
            rows.append((code, format_spec_value(value, "text")))
        elif value is not None:
            rows.append((attribute.label_zh, format_spec_value(value, attribute.type, attribute.unit)))
    return rows


def _reload(order_id: int) -> Order:
    """After a refused action: drop whatever it left in the session and read the order again."""
    db.session.rollback()
    return _order_or_404(order_id)


@bp.get("/<int:order_id>")
@roles_required(*services.READERS)
def order_detail(order_id: int):
    return _render_detail(_order_or_404(order_id))


def _done_message(order: Order, to: S) -> str:
    number = order.number
    if to is S.SUBMITTED:
        return _("已批准订单 %(number)s，已发送给供应商确认。", number=number)
    if to is S.CONFIRMED:
        return _("已确认订单 %(number)s，请按约定发货。", number=number)
    if to is S.SHIPPED:
        return _("订单 %(number)s 已发货，物流单号已通知采购单位。", number=number)
    if to is S.DELIVERED:
        return _("订单 %(number)s 已标记送达，等待采购单位验收。", number=number)
    if to is S.CANCELLED:
        return _("已取消订单 %(number)s，预占的预算已释放。", number=number)
    if current_user.role is Role.APPROVER:
        return _("已驳回订单 %(number)s，预占的预算已释放，经办人会看到驳回原因。", number=number)
    return _("已拒绝订单 %(number)s，预占的预算已释放，采购单位会看到拒绝原因。", number=number)


@bp.post("/<int:order_id>/status")
@roles_required(*services.ACTORS)
def move(order_id: int):
    order = _order_or_404(order_id)
    data = request.form.to_dict()
    try:
        form = MoveForm().load(data)
    except ValidationError as exc:
        return _render_detail(order, 422, errors=exc.messages, form=data, form_kind=data.get("to"))
    to = S(form["to"])
    asks = to in services.DESTRUCTIVE and not form["confirm"]
    if asks and to in allowed_targets(order, Actor.of_user(_user())):
        # An illegal move skips the confirmation: services.move answers it with a 409 below.
        return render_template(
            "orders/confirm.html",
            order=order,
            to=to,
            note=form["note"],
            next=safe_next_url(form["next"], url_for("orders.order_detail", order_id=order.id)),
        )
    try:
        order = services.move(order, to, _user(), note=form["note"], tracking_number=form["tracking_number"])
    except TransitionError as exc:
        return _render_detail(_reload(order_id), 409, conflict=str(exc), form=data, form_kind=data.get("to"))
    flash(_done_message(order, to), "success")
    return redirect(safe_next_url(form["next"], url_for("orders.order_detail", order_id=order.id)))


# --------------------------------------------------------------------------------------------
# Acceptance (验收单)

LINE_FIELDS = {"received": "received_quantity", "serials": "serial_numbers", "model": "delivered_model"}


def _acceptance_input(order: Order, form) -> dict:
    """The flat form (``received_<line id>``, ``serials_<id>``, ``model_<id>``) as the schema's shape;
    a field missing from the post stays missing, so the schema says it is required."""
    lines = []
    for line in order.lines:
        entry = {"line_id": line.id}
        for prefix, key in LINE_FIELDS.items():
            name = services.field_name(line.id, prefix)
            if name in form:
                entry[key] = form[name]
        lines.append(entry)
    return {
        "decision": form.get("decision", ""),
        "note": form.get("note", ""),
        "confirm": form.get("confirm", "0"),
        "lines": lines,
    }


def _line_errors(order: Order, messages: dict) -> dict:
    """Schema messages (``lines → index → field``) keyed by the form's field names instead."""
    errors = {key: value for key, value in messages.items() if key != "lines"}
    nested = messages.get("lines")
    if isinstance(nested, list):
        errors["_schema"] = nested
    elif isinstance(nested, dict):
        by_key = {key: prefix for prefix, key in LINE_FIELDS.items()}
        for index, line_messages in nested.items():
            line = order.lines[index] if isinstance(index, int) and index < len(order.lines) else None
            if line is None or not isinstance(line_messages, dict):
                errors.setdefault("_schema", []).append(_("验收单的商品行有误，请刷新页面后重新填写"))
                continue
            for key, value in line_messages.items():
                if key in by_key:
                    errors[services.field_name(line.id, by_key[key])] = value
                else:
                    errors.setdefault("_schema", []).append(_("验收单的商品行有误，请刷新页面后重新填写"))
    return errors


def _render_acceptance(order: Order, status: int = 200, **state):
    user = _user()
    allowed = allowed_targets(order, Actor.of_user(user)) if user.role in services.ACTORS else []
    return (
        render_template(
            "orders/acceptance.html",
            order=order,
            can_accept=S.ACCEPTED in allowed or S.RETURNED in allowed,
            field_name=services.field_name,
            now=utcnow(),
            values=state.get("values") or {},
            errors=state.get("errors") or {},
            conflict=state.get("conflict"),
            kept=_kept(state.get("values") or {}) if state.get("conflict") else [],
            confirming=state.get("confirming"),
            received=state.get("received") or [],
            S=S,
        ),
        status,
    )


@bp.get("/<int:order_id>/acceptance")
@roles_required(*services.READERS)
def acceptance(order_id: int):
    return _render_acceptance(_order_or_404(order_id))


@bp.post("/<int:order_id>/acceptance")
@roles_required(Role.PURCHASER)
def accept(order_id: int):
    order = _order_or_404(order_id)
    values = request.form.to_dict()
    if values.get("edit"):
        return _render_acceptance(order, values=values)  # back from the return confirmation
    try:
        form = AcceptanceForm().load(_acceptance_input(order, values))
    except ValidationError as exc:
        return _render_acceptance(order, 422, values=values, errors=_line_errors(order, exc.messages))
    received = [services.ReceivedLine(**line) for line in form["lines"]]
    is_accept = form["decision"] == "accept"
    asks = not is_accept and not form["confirm"]
    if asks and S.RETURNED in allowed_targets(order, Actor.of_user(_user())):
        return _render_acceptance(order, values=values, confirming=True, received=received)
    try:
        services.record_acceptance(order, _user(), accept=is_accept, received=received, note=form["note"])
    except services.AcceptanceError as exc:
        return _render_acceptance(_reload(order_id), 422, values=values, errors=exc.errors)
    except TransitionError as exc:
        return _render_acceptance(_reload(order_id), 409, values=values, conflict=str(exc))
    if is_accept:
        flash(_("订单 %(number)s 已验收通过。", number=order.number), "success")
    else:
        flash(
            _("订单 %(number)s 已退货，预占的预算已释放，供应商会看到退货原因。", number=order.number),
            "success",
        )
    if order.acceptance is not None and order.acceptance.substitution:
        flash(_("验收发现实收型号与订单不符，已记录并通知监管部门。"), "warning")
    return redirect(url_for("orders.acceptance", order_id=order.id))


# --------------------------------------------------------------------------------------------
# Evaluation (履约评价)


@bp.post("/<int:order_id>/evaluation")
@roles_required(Role.PURCHASER)
def evaluate(order_id: int):
    order = _order_or_404(order_id)
    data = request.form.to_dict()
    try:
        form = EvaluationForm().load(data)
    except ValidationError as exc:
        return _render_detail(order, 422, errors=exc.messages, form=data, form_kind="evaluation")
    try:
        services.evaluate(order, _user(), **form)
    except TransitionError as exc:
        return _render_detail(_reload(order_id), 409, conflict=str(exc), form=data, form_kind="evaluation")
    if order.status is S.COMPLETED:
        flash(_("感谢评价。订单 %(number)s 已完成。", number=order.number), "success")
    else:
        flash(_("感谢评价，评价已保存。"), "success")
    return redirect(url_for("orders.order_detail", order_id=order.id, _anchor="evaluation"))
