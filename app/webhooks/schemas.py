"""Input of the webhook pages."""

from __future__ import annotations

from marshmallow import ValidationError, fields, pre_load, validate, validates_schema

from app.core.schemas import FormSchema, QuerySchema
from app.webhooks.events import SELECTABLE
from app.webhooks.guard import MAX_URL_LENGTH
from app.webhooks.models import DeliveryStatus

STATUSES = [status.value for status in DeliveryStatus]


class EndpointForm(FormSchema):
    url = fields.String(
        required=True,
        validate=validate.Length(min=1, max=MAX_URL_LENGTH, error=f"地址应为 1–{MAX_URL_LENGTH} 个字符"),
        error_messages={"required": "请填写接收地址"},
    )
    description = fields.String(
        load_default="", validate=validate.Length(max=200, error="说明不能超过 200 个字符")
    )
    scope = fields.String(
        load_default="all",
        validate=validate.OneOf(["all", "selected"], error="请选择接收全部事件或指定事件类型"),
    )
    event_types = fields.List(
        fields.String(validate=validate.OneOf(sorted(SELECTABLE), error="未知的事件类型")),
        load_default=list,
        validate=validate.Length(max=len(SELECTABLE), error="事件类型过多"),
    )

    @pre_load
    def clean(self, data, **kwargs):
        data = dict(data)
        for key in ("url", "description"):
            if isinstance(data.get(key), str):
                data[key] = data[key].strip()
        if data.get("url") == "":
            data.pop("url")
        return data

    @validates_schema
    def types_when_selected(self, data, **kwargs):
        if data.get("scope") == "selected" and not data.get("event_types"):
            raise ValidationError("请至少选择一种事件类型，或选择接收全部事件", "event_types")


class DisableForm(FormSchema):
    reason = fields.String(
        load_default="", validate=validate.Length(max=200, error="原因不能超过 200 个字符")
    )


class DeliveryLogQuery(QuerySchema):
    status = fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.OneOf(STATUSES, error="状态取值无效"),
    )
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=10000, error="页码超出范围"))
    per_page = fields.Integer(
        load_default=20, validate=validate.Range(min=1, max=100, error="每页数量应在 1–100 之间")
    )

    @pre_load
    def clean(self, data, **kwargs):
        data = dict(data)
        if not (data.get("status") or "").strip():
            data.pop("status", None)
        return data
