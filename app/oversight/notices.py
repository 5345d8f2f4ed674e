"""成交公告: the public record of every confirmed order, for anyone, without logging in.

A list with filters (buying unit, supplier, category, date of the transaction, amount), a page
per notice — buying unit, supplier, items with their unit prices, total, dates and the price
evidence frozen at submit (the offer's price, its market reference, the lowest other offer for
the same product) — and CSV/XLSX downloads of the same list.

What is never shown: the people of an order. Its contact's name and phone number, the delivery
address, the buyer's name, and the free text typed into it (notes, split reasons, acceptance
and evaluation comments) stay off these pages and exports; only organizations are named.

Bad input: unknown parameters are ignored (like every query string of the mall); a filter that
cannot be read, a date outside 2000–2099, a reversed or longer than three-year date range, a
negative or reversed amount range, a page size above 100 answer 400 with the field's message in
Chinese. Every route here is rate limited per client address (``PUBLIC_RATE_LIMIT``, shared
with the open data; the downloads also ``PUBLIC_EXPORT_RATE_LIMIT``).
"""

from __future__ import annotations

import io
import re
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal

import sqlalchemy as sa
from flask import Blueprint, abort, current_app, render_template, request, send_file
from flask_babel import gettext as _
from marshmallow import ValidationError, fields, post_load, pre_load, validate, validates_schema
from sqlalchemy.orm import selectinload

from app.auth.models import Organization
from app.catalog.charts import LOCAL_TZ
from app.catalog.models import CATALOG_VERSION, Category
from app.core.db import utcnow
from app.core.errors import error_response
from app.core.money import to_money
from app.core.schemas import QuerySchema
from app.extensions import db, limiter
from app.orders.lifecycle import STATUS_LABELS
from app.orders.models import Order, OrderLine
from app.oversight.ocds import PUBLISHED_STATUSES
from catalog_import.report import export_rows

bp = Blueprint("notices", __name__, url_prefix="/notices")

# One budget per client address across the public notices and the open data: generous for
# people, a wall for scrapers. The downloads cost more and get a second, smaller one.
public_limit = limiter.shared_limit(lambda: current_app.config["PUBLIC_RATE_LIMIT"], scope="public-data")
export_limit = limiter.limit(lambda: current_app.config["PUBLIC_EXPORT_RATE_LIMIT"])

FILTERS = ("unit", "supplier", "category", "date_from", "date_to", "amount_min", "amount_max")
FIRST_DAY, LAST_DAY = date(2000, 1, 1), date(2099, 12, 31)
MAX_SPAN_YEARS = 3
MAX_AMOUNT = Decimal("999999999999.99")  # the largest amount a Money column holds
DEFAULT_PER_PAGE, MAX_PER_PAGE = 20, 100
EXPORT_MAX = 10_000  # notices per download; more must be narrowed down
EXPORT_CHUNK = 500
ORDER_NUMBER = re.compile(r"^[0-9A-Z]{1,32}$")
ID_RANGE = validate.Range(min=1, max=2**31 - 1, error="编号无效")


def _money_field() -> fields.Decimal:
    return fields.Decimal(
        load_default=None,
        allow_none=True,
        validate=[
            validate.Range(min=0, error="金额不能为负数"),
            validate.Range(max=MAX_AMOUNT, error="金额过大"),
        ],
        error_messages={"invalid": "应为金额，如 5000 或 4999.50", "special": "应为金额，如 5000 或 4999.50"},
    )


class NoticeQuery(QuerySchema):
    """The list's (and the downloads') filters and paging; unknown parameters are ignored."""

    unit = fields.Integer(load_default=None, allow_none=True, validate=ID_RANGE)
    supplier = fields.Integer(load_default=None, allow_none=True, validate=ID_RANGE)
    category = fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.Regexp(
            r"^[ABC]\d{0,8}$", error="品目编码应为 A、B 或 C 加最多 8 位数字（如 A02010105，可只填前几位）"
        ),
    )
    date_from = fields.Date(
        load_default=None,
        allow_none=True,
        validate=validate.Range(min=FIRST_DAY, max=LAST_DAY, error="日期应在 2000-01-01 至 2099-12-31 之间"),
    )
    date_to = fields.Date(
        load_default=None,
        allow_none=True,
        validate=validate.Range(min=FIRST_DAY, max=LAST_DAY, error="日期应在 2000-01-01 至 2099-12-31 之间"),
    )
    amount_min = _money_field()
    amount_max = _money_field()
    page = fields.Integer(
        load_default=1, validate=validate.Range(min=1, max=10000, error="页码应在 1–10000 之间")
    )
    per_page = fields.Integer(
        load_default=DEFAULT_PER_PAGE,
        validate=validate.Range(min=1, max=MAX_PER_PAGE, error=f"每页数量应在 1–{MAX_PER_PAGE} 之间"),
    )

    @pre_load
    def clean(self, data, **kwargs):
        data = dict(data)
        for key, value in list(data.items()):
            if isinstance(value, str):
                value = value.strip()
                data[key] = value if value != "" else None
        if isinstance(data.get("category"), str):
            data["category"] = data["category"].upper()
        for key in ("page", "per_page"):
            if data.get(key) is None:
                data.pop(key, None)
        return data

    @validates_schema
    def check_ranges(self, data, **kwargs):
        start, end = data.get("date_from"), data.get("date_to")
        if start and end:
            if start > end:
                raise ValidationError("起始日期不能晚于截止日期", "date_to")
            if end > _years_later(start, MAX_SPAN_YEARS):
                raise ValidationError(f"日期范围最长 {MAX_SPAN_YEARS} 年，请缩小范围", "date_to")
        low, high = data.get("amount_min"), data.get("amount_max")
        if low is not None and high is not None and low > high:
            raise ValidationError("最低金额不能高于最高金额", "amount_max")

    @post_load
    def round_amounts(self, data, **kwargs):
        for key in ("amount_min", "amount_max"):
            if data.get(key) is not None:
                data[key] = to_money(data[key])
        return data


