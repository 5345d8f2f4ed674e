"""The operator's review queue (上架审核): filter, look, approve or reject — one by one or in bulk,
a bulk decision after a confirmation page. Operators only."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from marshmallow import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app.auth.access import roles_required, safe_next_url
from app.auth.models import Organization, OrgKind
from app.catalog.display import format_spec_value
from app.catalog.models import Offer, OfferStatus, Product
from app.catalog.regions import MAINLAND, covers_mainland, region_names
from app.catalog_upload.lookups import leaf_categories_with_registry
from app.extensions import db
from app.review import services
from app.review.models import Decision, OfferSubmission
from app.review.schemas import BulkDecisionForm, DecisionForm, ReviewQuery

bp = Blueprint("review", __name__, url_prefix="/review")

FILTERS = ("supplier", "category", "kind", "submitted_from", "submitted_to", "ratio_min", "ratio_max")


def _spec_rows(product: Product) -> list[tuple[str, str]]:
    specs = product.specs or {}
    return [
        (a.label_zh, format_spec_value(specs.get(a.code), a.type, a.unit))
        for a in product.category.attributes
        if specs.get(a.code) is not None
    ]


def region_text(codes) -> str:
    codes = list(codes or [])
    if covers_mainland(codes):
        return _("全国（大陆 31 个省级地区）") + (
            "、" + "、".join(region_names(set(codes) - MAINLAND)) if set(codes) - MAINLAND else ""
        )
    return "、".join(region_names(codes)) or "—"


def _queue(status: int = 200, errors: dict | None = None, raw: dict | None = None):
    raw = raw if raw is not None else request.args.to_dict()
    try:
        args = ReviewQuery().load(raw)
    except ValidationError as exc:
        args = ReviewQuery().load({k: v for k, v in raw.items() if k not in exc.messages})
        errors = {**exc.messages, **(errors or {})}
        status = 422 if status == 200 else status
    filters = {key: args[key] for key in FILTERS}
    rows, total = services.queue_page(filters, args["page"], args["per_page"])
    proposed = services.unapproved_proposals([offer.product_id for offer, _sub in rows])
    suppliers = db.session.scalars(
        select(Organization).where(Organization.kind == OrgKind.SUPPLIER).order_by(Organization.name)
    ).all()
    params = {key: raw.get(key) for key in FILTERS if raw.get(key) not in (None, "")}
    return (
        render_template(
            "review/queue.html",
            rows=rows,
            total=total,
            proposed=proposed,
            suppliers=suppliers,
            categories=leaf_categories_with_registry(),
            filters=filters,
            params=params,
            errors=errors or {},
            spec_rows=_spec_rows,
            region_text=region_text,
            price_ratio=services.price_ratio,
            here=request.full_path.rstrip("?")
            if request.method == "GET"
            else url_for("review.queue", **params),
            page=args["page"],
            per_page=args["per_page"],
        ),
        status,
    )


@bp.get("/offers")
@roles_required(*services.REVIEWERS)
def queue():
    return _queue()


def _back(target: str | None) -> str:
    return safe_next_url(target, url_for("review.queue"))


def _announce(result: services.DecisionResult, decision: Decision) -> None:
    count = len(result.decided)
    if count:
        if decision == Decision.APPROVE:
            flash(_("已通过 %(n)s 条报价，已上架。", n=count), "success")
        else:
            flash(_("已驳回 %(n)s 条报价，供应商会看到驳回理由。", n=count), "success")
    if result.skipped:
        flash(
            _("%(n)s 条报价已不在待审核状态（可能已被他人处理），未作改动。", n=len(result.skipped)),
            "warning",
        )


@bp.post("/offers/decide")
@roles_required(*services.REVIEWERS)
def decide():
    data = request.form.to_dict()
    try:
        form = DecisionForm().load(data)
    except ValidationError as exc:
        return _queue(422, exc.messages, _query_of(data.get("next")))
    decision = Decision(form["decision"])
    try:
        result = services.decide([form["offer_id"]], decision, form["reason"], current_user)
    except services.ReviewError as exc:
        return _queue(422, {exc.field: [exc.message]}, _query_of(data.get("next")))
    _announce(result, decision)
    return redirect(_back(form["next"]))


def _query_of(target: str | None) -> dict:
    """The queue's filters carried in a form's ``next`` (so an error re-renders the same view)."""
    from urllib.parse import parse_qsl, urlsplit

    if not target:
        return {}
    return dict(parse_qsl(urlsplit(safe_next_url(target, "")).query))


@bp.post("/offers/bulk")
@roles_required(*services.REVIEWERS)
def bulk():
    data = request.form.to_dict()
    data["offer_ids"] = request.form.getlist("offer_ids")
    try:
        form = BulkDecisionForm().load(data)
    except ValidationError as exc:
        return _queue(422, exc.messages, _query_of(data.get("next")))
    decision = Decision(form["decision"])
    if not form["confirm"]:
        offers = db.session.scalars(
            select(Offer)
            .where(Offer.id.in_(form["offer_ids"]))
            .options(selectinload(Offer.product), selectinload(Offer.supplier))
            .order_by(Offer.id)
        ).all()
        return render_template(
            "review/confirm.html",
            offers=offers,
            decision=decision,
            reason=form["reason"],
            next=_back(form["next"]),
            Decision=Decision,
            OfferStatus=OfferStatus,
        )
    try:
        result = services.decide(form["offer_ids"], decision, form["reason"], current_user)
    except services.ReviewError as exc:
        return _queue(422, {exc.field: [exc.message]}, _query_of(data.get("next")))
    _announce(result, decision)
    return redirect(_back(form["next"]))


@bp.app_template_global()
def submission_kind_of(submission: OfferSubmission | None, offer: Offer, proposed: set[int]) -> str:
    if submission is not None:
        return submission.kind.value
    if offer.product_id in proposed:
        return "new_product"
    return "change" if offer.listed_at is not None else "new_offer"
