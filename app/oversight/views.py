"""Oversight pages for regulators and operators — the alerts (预警) with their workflow, and the
dashboards (统计分析) — and the public late-payment page (采购人付款情况公示). Thin: the verbs are in
:mod:`app.oversight.workflow`, the figures in :mod:`app.oversight.dashboards`, the charts in
:mod:`app.oversight.charts`.

- ``/oversight/alerts``: the list with filters by kind, status and unit, and the counts by kind and
  status; each alert has a page with its evidence and its handling log, where it is acknowledged
  (知悉), resolved (办结, a note is required) or annotated. An illegal move answers 409 with the
  page as it is now and what was typed kept.
- ``/oversight/dashboard``: spend by category, unit, supplier and month, the SME and green shares,
  orders by buying route and alerts by type, for a year or a date range; each chart with a table
  view and a CSV export (``/oversight/dashboard/<figure>.csv``, every cell formula-safe).
- ``/late-payments/``: public, no login, rate-limited; per purchasing unit, its late-payment alerts,
  orders paid late and median days to pay over the last twelve months. Units are public bodies;
  no person's name, phone number or address is shown.
"""

from __future__ import annotations

import contextlib
import io
from decimal import Decimal

import sqlalchemy as sa
from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from marshmallow import ValidationError
from sqlalchemy.orm import selectinload

from app.auth.access import OVERSIGHT_ROLES, roles_required
from app.auth.models import Organization
from app.catalog.charts import ChartText
from app.catalog.models import Category
from app.core.db import utcnow
from app.core.errors import error_response
from app.core.money import format_cny, to_money
from app.extensions import db, limiter
from app.orders.lifecycle import STATUS_LABELS as ORDER_STATUS_LABELS
from app.orders.models import Order
from app.oversight import charts, dashboards, workflow
from app.oversight.dashboards import Period, Table
from app.oversight.models import Alert, AlertKind, AlertStatus
from app.oversight.schemas import (
    AlertMoveForm,
    AlertNoteForm,
    AlertQuery,
    DashboardQuery,
    LatePaymentQuery,
    date_range,
)
from app.oversight.workflow import ACTION_LABELS, STATUS_LABELS, AlertMoveError
from catalog_import.report import export_rows

bp = Blueprint("oversight", __name__, url_prefix="/oversight")
public_bp = Blueprint("late_payments", __name__, url_prefix="/late-payments")

KIND_LABELS = {
    AlertKind.ORDER_SPLITTING: _l("疑似拆单"),
    AlertKind.LATE_CONFIRMATION: _l("供应商超时未确认"),
    AlertKind.LATE_ACCEPTANCE: _l("采购人超时未验收"),
    AlertKind.LATE_PAYMENT: _l("采购人超时未付款"),
    AlertKind.SUBSTITUTION: _l("验收发现型号不符"),
    AlertKind.PRICE_ABOVE_REFERENCE: _l("价格高于市场参考价"),
    AlertKind.PRICE_RISE: _l("短期涨价幅度过大"),
}
FILTERS = ("kind", "status", "unit")
PUBLIC_RATE_LIMIT = "60 per minute"  # unless the configuration says PUBLIC_RATE_LIMIT


def _user():
    return current_user._get_current_object()


def _load_lenient(schema, raw: dict) -> tuple[dict, dict]:
    """Load a query string; on errors, load it again without the bad parameters, so the page
    still shows (unfiltered by them) under the error summary."""
    try:
        return schema.load(raw), {}
    except ValidationError as exc:
        errors = exc.messages if isinstance(exc.messages, dict) else {"_schema": exc.messages}
        bad = set(errors)
        if bad & {"date_from", "date_to"}:
            bad |= {"date_from", "date_to"}
        return schema.load({k: v for k, v in raw.items() if k not in bad}), errors


# --------------------------------------------------------------------------------------------
# Alerts: the list


def _counts() -> dict:
    """Alerts by kind and status, with totals per kind, per status and overall."""
    found = {(kind, status): n for kind, status, n in dashboards.alert_counts()}
    by_kind = {kind: {status: found.get((kind, status), 0) for status in AlertStatus} for kind in AlertKind}
    return {
        "cells": by_kind,
        "kind_totals": {kind: sum(row.values()) for kind, row in by_kind.items()},
        "status_totals": {status: sum(by_kind[k][status] for k in AlertKind) for status in AlertStatus},
        "total": sum(found.values()),
    }


