"""Pages of price monitoring (价格监测) and supplier credit (供应商信用).

- operators and regulators: the price monitoring page (every offer against its market reference
  and the other suppliers' prices, filters, paging), the price rules, the suppliers' credit and
  each supplier's ledger, the appeals waiting for a decision. Regulators read; operators also act:
  freeze, delist or restore an offer, change rules, decide appeals.
- suppliers: their own credit ledger, and an appeal against a deduction before its deadline.

Operator actions take the record's id in the form, not in the URL: an operator acts across
organizations by design, and the URL map's owned-record test (tests/test_access_matrix.py) keeps
URL ids for records a user reaches through their own organization.

The module holds the pages' input schemas and views; the verbs are in monitoring.py and credit.py.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from urllib.parse import parse_qsl, urlsplit

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from marshmallow import ValidationError, fields, pre_load, validate, validates_schema
from sqlalchemy.orm import selectinload

from app.auth.access import OVERSIGHT_ROLES, roles_required, safe_next_url
from app.auth.models import Organization, OrgKind, Role
from app.catalog.models import Offer
from app.core.schemas import FormSchema, QuerySchema
from app.extensions import db
from app.orders.models import Order
from app.oversight import credit, monitoring
from app.oversight.models import (
    AppealStatus,
    CreditEvent,
    CreditReason,
    OfferActionKind,
    PriceRule,
    PriceRuleAction,
    PriceRuleKind,
)

bp = Blueprint("monitor", __name__)

ID_RANGE = validate.Range(min=1, max=2**31 - 1, error="编号无效")
PAGE = validate.Range(min=1, max=10000, error="页码超出范围")
PER_PAGE = validate.Range(min=1, max=200, error="每页数量应在 1–200 之间")
YEAR = validate.Range(min=2000, max=2100, error="年度应在 2000–2100 之间")

RULE_KIND_LABELS = {
    PriceRuleKind.ABOVE_REFERENCE: _l("高于市场参考价"),
    PriceRuleKind.RISE: _l("短期涨价"),
}
RULE_ACTION_LABELS = {
    PriceRuleAction.ALERT: _l("仅预警"),
    PriceRuleAction.FREEZE: _l("预警并冻结"),
    PriceRuleAction.DELIST: _l("预警并下架"),
}
OFFER_ACTION_LABELS = {
    OfferActionKind.FREEZE: _l("冻结"),
    OfferActionKind.DELIST: _l("下架"),
    OfferActionKind.RESTORE: _l("恢复上架"),
}
REASON_LABELS = {
    CreditReason.LATE_CONFIRMATION: _l("超时未确认订单"),
    CreditReason.REJECTED_AFTER_CONFIRMATION: _l("确认后拒绝履约"),
    CreditReason.SUBSTITUTION: _l("验收发现型号不符"),
    CreditReason.PRICE_ABOVE_REFERENCE: _l("报价高于市场参考价"),
    CreditReason.POOR_EVALUATION: _l("履约评价差"),
}
APPEAL_LABELS = {
    AppealStatus.NONE: _l("未申诉"),
    AppealStatus.PENDING: _l("申诉中"),
    AppealStatus.UPHELD: _l("申诉成立，已撤销扣分"),
    AppealStatus.REJECTED: _l("申诉驳回"),
}
MONITOR_STATUSES = ("listed", "frozen", "delisted")
CREDIT_SORTS = ("score", "name")


def _missing(message: str) -> dict[str, str]:
    """The same message for an absent field and a blank one (blanks are made None first)."""
    return {"required": message, "null": message}


def _blank_to_none(data, keys):
    data = dict(data)
    for key in keys:
        value = data.get(key)
        if isinstance(value, str):
            data[key] = value.strip() or None
    return data


def _load(schema: QuerySchema, raw: dict) -> tuple[dict, dict]:
    """Query arguments: the refused ones fall back to their defaults, with their messages."""
    try:
        return schema.load(raw), {}
    except ValidationError as exc:
        errors = exc.messages if isinstance(exc.messages, dict) else {"_schema": exc.messages}
        return schema.load({k: v for k, v in raw.items() if k not in errors}), errors


def _query_of(target: str | None) -> dict:
    """The page's filters carried in a form's ``next`` (an error re-renders the same view)."""
    if not target:
        return {}
    return dict(parse_qsl(urlsplit(safe_next_url(target, "")).query))


@bp.app_template_global()
def supplier_credits(supplier_ids) -> dict[int, credit.Credit]:
    """This year's credit of these suppliers, for the offers on product and search pages."""
    return credit.credits(list(supplier_ids))


