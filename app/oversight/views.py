"""Alerts (预警) for regulators and operators: a read-only list with filters by kind, status and
purchasing unit. (Acknowledging and resolving alerts comes with the oversight workflow.)"""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, render_template, request
from flask_babel import lazy_gettext as _l
from marshmallow import ValidationError, fields, pre_load, validate
from sqlalchemy.orm import selectinload

from app.auth.access import OVERSIGHT_ROLES, roles_required
from app.auth.models import Organization
from app.core.schemas import QuerySchema
from app.extensions import db
from app.orders.models import Order
from app.oversight.models import Alert, AlertKind, AlertStatus

bp = Blueprint("oversight", __name__, url_prefix="/oversight")

KIND_LABELS = {
    AlertKind.ORDER_SPLITTING: _l("疑似拆单"),
    AlertKind.LATE_CONFIRMATION: _l("供应商超时未确认"),
    AlertKind.LATE_ACCEPTANCE: _l("采购人超时未验收"),
    AlertKind.LATE_PAYMENT: _l("采购人超时未付款"),
    AlertKind.SUBSTITUTION: _l("验收发现型号不符"),
    AlertKind.PRICE_ABOVE_REFERENCE: _l("价格高于市场参考价"),
}
STATUS_LABELS = {
    AlertStatus.OPEN: _l("待处理"),
    AlertStatus.ACKNOWLEDGED: _l("已知悉"),
    AlertStatus.RESOLVED: _l("已办结"),
}
FILTERS = ("kind", "status", "unit")


class AlertQuery(QuerySchema):
    kind = fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.OneOf([k.value for k in AlertKind], error="预警类型取值无效"),
    )
    status = fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.OneOf([s.value for s in AlertStatus], error="状态取值无效"),
    )
    unit = fields.Integer(
        load_default=None,
        allow_none=True,
        validate=validate.Range(min=1, max=2**31 - 1, error="单位编号无效"),
    )
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=10000, error="页码超出范围"))
    per_page = fields.Integer(
        load_default=50, validate=validate.Range(min=1, max=200, error="每页数量应在 1–200 之间")
    )

    @pre_load
    def clean(self, data, **kwargs):
        data = dict(data)
        for key in FILTERS:
            value = data.get(key)
            if isinstance(value, str):
                data[key] = value.strip() or None
        return data


@bp.get("/alerts")
@roles_required(*OVERSIGHT_ROLES)
def alerts():
    raw = request.args.to_dict()
    errors: dict = {}
    try:
        args = AlertQuery().load(raw)
    except ValidationError as exc:
        errors = exc.messages
        args = AlertQuery().load({k: v for k, v in raw.items() if k not in exc.messages})
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
        kind_labels=KIND_LABELS,
        status_labels=STATUS_LABELS,
        kinds=list(AlertKind),
        statuses=list(AlertStatus),
    ), 422 if errors else 200
