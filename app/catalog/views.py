from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal

from flask import Blueprint, abort, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from markupsafe import Markup
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from app.catalog import charts
from app.catalog.display import format_spec_value
from app.catalog.models import Category, Offer, OfferStatus, PriceChange, Product
from app.catalog.regions import covers_mainland, region_names
from app.catalog.schemas import ProductDetailQuery
from app.compare import services as compare_services
from app.core.db import utcnow
from app.core.money import format_cny
from app.extensions import db

bp = Blueprint("catalog", __name__)


def category_tree() -> list[dict]:
    """The branches of the catalogue that hold listed goods, as nested dicts for the home page."""
    counts = dict(
        db.session.execute(
            select(Product.category_id, func.count(Product.id))
            .where(Product.is_active.is_(True))
            .group_by(Product.category_id)
        ).all()
    )
    if not counts:
        return []
    by_id: dict[int, Category] = {}
    frontier = set(counts)
    while frontier:
        rows = db.session.scalars(select(Category).where(Category.id.in_(frontier))).all()
        frontier = set()
        for category in rows:
            by_id[category.id] = category
            if category.parent_id and category.parent_id not in by_id:
                frontier.add(category.parent_id)
    nodes = {cid: {"category": c, "count": counts.get(cid, 0), "children": []} for cid, c in by_id.items()}
    roots = []
    for node in sorted(nodes.values(), key=lambda n: n["category"].code):
        parent_id = node["category"].parent_id
        if parent_id in nodes:
            nodes[parent_id]["children"].append(node)
        else:
            roots.append(node)

    def total(node: dict) -> int:
        node["count"] += sum(total(child) for child in node["children"])
        return node["count"]

    for root in roots:
        total(root)
    return roots


@bp.get("/")
def home():
    return render_template("catalog/home.html", tree=category_tree())


@bp.get("/products")
def product_list():
    """The old listing address: search answers it now (bookmarks and links keep working)."""
    return redirect(url_for("search.results", **request.args.to_dict(flat=False)), code=301)


@bp.get("/products/<int:product_id>")
def product_detail(product_id: int):
    args = ProductDetailQuery().load(request.args.to_dict())
    product = db.session.scalar(
        select(Product)
        .where(Product.id == product_id, Product.is_active.is_(True))
        .options(selectinload(Product.category).selectinload(Category.attributes))
    )
    if product is None:
        abort(404)
    offers = db.session.scalars(
        select(Offer)
        .where(Offer.product_id == product.id, Offer.status == OfferStatus.LISTED)
        .options(selectinload(Offer.supplier))
        .order_by(Offer.price, Offer.id)
    ).all()
    history = _price_history(offers)
    chart = _price_chart(history, show_offers=args["suppliers"] and len(offers) > 1)
    compare_ids = compare_services.compare_ids(session)
    return render_template(
        "catalog/product_detail.html",
        product=product,
        breadcrumb=_category_path(product.category),
        specs=_spec_rows(product),
        offers=offers,
        offer_rows=[_offer_row(offer) for offer in offers],
        ratings=_supplier_ratings([offer.supplier_id for offer in offers]),
        history=history,
        chart=chart,
        show_suppliers=args["suppliers"],
        in_compare=product.id in compare_ids,
        compare_products=compare_services.products_in_order(compare_ids),
        legend_sample=charts.legend_sample,
        series_class=charts.series_class,
    )


def _category_path(category: Category) -> list[Category]:
    """The category and its ancestors, root first (the catalogue is four levels deep)."""
    path = [category]
    seen = {category.id}
    while path[0].parent_id is not None and path[0].parent_id not in seen:
        parent = db.session.get(Category, path[0].parent_id)
        if parent is None:
            break
        seen.add(parent.id)
        path.insert(0, parent)
    return path


def _spec_rows(product: Product) -> list[dict]:
    specs = product.specs or {}
    return [
        {
            "attribute": attribute,
            "value": format_spec_value(specs.get(attribute.code), attribute.type, attribute.unit),
        }
        for attribute in product.category.attributes
    ]


def _offer_row(offer: Offer) -> dict:
    """What the offers table shows of one offer. Stock is only 有货/缺货: the exact figure is the
    supplier's business, not its competitors'."""
    difference = percent = None
    if offer.market_price:
        difference = offer.price - offer.market_price
        percent = (difference * 100 / offer.market_price).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
    return {
        "offer": offer,
        "difference": difference,
        "abs_difference": abs(difference) if difference is not None else None,
        "percent": abs(percent) if percent is not None else None,
        "in_stock": offer.stock > 0,
        "nationwide": covers_mainland(offer.regions or []),
        "regions": region_names(offer.regions or []),
    }