# --------------------------------------------------------------------------------------------
# Price monitoring


class MonitorQuery(QuerySchema):
    status = fields.String(
        load_default="listed", validate=validate.OneOf(MONITOR_STATUSES, error="状态取值无效")
    )
    supplier = fields.Integer(load_default=None, allow_none=True, validate=ID_RANGE)
    category = fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.Regexp(r"^[A-C]\d{0,8}$", error="品目编码格式不正确（如 A02010105）"),
    )
    q = fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.Length(max=100, error="关键词不能超过 100 个字符"),
    )
    min_over_reference = fields.Decimal(
        load_default=None,
        allow_none=True,
        places=1,
        validate=validate.Range(min=-100, max=10000, error="比例应在 -100–10000（%）之间"),
    )
    min_over_other = fields.Decimal(
        load_default=None,
        allow_none=True,
        places=1,
        validate=validate.Range(min=-100, max=10000, error="比例应在 -100–10000（%）之间"),
    )
    flagged = fields.Boolean(load_default=False)
    sort = fields.String(
        load_default="over_reference", validate=validate.OneOf(monitoring.SORTS, error="排序方式无效")
    )
    page = fields.Integer(load_default=1, validate=PAGE)
    per_page = fields.Integer(load_default=50, validate=PER_PAGE)

    @pre_load
    def clean(self, data, **kwargs):
        return _blank_to_none(
            data, ("status", "supplier", "category", "q", "min_over_reference", "min_over_other", "sort")
        )


MONITOR_FILTERS = (
    "status",
    "supplier",
    "category",
    "q",
    "min_over_reference",
    "min_over_other",
    "flagged",
    "sort",
)


class OfferActionForm(FormSchema):
    offer_id = fields.Integer(required=True, validate=ID_RANGE)
    action = fields.String(
        required=True,
        validate=validate.OneOf([k.value for k in OfferActionKind], error="请选择处置方式"),
        error_messages=_missing("请选择处置方式"),
    )
    reason = fields.String(
        required=True,
        validate=validate.Length(min=2, max=monitoring.REASON_MAX, error="请填写处置理由（2–500 个字）"),
        error_messages=_missing("请填写处置理由（2–500 个字）"),
    )
    next = fields.String(load_default=None)

    @pre_load
    def clean(self, data, **kwargs):
        return _blank_to_none(data, ("offer_id", "action", "reason", "next"))


def _suppliers() -> list[Organization]:
    return list(
        db.session.scalars(
            sa.select(Organization).where(Organization.kind == OrgKind.SUPPLIER).order_by(Organization.code)
        )
    )


def _monitor(raw: dict, status: int = 200, errors: dict | None = None):
    args, query_errors = _load(MonitorQuery(), raw)
    errors = {**query_errors, **(errors or {})}
    if query_errors and status == 200:
        status = 422
    filters = {key: args[key] for key in MONITOR_FILTERS}
    rows, total = monitoring.deviation_page(filters, args["page"], args["per_page"])
    params = {key: raw.get(key) for key in MONITOR_FILTERS if raw.get(key) not in (None, "")}
    params = {key: value for key, value in params.items() if key not in query_errors}
    return render_template(
        "oversight/price_monitor.html",
        rows=rows,
        total=total,
        args=args,
        params=params,
        errors=errors,
        suppliers=_suppliers(),
        statuses=MONITOR_STATUSES,
        sorts=monitoring.SORTS,
        rules=[r for r in monitoring.rules() if r.enabled],
        available_actions=monitoring.available_actions,
        here=url_for("monitor.price_monitor", **params, page=args["page"])
        if args["page"] > 1
        else url_for("monitor.price_monitor", **params),
        rule_kind_labels=RULE_KIND_LABELS,
        rule_action_labels=RULE_ACTION_LABELS,
        offer_action_labels=OFFER_ACTION_LABELS,
        may_act=current_user.role is Role.OPERATOR,
    ), status