def _years_later(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def field_labels() -> dict[str, str]:
    """The people-facing names of the filters, for error messages."""
    return {
        "unit": _("采购单位"),
        "supplier": _("供应商"),
        "category": _("品目编码"),
        "date_from": _("成交日期自"),
        "date_to": _("成交日期至"),
        "amount_min": _("最低金额"),
        "amount_max": _("最高金额"),
        "page": _("页码"),
        "per_page": _("每页数量"),
    }


def load_filters(raw: dict) -> tuple[dict | None, dict]:
    """The loaded arguments, or None and the messages per field."""
    try:
        return NoticeQuery().load(raw), {}
    except ValidationError as exc:
        messages = exc.messages if isinstance(exc.messages, dict) else {"_schema": exc.messages}
        return None, messages


def _local_midnight(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=LOCAL_TZ)


def published():
    """The orders that are transactions: confirmed by the supplier (whatever happened since)."""
    return sa.and_(Order.confirmed_at.is_not(None), Order.status.in_(PUBLISHED_STATUSES))


def notice_query(args: dict) -> sa.Select:
    """The published orders matching the filters (no order, no paging)."""
    query = sa.select(Order).where(published())
    if args.get("unit"):
        query = query.where(Order.unit_id == args["unit"])
    if args.get("supplier"):
        query = query.where(Order.supplier_id == args["supplier"])
    if args.get("category"):
        # A code or the start of one: A0201 is every computer, A02010105 only desktops.
        in_category = (
            sa.select(OrderLine.order_id)
            .join(Category, OrderLine.category_id == Category.id)
            .where(
                Category.catalog_version == CATALOG_VERSION,
                Category.code.startswith(args["category"], autoescape=True),
            )
        )
        query = query.where(Order.id.in_(in_category))
    if args.get("date_from"):
        query = query.where(Order.confirmed_at >= _local_midnight(args["date_from"]))
    if args.get("date_to"):
        query = query.where(Order.confirmed_at < _local_midnight(args["date_to"] + timedelta(days=1)))
    if args.get("amount_min") is not None:
        query = query.where(Order.total >= args["amount_min"])
    if args.get("amount_max") is not None:
        query = query.where(Order.total <= args["amount_max"])
    return query


def _count(query: sa.Select) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(query.order_by(None).subquery())) or 0


NEWEST_FIRST = (Order.confirmed_at.desc(), Order.id.desc())
NOTICE_LOAD = (
    selectinload(Order.unit),
    selectinload(Order.supplier),
    selectinload(Order.lines).selectinload(OrderLine.category),
)


def _filter_options() -> dict:
    """What the filter bar offers: the units, suppliers and categories that have notices."""
    orders = sa.select(Order.id, Order.unit_id, Order.supplier_id).where(published()).subquery()
    units = db.session.scalars(
        sa.select(Organization)
        .where(Organization.id.in_(sa.select(orders.c.unit_id)))
        .order_by(Organization.code)
    ).all()
    suppliers = db.session.scalars(
        sa.select(Organization)
        .where(Organization.id.in_(sa.select(orders.c.supplier_id)))
        .order_by(Organization.code)
    ).all()
    categories = db.session.scalars(
        sa.select(Category)
        .where(
            Category.id.in_(
                sa.select(OrderLine.category_id).where(OrderLine.order_id.in_(sa.select(orders.c.id)))
            )
        )
        .order_by(Category.code)
    ).all()
    return {"units": units, "suppliers": suppliers, "categories": categories}


def _echo(raw: dict) -> dict:
    """The filters as typed, for the form and the links (pager, downloads)."""
    return {key: raw[key].strip()[:40] for key in FILTERS if (raw.get(key) or "").strip()}


