"""Marshmallow schemas: the token form, the API's query arguments and its JSON answers.

Money is always a decimal string with two places on the wire ("4999.00"), never a float.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from marshmallow import EXCLUDE, Schema, ValidationError, fields, pre_load, validate, validates

from app.auth.models import ApiScope, OrgKind
from app.catalog.models import CATALOG_VERSION, AttributeType, Better, OfferStatus, Origin
from app.core.schemas import ApiSchema, FormSchema
from app.orders.models import OrderStatus
from app.procurement.models import LedgerKind, PlanStatus
from app.procurement.schemas import PlanFields

MAX_PER_PAGE = 100
MAX_EXPIRY_DAYS = 3650
MAX_PAGE = 10000

# --------------------------------------------------------------------------------------------
# Fields


class MoneyString(fields.Decimal):
    """An amount of CNY as a string with exactly two places: ``"4999.00"``."""

    def __init__(self, **kwargs):
        super().__init__(places=2, as_string=True, **kwargs)


class DecimalString(fields.Decimal):
    """A decimal without trailing zeros as a string (``"8"``, ``"15.6"``): exact, unlike a float."""

    def __init__(self, **kwargs):
        super().__init__(as_string=True, **kwargs)

    def _serialize(self, value, attr, obj, **kwargs):
        if value is None:
            return None
        text = format(Decimal(value).normalize(), "f")
        return text


# --------------------------------------------------------------------------------------------
# HTML form


class TokenCreateForm(FormSchema):
    name = fields.String(
        required=True,
        validate=validate.Length(min=1, max=100, error="名称应为 1–100 个字符"),
        error_messages={"required": "请填写令牌名称"},
    )
    scopes = fields.List(
        fields.String(), required=True, error_messages={"required": "请至少选择一个权限范围"}
    )
    expires_in_days = fields.Integer(
        load_default=None,
        allow_none=True,
        validate=validate.Range(min=1, max=MAX_EXPIRY_DAYS, error=f"有效期应在 1–{MAX_EXPIRY_DAYS} 天之间"),
    )

    def __init__(self, *args, allowed: list[ApiScope] | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.allowed = {scope.value for scope in (allowed or [])}

    @pre_load
    def clean(self, data, **kwargs):
        data = dict(data)
        if isinstance(data.get("name"), str):
            data["name"] = data["name"].strip()
        if isinstance(data.get("expires_in_days"), str) and not data["expires_in_days"].strip():
            data["expires_in_days"] = None
        return data

    @validates("scopes")
    def check_scopes(self, scopes, **kwargs):
        # A field validator (not a schema one) so it is reported together with the other fields.
        if not scopes:
            raise ValidationError("请至少选择一个权限范围")
        refused = [scope for scope in scopes if scope not in self.allowed]
        if refused:
            raise ValidationError(f"本单位不能授予以下权限范围：{'、'.join(refused)}")


# --------------------------------------------------------------------------------------------
# API query arguments


class ApiQuerySchema(ApiSchema):
    """Query strings of the API: Chinese messages like every API schema, but unknown parameters are
    ignored (caches and proxies add their own)."""

    class Meta:
        unknown = EXCLUDE


class PaginationQuery(ApiQuerySchema):
    page = fields.Integer(
        load_default=1,
        validate=validate.Range(min=1, max=MAX_PAGE, error=f"页码应在 1–{MAX_PAGE} 之间"),
        metadata={"description": "页码，从 1 开始"},
    )
    per_page = fields.Integer(
        load_default=20,
        validate=validate.Range(min=1, max=MAX_PER_PAGE, error=f"每页数量应在 1–{MAX_PER_PAGE} 之间"),
        metadata={"description": f"每页数量，1–{MAX_PER_PAGE}，默认 20"},
    )


CATEGORY_CODE = validate.Regexp(r"^[ABC]\d{8}$", error="品目编码格式不正确")
CATALOG_VERSIONS = validate.OneOf(["2013", "2022"], error="目录版本应为 2013 或 2022")


class CategoryListQuery(PaginationQuery):
    leaf = fields.Boolean(load_default=None, metadata={"description": "true 只列末级品目，false 只列非末级"})
    q = fields.String(
        load_default=None,
        validate=validate.Length(max=100, error="关键词不能超过 100 个字符"),
        metadata={"description": "按名称或编码前缀查找"},
    )
    parent = fields.String(
        load_default=None, validate=CATEGORY_CODE, metadata={"description": "上级品目编码"}
    )
    catalog_version = fields.String(
        load_default=CATALOG_VERSION,
        validate=CATALOG_VERSIONS,
        metadata={"description": "目录版本，默认 2022"},
    )


class CategoryQuery(ApiQuerySchema):
    catalog_version = fields.String(
        load_default=CATALOG_VERSION,
        validate=CATALOG_VERSIONS,
        metadata={"description": "目录版本，默认 2022"},
    )


class ProductListQuery(PaginationQuery):
    category = fields.String(
        load_default=None,
        validate=CATEGORY_CODE,
        metadata={"description": "品目编码；非末级编码包含其下所有品目"},
    )
    catalog_version = fields.String(
        load_default=CATALOG_VERSION,
        validate=CATALOG_VERSIONS,
        metadata={"description": "品目编码所属的目录版本，默认 2022"},
    )
    q = fields.String(
        load_default=None,
        validate=validate.Length(max=200, error="关键词不能超过 200 个字符"),
        metadata={"description": "按名称、品牌、型号查找"},
    )
    brand = fields.String(
        load_default=None,
        validate=validate.Length(max=64, error="品牌不能超过 64 个字符"),
        metadata={"description": "品牌（精确匹配）"},
    )


class OfferListQuery(PaginationQuery):
    status = fields.String(
        load_default=None,
        validate=validate.OneOf([s.value for s in OfferStatus], error="状态取值无效"),
        metadata={"description": "报价状态"},
    )


class PlanListQuery(PaginationQuery):
    fiscal_year = fields.Integer(
        load_default=None,
        validate=validate.Range(min=2000, max=2100, error="年度超出范围"),
        metadata={"description": "预算年度"},
    )
    status = fields.String(
        load_default=None,
        validate=validate.OneOf([s.value for s in PlanStatus], error="状态取值无效"),
        metadata={"description": "计划状态"},
    )


# --------------------------------------------------------------------------------------------
# API answers


class ResponseSchema(Schema):
    """Answers only ever gain fields; clients should ignore the ones they do not know."""

    class Meta:
        unknown = EXCLUDE


class PaginationSchema(ResponseSchema):
    page = fields.Integer(metadata={"description": "当前页码"})
    per_page = fields.Integer(metadata={"description": "每页数量"})
    total = fields.Integer(metadata={"description": "记录总数"})
    pages = fields.Integer(metadata={"description": "总页数"})


class OrganizationSchema(ResponseSchema):
    id = fields.Integer()
    code = fields.String(metadata={"description": "单位编码"})
    name = fields.String(metadata={"description": "单位名称"})
    kind = fields.Enum(OrgKind, by_value=True, metadata={"description": "单位类型"})


class TokenInfoSchema(ResponseSchema):
    name = fields.String(metadata={"description": "令牌名称"})
    prefix = fields.String(metadata={"description": "令牌前缀（用于辨认）"})
    scopes = fields.List(fields.String(), metadata={"description": "令牌的权限范围"})
    expires_at = fields.DateTime(allow_none=True, metadata={"description": "过期时间（UTC）"})


class MeSchema(ResponseSchema):
    organization = fields.Nested(OrganizationSchema)
    token = fields.Nested(TokenInfoSchema)


class MeResponse(ResponseSchema):
    data = fields.Nested(MeSchema)


class CategorySchema(ResponseSchema):
    catalog_version = fields.String(metadata={"description": "目录版本"})
    code = fields.String(metadata={"description": "品目编码"})
    name = fields.String(metadata={"description": "品目名称"})
    level = fields.Integer(metadata={"description": "层级"})
    parent_code = fields.Function(
        lambda c: c.parent.code if c.parent else None,
        allow_none=True,
        metadata={"description": "上级品目编码", "type": "string"},
    )
    is_leaf = fields.Boolean(metadata={"description": "是否末级品目"})


class AttributeSchema(ResponseSchema):
    code = fields.String(metadata={"description": "属性编码"})
    label_zh = fields.String(metadata={"description": "中文名称"})
    label_en = fields.String(metadata={"description": "英文名称"})
    type = fields.Enum(AttributeType, by_value=True, metadata={"description": "类型"})
    unit = fields.String(allow_none=True, metadata={"description": "单位"})
    required = fields.Boolean(metadata={"description": "是否必填"})
    facetable = fields.Boolean(metadata={"description": "是否可作筛选项"})
    comparable = fields.Boolean(metadata={"description": "是否参与比价对比"})
    better = fields.Enum(
        Better, by_value=True, allow_none=True, metadata={"description": "higher 越大越好，lower 越小越好"}
    )
    enum_values = fields.List(fields.String(), allow_none=True, metadata={"description": "枚举取值"})
    min_value = DecimalString(allow_none=True, metadata={"description": "最小值"})
    max_value = DecimalString(allow_none=True, metadata={"description": "最大值"})


class CategoryDetailSchema(CategorySchema):
    attributes = fields.List(fields.Nested(AttributeSchema), metadata={"description": "属性登记表"})


class CategoryListResponse(ResponseSchema):
    data = fields.List(fields.Nested(CategorySchema))
    pagination = fields.Nested(PaginationSchema)


class CategoryResponse(ResponseSchema):
    data = fields.Nested(CategoryDetailSchema)


class CategoryRefSchema(ResponseSchema):
    catalog_version = fields.String(metadata={"description": "目录版本"})
    code = fields.String(metadata={"description": "品目编码"})
    name = fields.String(metadata={"description": "品目名称"})


class ProductSchema(ResponseSchema):
    id = fields.Integer()
    category = fields.Nested(CategoryRefSchema)
    brand = fields.String(metadata={"description": "品牌"})
    model = fields.String(metadata={"description": "型号"})
    manufacturer = fields.String(metadata={"description": "制造商"})
    name = fields.String(metadata={"description": "商品名称"})
    specs = fields.Dict(metadata={"description": "规格参数（按品目属性登记表）"})
    energy_saving = fields.Boolean(metadata={"description": "节能产品"})
    environmental = fields.Boolean(metadata={"description": "环境标志产品"})
    origin = fields.Enum(
        Origin, by_value=True, metadata={"description": "产地：domestic 国产，imported 进口"}
    )
    lowest_price = MoneyString(allow_none=True, metadata={"description": "在售报价中的最低价（元）"})
    supplier_count = fields.Integer(metadata={"description": "在售供应商数"})


class SupplierRefSchema(ResponseSchema):
    id = fields.Integer()
    name = fields.String(metadata={"description": "供应商名称"})
    is_sme = fields.Boolean(metadata={"description": "中小企业"})


class ListedOfferSchema(ResponseSchema):
    id = fields.Integer()
    supplier = fields.Nested(SupplierRefSchema)
    supplier_sku = fields.String(metadata={"description": "供应商货号"})
    price = MoneyString(metadata={"description": "价格（元）"})
    market_price = MoneyString(allow_none=True, metadata={"description": "市场参考价（元）"})
    stock = fields.Integer(metadata={"description": "库存"})
    regions = fields.List(fields.String(), metadata={"description": "可供货地区（GB/T 2260 省级代码）"})
    warranty_months = fields.Integer(metadata={"description": "质保期（月）"})
    lead_time_days = fields.Integer(metadata={"description": "供货周期（天）"})
    listed_at = fields.DateTime(allow_none=True, metadata={"description": "上架时间（UTC）"})


class ProductDetailSchema(ProductSchema):
    offers = fields.List(fields.Nested(ListedOfferSchema), metadata={"description": "在售报价，按价格升序"})


class ProductListResponse(ResponseSchema):
    data = fields.List(fields.Nested(ProductSchema))
    pagination = fields.Nested(PaginationSchema)


class ProductResponse(ResponseSchema):
    data = fields.Nested(ProductDetailSchema)


class ProductRefSchema(ResponseSchema):
    id = fields.Integer()
    name = fields.String(metadata={"description": "商品名称"})
    brand = fields.String(metadata={"description": "品牌"})
    model = fields.String(metadata={"description": "型号"})
    category = fields.Nested(CategoryRefSchema)


class OwnOfferSchema(ResponseSchema):
    id = fields.Integer()
    product = fields.Nested(ProductRefSchema)
    supplier_sku = fields.String(metadata={"description": "供应商货号"})
    price = MoneyString(metadata={"description": "价格（元）"})
    market_price = MoneyString(allow_none=True, metadata={"description": "市场参考价（元）"})
    market_price_source = fields.String(allow_none=True, metadata={"description": "市场参考价来源"})
    stock = fields.Integer(metadata={"description": "库存"})
    regions = fields.List(fields.String(), metadata={"description": "可供货地区（GB/T 2260 省级代码）"})
    warranty_months = fields.Integer(metadata={"description": "质保期（月）"})
    lead_time_days = fields.Integer(metadata={"description": "供货周期（天）"})
    status = fields.Enum(OfferStatus, by_value=True, metadata={"description": "状态"})
    listed_at = fields.DateTime(allow_none=True, metadata={"description": "上架时间（UTC）"})
    created_at = fields.DateTime(metadata={"description": "创建时间（UTC）"})
    updated_at = fields.DateTime(metadata={"description": "更新时间（UTC）"})


class PriceChangeSchema(ResponseSchema):
    price = MoneyString(metadata={"description": "价格（元）"})
    market_price = MoneyString(allow_none=True, metadata={"description": "市场参考价（元）"})
    changed_at = fields.DateTime(metadata={"description": "变更时间（UTC）"})
    source = fields.String(metadata={"description": "来源"})


class OwnOfferDetailSchema(OwnOfferSchema):
    price_history = fields.List(fields.Nested(PriceChangeSchema), metadata={"description": "价格历史"})


class OfferListResponse(ResponseSchema):
    data = fields.List(fields.Nested(OwnOfferSchema))
    pagination = fields.Nested(PaginationSchema)


class OfferResponse(ResponseSchema):
    data = fields.Nested(OwnOfferDetailSchema)


class UnitRefSchema(ResponseSchema):
    id = fields.Integer()
    code = fields.String(metadata={"description": "单位编码"})
    name = fields.String(metadata={"description": "单位名称"})


class PlanSchema(ResponseSchema):
    id = fields.Integer()
    plan_no = fields.String(metadata={"description": "计划编号"})
    name = fields.String(metadata={"description": "计划名称"})
    fiscal_year = fields.Integer(metadata={"description": "预算年度"})
    unit = fields.Nested(UnitRefSchema, metadata={"description": "预算单位"})
    budget_line_code = fields.String(metadata={"description": "预算项目编码"})
    fund_source = fields.String(metadata={"description": "资金来源"})
    amount = MoneyString(metadata={"description": "批复金额（元）"})
    reserved = MoneyString(metadata={"description": "已预占（元）"})
    consumed = MoneyString(metadata={"description": "已核销（元）"})
    released = MoneyString(metadata={"description": "已释放（元）"})
    available = MoneyString(metadata={"description": "可用余额（元）= 批复金额 − 已预占 − 已核销"})
    status = fields.Enum(PlanStatus, by_value=True, metadata={"description": "状态"})
    approved_at = fields.DateTime(metadata={"description": "批复时间（UTC）"})
    categories = fields.List(fields.Nested(CategoryRefSchema), metadata={"description": "计划覆盖的品目"})


class PlanListResponse(ResponseSchema):
    data = fields.List(fields.Nested(PlanSchema))
    pagination = fields.Nested(PaginationSchema)


class PlanResponse(ResponseSchema):
    data = fields.Nested(PlanSchema)


class ApiErrorSchema(ResponseSchema):
    """The body of every error answer."""

    code = fields.Integer(metadata={"description": "HTTP 状态码"})
    status = fields.String(metadata={"description": "错误名称"})
    message = fields.String(metadata={"description": "错误说明"})
    errors = fields.Dict(metadata={"description": "逐字段的错误信息（按位置分组，如 query）"})


# --------------------------------------------------------------------------------------------
# Comparison records (比价记录)


class ComparisonListQuery(PaginationQuery):
    pass


class SnapshotAttributeSchema(ResponseSchema):
    code = fields.String(metadata={"description": "属性编码"})
    label_zh = fields.String(metadata={"description": "中文名称"})
    label_en = fields.String(metadata={"description": "英文名称"})
    type = fields.String(metadata={"description": "类型：number、enum、text、bool"})
    unit = fields.String(allow_none=True, metadata={"description": "单位"})
    comparable = fields.Boolean(metadata={"description": "是否参与比价对比"})
    better = fields.String(allow_none=True, metadata={"description": "higher 越大越好，lower 越小越好"})
    enum_values = fields.List(
        fields.String(),
        allow_none=True,
        metadata={"description": "枚举取值（各品目一致时）；枚举的优劣按其中的位置判断"},
    )
    category_codes = fields.List(fields.String(), metadata={"description": "登记了此属性的品目编码"})


class SnapshotOfferSchema(ResponseSchema):
    offer_id = fields.Integer(metadata={"description": "报价编号"})
    supplier_id = fields.Integer(metadata={"description": "供应商单位编号"})
    supplier_name = fields.String(metadata={"description": "供应商名称"})
    supplier_sme = fields.Boolean(metadata={"description": "中小企业"})
    price = MoneyString(metadata={"description": "保存时的价格（元）"})
    market_price = MoneyString(allow_none=True, metadata={"description": "保存时的市场参考价（元）"})
    market_price_source = fields.String(allow_none=True, metadata={"description": "市场参考价来源"})
    in_stock = fields.Boolean(metadata={"description": "保存时是否有货"})
    regions = fields.List(fields.String(), metadata={"description": "可供货地区（GB/T 2260 省级代码）"})
    warranty_months = fields.Integer(metadata={"description": "质保期（月）"})
    lead_time_days = fields.Integer(metadata={"description": "供货周期（天）"})


class SnapshotProductSchema(ResponseSchema):
    product_id = fields.Integer(metadata={"description": "商品编号"})
    name = fields.String(metadata={"description": "商品名称"})
    brand = fields.String(metadata={"description": "品牌"})
    model = fields.String(metadata={"description": "型号"})
    manufacturer = fields.String(metadata={"description": "制造商"})
    category_code = fields.String(metadata={"description": "品目编码"})
    category_name = fields.String(metadata={"description": "品目名称"})
    catalog_version = fields.String(metadata={"description": "品目目录版本"})
    origin = fields.String(metadata={"description": "产地：domestic 国产，imported 进口"})
    energy_saving = fields.Boolean(metadata={"description": "节能产品"})
    environmental = fields.Boolean(metadata={"description": "环境标志产品"})
    specs = fields.Dict(metadata={"description": "规格参数（按品目属性登记表）"})
    offers = fields.List(
        fields.Nested(SnapshotOfferSchema), metadata={"description": "保存时的全部在售报价，按价格升序"}
    )
    lowest_offer_id = fields.Integer(allow_none=True, metadata={"description": "本商品最低价报价编号"})
    lowest_price = MoneyString(allow_none=True, metadata={"description": "本商品最低价（元）"})


class SnapshotSchema(ResponseSchema):
    version = fields.Integer(metadata={"description": "快照格式版本"})
    saved_at = fields.String(metadata={"description": "保存时间（ISO 8601，UTC）"})
    attributes = fields.List(
        fields.Nested(SnapshotAttributeSchema), metadata={"description": "对比的规格参数（各品目属性的并集）"}
    )
    products = fields.List(fields.Nested(SnapshotProductSchema), metadata={"description": "对比的商品"})


class UserRefSchema(ResponseSchema):
    id = fields.Integer()
    display_name = fields.String(metadata={"description": "姓名"})


class ComparisonSchema(ResponseSchema):
    id = fields.Integer()
    number = fields.String(metadata={"description": "比价记录编号，如 BJ-20261126-0001"})
    title = fields.String(metadata={"description": "标题"})
    note = fields.String(metadata={"description": "备注"})
    organization = fields.Nested(UnitRefSchema, metadata={"description": "预算单位"})
    created_by = fields.Nested(UserRefSchema, metadata={"description": "经办人"})
    created_at = fields.DateTime(metadata={"description": "保存时间（UTC）"})
    product_ids = fields.List(fields.Integer(), metadata={"description": "对比的商品编号"})
    product_count = fields.Integer(metadata={"description": "商品数（2–4）"})
    lowest_price = MoneyString(metadata={"description": "全部对比商品在售报价中的最低价（元）"})
    lowest_offer_id = fields.Integer(allow_none=True, metadata={"description": "最低价报价编号"})


class ComparisonDetailSchema(ComparisonSchema):
    snapshot = fields.Nested(SnapshotSchema, metadata={"description": "保存时冻结的参数和报价"})


class ComparisonListResponse(ResponseSchema):
    data = fields.List(fields.Nested(ComparisonSchema))
    pagination = fields.Nested(PaginationSchema)


class ComparisonResponse(ResponseSchema):
    data = fields.Nested(ComparisonDetailSchema)


# --------------------------------------------------------------------------------------------
# Creating procurement plans (plans:write)


class PlanCreateSchema(PlanFields, ApiSchema):
    """The finance system's new plan: the same fields and messages as the operator's form."""


class PlanLedgerEntrySchema(ResponseSchema):
    kind = fields.Enum(
        LedgerKind, by_value=True, metadata={"description": "reserve 预占，release 释放，consume 核销"}
    )
    amount = MoneyString(metadata={"description": "金额（元）"})
    order_no = fields.String(attribute="reference", allow_none=True, metadata={"description": "关联订单编号"})
    note = fields.String(metadata={"description": "说明"})
    created_at = fields.DateTime(metadata={"description": "时间（UTC）"})


class PlanLedgerQuery(PaginationQuery):
    pass


class PlanLedgerResponse(ResponseSchema):
    plan = fields.Nested(PlanSchema, metadata={"description": "采购计划及其预算合计"})
    data = fields.List(
        fields.Nested(PlanLedgerEntrySchema),
        metadata={"description": "预算台账：每一笔预占、释放、核销，按时间先后"},
    )
    pagination = fields.Nested(PaginationSchema)


# --------------------------------------------------------------------------------------------
# Orders (orders:read, orders:write)


class OrderListQuery(PaginationQuery):
    status = fields.String(
        load_default=None,
        validate=validate.OneOf([s.value for s in OrderStatus], error="状态取值无效"),
        metadata={"description": "订单状态"},
    )
    since = fields.AwareDateTime(
        load_default=None,
        default_timezone=UTC,
        validate=validate.Range(
            min=datetime(2000, 1, 1, tzinfo=UTC),
            max=datetime(2100, 1, 1, tzinfo=UTC),
            error="时间应在 2000–2100 年之间",
        ),
        metadata={
            "description": "只列出此时间（含）之后创建或有变化的订单，ISO 8601，例如 "
            "2026-11-26T08:00:00Z（不带时区按 UTC；“+”须写作 %2B）"
        },
    )


class OrderTransitionSchema(ApiSchema):
    to = fields.String(
        required=True,
        validate=validate.OneOf([s.value for s in OrderStatus], error="目标状态取值无效"),
        error_messages={"required": "请填写目标状态 to"},
        metadata={
            "description": "目标状态：供应商 confirmed（确认）、rejected（拒绝，须填 note）、shipped（发货，"
            "须填 tracking_number）、delivered（送达）；财政 payment_pending（发起支付）、paid（已支付）"
        },
    )
    note = fields.String(
        load_default="",
        validate=validate.Length(max=1000, error="说明不能超过 1000 个字符"),
        metadata={"description": "说明；拒绝时必填"},
    )
    tracking_number = fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.Length(min=1, max=64, error="物流单号应为 1–64 个字符"),
        metadata={"description": "物流单号；发货时必填"},
    )


class OrderPartySchema(ResponseSchema):
    code = fields.String(metadata={"description": "单位编码"})
    name = fields.String(metadata={"description": "单位名称"})


class OrderSupplierSchema(OrderPartySchema):
    credit_code = fields.String(allow_none=True, metadata={"description": "统一社会信用代码"})
    is_sme = fields.Boolean(metadata={"description": "中小企业"})


class OrderPlanSchema(ResponseSchema):
    plan_no = fields.String(metadata={"description": "计划编号"})
    fiscal_year = fields.Integer(metadata={"description": "预算年度"})
    budget_line_code = fields.String(metadata={"description": "预算项目编码"})
    fund_source = fields.String(metadata={"description": "资金来源"})


class OrderLineSchema(ResponseSchema):
    supplier_sku = fields.String(metadata={"description": "供应商货号"})
    name = fields.String(metadata={"description": "商品名称（下单时快照）"})
    brand = fields.String(metadata={"description": "品牌"})
    model = fields.String(metadata={"description": "型号"})
    category_code = fields.String(metadata={"description": "品目编码"})
    unit_price = MoneyString(metadata={"description": "成交单价（元，下单时冻结）"})
    quantity = fields.Integer(metadata={"description": "数量"})
    amount = MoneyString(metadata={"description": "金额（元）= 单价 × 数量"})
    market_price = MoneyString(allow_none=True, metadata={"description": "下单时的市场参考价（元）"})


class OrderComparisonSchema(ResponseSchema):
    number = fields.String(metadata={"description": "比价记录编号"})
    product_count = fields.Integer(metadata={"description": "对比的商品数"})
    lowest_price = MoneyString(metadata={"description": "比价时的最低价（元）"})


class OrderDeliverySchema(ResponseSchema):
    address = fields.String(metadata={"description": "收货地址"})
    contact_name = fields.String(metadata={"description": "联系人"})
    contact_phone = fields.String(metadata={"description": "联系电话"})


class OrderSchema(ResponseSchema):
    id = fields.Integer(metadata={"description": "订单编号（数字，用于地址）"})
    order_no = fields.String(metadata={"description": "订单号，例如 DD20261126ABCDEFGHIJ"})
    status = fields.String(metadata={"description": "订单状态", "enum": [s.value for s in OrderStatus]})
    total = MoneyString(metadata={"description": "订单金额（元）"})
    currency = fields.String(metadata={"description": "币种，CNY"})
    needs_approval = fields.Boolean(metadata={"description": "是否须经本单位审批"})
    unit = fields.Nested(OrderPartySchema, metadata={"description": "采购单位"})
    supplier = fields.Nested(OrderSupplierSchema, metadata={"description": "供应商"})
    plan = fields.Nested(OrderPlanSchema, metadata={"description": "采购计划"})
    lines = fields.List(fields.Nested(OrderLineSchema), metadata={"description": "订单明细"})
    comparison = fields.Nested(
        OrderComparisonSchema, allow_none=True, metadata={"description": "所附比价记录；未附时为 null"}
    )
    delivery = fields.Nested(OrderDeliverySchema, metadata={"description": "收货信息"})
    note = fields.String(metadata={"description": "采购人备注"})
    split_reason = fields.String(
        allow_none=True, metadata={"description": "同品目累计超过直购限额时采购人填写的说明"}
    )
    tracking_number = fields.String(allow_none=True, metadata={"description": "物流单号"})
    submitted_at = fields.String(allow_none=True, metadata={"description": "提交时间（ISO 8601，UTC）"})
    confirm_due_at = fields.String(
        allow_none=True, metadata={"description": "供应商确认时限（ISO 8601，UTC），逾期自动取消"}
    )
    confirmed_at = fields.String(allow_none=True, metadata={"description": "确认时间（ISO 8601，UTC）"})
    delivered_at = fields.String(allow_none=True, metadata={"description": "送达时间（ISO 8601，UTC）"})
    accepted_at = fields.String(allow_none=True, metadata={"description": "验收时间（ISO 8601，UTC）"})
    paid_at = fields.String(allow_none=True, metadata={"description": "支付时间（ISO 8601，UTC）"})
    updated_at = fields.DateTime(metadata={"description": "最后变化时间（UTC），与 since 筛选对应"})


class OrderHistorySchema(ResponseSchema):
    from_status = fields.String(allow_none=True, metadata={"description": "原状态；提交时为 null"})
    to_status = fields.String(metadata={"description": "新状态"})
    actor = fields.String(metadata={"description": "操作人或系统"})
    note = fields.String(metadata={"description": "说明或原因"})
    created_at = fields.DateTime(metadata={"description": "时间（UTC）"})


class BudgetCheckSchema(ResponseSchema):
    source = fields.String(metadata={"description": "finance 财政预算系统，local 仅本地台账"})
    approved = fields.Boolean(metadata={"description": "是否通过"})
    reason = fields.String(metadata={"description": "财政系统给出的说明"})
    latency_ms = fields.Integer(metadata={"description": "耗时（毫秒，含重试）"})
    attempts = fields.Integer(metadata={"description": "请求次数（最多 3 次）"})


class OrderDetailSchema(OrderSchema):
    budget_check = fields.Nested(BudgetCheckSchema, metadata={"description": "下单时的预算校验结果"})
    history = fields.List(fields.Nested(OrderHistorySchema), metadata={"description": "状态历史，按时间先后"})
    allowed_transitions = fields.List(
        fields.String(), metadata={"description": "调用方现在可以把订单变为的状态"}
    )


class OrderListResponse(ResponseSchema):
    data = fields.List(fields.Nested(OrderSchema))
    pagination = fields.Nested(PaginationSchema)


class OrderResponse(ResponseSchema):
    data = fields.Nested(OrderDetailSchema)
