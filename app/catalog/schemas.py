from __future__ import annotations

from marshmallow import fields, validate

from app.core.schemas import QuerySchema


class SupplierOfferQuery(QuerySchema):
    status = fields.String(
        load_default=None,
        validate=validate.OneOf(
            ["draft", "pending_review", "listed", "rejected", "delisted", "frozen"], error="状态取值无效"
        ),
    )
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=10000, error="页码超出范围"))
    per_page = fields.Integer(
        load_default=50, validate=validate.Range(min=1, max=200, error="每页数量应在 1–200 之间")
    )


class ProductDetailQuery(QuerySchema):
    # 1 adds one dashed line per listed offer to the price-history chart.
    suppliers = fields.Boolean(load_default=False)
