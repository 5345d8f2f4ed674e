"""The supplier API's writes: ``POST /api/v1/offers/batch`` (upsert up to 1,000 offers) and
``PATCH /api/v1/offers/{offer_id}`` (price and/or stock). Both with ``Idempotency-Key``.

A batch is checked by the same validator as a catalog upload (:func:`catalog_import.validate_records`,
the same rules and Chinese messages, with 第 n 条 for record n) and applied through the same
service (:func:`app.catalog_upload.services.apply_rows`): all of it, or — with any error — none of
it. New offers and changed listings go to operator review; price and stock changes of listed
offers go live at once.
"""

from __future__ import annotations

import functools
import re
from decimal import Decimal

from flask import abort, current_app, g, request
from flask_smorest import Blueprint
from marshmallow import ValidationError, fields, pre_load, validate, validates_schema

from app.api.auth import require_org_kind, token_required
from app.api.schemas import MoneyString, OwnOfferSchema, ResponseSchema
from app.api.v1 import abort_with_errors, own_offers
from app.auth.models import ApiScope, OrgKind
from app.catalog.models import CATALOG_VERSION, Offer
from app.catalog_upload import lookups, services
from app.catalog_upload.idempotency import HEADER_DOC, idempotent
from app.core import audit
from app.core.schemas import ApiSchema
from app.extensions import csrf, db
from catalog_import import ImportFileError, validate_records

MAX_RECORDS = 1000
MONEY_TEXT = re.compile(r"^\d{1,12}(\.\d{1,2})?$")

offer_writes_bp = Blueprint(
    "api_v1_offer_writes",
    __name__,
    url_prefix="/api/v1",
    description="供应商报价写入：批量新增或更新报价（与批量导入相同的校验），调整价格和库存；支持幂等键",
)
csrf.exempt(offer_writes_bp)


# --------------------------------------------------------------------------------------------
# Schemas


class OfferBatchSchema(ApiSchema):
    category = fields.String(
        required=True,
        validate=validate.Regexp(r"^[A-C]\d{2,8}$", error="品目编码格式不正确，例如 A02010105"),
        metadata={"description": "末级品目编码（须已有属性登记表），例如 A02010105"},
    )
    catalog_version = fields.String(
        load_default=CATALOG_VERSION,
        validate=validate.OneOf([CATALOG_VERSION], error=f"目前只支持 {CATALOG_VERSION} 版品目目录"),
        metadata={"description": "品目目录版本"},
    )
    records = fields.List(
        fields.Dict(keys=fields.String(), values=fields.Raw(allow_none=True)),
        required=True,
        validate=validate.Length(min=1, max=MAX_RECORDS, error=f"每批 1–{MAX_RECORDS} 条记录，请分批提交"),
        metadata={
            "description": "报价记录，按列代码填写（与导入模板表头“｜”后的代码相同），例如 "
            '{"supplier_sku": "SKU-1", "brand": "联想", "model": "M70t", "price": "4999.00", '
            '"market_price": "5299.00", "stock": 10, "regions": ["江苏省", "浙江省"], "memory_gb": 16}；'
            "数值可写数字或文字，regions 可写列表。"
        },
    )


class OfferOutcomeSchema(ResponseSchema):
    index = fields.Integer(metadata={"description": "记录序号（从 1 开始）"})
    supplier_sku = fields.String(metadata={"description": "供应商货号"})
    offer_id = fields.Integer(metadata={"description": "报价编号"})
    product_id = fields.Integer(metadata={"description": "标准商品编号"})
    result = fields.String(metadata={"description": "created（新建）、updated（更新）或 unchanged（无变化）"})
    status = fields.String(metadata={"description": "报价状态：pending_review（待审核）、listed（已上架）等"})


class BatchCountsSchema(ResponseSchema):
    new_products = fields.Integer(metadata={"description": "提议的新标准商品数（审核通过后公开）"})
    matched_products = fields.Integer(metadata={"description": "引用已有标准商品的记录数"})
    offers_created = fields.Integer()
    offers_updated = fields.Integer()
    offers_unchanged = fields.Integer()
    sent_to_review = fields.Integer(metadata={"description": "送卖场运营审核的报价数"})
    live_price_changes = fields.Integer(metadata={"description": "已上架报价即时生效的调价数"})