@bp.get("/alerts")
@roles_required(*OVERSIGHT_ROLES)
def alerts():
    args, errors = _load_lenient(AlertQuery(), request.args.to_dict())
    query = sa.select(Alert)
    if args["kind"]:
        query = query.where(Alert.kind == AlertKind(args["kind"]))
    if args["status"]:
        query = query.where(Alert.status == AlertStatus(args["status"]))
    if args["unit"]:
        query = query.where(Alert.unit_id == args["unit"])
    total = db.session.scalar(sa.select(sa.func.count()).select_from(query.subquery())) or 0
    rows = db.session.scalars(
        query.options(selectinload(Alert.unit), selectinload(Alert.supplier))
        .order_by(Alert.raised_at.desc(), Alert.id.desc())
        .limit(args["per_page"])
        .offset((args["page"] - 1) * args["per_page"])
    ).all()
    order_numbers = dict(
        db.session.execute(
            sa.select(Order.id, Order.number).where(Order.id.in_({a.order_id for a in rows if a.order_id}))
        ).all()
    )
    units = db.session.scalars(
        sa.select(Organization)
        .where(Organization.id.in_(sa.select(Alert.unit_id).where(Alert.unit_id.is_not(None)).distinct()))
        .order_by(Organization.code)  # 预算单位编码: the same order on every database
    ).all()
    return render_template(
        "oversight/alerts.html",
        alerts=rows,
        total=total,
        order_numbers=order_numbers,
        units=units,
        args=args,
        errors=errors,
        counts=_counts(),
        kind_labels=KIND_LABELS,
        status_labels=STATUS_LABELS,
        kinds=list(AlertKind),
        statuses=list(AlertStatus),
    ), 422 if errors else 200


# --------------------------------------------------------------------------------------------
# Alerts: one alert, its evidence and its workflow


def _alert_or_404(alert_id: int) -> Alert:
    alert = db.session.scalar(
        sa.select(Alert)
        .where(Alert.id == alert_id)
        .options(selectinload(Alert.unit), selectinload(Alert.supplier))
        .execution_options(populate_existing=True)
    )
    if alert is None:
        abort(404)
    return alert


MONEY_KEYS = {"total", "ceiling", "price", "reference"}


def _evidence(alert: Alert) -> dict:
    """What the alert rests on, read fresh: its order, the orders that add up (splitting), the
    category, the substituted lines, and any other detail recorded with it."""
    detail = dict(alert.detail or {})
    order = db.session.get(Order, alert.order_id) if alert.order_id else None
    listed = detail.pop("orders", None)
    numbers = [str(n) for n in listed][:200] if isinstance(listed, list) else []
    related = []
    if numbers:
        found = {
            o.number: o
            for o in db.session.scalars(
                sa.select(Order)
                .where(Order.number.in_(numbers))
                .options(selectinload(Order.supplier), selectinload(Order.unit))
            )
        }
        related = [(number, found.get(number)) for number in numbers]
    category = None
    code = detail.pop("category_code", None)
    if code:
        category = db.session.scalar(sa.select(Category).where(Category.code == str(code)).limit(1))
    lines = detail.pop("lines", None)
    if not isinstance(lines, list):
        lines = []
    known = {
        "order_no": _("记录的订单编号"),
        "total": _("记录的金额"),
        "ceiling": _("直购限额"),
        "reason": _("采购人说明"),
        "confirm_due_at": _("确认期限"),
        "accept_due_at": _("验收期限"),
        "pay_due_at": _("付款期限"),
        "accepted": _("验收结论"),
        "note": _("验收说明"),
        # Price monitoring (app/oversight/monitoring.py)
        "product_id": _("商品"),
        "offer_id": _("报价编号"),
        "supplier_sku": _("货号"),
        "rule": _("触发的价格规则"),
        "price": _("报价单价"),
        "reference": _("比较的价格"),
        "percent": _("高出比例（%）"),
        "action": _("处置方式"),
    }
    detail.pop("rule_id", None)  # the rule is named by "rule"
    for key in MONEY_KEYS & detail.keys():
        with contextlib.suppress(TypeError, ValueError):  # otherwise shown as recorded
            detail[key] = to_money(detail[key])
    if not isinstance(detail.get("product_id"), int):
        detail.pop("product_id", None)
    actions = {"alert": _("仅预警"), "freeze": _("冻结报价"), "delist": _("下架报价")}
    if detail.get("action") in actions:
        detail["action"] = actions[detail["action"]]
    return {
        "order": order,
        "related": related,
        "related_total": sum((o.total for _n, o in related if o is not None), Decimal(0)),
        "category": category,
        "category_code": code,
        "lines": [line for line in lines if isinstance(line, dict)],
        "detail": detail,
        "known": known,
    }


