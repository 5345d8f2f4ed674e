"""The /api/v1 endpoints. Every record is read through an organization-scoped query; an id that
exists but belongs to someone else is answered exactly like one that does not exist (404).

There are no write endpoints yet; when there are, :func:`app.api.auth.token_required` already
answers a body that is not JSON with 415 (after the token check).
"""

from __future__ import annotations

import math

from flask import abort, g
from flask_smorest import Blueprint
from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import selectinload
from werkzeug.exceptions import HTTPException

from app.api.auth import require_org_kind, token_required
from app.api.schemas import (
    CategoryListQuery,
    CategoryListResponse,
    CategoryQuery,
    CategoryResponse,
    ComparisonListQuery,
    ComparisonListResponse,
    ComparisonResponse,
    MeResponse,
    OfferListQuery,
    OfferListResponse,
    OfferResponse,
    PlanListQuery,
    PlanListResponse,
    PlanResponse,
    ProductListQuery,
    ProductListResponse,
    ProductResponse,
)
from app.auth.models import ApiScope, OrgKind
from app.catalog.models import Category, Offer, OfferStatus, Product
from app.compare.models import ComparisonRecord
from app.extensions import csrf, db
from app.procurement.models import PlanStatus, ProcurementPlan

URL_PREFIX = "/api/v1"

account_bp = Blueprint(
    "api_v1_account", __name__, url_prefix=URL_PREFIX, description="调用方：令牌与所属单位"
)
catalog_bp = Blueprint(
    "api_v1_catalog", __name__, url_prefix=URL_PREFIX, description="商品目录：品目、属性登记表、标准商品"
)
offers_bp = Blueprint("api_v1_offers", __name__, url_prefix=URL_PREFIX, description="供应商本单位的报价")
plans_bp = Blueprint("api_v1_plans", __name__, url_prefix=URL_PREFIX, description="采购计划及其预算余额")

comparisons_bp = Blueprint(
    "api_v1_comparisons", __name__, url_prefix=URL_PREFIX, description="比价记录：保存时冻结的参数和报价"
)

BLUEPRINTS = (account_bp, catalog_bp, offers_bp, plans_bp, comparisons_bp)

for _bp in BLUEPRINTS:
    # Machine clients authenticate with a bearer token, never a cookie: nothing to forge.
    csrf.exempt(_bp)


def abort_with_errors(code: int, message: str, errors: dict) -> None:
    """Abort with a message and field errors shaped like webargs' (``{"query": {field: [...]}}``)."""
    try:
        abort(code, description=message)
    except HTTPException as exc:
        exc.data = {"messages": errors}  # read by app.core.errors like webargs' own errors
        raise


def paginate(query: Select, args: dict, *order_by) -> tuple[list, dict]:
    total = db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0
    page, per_page = args["page"], args["per_page"]
    items = db.session.scalars(query.order_by(*order_by).limit(per_page).offset((page - 1) * per_page)).all()
    return list(items), {
        "page": page,
        "per_page": per_page,
        "total": total,
        "pages": math.ceil(total / per_page) if total else 0,
    }


# --------------------------------------------------------------------------------------------
# /me


@account_bp.route("/me")
@token_required()
@account_bp.response(200, MeResponse, description="成功")
def me():
    """当前调用方

    返回令牌所属单位（编号、编码、名称、类型）以及令牌的名称、前缀、权限范围和过期时间。
    任何有效令牌均可调用，不需要特定权限范围。
    """
    token = g.api_token
    return {
        "data": {
            "organization": g.api_org,
            "token": {
                "name": token.name,
                "prefix": token.prefix,
                "scopes": g.api_scopes,
                "expires_at": token.expires_at,
            },
        }
    }


# --------------------------------------------------------------------------------------------
# Categories and products (catalog:read)


