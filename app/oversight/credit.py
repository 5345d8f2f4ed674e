"""Supplier credit (供应商信用): a 100-point ledger per supplier per calendar year (Beijing time).

Each deduction is a :class:`~app.oversight.models.CreditEvent` tied to its evidence and raised
from facts that already exist:

============================  ======  ==============================================================
reason                        points  raised when
============================  ======  ==============================================================
late_confirmation               −3    the deadline job cancels an order the supplier did not confirm
                                      in time (its LATE_CONFIRMATION alert; evidence: the order)
substitution                    −10   the buyer's 验收单 finds a delivered model that differs from the
                                      ordered one (its SUBSTITUTION alert; evidence: the order)
price_above_reference           −2    a price rule finds the offer above its market reference price
                                      (app/oversight/monitoring.py; evidence: the offer at that price)
poor_evaluation                 −2    a 履约评价 with any star ≤ 2 (evidence: the order)
rejected_after_confirmation     −5    the supplier rejects an order it had confirmed (the history row
                                      confirmed → rejected; evidence: the order)
============================  ======  ==============================================================

The same evidence deducts once (``reason`` + ``evidence_key`` is unique), however often the fact is
seen. The alerts and evaluations are caught on flush (a ``before_flush`` listener), in the same
transaction that writes them, so no code path that raises them can forget the deduction.

Score = 100 + the points of the year's events that were not cancelled by an upheld appeal, never
below 0. Stars: ≥ 95 ★★★★★, ≥ 85 ★★★★, ≥ 70 ★★★, ≥ 60 ★★, otherwise ★.

Appeals: the supplier may appeal a deduction once, with a written reason, within
:data:`APPEAL_DAYS` days of the deduction. An operator decides: upheld (the deduction is cancelled
and no longer counts) or rejected, with a note. Every decision is audited.

The score reaches the search documents (``rating`` of a product = the best score among its listed
offers' suppliers, the "供应商信用" sort): a deduction or an upheld appeal touches the supplier's
products, which the indexing's capture-on-flush marks dirty and reindexes after commit.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import Session

from app.auth.models import Role, User
from app.catalog.charts import LOCAL_TZ
from app.catalog.models import Offer, OfferStatus, Product
from app.core import audit
from app.core.db import utcnow
from app.core.jobs import job
from app.extensions import db
from app.orders.models import Evaluation, OrderEvent
from app.oversight.models import Alert, AlertKind, AppealStatus, CreditEvent, CreditReason

FULL_SCORE = 100
APPEAL_DAYS = 15
POOR_STARS = 2  # an evaluation with any star at or below this deducts
POINTS: dict[CreditReason, int] = {
    CreditReason.LATE_CONFIRMATION: -3,
    CreditReason.REJECTED_AFTER_CONFIRMATION: -5,
    CreditReason.SUBSTITUTION: -10,
    CreditReason.PRICE_ABOVE_REFERENCE: -2,
    CreditReason.POOR_EVALUATION: -2,
}
# (lowest score, stars), best first.
STAR_STEPS: tuple[tuple[int, int], ...] = ((95, 5), (85, 4), (70, 3), (60, 2), (0, 1))
APPEAL_MIN, APPEAL_MAX = 5, 2000
NOTE_MAX = 1000
# Alerts that are themselves the evidence of a deduction.
ALERT_REASONS = {
    AlertKind.LATE_CONFIRMATION: CreditReason.LATE_CONFIRMATION,
    AlertKind.SUBSTITUTION: CreditReason.SUBSTITUTION,
}


class CreditError(ValueError):
    """A refused appeal or decision; the message says why, in Chinese."""

    def __init__(self, message: str, field: str = "_schema"):
        super().__init__(message)
        self.message = message
        self.field = field


@dataclasses.dataclass(frozen=True)
class Credit:
    score: int
    stars: int

    @property
    def star_text(self) -> str:
        return "★" * self.stars + "☆" * (5 - self.stars)


def local_year(moment: datetime | None = None) -> int:
    return (moment or utcnow()).astimezone(LOCAL_TZ).year


def stars_for(score: int) -> int:
    return next(stars for lowest, stars in STAR_STEPS if score >= lowest)


def credit_for(score: int) -> Credit:
    return Credit(score=score, stars=stars_for(score))


def counted():
    """The condition of events that count: everything but deductions cancelled on appeal."""
    return CreditEvent.appeal_status != AppealStatus.UPHELD


def scores(supplier_ids: Iterable[int], year: int | None = None) -> dict[int, int]:
    """Each supplier's score for the year (this year by default); suppliers without deductions
    have the full score. One query for any number of suppliers."""
    ids = sorted({i for i in supplier_ids if i is not None})
    if not ids:
        return {}
    year = year or local_year()
    sums = dict(
        db.session.execute(
            sa.select(CreditEvent.supplier_id, sa.func.sum(CreditEvent.points))
            .where(CreditEvent.supplier_id.in_(ids), CreditEvent.year == year, counted())
            .group_by(CreditEvent.supplier_id)
        ).all()
    )
    return {i: max(0, FULL_SCORE + int(sums.get(i) or 0)) for i in ids}


def credits(supplier_ids: Iterable[int], year: int | None = None) -> dict[int, Credit]:
    return {i: credit_for(score) for i, score in scores(supplier_ids, year).items()}


def score(supplier_id: int, year: int | None = None) -> int:
    return scores([supplier_id], year)[supplier_id]


# --------------------------------------------------------------------------------------------
# Deductions


def _exists(session: Session, reason: CreditReason, evidence_key: str) -> bool:
    pending = any(
        isinstance(obj, CreditEvent) and obj.reason == reason and obj.evidence_key == evidence_key
        for obj in session.new
    )
    if pending:
        return True
    with session.no_autoflush:
        return (
            session.scalar(
                sa.select(CreditEvent.id).where(
                    CreditEvent.reason == reason, CreditEvent.evidence_key == evidence_key
                )
            )
            is not None
        )


def deduct(
    supplier_id: int,
    reason: CreditReason,
    evidence_key: str,
    description: str,
    *,
    order_id: int | None = None,
    offer_id: int | None = None,
    alert: Alert | None = None,
    now: datetime | None = None,
    session: Session | None = None,
) -> CreditEvent | None:
    """Record one deduction for this evidence, or nothing if it was already recorded."""
    session = session or db.session()
    if _exists(session, reason, evidence_key):
        return None
    now = now or utcnow()
    record = CreditEvent(
        supplier_id=supplier_id,
        year=local_year(now),
        points=POINTS[reason],
        reason=reason,
        evidence_key=evidence_key,
        order_id=order_id,
        offer_id=offer_id,
        alert=alert,
        description=description[:500],
        created_at=now,
        appeal_due_at=now + timedelta(days=APPEAL_DAYS),
        appeal_status=AppealStatus.NONE,
    )
    session.add(record)
    return record


def _from_alert(session: Session, alert: Alert) -> None:
    reason = ALERT_REASONS.get(alert.kind)
    if reason is None or alert.supplier_id is None or alert.order_id is None:
        return
    deduct(
        alert.supplier_id,
        reason,
        f"order:{alert.order_id}",
        alert.message,
        order_id=alert.order_id,
        alert=alert,
        now=alert.raised_at,
        session=session,
    )


def _from_evaluation(session: Session, evaluation: Evaluation) -> None:
    lowest = min(evaluation.quality, evaluation.delivery, evaluation.service)
    if lowest > POOR_STARS:
        return
    order_id = evaluation.order_id if evaluation.order_id is not None else evaluation.order.id
    number = evaluation.order.number if evaluation.order is not None else str(order_id)
    deduct(
        evaluation.supplier_id,
        CreditReason.POOR_EVALUATION,
        f"order:{order_id}",
        f"订单 {number} 的履约评价：质量 {evaluation.quality} 星、交付 {evaluation.delivery} 星、"
        f"服务 {evaluation.service} 星（有一项不高于 {POOR_STARS} 星）",
        order_id=order_id,
        now=evaluation.created_at,
        session=session,
    )


def _from_rejection(session: Session, history: OrderEvent) -> None:
    order = history.order
    deduct(
        order.supplier_id,
        CreditReason.REJECTED_AFTER_CONFIRMATION,
        f"order:{order.id}",
        f"确认订单 {order.number} 后又拒绝履约：{history.note}",
        order_id=order.id,
        now=history.created_at,
        session=session,
    )


def _touch_suppliers(session: Session, supplier_ids: set[int]) -> None:
    """The supplier's listed products get a new search document (their credit changed)."""
    from app.catalog.indexing import touch_products

    with session.no_autoflush:
        product_ids = set(
            session.scalars(
                sa.select(Offer.product_id)
                .where(Offer.supplier_id.in_(supplier_ids), Offer.status == OfferStatus.LISTED)
                .distinct()
            )
        )
    touch_products(session, product_ids)