@bp.get("/oversight/prices")
@roles_required(*OVERSIGHT_ROLES)
def price_monitor():
    return _monitor(request.args.to_dict())


@bp.post("/oversight/prices/action")
@roles_required(Role.OPERATOR)
def offer_action():
    data = request.form.to_dict()
    try:
        form = OfferActionForm().load(data)
    except ValidationError as exc:
        return _monitor(_query_of(data.get("next")), 422, exc.messages)
    kind = OfferActionKind(form["action"])
    try:
        action = monitoring.act(form["offer_id"], kind, form["reason"], current_user)
    except monitoring.MonitorError as exc:
        status = 422 if exc.field != "_schema" else 409
        return _monitor(_query_of(form["next"]), status, {exc.field: [exc.message]})
    flash(
        _("已%(action)s报价（货号 %(sku)s）。", action=OFFER_ACTION_LABELS[kind], sku=_sku(action.offer_id)),
        "success",
    )
    return redirect(safe_next_url(form["next"], url_for("monitor.price_monitor")))


def _sku(offer_id: int) -> str:
    return db.session.scalar(sa.select(Offer.supplier_sku).where(Offer.id == offer_id)) or ""


# --------------------------------------------------------------------------------------------
# Price rules


def _two_places(value: Decimal) -> None:
    try:
        exact = value == value.quantize(Decimal("0.01"))
    except InvalidOperation:  # far too many digits to quantize: out of range anyway
        exact = False
    if not exact:
        raise ValidationError("比例最多保留两位小数")


class PriceRuleForm(FormSchema):
    name = fields.String(
        required=True,
        validate=validate.Length(min=1, max=100, error="规则名称应为 1–100 个字"),
        error_messages=_missing("请填写规则名称"),
    )
    kind = fields.String(
        required=True,
        validate=validate.OneOf([k.value for k in PriceRuleKind], error="请选择规则类型"),
        error_messages=_missing("请选择规则类型"),
    )
    threshold_percent = fields.Decimal(
        required=True,
        validate=[
            validate.Range(min=0, max=1000, error="比例应在 0–1000（%）之间"),
            _two_places,
        ],
        error_messages=_missing("请填写阈值（%）"),
    )
    window_days = fields.Integer(
        load_default=None,
        allow_none=True,
        validate=validate.Range(min=1, max=365, error="天数应在 1–365 之间"),
    )
    action = fields.String(
        required=True,
        validate=validate.OneOf([a.value for a in PriceRuleAction], error="请选择处置方式"),
        error_messages=_missing("请选择处置方式"),
    )
    enabled = fields.Boolean(load_default=False)

    @pre_load
    def clean(self, data, **kwargs):
        return _blank_to_none(data, ("name", "kind", "threshold_percent", "window_days", "action"))

    @validates_schema
    def rise_needs_window(self, data, **kwargs):
        if data.get("kind") == PriceRuleKind.RISE.value and not data.get("window_days"):
            raise ValidationError("短期涨价规则须填写统计天数", "window_days")


RULE_FIELDS = ("name", "kind", "threshold_percent", "window_days", "action", "enabled")


def _rule_values(rule: PriceRule | None) -> dict:
    if rule is None:
        return {"kind": "above_reference", "action": "alert", "enabled": True}
    return {
        "name": rule.name,
        "kind": rule.kind.value,
        "threshold_percent": rule.threshold_percent,
        "window_days": rule.window_days,
        "action": rule.action.value,
        "enabled": rule.enabled,
    }


def _rules_page(status: int = 200, errors: dict | None = None, values: dict | None = None):
    return render_template(
        "oversight/price_rules.html",
        rules=monitoring.rules(),
        errors=errors or {},
        values=values if values is not None else _rule_values(None),
        rule_kind_labels=RULE_KIND_LABELS,
        rule_action_labels=RULE_ACTION_LABELS,
        may_edit=current_user.role is Role.OPERATOR,
    ), status


@bp.get("/oversight/price-rules")
@roles_required(*OVERSIGHT_ROLES)
def rule_list():
    return _rules_page()


