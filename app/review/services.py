"""Review verbs: the queue of offers waiting for an operator, and decisions. They flush, never commit.

An approved offer is listed (and its newly proposed product made public); a rejected one keeps the
reason, which its supplier sees on the offer's page and on the page of the upload that submitted
it. Every decision is a :class:`ReviewDecision` row and an audit event. Offers change through the
ORM, so search follows (capture on flush, reindex after commit).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from sqlalchemy import Select, and_, func, select
from sqlalchemy.orm import aliased, selectinload

from app.auth.models import Role, User
from app.catalog.charts import LOCAL_TZ
from app.catalog.models import Category, Offer, OfferStatus, Product
from app.core import audit
from app.core.db import utcnow
from app.extensions import db
from app.review.models import Decision, OfferSubmission, ProductProposal, ReviewDecision, SubmissionKind

REVIEWERS = (Role.OPERATOR,)
MAX_BULK = 200
REASON_MAX = 500


class ReviewError(ValueError):
    def __init__(self, message: str, field: str = "_schema"):
        super().__init__(message)
        self.message = message
        self.field = field


def open_submission():
    """The open submission of each offer (outer-joined: an offer may be pending without one)."""
    return aliased(OfferSubmission, name="open_submission")


def queue_query(filters: dict) -> tuple[Select, type]:
    """Pending offers with their open submission, filtered, oldest submission first."""
    submission = open_submission()
    submitted = func.coalesce(submission.submitted_at, Offer.updated_at)
    query = (
        select(Offer, submission)
        .join(Product, Offer.product_id == Product.id)
        .outerjoin(submission, and_(submission.offer_id == Offer.id, submission.closed_at.is_(None)))
        .where(Offer.status == OfferStatus.PENDING_REVIEW)
    )
    if filters.get("supplier"):
        query = query.where(Offer.supplier_id == filters["supplier"])
    if filters.get("category"):
        query = query.join(Category, Product.category_id == Category.id).where(
            Category.code == filters["category"]
        )
    if filters.get("kind"):
        kind = SubmissionKind(filters["kind"])
        query = query.where(submission.kind == kind)
    if filters.get("submitted_from"):
        query = query.where(submitted >= _local_midnight(filters["submitted_from"]))
    if filters.get("submitted_to"):
        query = query.where(submitted < _local_midnight(filters["submitted_to"] + timedelta(days=1)))
    ratio = Offer.price * 100 / Offer.market_price
    if filters.get("ratio_min") is not None:
        query = query.where(Offer.market_price.is_not(None), ratio >= filters["ratio_min"])
    if filters.get("ratio_max") is not None:
        query = query.where(Offer.market_price.is_not(None), ratio <= filters["ratio_max"])
    query = query.order_by(submitted, Offer.id)
    return query, submission


def _local_midnight(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=LOCAL_TZ)


def queue_page(
    filters: dict, page: int, per_page: int
) -> tuple[list[tuple[Offer, OfferSubmission | None]], int]:
    query, _submission = queue_query(filters)
    total = db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0
    rows = db.session.execute(
        query.options(
            selectinload(Offer.product).selectinload(Product.category).selectinload(Category.attributes),
            selectinload(Offer.supplier),
        )
        .limit(per_page)
        .offset((page - 1) * per_page)
    ).all()
    return [(offer, submission) for offer, submission in rows], total


def unapproved_proposals(product_ids: Sequence[int]) -> set[int]:
    if not product_ids:
        return set()
    return set(
        db.session.scalars(
            select(ProductProposal.product_id).where(
                ProductProposal.product_id.in_(product_ids), ProductProposal.approved_at.is_(None)
            )
        )
    )


def price_ratio(offer: Offer) -> Decimal | None:
    """The price as a percentage of the market reference price."""
    if not offer.market_price:
        return None
    return (offer.price * 100 / offer.market_price).quantize(Decimal("0.1"))


@dataclass
class DecisionResult:
    decided: list[Offer] = field(default_factory=list)
    skipped: list[int] = field(default_factory=list)  # no longer waiting for review


def decide(offer_ids: Sequence[int], decision: Decision, reason: str, operator: User) -> DecisionResult:
    """Approve or reject offers waiting for review. A rejection needs a reason. Offers that are no
    longer pending (someone decided first) are skipped, not changed."""
    reason = (reason or "").strip()
    if decision == Decision.REJECT and not reason:
        raise ReviewError("驳回必须填写理由，供应商会看到它并据此修改", "reason")
    if len(reason) > REASON_MAX:
        raise ReviewError(f"理由不能超过 {REASON_MAX} 个字符", "reason")
    ids = sorted(set(offer_ids))
    if not ids:
        raise ReviewError("请至少选择一条报价", "offer_ids")
    if len(ids) > MAX_BULK:
        raise ReviewError(f"一次最多处理 {MAX_BULK} 条报价，请分批操作", "offer_ids")
    # Lock in a fixed order: two operators deciding overlapping selections cannot interleave.
    offers = db.session.scalars(
        select(Offer)
        .where(Offer.id.in_(ids), Offer.status == OfferStatus.PENDING_REVIEW)
        .order_by(Offer.id)
        .with_for_update()
    ).all()
    found = {offer.id for offer in offers}
    result = DecisionResult(skipped=[i for i in ids if i not in found])
    if not offers:
        return result
    now = utcnow()
    submissions = {
        s.offer_id: s
        for s in db.session.scalars(
            select(OfferSubmission).where(
                OfferSubmission.offer_id.in_(found), OfferSubmission.closed_at.is_(None)
            )
        )
    }
    proposals = {
        p.product_id: p
        for p in db.session.scalars(
            select(ProductProposal)
            .where(
                ProductProposal.product_id.in_({o.product_id for o in offers}),
                ProductProposal.approved_at.is_(None),
            )
            .options(selectinload(ProductProposal.product))
        )
    }
    for offer in offers:
        submission = submissions.get(offer.id)
        if decision == Decision.APPROVE:
            offer.status = OfferStatus.LISTED
            offer.listed_at = now
            proposal = proposals.get(offer.product_id)
            if proposal is not None and proposal.approved_at is None:
                proposal.approved_at = now
                proposal.approved_by_id = operator.id
                proposal.product.is_active = True
        else:
            offer.status = OfferStatus.REJECTED
        if submission is not None:
            submission.closed_at = now
        db.session.add(
            ReviewDecision(
                offer_id=offer.id,
                submission_id=submission.id if submission is not None else None,
                batch_id=submission.batch_id if submission is not None else None,
                operator_id=operator.id,
                decision=decision,
                reason=reason,
                created_at=now,
            )
        )
        result.decided.append(offer)
    audit.record(
        f"review.{decision.value}",
        user=operator,
        offer_ids=[o.id for o in result.decided],
        reason=reason,
    )
    db.session.flush()
    return result


def decisions_of(offer_id: int) -> list[ReviewDecision]:
    return list(
        db.session.scalars(
            select(ReviewDecision)
            .where(ReviewDecision.offer_id == offer_id)
            .order_by(ReviewDecision.created_at.desc(), ReviewDecision.id.desc())
        )
    )