class BatchResultSchema(ResponseSchema):
    counts = fields.Nested(BatchCountsSchema)
    results = fields.List(fields.Nested(OfferOutcomeSchema))


class BatchResponse(ResponseSchema):
    data = fields.Nested(BatchResultSchema)


class OfferPatchSchema(ApiSchema):
    price = MoneyString(
        validate=validate.Range(min=Decimal("0.01"), error="价格必须大于 0"),
        metadata={"description": "新价格（元，两位小数的字符串），不得高于市场参考价"},
    )
    stock = fields.Integer(
        strict=True,
        validate=validate.Range(min=0, max=2_147_483_647, error="库存应为不小于 0 的整数"),
        metadata={"description": "新库存"},
    )

    @pre_load
    def money_as_text(self, data, **kwargs):
        if isinstance(data, dict) and "price" in data:
            price = data["price"]
            if not isinstance(price, str):
                raise ValidationError('金额应为字符串，例如 "4899.00"（避免浮点数误差）', "price")
            if not MONEY_TEXT.match(price.strip()):
                raise ValidationError(
                    f'金额格式不正确：应为最多两位小数的字符串，例如 "4899.00"，收到「{price[:40]}」', "price"
                )
        return data

    @validates_schema
    def something(self, data, **kwargs):
        if "price" not in data and "stock" not in data:
            raise ValidationError("请至少提供 price 或 stock 之一")


class OfferChangeResponse(ResponseSchema):
    data = fields.Nested(OwnOfferSchema)
    changes = fields.Dict(metadata={"description": "变化的字段：{字段: [原值, 新值]}；无变化时为空"})


# --------------------------------------------------------------------------------------------


def limit_body(view):
    """This route's own body limit (the app's default is for forms), checked before anything
    reads the body."""

    @functools.wraps(view)
    def wrapped(*args, **kwargs):
        limit = current_app.config["API_BATCH_MAX_BYTES"]
        request.max_content_length = limit
        if request.content_length is not None and request.content_length > limit:
            abort(
                413,
                description=f"请求体超过 {limit // (1024 * 1024)} MB；"
                f"请减少每批的记录数（最多 {MAX_RECORDS} 条）后分批提交。",
            )
        return view(*args, **kwargs)

    return wrapped


def idempotency_documented(view):
    """The Idempotency-Key header in the operation's OpenAPI parameters."""
    doc = view._apidoc.setdefault("manual_doc", {})
    doc.setdefault("parameters", []).append(HEADER_DOC)
    return view


def _record_errors(results) -> list[dict]:
    return [
        {"index": error.row, "field": error.column, "label": error.label, "message": error.message}
        for result in results
        for error in result.errors
    ]