@bp.post("/oversight/price-rules")
@roles_required(Role.OPERATOR)
def rule_create():
    data = request.form.to_dict()
    try:
        values = PriceRuleForm().load(data)
    except ValidationError as exc:
        return _rules_page(422, exc.messages, {k: data.get(k) for k in RULE_FIELDS})
    rule = monitoring.save_rule(None, values, current_user)
    flash(_("已新增价格规则「%(name)s」。", name=rule.name), "success")
    return redirect(url_for("monitor.rule_list"))


@bp.route("/oversight/price-rules/<int:rule_id>", methods=["GET", "POST"])
@roles_required(Role.OPERATOR)
def rule_edit(rule_id: int):
    rule = db.get_or_404(PriceRule, rule_id)
    errors: dict = {}
    values = _rule_values(rule)
    if request.method == "POST":
        data = request.form.to_dict()
        try:
            loaded = PriceRuleForm().load(data)
        except ValidationError as exc:
            errors, values = exc.messages, {k: data.get(k) for k in RULE_FIELDS}
        else:
            monitoring.save_rule(rule, loaded, current_user)
            flash(_("已保存价格规则「%(name)s」。", name=rule.name), "success")
            return redirect(url_for("monitor.rule_list"))
    return render_template(
        "oversight/price_rule_form.html",
        rule=rule,
        values=values,
        errors=errors,
        rule_kind_labels=RULE_KIND_LABELS,
        rule_action_labels=RULE_ACTION_LABELS,
    ), 422 if errors else 200


# --------------------------------------------------------------------------------------------
# Supplier credit: oversight


class CreditQuery(QuerySchema):
    q = fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.Length(max=100, error="关键词不能超过 100 个字符"),
    )
    stars = fields.Integer(
        load_default=None, allow_none=True, validate=validate.Range(min=1, max=5, error="星级应为 1–5")
    )
    year = fields.Integer(load_default=None, allow_none=True, validate=YEAR)
    sort = fields.String(load_default="score", validate=validate.OneOf(CREDIT_SORTS, error="排序方式无效"))
    page = fields.Integer(load_default=1, validate=PAGE)
    per_page = fields.Integer(load_default=50, validate=PER_PAGE)

    @pre_load
    def clean(self, data, **kwargs):
        return _blank_to_none(data, ("q", "stars", "year", "sort"))


def _score_bounds(stars: int) -> tuple[int, int | None]:
    """The scores that earn exactly ``stars`` stars: (lowest, highest or None)."""
    steps = credit.STAR_STEPS
    index = next(i for i, (_low, s) in enumerate(steps) if s == stars)
    low = steps[index][0]
    high = steps[index - 1][0] - 1 if index > 0 else None
    return low, high


@bp.get("/oversight/credit")
@roles_required(*OVERSIGHT_ROLES)
def credit_overview():
    raw = request.args.to_dict()
    args, errors = _load(CreditQuery(), raw)
    year = args["year"] or credit.local_year()
    sums = (
        sa.select(
            CreditEvent.supplier_id,
            sa.func.sum(CreditEvent.points).label("points"),
            sa.func.count().label("events"),
        )
        .where(CreditEvent.year == year, credit.counted())
        .group_by(CreditEvent.supplier_id)
        .subquery()
    )
    raw_score = credit.FULL_SCORE + sa.func.coalesce(sums.c.points, 0)
    score = sa.case((raw_score < 0, 0), else_=raw_score)
    query = (
        sa.select(Organization, score.label("score"), sa.func.coalesce(sums.c.events, 0))
        .outerjoin(sums, sums.c.supplier_id == Organization.id)
        .where(Organization.kind == OrgKind.SUPPLIER)
    )
    if args["q"]:
        query = query.where(Organization.name.contains(args["q"], autoescape=True))
    if args["stars"]:
        low, high = _score_bounds(args["stars"])
        query = query.where(score >= low)
        if high is not None:
            query = query.where(score <= high)
    total = db.session.scalar(sa.select(sa.func.count()).select_from(query.subquery())) or 0
    order = (score, Organization.code) if args["sort"] == "score" else (Organization.name, Organization.code)
    rows = db.session.execute(
        query.order_by(*order).limit(args["per_page"]).offset((args["page"] - 1) * args["per_page"])
    ).all()
    pending = (
        db.session.scalar(sa.select(sa.func.count()).where(CreditEvent.appeal_status == AppealStatus.PENDING))
        or 0
    )
    params = {"q": args["q"], "stars": args["stars"], "year": args["year"], "sort": args["sort"]}
    return render_template(
        "oversight/credit_overview.html",
        rows=[(org, credit.credit_for(int(s)), events) for org, s, events in rows],
        total=total,
        args=args,
        year=year,
        errors=errors,
        params={k: v for k, v in params.items() if v not in (None, "") and k not in errors},
        pending=pending,
        star_steps=credit.STAR_STEPS,
    ), 422 if errors else 200


