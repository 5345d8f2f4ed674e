from __future__ import annotations

from marshmallow import fields, validate

from app.core.schemas import QuerySchema


class ProductListQuery(QuerySchema):
    q = fields.String(load_default=None, validate=validate.Length(max=200))
    category = fields.String(
        load_default=None, validate=validate.Regexp(r"^[ABC]\d{8}$", error="品目编码格式不正确")
    )
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=1000, error="页码超出范围"))
    per_page = fields.Integer(
        load_default=20, validate=validate.Range(min=1, max=100, error="每页数量应在 1–100 之间")
    )


class SupplierOfferQuery(QuerySchema):
    status = fields.String(
        load_default=None,
        validate=validate.OneOf(
            ["draft", "pending_review", "listed", "rejected", "delisted"], error="状态取值无效"
        ),
    )
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=10000, error="页码超出范围"))
    per_page = fields.Integer(
        load_default=50, validate=validate.Range(min=1, max=200, error="每页数量应在 1–200 之间")
    )