def _render_alert(alert: Alert, status: int = 200, **state):
    return (
        render_template(
            "oversight/alert_detail.html",
            alert=alert,
            evidence=_evidence(alert),
            notes=workflow.notes_of(alert.id),
            targets=workflow.allowed_targets(alert),
            kind_labels=KIND_LABELS,
            status_labels=STATUS_LABELS,
            action_labels=ACTION_LABELS,
            conflict=state.get("conflict"),
            errors=state.get("errors") or {},
            form=state.get("form") or {},
            form_kind=state.get("form_kind"),
            S=AlertStatus,
        ),
        status,
    )


@bp.get("/alerts/<int:alert_id>")
@roles_required(*OVERSIGHT_ROLES)
def alert_detail(alert_id: int):
    return _render_alert(_alert_or_404(alert_id))


def _refused(alert_id: int, exc: AlertMoveError, form: dict, form_kind: str):
    db.session.rollback()
    alert = _alert_or_404(alert_id)
    if exc.conflict:
        return _render_alert(alert, 409, conflict=exc.message, form=form, form_kind=form_kind)
    return _render_alert(alert, 422, errors={"note": [exc.message]}, form=form, form_kind=form_kind)


@bp.post("/alerts/<int:alert_id>/status")
@roles_required(*workflow.WORKERS)
def alert_move(alert_id: int):
    alert = _alert_or_404(alert_id)
    data = request.form.to_dict()
    try:
        form = AlertMoveForm().load(data)
    except ValidationError as exc:
        kind = f"move-{data['to']}" if data.get("to") in ("acknowledged", "resolved") else "move"
        return _render_alert(alert, 422, errors=exc.messages, form=data, form_kind=kind)
    to = AlertStatus(form["to"])
    try:
        workflow.move(alert, to, _user(), form["note"])
    except AlertMoveError as exc:
        return _refused(alert_id, exc, data, f"move-{to.value}")
    if to is AlertStatus.RESOLVED:
        flash(_("预警 #%(id)s 已办结。", id=alert.id), "success")
    else:
        flash(_("预警 #%(id)s 已标记为已知悉。", id=alert.id), "success")
    return redirect(url_for("oversight.alert_detail", alert_id=alert.id))


@bp.post("/alerts/<int:alert_id>/notes")
@roles_required(*workflow.WORKERS)
def alert_note(alert_id: int):
    alert = _alert_or_404(alert_id)
    data = request.form.to_dict()
    try:
        form = AlertNoteForm().load(data)
    except ValidationError as exc:
        return _render_alert(alert, 422, errors=exc.messages, form=data, form_kind="note")
    try:
        workflow.add_note(alert, _user(), form["note"])
    except AlertMoveError as exc:
        return _refused(alert_id, exc, data, "note")
    flash(_("已添加备注。"), "success")
    return redirect(url_for("oversight.alert_detail", alert_id=alert.id) + "#log")


# --------------------------------------------------------------------------------------------
# Dashboards

FIGURES = ("category", "unit", "supplier", "month", "sme", "green", "route", "alerts")
FIELD_LABELS = {
    "year": _l("年度"),
    "date_from": _l("开始日期"),
    "date_to": _l("结束日期"),
    "top": _l("显示数量"),
}


def _period(args: dict) -> Period:
    start, end = args.get("date_from"), args.get("date_to")
    if start or end:
        return Period(*date_range(start, end, dashboards.local_today()))
    return Period.year(args.get("year") or dashboards.local_today().year)


def _table(figure: str, period: Period, limit: int) -> Table:
    if figure == "category":
        return dashboards.category_table(period, limit)
    if figure == "unit":
        return dashboards.unit_table(period, limit)
    if figure == "supplier":
        return dashboards.supplier_table(period, limit)
    if figure == "month":
        return dashboards.month_table(period)
    if figure == "sme":
        return dashboards.sme_table(period)
    if figure == "green":
        return dashboards.green_table(period)
    if figure == "route":
        return dashboards.route_table(period)
    return dashboards.alert_table(period, KIND_LABELS)


def _count_label(value) -> str:
    return f"{int(value):,}"


def _share_label(value, whole) -> str:
    part = dashboards.share(value, whole)
    return "—" if part is None else f"{part}%（{format_cny(value)}）"


