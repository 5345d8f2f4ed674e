"""Input of the review queue: its filters and the operators' decisions."""

from __future__ import annotations

from marshmallow import ValidationError, fields, pre_load, validate, validates_schema

from app.core.schemas import FormSchema, QuerySchema

ID_RANGE = validate.Range(min=1, max=2**31 - 1, error="编号无效")
DECISIONS = validate.OneOf(["approve", "reject"], error="审核决定应为通过或驳回")
KINDS = ["new_product", "new_offer", "change"]


def _blank_to_none(data, keys):
    data = dict(data)
    for key in keys:
        value = data.get(key)
        if isinstance(value, str):
            value = value.strip()
            data[key] = value if value else None
    return data


class ReviewQuery(QuerySchema):
    supplier = fields.Integer(load_default=None, allow_none=True, validate=ID_RANGE)
    category = fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.Regexp(r"^[A-C]\d{2,8}$", error="品目编码格式不正确"),
    )
    kind = fields.String(
        load_default=None, allow_none=True, validate=validate.OneOf(KINDS, error="类型取值无效")
    )
    submitted_from = fields.Date(load_default=None, allow_none=True)
    submitted_to = fields.Date(load_default=None, allow_none=True)
    ratio_min = fields.Decimal(
        load_default=None,
        allow_none=True,
        places=1,
        validate=validate.Range(min=0, max=1000, error="比例应在 0–1000（%）之间"),
    )
    ratio_max = fields.Decimal(
        load_default=None,
        allow_none=True,
        places=1,
        validate=validate.Range(min=0, max=1000, error="比例应在 0–1000（%）之间"),
    )
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=10000, error="页码超出范围"))
    per_page = fields.Integer(
        load_default=50, validate=validate.Range(min=1, max=200, error="每页数量应在 1–200 之间")
    )

    @pre_load
    def clean(self, data, **kwargs):
        return _blank_to_none(
            data, ("supplier", "category", "kind", "submitted_from", "submitted_to", "ratio_min", "ratio_max")
        )

    @validates_schema
    def check_ranges(self, data, **kwargs):
        if (
            data.get("submitted_from")
            and data.get("submitted_to")
            and data["submitted_from"] > data["submitted_to"]
        ):
            raise ValidationError("起始日期不能晚于截止日期", "submitted_to")
        if (
            data.get("ratio_min") is not None
            and data.get("ratio_max") is not None
            and data["ratio_min"] > data["ratio_max"]
        ):
            raise ValidationError("最小比例不能大于最大比例", "ratio_max")


class DecisionForm(FormSchema):
    offer_id = fields.Integer(required=True, validate=ID_RANGE, error_messages={"required": "请指定报价"})
    decision = fields.String(required=True, validate=DECISIONS, error_messages={"required": "请选择审核决定"})
    reason = fields.String(
        load_default="", validate=validate.Length(max=500, error="理由不能超过 500 个字符")
    )
    next = fields.String(load_default=None, validate=validate.Length(max=1000))

    @validates_schema
    def reason_for_rejection(self, data, **kwargs):
        if data.get("decision") == "reject" and not (data.get("reason") or "").strip():
            raise ValidationError("驳回必须填写理由，供应商会看到它并据此修改", "reason")


class BulkDecisionForm(FormSchema):
    offer_ids = fields.List(
        fields.Integer(validate=ID_RANGE),
        required=True,
        validate=validate.Length(min=1, max=200, error="请选择 1–200 条报价"),
        error_messages={"required": "请至少勾选一条报价"},
    )
    decision = fields.String(required=True, validate=DECISIONS, error_messages={"required": "请选择审核决定"})
    reason = fields.String(
        load_default="", validate=validate.Length(max=500, error="理由不能超过 500 个字符")
    )
    confirm = fields.Boolean(load_default=False)
    next = fields.String(load_default=None, validate=validate.Length(max=1000))

    @pre_load
    def clean(self, data, **kwargs):
        data = dict(data)
        if isinstance(data.get("reason"), str):
            data["reason"] = data["reason"].strip()
        return data

    @validates_schema
    def reason_for_rejection(self, data, **kwargs):
        if data.get("decision") == "reject" and not (data.get("reason") or "").strip():
            raise ValidationError("驳回必须填写理由，供应商会看到它并据此修改", "reason")
