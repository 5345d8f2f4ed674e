"""Input of the order pages: every form is loaded through one of these schemas, with Chinese
messages, so bad input is a 422 with field messages and never a 500."""

from __future__ import annotations

from datetime import date

from marshmallow import ValidationError, fields, post_load, pre_load, validate, validates_schema

from app.core.schemas import FormSchema, QuerySchema
from app.orders.models import OrderStatus

# --------------------------------------------------------------------------------------------
# Cart and checkout

ID_RANGE = validate.Range(min=1, max=2**31 - 1, error="编号无效")
DATE_RANGE = validate.Range(min=date(2000, 1, 1), max=date(2100, 12, 31), error="日期应在 2000–2100 年之间")
QUANTITY_MESSAGE = "数量应为 1–9999 之间的整数"
# What a checkout page hands out (uuid4().hex) and Quote.fingerprint: 32 lowercase hex digits.
HEX32 = validate.Regexp(r"^[0-9a-f]{32}$", error="表单已失效，请重新打开结算页面")
# A mobile number (optionally +86) or a landline with its area code and an optional extension.
PHONE = validate.Regexp(
    r"^(?:(?:\+?86[- ]?)?1[3-9]\d{9}|0\d{2,3}-?\d{7,8}(?:-\d{1,6})?)$",
    error="请填写有效的手机号（11 位）或带区号的座机号（如 010-12345678）",
)


def _quantity(**kwargs) -> fields.Integer:
    return fields.Integer(
        strict=False,
        validate=validate.Range(min=1, max=9999, error=QUANTITY_MESSAGE),
        error_messages={"invalid": QUANTITY_MESSAGE, "required": "请填写数量", "too_large": QUANTITY_MESSAGE},
        **kwargs,
    )


def _stripped(data, keys):
    data = dict(data)
    for key in keys:
        if isinstance(data.get(key), str):
            data[key] = data[key].strip()
    return data


class CartAddForm(FormSchema):
    """加入购物车 from a product or comparison page: one offer, how many, where to go back to."""

    offer_id = fields.Integer(required=True, validate=ID_RANGE, error_messages={"required": "请指定报价"})
    quantity = _quantity(load_default=1)
    next = fields.String(load_default=None, validate=validate.Length(max=500))

    @pre_load
    def clean(self, data, **kwargs):
        return _stripped(data, ("offer_id", "quantity"))


class CartQuantityForm(FormSchema):
    """修改数量 of one cart line."""

    item_id = fields.Integer(
        required=True, validate=ID_RANGE, error_messages={"required": "请指定购物车中的商品"}
    )
    quantity = _quantity(required=True)

    @pre_load
    def clean(self, data, **kwargs):
        data = _stripped(data, ("item_id", "quantity"))
        if data.get("quantity") == "":
            data.pop("quantity")  # an empty box is a missing quantity: "请填写数量"
        return data


class CartItemForm(FormSchema):
    """移除 one cart line."""

    item_id = fields.Integer(
        required=True, validate=ID_RANGE, error_messages={"required": "请指定购物车中的商品"}
    )


class CartClearForm(FormSchema):
    """清空购物车: the first post asks for confirmation, the second (confirm=1) clears."""

    confirm = fields.Boolean(load_default=False)