def _chart(table: Table, period: Period):
    title = str(table.title)
    if table.is_empty:
        return None
    if table.chart == "columns":
        months = sum(1 for _label, value in table.points if value)
        description = _(
            "%(start)s 至 %(end)s 每月成交金额的柱状图，%(num)s 个月有成交，合计 %(total)s。",
            start=period.start.isoformat(),
            end=period.end.isoformat(),
            num=months,
            total=format_cny(sum((Decimal(v) for _l, v in table.points), Decimal(0))),
        )
        single_year = period.start.year == period.end.year
        return charts.column_chart(
            table.points,
            ChartText(title, description),
            id_prefix=f"chart-{table.key}",
            tick_label=(lambda m: m[5:] + _("月")) if single_year else (lambda m: m[2:]),
        )
    if table.chart == "share":
        parts = "；".join(
            f"{label} {_share_label(v, sum(Decimal(x) for _y, x in table.points))}"
            for label, v in table.points
        )
        return charts.share_chart(
            table.points,
            ChartText(title, _("份额条形图：%(parts)s。", parts=parts)),
            id_prefix=f"chart-{table.key}",
            share_label=_share_label,
        )
    value_label = format_cny if table.value_kind == "money" else _count_label
    top = table.points[0]
    description = _(
        "横向条形图，共 %(num)s 项，最大的是「%(label)s」（%(value)s）。",
        num=len(table.points),
        label=top[0],
        value=value_label(top[1]),
    )
    return charts.bar_chart(
        table.points, ChartText(title, description), value_label=value_label, id_prefix=f"chart-{table.key}"
    )


def _query_params(args: dict, period: Period) -> dict:
    """The filters as they go into links (the CSV exports keep the page's period)."""
    if args.get("date_from") or args.get("date_to"):
        params = {"date_from": period.start.isoformat(), "date_to": period.end.isoformat()}
    else:
        params = {"year": period.start.year}
    if args.get("top") and args["top"] != 10:
        params["top"] = args["top"]
    return params


@bp.get("/dashboard")
@roles_required(*OVERSIGHT_ROLES)
def dashboard():
    args, errors = _load_lenient(DashboardQuery(), request.args.to_dict())
    period = _period(args)
    tables = [_table(figure, period, args["top"]) for figure in FIGURES]
    this_year = dashboards.local_today().year
    return render_template(
        "oversight/dashboard.html",
        tables=tables,
        charts={t.key: _chart(t, period) for t in tables},
        period=period,
        args=args,
        raw=request.args,
        errors=errors,
        field_labels=FIELD_LABELS,
        params=_query_params(args, period),
        years=sorted({*range(this_year - 9, this_year + 2), period.start.year}, reverse=True),
        excluded="、".join(str(ORDER_STATUS_LABELS[s]) for s in dashboards.SPEND_EXCLUDED),
    ), 422 if errors else 200


def _csv_cell(value, kind: str):
    if value is None:
        return ""
    if kind == "money":
        return f"{value:.2f}"
    if kind == "percent":
        return f"{value}"
    if kind == "flag":
        return _("是") if value else _("否")
    return value


@bp.get("/dashboard/<any(" + ", ".join(FIGURES) + "):figure>.csv")
@roles_required(*OVERSIGHT_ROLES)
def dashboard_csv(figure: str):
    try:
        args = DashboardQuery().load(request.args.to_dict())
    except ValidationError as exc:
        messages = exc.messages if isinstance(exc.messages, dict) else {"_schema": exc.messages}
        labelled = {str(FIELD_LABELS.get(k, k)): v for k, v in messages.items()}
        return error_response(422, None, labelled)
    period = _period(args)
    table = _table(figure, period, dashboards.EXPORT_MAX_ROWS)
    kinds = [c.kind for c in table.columns]
    rows = [[_csv_cell(v, k) for v, k in zip(row, kinds, strict=True)] for row in table.rows]
    if table.total:
        rows.append([_csv_cell(v, k) for v, k in zip(table.total, kinds, strict=True)])
    out = io.BytesIO()
    export_rows(out, "csv", [str(c.label) for c in table.columns], rows)
    response = current_app.response_class(out.getvalue(), mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="dashboard-{figure}-{period.slug()}.csv"'
    response.headers["Cache-Control"] = "no-store"
    return response


# --------------------------------------------------------------------------------------------
# The public late-payment page


def _public_limit() -> str:
    return current_app.config.get("PUBLIC_RATE_LIMIT") or PUBLIC_RATE_LIMIT


@public_bp.get("/")
@limiter.limit(_public_limit)
def unit_list():
    args, errors = _load_lenient(LatePaymentQuery(), request.args.to_dict())
    now = utcnow()
    records, total = dashboards.payment_records(now, args["page"], args["per_page"])
    return render_template(
        "oversight/dashboard_public_payments.html",
        records=records,
        total=total,
        args=args,
        errors=errors,
        since=dashboards.payment_window_start(now),
        now=now,
    ), 422 if errors else 200
