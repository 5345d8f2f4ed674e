"""Input schemas: the provider's events (after their signature is verified) and the payment form."""

from __future__ import annotations

from marshmallow import INCLUDE, Schema, fields, validate

from app.core.schemas import FormSchema, QuerySchema

EVENT_ID = r"^evt_[A-Za-z0-9]{1,64}$"
INTENT_ID = r"^pi_[A-Za-z0-9]{1,64}$"


class _Lenient(Schema):
    """Provider objects carry many more fields than we read; they are kept, not refused."""

    class Meta:
        unknown = INCLUDE


class IntentObjectSchema(_Lenient):
    id = fields.String(required=True, validate=validate.Regexp(INTENT_ID, error="支付意图编号格式不正确"))
    object = fields.String(
        required=True, validate=validate.Equal("payment_intent", error="应为 payment_intent")
    )
    amount = fields.Integer(
        required=True, strict=True, validate=validate.Range(min=1, error="金额应为正整数（分）")
    )
    currency = fields.String(required=True, validate=validate.Length(equal=3, error="币种格式不正确"))
    status = fields.String(required=True, validate=validate.Length(max=32))
    metadata = fields.Dict(keys=fields.String(), values=fields.String(), load_default=dict)
    last_payment_error = fields.Dict(allow_none=True, load_default=None)


class EventDataSchema(_Lenient):
    object = fields.Nested(IntentObjectSchema, required=True)


class ProviderEventSchema(_Lenient):
    id = fields.String(required=True, validate=validate.Regexp(EVENT_ID, error="事件编号格式不正确"))
    object = fields.String(required=True, validate=validate.Equal("event", error="应为 event"))
    type = fields.String(required=True, validate=validate.Length(min=1, max=64))
    created = fields.Integer(required=True, strict=True, validate=validate.Range(min=0))
    data = fields.Nested(EventDataSchema, required=True)


class PaymentRequestForm(FormSchema):
    order_id = fields.Integer(
        required=True, strict=False, validate=validate.Range(min=1, max=2**31 - 1, error="订单编号无效")
    )
    next = fields.String(load_default=None, validate=validate.Length(max=500))


class PaymentListQuery(QuerySchema):
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=10_000))
    per_page = fields.Integer(load_default=20, validate=validate.Range(min=1, max=100))