class CheckoutForm(FormSchema):
    """提交订单. Prices are never read from the form: the fingerprint of the quote the buyer saw
    comes back and is compared with the cart priced again from the database."""

    checkout_key = fields.String(
        required=True, validate=HEX32, error_messages={"required": "表单已失效，请重新打开结算页面"}
    )
    fingerprint = fields.String(
        required=True, validate=HEX32, error_messages={"required": "表单已失效，请重新打开结算页面"}
    )
    plan_id = fields.Integer(
        required=True,
        validate=ID_RANGE,
        error_messages={"required": "请选择采购计划", "invalid": "请选择采购计划", "null": "请选择采购计划"},
    )
    delivery_address = fields.String(
        required=True,
        validate=validate.Length(min=5, max=300, error="收货地址应为 5–300 个字符"),
        error_messages={"required": "请填写收货地址"},
    )
    contact_name = fields.String(
        required=True,
        validate=validate.Length(min=1, max=64, error="联系人应为 1–64 个字符"),
        error_messages={"required": "请填写联系人"},
    )
    contact_phone = fields.String(
        required=True, validate=PHONE, error_messages={"required": "请填写联系电话"}
    )
    comparison_record_id = fields.Integer(
        load_default=None, allow_none=True, validate=ID_RANGE, error_messages={"invalid": "请选择比价记录"}
    )
    note = fields.String(
        load_default="", validate=validate.Length(max=1000, error="备注不能超过 1000 个字符")
    )
    split_reason = fields.String(
        load_default="", validate=validate.Length(max=1000, error="拆单说明不能超过 1000 个字符")
    )

    @pre_load
    def clean(self, data, **kwargs):
        data = _stripped(
            data,
            (
                "checkout_key",
                "fingerprint",
                "plan_id",
                "delivery_address",
                "contact_name",
                "contact_phone",
                "comparison_record_id",
                "note",
                "split_reason",
            ),
        )
        for key in ("plan_id", "delivery_address", "contact_name", "contact_phone"):
            if data.get(key) == "":
                data.pop(key)  # an empty field is a missing one: "请填写…"
        if data.get("comparison_record_id") == "":
            data["comparison_record_id"] = None
        return data


class SubmittedQuery(QuerySchema):
    key = fields.String(required=True, validate=HEX32, error_messages={"required": "缺少提交编号"})


# --------------------------------------------------------------------------------------------
# Order actions

ORDER_STATUSES = [status.value for status in OrderStatus]
# The moves a button on the order page makes (acceptance, evaluation and payment have their own).
BUTTON_TARGETS = ["submitted", "confirmed", "rejected", "cancelled", "shipped", "delivered"]
NEEDS_REASON = {"rejected", "cancelled"}
NOTE_LENGTH = validate.Length(max=1000, error="说明不能超过 1000 个字符")
# Printable, no spaces inside: what carriers print on a waybill (SF1234567890, YT-2026-001…).
TRACKING = validate.Regexp(
    r"^[0-9A-Za-z][0-9A-Za-z_\-/]{3,63}$", error="物流单号应为 4–64 位字母、数字或 - _ /"
)
SERIAL = validate.Regexp(r"^[\x21-\x7e]{1,64}$", error="序列号应为 1–64 位字母、数字或符号，不含空格")
STARS = validate.Range(min=1, max=5, error="请选择 1–5 星")


class OrderListQuery(QuerySchema):
    """我的订单 / 订单管理: filters and paging."""

    status = fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.OneOf(ORDER_STATUSES, error="订单状态取值无效"),
    )
    date_from = fields.Date(load_default=None, allow_none=True, validate=DATE_RANGE)
    date_to = fields.Date(load_default=None, allow_none=True, validate=DATE_RANGE)
    q = fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.Regexp(r"^[0-9A-Za-z]{1,32}$", error="订单编号只含字母和数字，最多 32 位"),
    )
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=10000, error="页码超出范围"))
    per_page = fields.Integer(
        load_default=20, validate=validate.Range(min=1, max=100, error="每页数量应在 1–100 之间")
    )

    @pre_load
    def clean(self, data, **kwargs):
        data = _stripped(data, ("status", "date_from", "date_to", "q"))
        for key in ("status", "date_from", "date_to", "q"):
            if data.get(key) == "":
                data[key] = None
        return data

    @validates_schema
    def check_dates(self, data, **kwargs):
        if data.get("date_from") and data.get("date_to") and data["date_from"] > data["date_to"]:
            raise ValidationError("起始日期不能晚于截止日期", "date_to")


class PageQuery(QuerySchema):
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=10000, error="页码超出范围"))
    per_page = fields.Integer(
        load_default=20, validate=validate.Range(min=1, max=100, error="每页数量应在 1–100 之间")
    )


