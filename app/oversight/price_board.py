"""The public same-item price board (同品成交价格): for each product, what purchasing units actually
paid — the lowest, median and highest unit price over the last 30 and 90 days, and how many
units and orders — so anyone can see what different agencies paid for the same item. No login;
rate-limited like the search pages.

The figures come from the order lines of orders that reached 已确认 (``confirmed_at`` set), dated
by that confirmation, except orders whose goods were returned (nothing was bought). Each order line
is one observation of a unit price, whatever its quantity. The median is the middle observation,
or the mean of the two middle ones rounded half-up to the fen; it is computed in SQL with window
functions (``row_number``/``count`` over the product), which SQLite and PostgreSQL both have.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

import sqlalchemy as sa
from flask import Blueprint, abort, current_app, render_template, request
from marshmallow import ValidationError, fields, pre_load, validate
from sqlalchemy.orm import selectinload

from app.auth.models import Organization
from app.catalog.models import Category, Offer, OfferStatus, Product
from app.core.db import utcnow
from app.core.money import CENT
from app.core.schemas import QuerySchema
from app.extensions import db, limiter
from app.orders.models import Order, OrderLine
from app.oversight.dashboards import SPEND_EXCLUDED

bp = Blueprint("price_board", __name__, url_prefix="/prices")

WINDOWS = (30, 90)
MAX_PAGE = 50  # like search: deep pages are for scrapers
MAX_PER_PAGE = 100
MAX_DEALS = 100  # deals listed on a product's page
SORTS = ("orders", "recent", "name")


@dataclasses.dataclass(frozen=True)
class Stats:
    low: Decimal
    median: Decimal
    high: Decimal
    lines: int
    units: int
    orders: int


def qualifying(since: datetime) -> tuple:
    """Orders that reached 已确认 since ``since`` and were bought: not returned, and not rejected
    by a supplier that backed out after confirming."""
    return (
        Order.confirmed_at.is_not(None),
        Order.confirmed_at >= since,
        Order.status.not_in(SPEND_EXCLUDED),  # the dashboards' definition of a purchase
    )


def deals(since: datetime) -> sa.Select:
    """The observations: (product, unit price, unit, order, date) of qualifying order lines."""
    return (
        sa.select(
            OrderLine.product_id.label("product_id"),
            OrderLine.unit_price.label("unit_price"),
            Order.unit_id.label("unit_id"),
            Order.id.label("order_id"),
            Order.confirmed_at.label("confirmed_at"),
        )
        .join(Order, OrderLine.order_id == Order.id)
        .where(*qualifying(since))
    )


def median_of(low_middle: Decimal, high_middle: Decimal) -> Decimal:
    return ((low_middle + high_middle) / 2).quantize(CENT, rounding=ROUND_HALF_UP)


def stats(product_ids: list[int], days: int, now: datetime | None = None) -> dict[int, Stats]:
    """The figures of these products over the last ``days`` days (products without deals are left
    out). Three queries whatever the number of products."""
    if not product_ids:
        return {}
    since = (now or utcnow()) - timedelta(days=days)
    rows = deals(since).where(OrderLine.product_id.in_(product_ids)).subquery()
    totals = db.session.execute(
        sa.select(
            rows.c.product_id,
            sa.func.min(rows.c.unit_price),
            sa.func.max(rows.c.unit_price),
            sa.func.count(),
            sa.func.count(rows.c.unit_id.distinct()),
            sa.func.count(rows.c.order_id.distinct()),
        ).group_by(rows.c.product_id)
    ).all()
    ranked = sa.select(
        rows.c.product_id,
        rows.c.unit_price,
        sa.func.row_number()
        .over(partition_by=rows.c.product_id, order_by=(rows.c.unit_price, rows.c.order_id))
        .label("position"),
        sa.func.count().over(partition_by=rows.c.product_id).label("size"),
    ).subquery()
    # Positions (size+1)//2 and (size+2)//2: the middle one twice, or the two middle ones.
    middles: dict[int, list[Decimal]] = {}
    for product_id, price in db.session.execute(
        sa.select(ranked.c.product_id, ranked.c.unit_price).where(
            sa.or_(
                ranked.c.position == (ranked.c.size + 1) // 2,
                ranked.c.position == (ranked.c.size + 2) // 2,
            )
        )
    ):
        middles.setdefault(product_id, []).append(_money(price))
    result = {}
    for product_id, low, high, lines, units, orders in totals:
        middle = sorted(middles[product_id])
        result[product_id] = Stats(
            low=_money(low),
            median=median_of(middle[0], middle[-1]),
            high=_money(high),
            lines=lines,
            units=units,
            orders=orders,
        )
    return result


def _money(value) -> Decimal:
    # Aggregates over a Money column come back as the column's type on PostgreSQL and as plain
    # numbers on SQLite; both are exact to the fen for the amounts we store.
    return Decimal(str(value)).quantize(CENT)


# --------------------------------------------------------------------------------------------
# Input


class BoardQuery(QuerySchema):
    q = fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.Length(max=100, error="搜索词不能超过 100 个字符"),
    )
    category = fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.Regexp(r"^[A-C]\d{0,8}$", error="品目编码格式不正确（如 A02010105）"),
    )
    sort = fields.String(load_default="orders", validate=validate.OneOf(SORTS, error="排序方式无效"))
    page = fields.Integer(
        load_default=1,
        validate=validate.Range(min=1, max=MAX_PAGE, error=f"页码应在 1 到 {MAX_PAGE} 之间；请添加搜索条件"),
    )
    per_page = fields.Integer(
        load_default=20,
        validate=validate.Range(min=1, max=MAX_PER_PAGE, error=f"每页数量应在 1 到 {MAX_PER_PAGE} 之间"),
    )

    @pre_load
    def clean(self, data, **kwargs):
        data = dict(data)
        for key in ("q", "category"):
            value = data.get(key)
            if isinstance(value, str):
                data[key] = value.strip() or None
        return data


def load_query(raw: dict) -> tuple[dict, dict]:
    """The arguments, and the messages of those that were refused (left at their defaults)."""
    try:
        return BoardQuery().load(raw), {}
    except ValidationError as exc:
        errors = exc.messages if isinstance(exc.messages, dict) else {"_schema": exc.messages}
        return BoardQuery().load({k: v for k, v in raw.items() if k not in errors}), errors


# --------------------------------------------------------------------------------------------
# Pages


def board_page(args: dict, now: datetime) -> tuple[list[Product], dict[int, int], int]:
    since = now - timedelta(days=max(WINDOWS))
    recent = deals(since).subquery()
    per_product = (
        sa.select(
            recent.c.product_id,
            sa.func.count(recent.c.order_id.distinct()).label("orders"),
            sa.func.max(recent.c.confirmed_at).label("last_at"),
        )
        .group_by(recent.c.product_id)
        .subquery()
    )
    query = (
        sa.select(Product, per_product.c.orders)
        .join(per_product, per_product.c.product_id == Product.id)
        .join(Category, Product.category_id == Category.id)
    )
    if args["q"]:
        text = args["q"]
        query = query.where(
            sa.or_(
                Product.name.contains(text, autoescape=True),
                Product.brand.contains(text, autoescape=True),
                Product.model.contains(text, autoescape=True),
                Category.name.contains(text, autoescape=True),
            )
        )
    if args["category"]:
        query = query.where(Category.code.startswith(args["category"], autoescape=True))
    total = db.session.scalar(sa.select(sa.func.count()).select_from(query.subquery())) or 0
    order = {
        "orders": (per_product.c.orders.desc(), Product.id),
        "recent": (per_product.c.last_at.desc(), Product.id),
        "name": (Product.name, Product.id),
    }[args["sort"]]
    rows = db.session.execute(
        query.options(selectinload(Product.category))
        .order_by(*order)
        .limit(args["per_page"])
        .offset((args["page"] - 1) * args["per_page"])
    ).all()
    return [product for product, _orders in rows], {p.id: n for p, n in rows}, total


def _render_board(args: dict, errors: dict, status: int):
    now = utcnow()
    products, _counts, total = board_page(args, now)
    ids = [p.id for p in products]
    figures = {days: stats(ids, days, now) for days in WINDOWS}
    params = {
        "q": args["q"],
        "category": args["category"],
        "sort": args["sort"] if args["sort"] != "orders" else None,
    }
    return render_template(
        "oversight/price_board.html",
        products=products,
        figures=figures,
        windows=WINDOWS,
        total=total,
        args=args,
        errors=errors,
        params=params,
        sorts=SORTS,
        max_page=MAX_PAGE,
    ), status


@bp.get("")
@limiter.limit(lambda: current_app.config["SEARCH_RATE_LIMIT"])
def board():
    args, errors = load_query(request.args.to_dict())
    return _render_board(args, errors, 422 if errors else 200)


@bp.get("/<int:product_id>")
@limiter.limit(lambda: current_app.config["SEARCH_RATE_LIMIT"])
def product(product_id: int):
    # Products still in review (inactive) are not public.
    item = db.session.scalar(
        sa.select(Product)
        .where(Product.id == product_id, Product.is_active.is_(True))
        .options(selectinload(Product.category))
    )
    if item is None:
        abort(404)
    now = utcnow()
    figures = {days: stats([item.id], days, now).get(item.id) for days in WINDOWS}
    rows = db.session.execute(
        sa.select(
            Order.confirmed_at,
            OrderLine.unit_price,
            OrderLine.quantity,
            Organization.name.label("unit_name"),
            Order.supplier_id,
        )
        .select_from(OrderLine)
        .join(Order, OrderLine.order_id == Order.id)
        .join(Organization, Organization.id == Order.unit_id)
        .where(OrderLine.product_id == item.id, *qualifying(now - timedelta(days=max(WINDOWS))))
        .order_by(Order.confirmed_at.desc(), Order.id.desc(), OrderLine.id)
        .limit(MAX_DEALS)
    ).all()
    supplier_names = dict(
        db.session.execute(
            sa.select(Organization.id, Organization.name).where(
                Organization.id.in_({row.supplier_id for row in rows})
            )
        ).all()
    )
    lowest_listed = db.session.scalar(
        sa.select(sa.func.min(Offer.price)).where(
            Offer.product_id == item.id, Offer.status == OfferStatus.LISTED
        )
    )
    return render_template(
        "oversight/price_product.html",
        product=item,
        figures=figures,
        windows=WINDOWS,
        deals=rows,
        supplier_names=supplier_names,
        lowest_listed=lowest_listed,
        max_deals=MAX_DEALS,
    )