@catalog_bp.route("/categories")
@token_required(ApiScope.CATALOG_READ)
@catalog_bp.arguments(CategoryListQuery, location="query")
@catalog_bp.response(200, CategoryListResponse, description="成功")
def category_list(args):
    """品目列表

    政府采购品目分类目录（默认 2022 版）。可按末级（leaf）、上级编码（parent）、
    名称或编码前缀（q）筛选，按编码排序。需要权限范围 catalog:read。
    """
    query = (
        select(Category)
        .where(Category.catalog_version == args["catalog_version"])
        .options(selectinload(Category.parent))
    )
    if args["leaf"] is not None:
        query = query.where(Category.is_leaf.is_(args["leaf"]))
    if args["parent"]:
        parent_id = db.session.scalar(
            select(Category.id).where(
                Category.catalog_version == args["catalog_version"], Category.code == args["parent"]
            )
        )
        if parent_id is None:
            abort_with_errors(
                422,
                "筛选条件有误。",
                {"query": {"parent": [f"品目 {args['parent']}（{args['catalog_version']} 版）不存在"]}},
            )
        query = query.where(Category.parent_id == parent_id)
    if args["q"]:
        needle = args["q"].strip()
        query = query.where(
            or_(
                Category.name.icontains(needle, autoescape=True),
                Category.code.startswith(needle.upper(), autoescape=True),
            )
        )
    items, pagination = paginate(query, args, Category.code)
    return {"data": items, "pagination": pagination}


@catalog_bp.route("/categories/<string:code>")
@token_required(ApiScope.CATALOG_READ)
@catalog_bp.arguments(CategoryQuery, location="query")
@catalog_bp.response(200, CategoryResponse, description="成功")
@catalog_bp.alt_response(404, response="NOT_FOUND")
def category_detail(args, code: str):
    """品目详情及属性登记表

    返回品目及其规格属性登记表（类型、单位、是否必填、是否可筛选、是否参与比价及优劣方向、
    枚举取值、取值范围）。需要权限范围 catalog:read。
    """
    category = db.session.scalar(
        select(Category)
        .where(Category.catalog_version == args["catalog_version"], Category.code == code)
        .options(selectinload(Category.parent), selectinload(Category.attributes))
    )
    if category is None:
        abort(404, description=f"品目 {code}（{args['catalog_version']} 版）不存在。")
    return {"data": category}


def _with_descendants(category_id: int) -> list[int]:
    """The category and every category below it (the catalogue is four levels deep)."""
    found, frontier = [category_id], [category_id]
    while frontier:
        frontier = list(db.session.scalars(select(Category.id).where(Category.parent_id.in_(frontier))))
        found.extend(frontier)
    return found


def _price_summary(product_ids: list[int]) -> dict[int, tuple]:
    if not product_ids:
        return {}
    rows = db.session.execute(
        select(Offer.product_id, func.min(Offer.price), func.count(func.distinct(Offer.supplier_id)))
        .where(Offer.product_id.in_(product_ids), Offer.status == OfferStatus.LISTED)
        .group_by(Offer.product_id)
    ).all()
    return {product_id: (price, count) for product_id, price, count in rows}


def _product_out(product: Product, summary: dict[int, tuple]) -> dict:
    lowest, count = summary.get(product.id, (None, 0))
    return {
        "id": product.id,
        "category": product.category,
        "brand": product.brand,
        "model": product.model,
        "manufacturer": product.manufacturer,
        "name": product.name,
        "specs": product.specs,
        "energy_saving": product.energy_saving,
        "environmental": product.environmental,
        "origin": product.origin,
        "lowest_price": lowest,
        "supplier_count": count,
    }


