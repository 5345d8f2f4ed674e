"""The operator's page of direct-order rules (下单规则), per region and/or category.

A rule sets some of the limits and deadlines of :class:`app.orders.rules.RuleSet`; a field left
blank falls back to the next less specific rule, then to the defaults of DESIGN.md (see
:func:`app.orders.rules.rules_for`). Operators list, create, edit and delete rules (delete after a
confirmation page) and can look up which value applies to a region and category, and where it
comes from. Every change is written to the audit trail. Operators only.

One module holds the page's input schemas, its few verbs (they flush, never commit) and its views.
"""

from __future__ import annotations

import dataclasses
from decimal import Decimal, InvalidOperation

import sqlalchemy as sa
from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from marshmallow import ValidationError, fields, pre_load, validate, validates_schema

from app.auth.access import roles_required
from app.auth.models import Role, User
from app.catalog.models import CATALOG_VERSION, Category
from app.catalog.regions import PROVINCES, province_name
from app.core import audit
from app.core.money import CENT
from app.core.schemas import FormSchema, QuerySchema
from app.extensions import db
from app.orders.models import OrderRule
from app.orders.rules import DEFAULTS, FIELDS, rules_for
from app.orders.rules import _specificity as specificity

bp = Blueprint("order_rules", __name__, url_prefix="/order-rules")

MONEY_FIELDS = ("direct_ceiling", "approval_threshold", "comparison_required_above")
INT_FIELDS = ("confirm_hours", "accept_days", "pay_days", "split_window_days")
MONEY_MAX = Decimal("999999999999.99")  # Numeric(14, 2)
RULE_SCOPE_LOCK = 0x0D_E5_01  # PostgreSQL advisory lock key of the rules' scope check

FIELD_LABELS = {
    "region_code": _l("地区"),
    "category_code": _l("品目编码"),
    "direct_ceiling": _l("直购限额（每单）"),
    "approval_threshold": _l("审批阈值"),
    "comparison_required_above": _l("须附比价记录的金额"),
    "confirm_hours": _l("供应商确认时限（小时）"),
    "accept_days": _l("验收时限（天）"),
    "pay_days": _l("付款时限（天）"),
    "split_window_days": _l("拆单监测窗口（天）"),
}
SOURCE_LABELS = {
    3: _l("地区+品目规则"),
    2: _l("品目规则"),
    1: _l("地区规则"),
    0: _l("全局规则"),
    None: _l("默认值"),
}


# --------------------------------------------------------------------------------------------
# Input


def _two_places(value: Decimal) -> None:
    try:
        exact = value == value.quantize(CENT)
    except InvalidOperation:
        exact = False
    if not exact:
        raise ValidationError("金额最多保留两位小数")


def _money(minimum: Decimal, *, inclusive: bool, error: str) -> fields.Decimal:
    return fields.Decimal(
        load_default=None,
        allow_none=True,
        validate=[
            validate.Range(min=minimum, min_inclusive=inclusive, error=error),
            validate.Range(max=MONEY_MAX, error="金额不能超过 999,999,999,999.99 元"),
            _two_places,
        ],
    )


def _whole(maximum: int, unit: str) -> fields.Integer:
    return fields.Integer(
        load_default=None,
        allow_none=True,
        validate=validate.Range(min=1, max=maximum, error=f"应为 1–{maximum} 之间的整数（{unit}）"),
        error_messages={"invalid": f"应为正整数（{unit}）"},
    )


def _blank_to_none(data, keys) -> dict:
    data = dict(data)
    for key in keys:
        value = data.get(key)
        if isinstance(value, str):
            value = value.strip()
            data[key] = value if value else None
    return data


CATEGORY_CODE = validate.Regexp(r"^[A-C]\d{2,8}$", error="品目编码格式不正确，例如 A02010105")
REGION = validate.OneOf(list(PROVINCES), error="请选择有效的省级地区")