@offer_writes_bp.route("/offers/batch", methods=["POST"])
@idempotency_documented
@token_required(ApiScope.OFFERS_WRITE)
@limit_body
@idempotent
@offer_writes_bp.arguments(OfferBatchSchema)
@offer_writes_bp.response(200, BatchResponse, description="全部记录已写入")
@offer_writes_bp.alt_response(
    409, response="CONFLICT", description="幂等键的请求正在处理，或校验后数据已变化"
)
@offer_writes_bp.alt_response(413, response="PAYLOAD_TOO_LARGE")
@offer_writes_bp.alt_response(415, response="UNSUPPORTED_MEDIA_TYPE")
@offer_writes_bp.alt_response(
    422,
    response="UNPROCESSABLE_ENTITY",
    description="记录未通过校验（errors.records 逐条给出序号、列代码和中文说明，未写入任何数据），"
    "或超过 1000 条，或幂等键已用于另一个请求",
)
def offer_batch(args):
    """批量新增或更新报价

    按供应商货号新增或更新本单位的报价，最多 1000 条；校验规则和中文提示与批量导入完全相同
    （第 n 条即 records 中的第 n 条）。任何一条有错误时一条也不写入，答 422 并逐条列出错误。
    新报价和变更（价格、库存以外）送卖场运营审核；已上架报价的调价、调库存即时生效（仍不得高于
    市场参考价）。品牌型号没有对应标准商品时提议新建，审核通过后公开。重复提交相同内容不产生任何变化。
    需要权限范围 offers:write，仅供应商单位可用。
    """
    require_org_kind(OrgKind.SUPPLIER, message="只有供应商可以提交报价。")
    organization = g.api_org
    category = lookups.category_for_upload(args["category"], args["catalog_version"])
    if category is None:
        abort_with_errors(
            422,
            "品目不可用。",
            {"json": {"category": [f"品目 {args['category']} 不存在、不是末级品目，或还没有属性登记表"]}},
        )
    spec = lookups.category_spec(category)
    records = args["records"]
    try:
        results = list(
            validate_records(
                records,
                spec,
                lookups.DbProductLookup(category),
                existing_skus=lookups.DbSkuLookup(organization.id),
            )
        )
    except ImportFileError as exc:
        abort_with_errors(422, exc.message, {"json": {"records": list(exc.problems)}})
    errors = _record_errors(results)
    seen = {result.row for result in results}
    errors.extend(
        {
            "index": index,
            "field": "supplier_sku",
            "label": "供应商货号",
            "message": f"第 {index} 条「供应商货号」：以“示例”开头的货号是模板示例，会被忽略；请填写真实货号",
        }
        for index in range(1, len(records) + 1)
        if index not in seen
    )
    if errors:
        errors.sort(key=lambda e: e["index"])
        bad = len({e["index"] for e in errors})
        abort_with_errors(
            422,
            f"共 {bad} 条记录有错误，未写入任何数据；请按 errors.records 改正后重新提交。",
            {"records": errors},
        )
    try:
        applied = services.apply_rows(
            services.chunked(services.ApplyRow.from_result(r) for r in results),
            supplier=organization.id,
            category=category,
            user=g.api_token.created_by_id,
            source="api",
            collect=True,
        )
    except services.ApplyConflict as exc:
        abort_with_errors(
            409, "校验期间数据发生了变化，未写入任何数据；请重新提交。", {"records": exc.problems}
        )
    audit.record(
        "offers.api_batch",
        organization_id=organization.id,
        token_id=g.api_token.id,
        category=category.code,
        records=len(records),
        **applied.as_dict(),
    )
    outcomes = [{"index": o.pop("row"), **o} for o in applied.outcomes]
    return {"data": {"counts": applied.as_dict(), "results": outcomes}}


@offer_writes_bp.route("/offers/<int:offer_id>", methods=["PATCH"])
@idempotency_documented
@token_required(ApiScope.OFFERS_WRITE)
@idempotent
@offer_writes_bp.arguments(OfferPatchSchema)
@offer_writes_bp.response(200, OfferChangeResponse, description="成功（无变化时 changes 为空）")
@offer_writes_bp.alt_response(404, response="NOT_FOUND")
@offer_writes_bp.alt_response(409, response="CONFLICT", description="同一幂等键的请求正在处理")
@offer_writes_bp.alt_response(415, response="UNSUPPORTED_MEDIA_TYPE")
@offer_writes_bp.alt_response(
    422,
    response="UNPROCESSABLE_ENTITY",
    description="价格高于市场参考价、金额格式不正确，或幂等键已用于另一个请求",
)
def offer_patch(args, offer_id: int):
    """调整报价的价格和库存

    只改价格（price）和/或库存（stock）；其他信息请用批量接口或批量导入（将送审）。已上架的报价
    调价、调库存即时生效，价格不得高于市场参考价；每次调价记入价格历史。只能修改本单位的报价，
    其他报价答 404。需要权限范围 offers:write。
    """
    offer = db.session.scalar(own_offers().where(Offer.id == offer_id).with_for_update())
    if offer is None:
        abort(404, description="报价不存在。")
    try:
        changes = services.update_price_stock(
            offer,
            price=args.get("price"),
            stock=args.get("stock"),
            by=g.api_token.created_by_id,
            source="api",
        )
    except services.OfferUpdateError as exc:
        abort_with_errors(422, "报价未修改。", {"json": exc.errors})
    if changes:
        audit.record(
            "offers.api_patch",
            organization_id=g.api_org.id,
            token_id=g.api_token.id,
            offer_id=offer.id,
            **changes,
        )
    db.session.refresh(offer)
    return {"data": offer, "changes": changes}