@catalog_bp.route("/products")
@token_required(ApiScope.CATALOG_READ)
@catalog_bp.arguments(ProductListQuery, location="query")
@catalog_bp.response(200, ProductListResponse, description="成功")
def product_list(args):
    """标准商品列表

    在用的标准商品，附在售报价中的最低价（字符串，两位小数）和在售供应商数。
    category 为品目编码，非末级编码包含其下所有品目；未知品目答 422。需要权限范围 catalog:read。
    """
    query = select(Product).where(Product.is_active.is_(True)).options(selectinload(Product.category))
    if args["category"]:
        version = args["catalog_version"]
        category_id = db.session.scalar(
            select(Category.id).where(Category.catalog_version == version, Category.code == args["category"])
        )
        if category_id is None:
            abort_with_errors(
                422,
                "筛选条件有误。",
                {"query": {"category": [f"品目 {args['category']}（{version} 版）不存在"]}},
            )
        query = query.where(Product.category_id.in_(_with_descendants(category_id)))
    if args["brand"]:
        query = query.where(Product.brand == args["brand"])
    if args["q"]:
        needle = args["q"].strip()
        query = query.where(
            or_(
                Product.name.icontains(needle, autoescape=True),
                Product.model.icontains(needle, autoescape=True),
                Product.brand.icontains(needle, autoescape=True),
            )
        )
    items, pagination = paginate(query, args, Product.id)
    summary = _price_summary([product.id for product in items])
    return {"data": [_product_out(product, summary) for product in items], "pagination": pagination}


@catalog_bp.route("/products/<int:product_id>")
@token_required(ApiScope.CATALOG_READ)
@catalog_bp.response(200, ProductResponse, description="成功")
@catalog_bp.alt_response(404, response="NOT_FOUND")
def product_detail(product_id: int):
    """标准商品详情及在售报价

    返回商品信息和全部在售（已上架）报价：供应商名称及是否中小企业、价格与市场参考价
    （字符串，两位小数）、库存、供货地区、质保期、供货周期。需要权限范围 catalog:read。
    """
    product = db.session.scalar(
        select(Product)
        .where(Product.id == product_id, Product.is_active.is_(True))
        .options(selectinload(Product.category))
    )
    if product is None:
        abort(404, description="商品不存在。")
    offers = db.session.scalars(
        select(Offer)
        .where(Offer.product_id == product.id, Offer.status == OfferStatus.LISTED)
        .options(selectinload(Offer.supplier))
        .order_by(Offer.price, Offer.id)
    ).all()
    data = _product_out(product, _price_summary([product.id]))
    data["offers"] = offers
    return {"data": data}


# --------------------------------------------------------------------------------------------
# The calling supplier's own offers (catalog:read)


def own_offers() -> Select:
    require_org_kind(OrgKind.SUPPLIER, message="只有供应商可以查看本单位的报价。")
    return select(Offer).where(Offer.supplier_id == g.api_org.id)


@offers_bp.route("/offers")
@token_required(ApiScope.CATALOG_READ)
@offers_bp.arguments(OfferListQuery, location="query")
@offers_bp.response(200, OfferListResponse, description="成功")
def offer_list(args):
    """本单位报价列表

    调用方供应商自己的全部报价（任何状态），可按状态筛选。非供应商单位答 403。
    需要权限范围 catalog:read。
    """
    query = own_offers().options(selectinload(Offer.product).selectinload(Product.category))
    if args["status"]:
        query = query.where(Offer.status == OfferStatus(args["status"]))
    items, pagination = paginate(query, args, Offer.supplier_sku, Offer.id)
    return {"data": items, "pagination": pagination}


@offers_bp.route("/offers/<int:offer_id>")
@token_required(ApiScope.CATALOG_READ)
@offers_bp.response(200, OfferResponse, description="成功")
@offers_bp.alt_response(404, response="NOT_FOUND")
def offer_detail(offer_id: int):
    """本单位报价详情

    调用方供应商自己的一条报价及其价格历史；其他供应商的报价答 404。需要权限范围 catalog:read。
    """
    offer = db.session.scalar(
        own_offers()
        .where(Offer.id == offer_id)
        .options(
            selectinload(Offer.product).selectinload(Product.category), selectinload(Offer.price_history)
        )
    )
    if offer is None:
        abort(404, description="报价不存在。")
    return {"data": offer}


# --------------------------------------------------------------------------------------------
# Procurement plans (plans:read)

# Finance systems fund every unit's plans; operators and regulators oversee them.
ALL_PLANS_ORG_KINDS = frozenset({OrgKind.FINANCE, OrgKind.OPERATOR, OrgKind.REGULATOR})