class MoveForm(FormSchema):
    """A button on the order page: approve, confirm, reject, cancel, ship, mark delivered. Rejecting
    and cancelling need a reason and a second, confirming post (confirm=1)."""

    to = fields.String(
        required=True,
        validate=validate.OneOf(BUTTON_TARGETS, error="不支持的操作"),
        error_messages={"required": "请选择操作"},
    )
    note = fields.String(load_default="", validate=NOTE_LENGTH)
    tracking_number = fields.String(load_default="", validate=validate.Length(max=64))
    confirm = fields.Boolean(load_default=False)
    next = fields.String(load_default=None, validate=validate.Length(max=500))

    @pre_load
    def clean(self, data, **kwargs):
        return _stripped(data, ("to", "note", "tracking_number"))

    @validates_schema
    def check_move(self, data, **kwargs):
        if data.get("to") in NEEDS_REASON and not data.get("note"):
            raise ValidationError("请填写原因（对方会看到）", "note")
        if data.get("to") == "shipped":
            if not data.get("tracking_number"):
                raise ValidationError("发货须填写物流单号", "tracking_number")
            TRACKING(data["tracking_number"])


class AcceptanceLineForm(FormSchema):
    """One order line of the 验收单."""

    line_id = fields.Integer(required=True, validate=ID_RANGE)
    received_quantity = fields.Integer(
        required=True,
        validate=validate.Range(min=0, max=9999, error="实收数量应为 0–9999 之间的整数"),
        error_messages={"required": "请填写实收数量", "invalid": "实收数量应为 0–9999 之间的整数"},
    )
    serial_numbers = fields.String(load_default="", validate=validate.Length(max=20000, error="序列号太多"))
    delivered_model = fields.String(
        required=True,
        validate=validate.Length(min=1, max=128, error="实收型号应为 1–128 个字符"),
        error_messages={"required": "请按铭牌填写实收型号"},
    )

    @pre_load
    def clean(self, data, **kwargs):
        data = _stripped(data, ("line_id", "received_quantity", "delivered_model"))
        for key in ("received_quantity", "delivered_model"):
            if data.get(key) == "":
                data.pop(key)
        return data

    @post_load
    def split_serials(self, data, **kwargs):
        serials = [s.strip() for s in data["serial_numbers"].splitlines() if s.strip()]
        for serial in serials:
            try:
                SERIAL(serial)
            except ValidationError:
                raise ValidationError(
                    f"序列号「{serial[:64]}」无效：应为 1–64 位字母、数字或符号，不含空格", "serial_numbers"
                ) from None
        data["serial_numbers"] = serials
        return data


class AcceptanceForm(FormSchema):
    """验收单: accept (decision=accept) or return (decision=return, with a reason and a second,
    confirming post)."""

    decision = fields.String(
        required=True,
        validate=validate.OneOf(["accept", "return"], error="请选择验收通过或退货"),
        error_messages={"required": "请选择验收通过或退货"},
    )
    note = fields.String(load_default="", validate=NOTE_LENGTH)
    confirm = fields.Boolean(load_default=False)
    lines = fields.List(
        fields.Nested(AcceptanceLineForm),
        required=True,
        validate=validate.Length(min=1, max=200, error="验收单没有商品行"),
    )

    @pre_load
    def clean(self, data, **kwargs):
        return _stripped(data, ("decision", "note"))

    @validates_schema
    def reason_for_return(self, data, **kwargs):
        if data.get("decision") == "return" and not data.get("note"):
            raise ValidationError("退货须写明原因（供应商会看到）", "note")


class EvaluationForm(FormSchema):
    """履约评价: 1–5 stars for quality, delivery and service, and a comment."""

    quality = fields.Integer(
        required=True,
        validate=STARS,
        error_messages={"required": "请为商品质量打分", "invalid": "请选择 1–5 星"},
    )
    delivery = fields.Integer(
        required=True,
        validate=STARS,
        error_messages={"required": "请为交付时效打分", "invalid": "请选择 1–5 星"},
    )
    service = fields.Integer(
        required=True,
        validate=STARS,
        error_messages={"required": "请为服务态度打分", "invalid": "请选择 1–5 星"},
    )
    comment = fields.String(
        load_default="", validate=validate.Length(max=1000, error="评价不能超过 1000 个字符")
    )

    @pre_load
    def clean(self, data, **kwargs):
        data = _stripped(data, ("quality", "delivery", "service", "comment"))
        for key in ("quality", "delivery", "service"):
            if data.get(key) == "":
                data.pop(key)
        return data