def _supplier_ratings(supplier_ids: list[int]) -> dict[int, Decimal]:
    """Average performance ratings (履约评价) by supplier. Evaluations are not recorded yet, so
    there are none; the page then says 暂无评价 rather than showing an invented score."""
    return {}


def _price_history(offers: list[Offer]) -> charts.PriceHistory:
    """Daily prices of the listed offers over the chart's window, from their PriceChange rows.

    Only the rows inside the window and each offer's last row before it are read. Prices before an
    offer was listed do not count; an offer without history rows counts from its listing."""
    today = charts.local_day(utcnow())
    start = today - timedelta(days=charts.HISTORY_DAYS - 1)
    start_utc = datetime.combine(start, time.min, tzinfo=charts.LOCAL_TZ).astimezone(UTC)
    ids = [offer.id for offer in offers]
    rows: dict[int, list[tuple[datetime, Decimal]]] = {offer_id: [] for offer_id in ids}
    if ids:
        before = (
            select(PriceChange.offer_id, func.max(PriceChange.changed_at).label("at"))
            .where(PriceChange.offer_id.in_(ids), PriceChange.changed_at < start_utc)
            .group_by(PriceChange.offer_id)
            .subquery()
        )
        opening = select(PriceChange.offer_id, PriceChange.changed_at, PriceChange.price).join(
            before, (PriceChange.offer_id == before.c.offer_id) & (PriceChange.changed_at == before.c.at)
        )
        inside = select(PriceChange.offer_id, PriceChange.changed_at, PriceChange.price).where(
            PriceChange.offer_id.in_(ids), PriceChange.changed_at >= start_utc
        )
        for query in (opening, inside):
            for offer_id, changed_at, price in db.session.execute(query):
                rows[offer_id].append((changed_at, price))
    labels = _series_labels(offers)
    histories = []
    for offer in offers:
        changes = sorted(rows[offer.id])
        listed_at = offer.listed_at
        if listed_at is not None:
            # Before listing the offer was not on sale: start it at its listing with the price then.
            earlier = [c for c in changes if c[0] <= listed_at]
            changes = [c for c in changes if c[0] > listed_at]
            if earlier:
                changes.insert(0, (listed_at, earlier[-1][1]))
        if not changes:
            changes = [(listed_at or offer.created_at, offer.price)]
        elif changes[-1][1] != offer.price:
            # The offer itself holds the current price; history rows only explain how it got there.
            changes.append((max(changes[-1][0], offer.updated_at or changes[-1][0]), offer.price))
        histories.append(charts.OfferHistory(offer_id=offer.id, label=labels[offer.id], changes=changes))
    return charts.price_history(histories, today)


def _series_labels(offers: list[Offer]) -> dict[int, str]:
    names = [offer.supplier.name for offer in offers]
    return {
        offer.id: f"{offer.supplier.name}（{offer.supplier_sku}）"
        if names.count(offer.supplier.name) > 1
        else offer.supplier.name
        for offer in offers
    }


def _price_chart(history: charts.PriceHistory, *, show_offers: bool) -> Markup | None:
    summary = charts.summarize(history)
    if summary is None:
        return None
    title = _("近 %(days)s 天每日最低报价走势", days=charts.HISTORY_DAYS)
    if summary.low == summary.high:
        description = _(
            "%(start)s 至 %(end)s，每日最低在售报价保持 %(price)s 不变。",
            start=summary.start.isoformat(),
            end=summary.end.isoformat(),
            price=format_cny(summary.low),
        )
    else:
        description = _(
            "%(start)s 至 %(end)s，每日最低在售报价从 %(first)s 变为 %(last)s；"
            "期间最低 %(low)s，最高 %(high)s。",
            start=summary.start.isoformat(),
            end=summary.end.isoformat(),
            first=format_cny(summary.first),
            last=format_cny(summary.last),
            low=format_cny(summary.low),
            high=format_cny(summary.high),
        )
    if show_offers:
        description += " " + _("虚线为各供应商报价。")
    text = charts.ChartText(title=title, description=description)
    return charts.render_svg(history, text, show_offers=show_offers)