def visible_plans() -> Select:
    require_org_kind(OrgKind.PURCHASING_UNIT, *ALL_PLANS_ORG_KINDS, message="供应商不能查看采购计划。")
    query = select(ProcurementPlan)
    if g.api_org.kind not in ALL_PLANS_ORG_KINDS:
        query = query.where(ProcurementPlan.unit_id == g.api_org.id)
    return query.options(selectinload(ProcurementPlan.unit), selectinload(ProcurementPlan.categories))


@plans_bp.route("/plans")
@token_required(ApiScope.PLANS_READ)
@plans_bp.arguments(PlanListQuery, location="query")
@plans_bp.response(200, PlanListResponse, description="成功")
def plan_list(args):
    """采购计划列表

    预算单位只看到本单位的计划；财政、卖场运营和监管单位看到全部计划；供应商答 403。
    金额（批复、预占、核销、释放、可用）均为两位小数的字符串。需要权限范围 plans:read。
    """
    query = visible_plans()
    if args["fiscal_year"]:
        query = query.where(ProcurementPlan.fiscal_year == args["fiscal_year"])
    if args["status"]:
        query = query.where(ProcurementPlan.status == PlanStatus(args["status"]))
    items, pagination = paginate(query, args, ProcurementPlan.fiscal_year.desc(), ProcurementPlan.plan_no)
    return {"data": items, "pagination": pagination}


@plans_bp.route("/plans/<int:plan_id>")
@token_required(ApiScope.PLANS_READ)
@plans_bp.response(200, PlanResponse, description="成功")
@plans_bp.alt_response(404, response="NOT_FOUND")
def plan_detail(plan_id: int):
    """采购计划详情

    一条采购计划及其预算余额和覆盖品目；不在调用方可见范围内的计划答 404。需要权限范围 plans:read。
    """
    plan = db.session.scalar(visible_plans().where(ProcurementPlan.id == plan_id))
    if plan is None:
        abort(404, description="采购计划不存在。")
    return {"data": plan}


# --------------------------------------------------------------------------------------------
# Comparison records (orders:read): the evidence an order carries that the buyer compared

# Finance systems see the records orders carry; operators and regulators oversee them.
ALL_COMPARISONS_ORG_KINDS = frozenset({OrgKind.FINANCE, OrgKind.OPERATOR, OrgKind.REGULATOR})


def visible_comparisons() -> Select:
    require_org_kind(OrgKind.PURCHASING_UNIT, *ALL_COMPARISONS_ORG_KINDS, message="供应商不能查看比价记录。")
    query = select(ComparisonRecord)
    if g.api_org.kind not in ALL_COMPARISONS_ORG_KINDS:
        query = query.where(ComparisonRecord.organization_id == g.api_org.id)
    return query.options(
        selectinload(ComparisonRecord.organization), selectinload(ComparisonRecord.created_by)
    )


@comparisons_bp.route("/comparisons")
@token_required(ApiScope.ORDERS_READ)
@comparisons_bp.arguments(ComparisonListQuery, location="query")
@comparisons_bp.response(200, ComparisonListResponse, description="成功")
def comparison_list(args):
    """比价记录列表

    预算单位只看到本单位的比价记录；财政、卖场运营和监管单位看到全部；供应商答 403。
    按保存时间从新到旧排列；金额为两位小数的字符串。需要权限范围 orders:read。
    """
    items, pagination = paginate(
        visible_comparisons(), args, ComparisonRecord.created_at.desc(), ComparisonRecord.id.desc()
    )
    return {"data": items, "pagination": pagination}


@comparisons_bp.route("/comparisons/<int:record_id>")
@token_required(ApiScope.ORDERS_READ)
@comparisons_bp.response(200, ComparisonResponse, description="成功")
@comparisons_bp.alt_response(404, response="NOT_FOUND")
def comparison_detail(record_id: int):
    """比价记录详情

    一条比价记录及其快照：保存时各商品的规格参数和全部在售报价（价格为两位小数的字符串）。
    不在调用方可见范围内的记录答 404。需要权限范围 orders:read。
    """
    record = db.session.scalar(visible_comparisons().where(ComparisonRecord.id == record_id))
    if record is None:
        abort(404, description="比价记录不存在。")
    return {"data": record}
