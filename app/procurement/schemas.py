from __future__ import annotations

from marshmallow import fields, validate

from app.core.schemas import QuerySchema


class PlanListQuery(QuerySchema):
    fiscal_year = fields.Integer(
        load_default=None, validate=validate.Range(min=2000, max=2100, error="年度超出范围")
    )
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=1000, error="页码超出范围"))
    per_page = fields.Integer(
        load_default=20, validate=validate.Range(min=1, max=100, error="每页数量应在 1–100 之间")
    )