class RuleForm(FormSchema):
    region_code = fields.String(load_default=None, allow_none=True, validate=REGION)
    category_code = fields.String(load_default=None, allow_none=True, validate=CATEGORY_CODE)
    direct_ceiling = _money(Decimal("0"), inclusive=False, error="直购限额应大于 0 元")
    approval_threshold = _money(Decimal("0"), inclusive=True, error="审批阈值不能为负数")
    comparison_required_above = _money(Decimal("0"), inclusive=True, error="金额不能为负数")
    confirm_hours = _whole(720, "小时")
    accept_days = _whole(365, "天")
    pay_days = _whole(365, "天")
    split_window_days = _whole(365, "天")

    @pre_load
    def clean(self, data, **kwargs):
        data = dict(data)
        for key in MONEY_FIELDS:
            if isinstance(data.get(key), str):
                # People type amounts the way they read them: "¥200,000.00".
                data[key] = data[key].translate(str.maketrans("", "", ",，¥￥ "))
        if isinstance(data.get("category_code"), str):
            data["category_code"] = data["category_code"].strip().upper()
        return _blank_to_none(data, ("region_code", "category_code", *FIELDS))

    @validates_schema
    def check(self, data, **kwargs):
        if all(data.get(name) is None for name in FIELDS):
            raise ValidationError("请至少填写一项规则值（留空的项沿用上级规则或默认值）", "_schema")
        ceiling, threshold = data.get("direct_ceiling"), data.get("approval_threshold")
        if ceiling is not None and threshold is not None and threshold > ceiling:
            raise ValidationError("审批阈值不能高于直购限额", "approval_threshold")


class RuleListQuery(QuerySchema):
    region = fields.String(load_default=None, allow_none=True, validate=REGION)
    category = fields.String(load_default=None, allow_none=True, validate=CATEGORY_CODE)
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=10000, error="页码超出范围"))
    per_page = fields.Integer(
        load_default=50, validate=validate.Range(min=1, max=200, error="每页数量应在 1–200 之间")
    )

    @pre_load
    def clean(self, data, **kwargs):
        data = _blank_to_none(data, ("region", "category"))
        if isinstance(data.get("category"), str):
            data["category"] = data["category"].upper()
        return data


# --------------------------------------------------------------------------------------------
# Verbs


class RuleError(Exception):
    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field
        self.message = message


def leaf_category(code: str) -> Category | None:
    """A leaf of the current catalogue (rules name 2022 codes, never a 2013 one)."""
    return db.session.scalar(
        sa.select(Category).where(
            Category.code == code,
            Category.catalog_version == CATALOG_VERSION,
            Category.is_leaf.is_(True),
        )
    )


def _scope(region_code: str | None, category_id: int | None):
    return sa.and_(
        OrderRule.region_code.is_(None) if region_code is None else OrderRule.region_code == region_code,
        OrderRule.category_id.is_(None) if category_id is None else OrderRule.category_id == category_id,
    )


def scope_label(region_code: str | None, category: Category | None) -> str:
    region = province_name(region_code) if region_code else _("全部地区")
    return f"{region} · {f'{category.code} {category.name}' if category else _('全部品目')}"


def _plain(value):
    return str(value) if isinstance(value, Decimal) else value


def _snapshot(rule: OrderRule) -> dict:
    return {
        "region_code": rule.region_code,
        "category_code": rule.category.code if rule.category else None,
        **{name: _plain(getattr(rule, name)) for name in FIELDS},
    }