class LedgerQuery(QuerySchema):
    supplier = fields.Integer(required=True, validate=ID_RANGE)
    year = fields.Integer(load_default=None, allow_none=True, validate=YEAR)

    @pre_load
    def clean(self, data, **kwargs):
        return _blank_to_none(data, ("supplier", "year"))


def _ledger_context(supplier: Organization, year: int) -> dict:
    events = credit.ledger(supplier.id, year)
    return {
        "supplier": supplier,
        "year": year,
        "years": credit.years_of(supplier.id),
        "events": events,
        "credit": credit.credit_for(credit.score(supplier.id, year)),
        "order_numbers": _order_numbers(events),
        "reason_labels": REASON_LABELS,
        "appeal_labels": APPEAL_LABELS,
        "points": credit.POINTS,
        "appeal_days": credit.APPEAL_DAYS,
        "star_steps": credit.STAR_STEPS,
        "full_score": credit.FULL_SCORE,
    }


def _order_numbers(events: list[CreditEvent]) -> dict[int, str]:
    ids = {e.order_id for e in events if e.order_id}
    if not ids:
        return {}
    return dict(db.session.execute(sa.select(Order.id, Order.number).where(Order.id.in_(ids))).all())


@bp.get("/oversight/credit/ledger")
@roles_required(*OVERSIGHT_ROLES)
def credit_ledger():
    args = LedgerQuery().load(request.args.to_dict())  # refused: the 422 page (app/core/errors.py)
    supplier = db.session.scalar(
        sa.select(Organization).where(
            Organization.id == args["supplier"], Organization.kind == OrgKind.SUPPLIER
        )
    )
    if supplier is None:
        abort(404)
    return render_template(
        "oversight/credit_ledger.html",
        oversight=True,
        **_ledger_context(supplier, args["year"] or credit.local_year()),
    )


class AppealsQuery(QuerySchema):
    page = fields.Integer(load_default=1, validate=PAGE)
    per_page = fields.Integer(load_default=50, validate=PER_PAGE)


class DecisionForm(FormSchema):
    event_id = fields.Integer(required=True, validate=ID_RANGE)
    decision = fields.String(
        required=True,
        validate=validate.OneOf(["uphold", "reject"], error="请选择申诉成立或驳回"),
        error_messages=_missing("请选择申诉成立或驳回"),
    )
    note = fields.String(
        required=True,
        validate=validate.Length(min=1, max=credit.NOTE_MAX, error="请填写处理意见（不超过 1000 个字）"),
        error_messages=_missing("请填写处理意见（不超过 1000 个字）"),
    )
    next = fields.String(load_default=None)

    @pre_load
    def clean(self, data, **kwargs):
        return _blank_to_none(data, ("event_id", "decision", "note", "next"))


def _appeals(raw: dict, status: int = 200, errors: dict | None = None):
    args, query_errors = _load(AppealsQuery(), raw)
    errors = {**query_errors, **(errors or {})}
    query = sa.select(CreditEvent).where(CreditEvent.appeal_status == AppealStatus.PENDING)
    total = db.session.scalar(sa.select(sa.func.count()).select_from(query.subquery())) or 0
    events = list(
        db.session.scalars(
            query.options(selectinload(CreditEvent.supplier))
            .order_by(CreditEvent.appealed_at, CreditEvent.id)
            .limit(args["per_page"])
            .offset((args["page"] - 1) * args["per_page"])
        )
    )
    return render_template(
        "oversight/credit_appeals.html",
        events=events,
        total=total,
        args=args,
        errors=errors,
        order_numbers=_order_numbers(events),
        reason_labels=REASON_LABELS,
        may_decide=current_user.role is Role.OPERATOR,
    ), (422 if query_errors and status == 200 else status)


