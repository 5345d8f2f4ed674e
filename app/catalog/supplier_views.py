"""A supplier's own listings. Scoped to the supplier's organization; other suppliers' drafts,
stock and SKUs are never visible here."""

from __future__ import annotations

from flask import Blueprint, render_template, request
from flask_login import current_user
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from app.auth.access import roles_required
from app.auth.models import Role
from app.catalog.models import Offer, OfferStatus
from app.catalog.schemas import SupplierOfferQuery
from app.extensions import db
from app.review.models import OfferSubmission
from app.review.services import decisions_of

bp = Blueprint("supplier", __name__, url_prefix="/supplier")


def own_offers():
    return select(Offer).where(Offer.supplier_id == current_user.organization_id)


@bp.get("/offers")
@roles_required(Role.SUPPLIER)
def offer_list():
    args = SupplierOfferQuery().load(request.args.to_dict())
    query = own_offers()
    if args.get("status"):
        query = query.where(Offer.status == OfferStatus(args["status"]))
    total = db.session.scalar(select(func.count()).select_from(query.subquery()))
    offers = db.session.scalars(
        query.options(selectinload(Offer.product))
        .order_by(Offer.supplier_sku)
        .limit(args["per_page"])
        .offset((args["page"] - 1) * args["per_page"])
    ).all()
    return render_template(
        "catalog/supplier_offer_list.html", offers=offers, total=total, statuses=list(OfferStatus), **args
    )


@bp.get("/offers/<int:offer_id>")
@roles_required(Role.SUPPLIER)
def offer_detail(offer_id: int):
    offer = db.first_or_404(
        own_offers()
        .where(Offer.id == offer_id)
        .options(selectinload(Offer.product), selectinload(Offer.price_history))
    )
    # The operators' review decisions, newest first, and what is waiting for review now.
    decisions = decisions_of(offer.id)
    submission = db.session.scalars(
        select(OfferSubmission)
        .where(OfferSubmission.offer_id == offer.id, OfferSubmission.closed_at.is_(None))
        .order_by(OfferSubmission.submitted_at.desc())
        .limit(1)
    ).first()
    return render_template(
        "catalog/supplier_offer_detail.html", offer=offer, decisions=decisions, submission=submission
    )