def save_rule(rule: OrderRule | None, data: dict, user: User) -> OrderRule:
    """Create (``rule`` None) or change a rule from a loaded :class:`RuleForm`."""
    category = None
    if data["category_code"]:
        category = leaf_category(data["category_code"])
        if category is None:
            raise RuleError(
                "category_code",
                f"品目编码 {data['category_code']} 不存在或不是 {CATALOG_VERSION} 版目录的末级品目",
            )
    region_code = data["region_code"]
    if db.session.get_bind().dialect.name == "postgresql":
        # The unique constraint does not see NULLs (a region- or mall-wide rule): two operators
        # saving the same scope at once are serialized here (SQLite has one writer anyway).
        db.session.execute(sa.select(sa.func.pg_advisory_xact_lock(RULE_SCOPE_LOCK)))
    clash = sa.select(OrderRule.id).where(_scope(region_code, category.id if category else None))
    if rule is not None:
        clash = clash.where(OrderRule.id != rule.id)
    if db.session.scalar(clash.limit(1)) is not None:
        raise RuleError(
            "_schema", f"「{scope_label(region_code, category)}」已有一条规则，请修改那一条，不要重复创建"
        )
    before = _snapshot(rule) if rule is not None else None
    if rule is None:
        rule = OrderRule()
        db.session.add(rule)
    rule.region_code = region_code
    rule.category = category
    rule.category_id = category.id if category else None
    for name in FIELDS:
        value = data[name]
        setattr(rule, name, value.quantize(CENT) if isinstance(value, Decimal) else value)
    rule.updated_by_id = user.id
    db.session.flush()
    after = _snapshot(rule)
    if before is None:
        audit.record("order_rule.created", user=user, rule_id=rule.id, values=after)
    else:
        changes = {key: [before[key], after[key]] for key in after if before[key] != after[key]}
        audit.record("order_rule.updated", user=user, rule_id=rule.id, changes=changes)
    return rule


def delete_rule(rule: OrderRule, user: User) -> None:
    audit.record("order_rule.deleted", user=user, rule_id=rule.id, values=_snapshot(rule))
    db.session.delete(rule)
    db.session.flush()


@dataclasses.dataclass(frozen=True)
class Effective:
    name: str
    value: object
    source: int | None  # specificity of the rule it comes from; None: the default
    rule_id: int | None


def explain(region_code: str | None, category_id: int | None) -> list[Effective]:
    """Which value of each field applies here and which rule it comes from (the same resolution
    as :func:`rules_for`, whose values these are)."""
    rows = db.session.scalars(
        sa.select(OrderRule).where(
            sa.or_(OrderRule.region_code.is_(None), OrderRule.region_code == region_code),
            sa.or_(OrderRule.category_id.is_(None), OrderRule.category_id == category_id),
        )
    ).all()
    ranked = sorted(rows, key=specificity, reverse=True)
    values = rules_for(region_code, category_id)
    found = []
    for name in FIELDS:
        rule = next((r for r in ranked if getattr(r, name) is not None), None)
        source = None if rule is None else specificity(rule)
        found.append(Effective(name, getattr(values, name), source, rule.id if rule else None))
    return found


# --------------------------------------------------------------------------------------------
# Views


def _load_rule(rule_id: int, *, lock: bool = False) -> OrderRule:
    query = sa.select(OrderRule).where(OrderRule.id == rule_id)
    if lock:
        query = query.with_for_update()
    return db.first_or_404(query, description=_("该规则不存在或已被删除。"))


def _form_values(rule: OrderRule | None) -> dict:
    if rule is None:
        return {"region_code": "", "category_code": "", **{name: "" for name in FIELDS}}
    values = _snapshot(rule)
    return {key: "" if value is None else str(value) for key, value in values.items()}


def _render_form(rule: OrderRule | None, form: dict, errors: dict, status: int = 200):
    return render_template(
        "orders/rules_form.html",
        rule=rule,
        form=form,
        errors=errors,
        provinces=PROVINCES,
        defaults=DEFAULTS,
        labels=FIELD_LABELS,
        money_fields=MONEY_FIELDS,
        int_fields=INT_FIELDS,
        catalog_version=CATALOG_VERSION,
    ), status


def _submitted() -> dict:
    keys = ("region_code", "category_code", *FIELDS)
    return {key: request.form.get(key, "") for key in keys}