@bp.get("/oversight/credit/appeals")
@roles_required(*OVERSIGHT_ROLES)
def credit_appeals():
    return _appeals(request.args.to_dict())


@bp.post("/oversight/credit/appeals/decide")
@roles_required(Role.OPERATOR)
def credit_decide():
    data = request.form.to_dict()
    try:
        form = DecisionForm().load(data)
    except ValidationError as exc:
        return _appeals(_query_of(data.get("next")), 422, exc.messages)
    try:
        record = credit.decide(
            form["event_id"], current_user, uphold=form["decision"] == "uphold", note=form["note"]
        )
    except LookupError:
        abort(404)
    except credit.CreditError as exc:
        return _appeals(
            _query_of(form["next"]), 409 if exc.field == "_schema" else 422, {exc.field: [exc.message]}
        )
    if record.appeal_status is AppealStatus.UPHELD:
        flash(_("申诉成立，已撤销该笔扣分（%(points)s 分）。", points=record.points), "success")
    else:
        flash(_("已驳回申诉，扣分保留。"), "success")
    return redirect(safe_next_url(form["next"], url_for("monitor.credit_appeals")))


# --------------------------------------------------------------------------------------------
# Supplier credit: the supplier's own pages


class YearQuery(QuerySchema):
    year = fields.Integer(load_default=None, allow_none=True, validate=YEAR)

    @pre_load
    def clean(self, data, **kwargs):
        return _blank_to_none(data, ("year",))


@bp.get("/credit")
@roles_required(Role.SUPPLIER)
def my_credit():
    args, errors = _load(YearQuery(), request.args.to_dict())
    supplier = current_user.organization
    return render_template(
        "oversight/credit_ledger.html",
        oversight=False,
        errors=errors,
        **_ledger_context(supplier, args["year"] or credit.local_year()),
    ), 422 if errors else 200


def _event_or_404(event_id: int) -> CreditEvent:
    """Suppliers reach their own deductions; operators and regulators every supplier's."""
    query = sa.select(CreditEvent).where(CreditEvent.id == event_id)
    if current_user.role is Role.SUPPLIER:
        query = query.where(CreditEvent.supplier_id == current_user.organization_id)
    record = db.session.scalar(query.options(selectinload(CreditEvent.supplier)))
    if record is None:
        abort(404)
    return record


class AppealForm(FormSchema):
    text = fields.String(
        required=True,
        validate=validate.Length(
            min=credit.APPEAL_MIN, max=credit.APPEAL_MAX, error="请写明申诉理由（5–2000 个字）"
        ),
        error_messages=_missing("请写明申诉理由（5–2000 个字）"),
    )

    @pre_load
    def clean(self, data, **kwargs):
        return _blank_to_none(data, ("text",))


def _render_event(record: CreditEvent, status: int = 200, errors: dict | None = None, text: str = ""):
    return render_template(
        "oversight/credit_event.html",
        event=record,
        errors=errors or {},
        text=text,
        order_number=_order_numbers([record]).get(record.order_id),
        reason_labels=REASON_LABELS,
        appeal_labels=APPEAL_LABELS,
        may_appeal=current_user.role is Role.SUPPLIER and credit.may_appeal(record),
        may_decide=current_user.role is Role.OPERATOR and record.appeal_status is AppealStatus.PENDING,
    ), status


@bp.get("/credit/events/<int:event_id>")
@roles_required(Role.SUPPLIER, *OVERSIGHT_ROLES)
def credit_event(event_id: int):
    return _render_event(_event_or_404(event_id))


@bp.post("/credit/events/<int:event_id>/appeal")
@roles_required(Role.SUPPLIER)
def credit_appeal(event_id: int):
    record = _event_or_404(event_id)
    data = request.form.to_dict()
    try:
        form = AppealForm().load(data)
    except ValidationError as exc:
        return _render_event(record, 422, exc.messages, data.get("text", ""))
    try:
        credit.appeal(record.id, current_user, form["text"])
    except LookupError:
        abort(404)
    except credit.CreditError as exc:
        status = 409 if exc.field == "_schema" else 422
        return _render_event(record, status, {exc.field: [exc.message]}, form["text"])
    flash(_("申诉已提交，卖场运营人员处理后您会在这里看到结果。"), "success")
    return redirect(url_for("monitor.credit_event", event_id=record.id))