@event.listens_for(Session, "before_flush")
def _deduct_on_flush(session: Session, _context, _instances) -> None:
    for obj in list(session.new):
        if isinstance(obj, Alert) and obj.kind in ALERT_REASONS:
            _from_alert(session, obj)
        elif isinstance(obj, Evaluation):
            _from_evaluation(session, obj)
        elif isinstance(obj, OrderEvent) and (obj.from_status, obj.to_status) == ("confirmed", "rejected"):
            _from_rejection(session, obj)
    # New deductions change their supplier's score (a decided appeal does too: see decide()).
    changed = {obj.supplier_id for obj in session.new if isinstance(obj, CreditEvent)}
    if changed:
        _touch_suppliers(session, changed)


# --------------------------------------------------------------------------------------------
# Appeals


def _locked(event_id: int) -> CreditEvent | None:
    return db.session.scalar(
        sa.select(CreditEvent)
        .where(CreditEvent.id == event_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )


def may_appeal(record: CreditEvent, now: datetime | None = None) -> bool:
    return record.appeal_status is AppealStatus.NONE and (now or utcnow()) <= record.appeal_due_at


def appeal(event_id: int, user: User, text: str, *, now: datetime | None = None) -> CreditEvent:
    """The supplier appeals one of its deductions, once, before the deadline."""
    now = now or utcnow()
    record = _locked(event_id)
    if record is None or user.role is not Role.SUPPLIER or record.supplier_id != user.organization_id:
        raise LookupError(event_id)
    text = (text or "").strip()
    if record.appeal_status is not AppealStatus.NONE:
        raise CreditError("这条扣分已经申诉过，每条扣分只能申诉一次。")
    if now > record.appeal_due_at:
        raise CreditError(
            f"申诉期限已过（{record.appeal_due_at.astimezone(LOCAL_TZ):%Y-%m-%d %H:%M}），不能再申诉。"
        )
    if not APPEAL_MIN <= len(text) <= APPEAL_MAX:
        raise CreditError(f"请写明申诉理由（{APPEAL_MIN}–{APPEAL_MAX} 个字）。", "text")
    record.appeal_status = AppealStatus.PENDING
    record.appeal_text = text
    record.appealed_at = now
    record.appealed_by_id = user.id
    audit.record("credit.appeal", user=user, event_id=record.id, reason=record.reason.value)
    db.session.flush()
    return record


def decide(event_id: int, user: User, *, uphold: bool, note: str, now: datetime | None = None) -> CreditEvent:
    """An operator decides a pending appeal: upheld cancels the deduction, rejected keeps it."""
    if user.role is not Role.OPERATOR:
        raise CreditError("只有卖场运营人员可以处理申诉。")
    record = _locked(event_id)
    if record is None:
        raise LookupError(event_id)
    note = (note or "").strip()
    if record.appeal_status is not AppealStatus.PENDING:
        raise CreditError("这条扣分没有待处理的申诉（可能已被他人处理）。")
    if not 1 <= len(note) <= NOTE_MAX:
        raise CreditError(f"请填写处理意见（不超过 {NOTE_MAX} 个字）。", "note")
    record.appeal_status = AppealStatus.UPHELD if uphold else AppealStatus.REJECTED
    if uphold:
        _touch_suppliers(db.session(), {record.supplier_id})  # the score goes up: reindex
    record.decision_note = note
    record.decided_at = now or utcnow()
    record.decided_by_id = user.id
    audit.record(
        "credit.appeal_upheld" if uphold else "credit.appeal_rejected",
        user=user,
        event_id=record.id,
        supplier_id=record.supplier_id,
        points=record.points,
    )
    db.session.flush()
    return record


# --------------------------------------------------------------------------------------------
# Pages


def ledger(supplier_id: int, year: int) -> list[CreditEvent]:
    return list(
        db.session.scalars(
            sa.select(CreditEvent)
            .where(CreditEvent.supplier_id == supplier_id, CreditEvent.year == year)
            .order_by(CreditEvent.created_at.desc(), CreditEvent.id.desc())
        )
    )


def years_of(supplier_id: int) -> list[int]:
    """The years this supplier has a ledger for, and this year, newest first."""
    years = set(
        db.session.scalars(
            sa.select(CreditEvent.year).where(CreditEvent.supplier_id == supplier_id).distinct()
        )
    )
    years.add(local_year())
    return sorted(years, reverse=True)


# --------------------------------------------------------------------------------------------
# The turn of the year


@job
def new_year(now: datetime | None = None) -> int:
    """On 1 January every score starts again at 100: the products of suppliers that had deductions
    last year are marked for reindexing (the sweeper sends them). A daily periodic job; on any
    other day it does nothing. Returns how many products were marked."""
    now = now or utcnow()
    today = now.astimezone(LOCAL_TZ).date()
    if (today.month, today.day) != (1, 1):
        return 0
    suppliers = sa.select(CreditEvent.supplier_id).where(CreditEvent.year == today.year - 1).distinct()
    products = sa.select(Offer.product_id).where(Offer.supplier_id.in_(suppliers)).distinct()
    result = db.session.execute(
        sa.update(Product)
        .where(Product.id.in_(products))
        .values(row_version=Product.row_version + 1, search_dirty=True)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount or 0
