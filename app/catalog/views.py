from __future__ import annotations

from flask import Blueprint, abort, render_template, request
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from app.catalog.models import Category, Offer, OfferStatus, Product
from app.catalog.schemas import ProductListQuery
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
    args = ProductListQuery().load(request.args.to_dict())
    query = select(Product).where(Product.is_active.is_(True))
    category = None
    if args.get("category"):
        category = db.session.scalar(select(Category).where(Category.code == args["category"]))
        if category is None:
            abort(404)
        query = query.where(Product.category_id == category.id)
    if args.get("q"):
        # Interim substring match until the search library (issue 3) takes over this page.
        needle = f"%{args['q']}%"
        query = query.where(
            Product.name.ilike(needle) | Product.model.ilike(needle) | Product.brand.ilike(needle)
        )
    total = db.session.scalar(select(func.count()).select_from(query.subquery()))
    per_page = args["per_page"]
    page = args["page"]
    products = db.session.scalars(
        query.order_by(Product.id).limit(per_page).offset((page - 1) * per_page)
    ).all()
    prices = _lowest_prices([p.id for p in products])
    return render_template(
        "catalog/product_list.html",
        products=products,
        prices=prices,
        total=total,
        page=page,
        per_page=per_page,
        category=category,
        q=args.get("q") or "",
    )


def _lowest_prices(product_ids: list[int]) -> dict[int, tuple]:
    if not product_ids:
        return {}
    rows = db.session.execute(
        select(Offer.product_id, func.min(Offer.price), func.count(Offer.id))
        .where(Offer.product_id.in_(product_ids), Offer.status == OfferStatus.LISTED)
        .group_by(Offer.product_id)
    ).all()
    return {product_id: (price, count) for product_id, price, count in rows}


@bp.get("/products/<int:product_id>")
def product_detail(product_id: int):
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
    return render_template("catalog/product_detail.html", product=product, offers=offers)
