from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from marshmallow import Schema, ValidationError, fields, pre_load, validate

from app.core.schemas import FormSchema, QuerySchema


class PlanListQuery(QuerySchema):
    fiscal_year = fields.Integer(
        load_default=None, validate=validate.Range(min=2000, max=2100, error="年度超出范围")
    )
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=1000, error="页码超出范围"))
    per_page = fields.Integer(
        load_default=20, validate=validate.Range(min=1, max=100, error="每页数量应在 1–100 之间")
    )


class LedgerPageQuery(QuerySchema):
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=10000, error="页码超出范围"))
    per_page = fields.Integer(
        load_default=50, validate=validate.Range(min=1, max=200, error="每页数量应在 1–200 之间")
    )


# --------------------------------------------------------------------------------------------
# A new plan: the same fields and messages for the finance system's API and the operator's form

MAX_AMOUNT = Decimal("999999999999.99")  # Numeric(14, 2)
MAX_PLAN_CATEGORIES = 200
_MONEY_TEXT = re.compile(r"^\d{1,12}(\.\d{1,2})?$")
_NO_BLANKS = re.compile(r"^\S*$")  # emptiness is the length check's to report


class MoneyText(fields.Field):
    """An amount of CNY written as text ("500000.00", "500,000"): exact, never a float."""

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, str):
            raise ValidationError('金额应为字符串，例如 "500000.00"（避免浮点数误差）')
        text = value.strip().replace(",", "")
        if not _MONEY_TEXT.match(text):
            raise ValidationError(
                f"金额格式不正确：应为最多两位小数的数字，例如 500000.00，收到「{value[:40]}」"
            )
        try:
            amount = Decimal(text)
        except InvalidOperation:  # pragma: no cover - the pattern already guarantees a number
            raise ValidationError("金额格式不正确") from None
        if amount <= 0:
            raise ValidationError("批复金额必须大于 0")
        if amount > MAX_AMOUNT:
            raise ValidationError("批复金额过大")
        return amount.quantize(Decimal("0.01"))

    def _serialize(self, value, attr, obj, **kwargs):
        return None if value is None else f"{value:.2f}"


def _text(max_length: int, required: str, *, blanks: bool = True, **kwargs) -> fields.String:
    checks = [validate.Length(min=1, max=max_length, error=f"应为 1–{max_length} 个字符")]
    if not blanks:
        checks.append(validate.Regexp(_NO_BLANKS, error="不能包含空格等空白字符"))
    return fields.String(required=True, validate=checks, error_messages={"required": required}, **kwargs)


class PlanFields(Schema):
    """The fields of a new procurement plan (mixed into the API schema and the page's form)."""

    unit_code = _text(32, "请填写预算单位编码", blanks=False, metadata={"description": "预算单位编码"})
    plan_no = _text(
        64, "请填写计划编号", blanks=False, metadata={"description": "计划编号（全局唯一，幂等键）"}
    )
    name = _text(200, "请填写计划名称", metadata={"description": "计划名称"})
    fiscal_year = fields.Integer(
        required=True,
        strict=True,
        validate=validate.Range(min=2000, max=2100, error="预算年度应在 2000–2100 之间"),
        error_messages={"required": "请填写预算年度"},
        metadata={"description": "预算年度"},
    )
    budget_line_code = _text(64, "请填写预算项目编码", blanks=False, metadata={"description": "预算项目编码"})
    fund_source = _text(64, "请填写资金来源", metadata={"description": "资金来源，例如 一般公共预算"})
    amount = MoneyText(
        required=True,
        error_messages={"required": "请填写批复金额"},
        metadata={
            "description": '批复金额（元），两位小数以内的字符串，例如 "500000.00"',
            "type": "string",
            "format": "decimal",
        },
    )
    category_codes = fields.List(
        fields.String(validate=validate.Regexp(r"^[ABC]\d{8}$", error="品目编码格式不正确，例如 A02010105")),
        required=True,
        validate=validate.Length(
            min=1, max=MAX_PLAN_CATEGORIES, error=f"请选择 1–{MAX_PLAN_CATEGORIES} 个品目"
        ),
        error_messages={"required": "请至少选择一个品目"},
        metadata={"description": "计划覆盖的品目：2022 版政府采购品目分类目录的末级品目编码"},
    )

    @pre_load
    def clean(self, data, **kwargs):
        if not isinstance(data, dict):
            return data
        data = dict(data)
        for key in ("unit_code", "plan_no", "name", "budget_line_code", "fund_source"):
            if isinstance(data.get(key), str):
                data[key] = data[key].strip()
        codes = data.get("category_codes")
        if isinstance(codes, list) and all(isinstance(code, str) for code in codes):
            # Upper-cased, blanks dropped, each code once, in the order given.
            data["category_codes"] = list(dict.fromkeys(c.strip().upper() for c in codes if c.strip()))
        return data


class PlanForm(PlanFields, FormSchema):
    """The operator's form: every value arrives as text."""

    fiscal_year = fields.Integer(
        required=True,
        validate=validate.Range(min=2000, max=2100, error="预算年度应在 2000–2100 之间"),
        error_messages={"required": "请填写预算年度", "invalid": "预算年度应为整数"},
    )

    @pre_load
    def clean(self, data, **kwargs):
        data = PlanFields.clean(self, data)
        # An empty text box is an unanswered question ("请填写…"), not an invalid value.
        return {key: value for key, value in data.items() if value not in ("", [])}
