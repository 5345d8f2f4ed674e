"""GET /api/v1/search: the search page's search for machine clients — the same arguments,
validation, facets and single-offer semantics, as JSON."""

from __future__ import annotations

from flask import request
from flask_smorest import Blueprint
from marshmallow import fields

from app.api.auth import token_required
from app.api.schemas import MoneyString, PaginationSchema, ResponseSchema
from app.auth.models import ApiScope
from app.catalog.searching import SearchArgs, run_search
from app.extensions import csrf

search_bp = Blueprint(
    "api_v1_search", __name__, url_prefix="/api/v1", description="商品搜索（分面、单一报价语义）"
)
csrf.exempt(search_bp)


class SearchQueryDoc(SearchArgs):
    """The documented arguments. Attribute filters follow the registry of the chosen leaf category:
    ``a.<code>=<value>`` (repeatable) and ``a.<code>.min`` / ``a.<code>.max`` for numbers."""


class SearchHitSchema(ResponseSchema):
    product_id = fields.Integer()
    name = fields.String()
    brand = fields.String()
    model = fields.String()
    category_code = fields.String()
    catalog_version = fields.String()
    energy_saving = fields.Boolean()
    environmental = fields.Boolean()
    min_price = MoneyString(metadata={"description": "符合条件的报价中的最低价"})
    offer_id = fields.Integer(metadata={"description": "最低价报价的编号"})
    supplier_name = fields.String(allow_none=True)
    supplier_sme = fields.Boolean(allow_none=True)
    supplier_count = fields.Integer(metadata={"description": "有符合条件报价的供应商数"})


class FacetBucketSchema(ResponseSchema):
    key = fields.String()
    count = fields.Integer(metadata={"description": "商品数"})
    selected = fields.Boolean()


class FacetSchema(ResponseSchema):
    name = fields.String(metadata={"description": "brand、category、price 或 attr:<属性代码>"})
    buckets = fields.List(fields.Nested(FacetBucketSchema))


class SearchResponse(ResponseSchema):
    data = fields.List(fields.Nested(SearchHitSchema))
    facets = fields.List(fields.Nested(FacetSchema))
    pagination = fields.Nested(PaginationSchema)
    warnings = fields.List(fields.String(), metadata={"description": "被忽略的筛选条件及原因"})


@search_bp.route("/search")
@token_required(ApiScope.CATALOG_READ)
@search_bp.arguments(SearchQueryDoc, location="query")
@search_bp.response(200, SearchResponse, description="成功")
def search(_args):
    """搜索商品

    与搜索页面相同的条件和校验：关键词、品目（含下级）、品牌、规格参数（按属性登记表定型）、
    价格区间、配送地区、有货、中小企业、节能/环境标志、排序和分页。价格、地区、库存条件作用于
    同一条报价。需要权限范围 catalog:read。
    """
    found = run_search(request.args)
    result = found.result
    data = []
    for hit in result.hits:
        product = found.products.get(hit.product_id)
        if product is None:
            continue
        offer = found.offers.get(hit.offer_id)
        data.append(
            {
                "product_id": product.id,
                "name": product.name,
                "brand": product.brand,
                "model": product.model,
                "category_code": product.category.code,
                "catalog_version": product.category.catalog_version,
                "energy_saving": product.energy_saving,
                "environmental": product.environmental,
                "min_price": hit.min_price,
                "offer_id": hit.offer_id,
                "supplier_name": offer.supplier.name if offer else None,
                "supplier_sme": offer.supplier.is_sme if offer else None,
                "supplier_count": hit.supplier_count,
            }
        )
    facets = [
        {
            "name": name,
            "buckets": [{"key": b.key, "count": b.count, "selected": b.selected} for b in facet.buckets],
        }
        for name, facet in result.facets.items()
    ]
    return {
        "data": data,
        "facets": facets,
        "pagination": {
            "page": result.page,
            "per_page": result.per_page,
            "total": result.total,
            "pages": result.pages,
        },
        "warnings": found.warnings,
    }