@bp.get("/")
@public_limit
def notice_list():
    raw = request.args.to_dict()
    args, errors = load_filters(raw)
    notices: list[Order] = []
    total = 0
    page, per_page = 1, DEFAULT_PER_PAGE
    if args is not None:
        query = notice_query(args)
        total = _count(query)
        page, per_page = args["page"], args["per_page"]
        notices = list(
            db.session.scalars(
                query.options(*NOTICE_LOAD)
                .order_by(*NEWEST_FIRST)
                .limit(per_page)
                .offset((page - 1) * per_page)
            )
        )
    return (
        render_template(
            "oversight/notice_list.html",
            notices=notices,
            total=total,
            errors=errors,
            names=field_labels(),
            params=_echo(raw),
            page=page,
            per_page=per_page,
            default_per_page=DEFAULT_PER_PAGE,
            export_max=EXPORT_MAX,
            **_filter_options(),
        ),
        400 if errors else 200,
    )


def price_evidence(price: Decimal, reference: Decimal | None) -> dict | None:
    """How a unit price compares with a reference price: the difference and its percentage."""
    if reference is None or reference <= 0:
        return None
    difference = price - reference
    percent = (abs(difference) * 100 / reference).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
    return {"difference": difference, "abs": abs(difference), "percent": percent}


@bp.get("/<order_number>")
@public_limit
def notice_detail(order_number: str):
    if not ORDER_NUMBER.match(order_number):
        abort(404, description=_("没有这条成交公告。"))
    order = db.session.scalar(
        sa.select(Order).where(Order.number == order_number, published()).options(*NOTICE_LOAD)
    )
    if order is None:
        abort(404, description=_("没有这条成交公告。"))
    return render_template("oversight/notice_detail.html", order=order, evidence=price_evidence)


# --------------------------------------------------------------------------------------------
# Downloads


def _header() -> list[str]:
    return [
        _("订单编号"),
        _("成交时间"),
        _("采购单位"),
        _("采购单位统一社会信用代码"),
        _("供应商"),
        _("供应商统一社会信用代码"),
        _("中小企业"),
        _("品目编码"),
        _("品目名称"),
        _("商品名称"),
        _("品牌"),
        _("型号"),
        _("数量"),
        _("成交单价"),
        _("金额"),
        _("市场参考价"),
        _("同款其他供应商最低价"),
        _("订单金额"),
        _("订单状态"),
    ]


NUMERIC_COLUMNS = (12, 13, 14, 15, 16, 17)


def _rows(ids: list[int]):
    """One row per order line, newest order first, read in chunks."""
    yes, no = _("是"), _("否")
    for start in range(0, len(ids), EXPORT_CHUNK):
        chunk = ids[start : start + EXPORT_CHUNK]
        orders = {
            order.id: order
            for order in db.session.scalars(sa.select(Order).where(Order.id.in_(chunk)).options(*NOTICE_LOAD))
        }
        for order_id in chunk:
            order = orders[order_id]
            for line in order.lines:
                yield [
                    order.number,
                    order.confirmed_at.astimezone(LOCAL_TZ).strftime("%Y-%m-%d %H:%M"),
                    order.unit.name,
                    order.unit.credit_code or "",
                    order.supplier.name,
                    order.supplier.credit_code or "",
                    yes if order.supplier.is_sme else no,
                    line.category.code,
                    line.category.name,
                    line.name,
                    line.brand,
                    line.model,
                    line.quantity,
                    line.unit_price,
                    line.amount,
                    line.market_price,
                    line.lowest_other_price,
                    order.total,
                    str(STATUS_LABELS[order.status]),
                ]
        for order in orders.values():
            db.session.expunge(order)  # with its lines: a chunk at a time in memory


MIMETYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def _export(fmt: str):
    args, errors = load_filters(request.args.to_dict())
    if args is None:
        labels = field_labels()
        errors = {labels.get(name, name): messages for name, messages in errors.items()}
        return error_response(400, _("筛选条件有误，请修改后重试。"), errors)
    query = notice_query(args)
    total = _count(query)
    if total > EXPORT_MAX:
        return error_response(
            400,
            _(
                "符合条件的成交公告有 %(total)s 条，超过单次下载上限 %(max)s 条，请缩小范围后再下载。",
                total=total,
                max=EXPORT_MAX,
            ),
        )
    ids = list(db.session.scalars(query.with_only_columns(Order.id).order_by(*NEWEST_FIRST)))
    buffer = io.BytesIO()
    export_rows(buffer, fmt, _header(), _rows(ids), sheet_title=_("成交公告"), numeric=NUMERIC_COLUMNS)
    buffer.seek(0)
    stamp = utcnow().astimezone(LOCAL_TZ).strftime("%Y%m%d")
    response = send_file(
        buffer, mimetype=MIMETYPES[fmt], as_attachment=True, download_name=f"成交公告-{stamp}.{fmt}"
    )
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/export.csv")
@public_limit
@export_limit
def export_csv():
    return _export("csv")


@bp.get("/export.xlsx")
@public_limit
@export_limit
def export_xlsx():
    return _export("xlsx")