@bp.get("/")
@roles_required(Role.OPERATOR)
def rule_list():
    raw = request.args.to_dict()
    errors: dict = {}
    try:
        args = RuleListQuery().load(raw)
    except ValidationError as exc:
        errors = exc.messages
        args = RuleListQuery().load({k: v for k, v in raw.items() if k not in exc.messages})
    status = 422 if errors else 200
    total = db.session.scalar(sa.select(sa.func.count()).select_from(OrderRule)) or 0
    rules = db.session.scalars(
        sa.select(OrderRule)
        .outerjoin(OrderRule.category)
        .order_by(
            OrderRule.region_code.is_not(None),
            OrderRule.region_code,
            OrderRule.category_id.is_not(None),
            Category.code,
            OrderRule.id,
        )
        .limit(args["per_page"])
        .offset((args["page"] - 1) * args["per_page"])
    ).all()
    editors = {
        user.id: user.display_name
        for user in db.session.scalars(
            sa.select(User).where(User.id.in_({r.updated_by_id for r in rules if r.updated_by_id}))
        )
    }
    lookup = None
    lookup_category = None
    if args["region"] or args["category"]:
        if args["category"]:
            lookup_category = leaf_category(args["category"])
            if lookup_category is None:
                errors = {**errors, "category": [_("品目编码不存在或不是末级品目")]}
                status = 422
        if "category" not in errors:
            lookup = explain(args["region"], lookup_category.id if lookup_category else None)
    return render_template(
        "orders/rules.html",
        rules=rules,
        total=total,
        editors=editors,
        defaults=DEFAULTS,
        fields=FIELDS,
        money_fields=MONEY_FIELDS,
        labels=FIELD_LABELS,
        source_labels=SOURCE_LABELS,
        provinces=PROVINCES,
        province_name=province_name,
        args=args,
        raw=raw,
        errors=errors,
        lookup=lookup,
        lookup_category=lookup_category,
    ), status


@bp.route("/new", methods=["GET", "POST"])
@roles_required(Role.OPERATOR)
def rule_new():
    if request.method == "GET":
        return _render_form(None, _form_values(None), {})
    form = _submitted()
    try:
        data = RuleForm().load(request.form.to_dict())
        rule = save_rule(None, data, current_user._get_current_object())
    except ValidationError as exc:
        return _render_form(None, form, exc.messages, 422)
    except RuleError as exc:
        return _render_form(None, form, {exc.field: [exc.message]}, 422)
    flash(
        _(
            "已新建规则：%(scope)s。新规则只影响此后提交的订单。",
            scope=scope_label(rule.region_code, rule.category),
        ),
        "success",
    )
    return redirect(url_for("order_rules.rule_list"))


@bp.route("/<int:rule_id>/edit", methods=["GET", "POST"])
@roles_required(Role.OPERATOR)
def rule_edit(rule_id: int):
    if request.method == "GET":
        rule = _load_rule(rule_id)
        return _render_form(rule, _form_values(rule), {})
    rule = _load_rule(rule_id, lock=True)
    form = _submitted()
    try:
        data = RuleForm().load(request.form.to_dict())
        save_rule(rule, data, current_user._get_current_object())
    except ValidationError as exc:
        return _render_form(rule, form, exc.messages, 422)
    except RuleError as exc:
        return _render_form(rule, form, {exc.field: [exc.message]}, 422)
    flash(
        _(
            "已保存规则：%(scope)s。修改只影响此后提交的订单。",
            scope=scope_label(rule.region_code, rule.category),
        ),
        "success",
    )
    return redirect(url_for("order_rules.rule_list"))


@bp.route("/<int:rule_id>/delete", methods=["GET", "POST"])
@roles_required(Role.OPERATOR)
def rule_delete(rule_id: int):
    if request.method == "GET":
        rule = _load_rule(rule_id)
        return render_template(
            "orders/rules_delete.html",
            rule=rule,
            scope=scope_label(rule.region_code, rule.category),
            fields=FIELDS,
            money_fields=MONEY_FIELDS,
            labels=FIELD_LABELS,
        )
    rule = _load_rule(rule_id, lock=True)
    scope = scope_label(rule.region_code, rule.category)
    delete_rule(rule, current_user._get_current_object())
    flash(_("已删除规则：%(scope)s。此后提交的订单改按上级规则或默认值执行。", scope=scope), "success")
    return redirect(url_for("order_rules.rule_list"))
