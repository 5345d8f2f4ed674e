"""Price monitoring (价格监测): every offer against its market reference price and against the other
suppliers' listed offers of the same product; operator rules with actions; operator actions.

Rules (:class:`~app.oversight.models.PriceRule`, configured by operators):

- ``above_reference``: a listed offer whose price is more than X % above its market reference price
  → a PRICE_ABOVE_REFERENCE alert, a credit deduction (app/oversight/credit.py) and the rule's
  action: none, freeze (the offer stops being orderable: ``OfferStatus.FROZEN``) or delist;
- ``rise``: a listed offer whose price rose more than X % above the lowest price it had within the
  last Y days (its PriceChange history, with the price in force when the window opened) → a
  PRICE_RISE alert and the rule's action.

:func:`evaluate_rules` is the periodic job. Each rule fires once per offer and price
(``price_rule_hits`` is unique on rule, offer and price): an offer that stays at the price is not
alerted again, and an operator who restored it is not overruled by the next run; a new price is
judged again. Offers are handled one transaction each, their row locked (``SKIP LOCKED`` on
PostgreSQL) and the condition checked again on the locked row.

Operators freeze, delist and restore offers from the monitoring page (:func:`act`), always with a
reason; every action is an :class:`~app.oversight.models.OfferAction` row and an audit event. A
frozen or delisted offer leaves search (only listed offers are indexed), the product page, the
cart and checkout (they accept listed offers only). Restore puts back what monitoring took away: a
frozen offer, or an offer whose last monitoring action delisted it.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

import sqlalchemy as sa
from sqlalchemy.orm import aliased, selectinload

from app.auth.models import Role, User
from app.catalog.models import Category, Offer, OfferStatus, PriceChange, Product
from app.core import audit
from app.core.db import utcnow
from app.core.jobs import job
from app.extensions import db
from app.oversight import credit
from app.oversight.models import (
    Alert,
    AlertKind,
    CreditReason,
    OfferAction,
    OfferActionKind,
    PriceRule,
    PriceRuleAction,
    PriceRuleHit,
    PriceRuleKind,
)
from app.oversight.services import raise_alert

log = logging.getLogger(__name__)

BATCH = 100  # candidate offers per query; each offer is still its own transaction
MAX_PER_RUN = 5000  # per rule: a backlog is worked off over several runs
REASON_MAX = 500
PERCENT = Decimal("0.1")

# What an action does to an offer's status: (statuses it may start from, the status it leaves).
MOVES: dict[OfferActionKind, tuple[frozenset[OfferStatus], OfferStatus]] = {
    OfferActionKind.FREEZE: (frozenset({OfferStatus.LISTED}), OfferStatus.FROZEN),
    OfferActionKind.DELIST: (frozenset({OfferStatus.LISTED, OfferStatus.FROZEN}), OfferStatus.DELISTED),
    OfferActionKind.RESTORE: (frozenset({OfferStatus.FROZEN, OfferStatus.DELISTED}), OfferStatus.LISTED),
}
RULE_MOVES = {PriceRuleAction.FREEZE: OfferActionKind.FREEZE, PriceRuleAction.DELIST: OfferActionKind.DELIST}
ACTION_WORDS = {
    OfferActionKind.FREEZE: "冻结",
    OfferActionKind.DELIST: "下架",
    OfferActionKind.RESTORE: "恢复上架",
}


class MonitorError(ValueError):
    """A refused operator action; the message says why, in Chinese."""

    def __init__(self, message: str, field: str = "_schema"):
        super().__init__(message)
        self.message = message
        self.field = field


def percent_over(price: Decimal, reference: Decimal | None) -> Decimal | None:
    """How far ``price`` is above (positive) or below (negative) ``reference``, in %, 1 place."""
    if not reference:
        return None
    return ((price - reference) * 100 / reference).quantize(PERCENT, rounding=ROUND_HALF_UP)


def exceeds(price: Decimal, reference: Decimal, threshold_percent: Decimal) -> bool:
    """``price`` is more than ``threshold_percent`` % above ``reference`` (exact, in Decimal)."""
    return price * 100 > reference * (100 + threshold_percent)


# --------------------------------------------------------------------------------------------
# The monitoring page


def lowest_other_price():
    """The lowest listed price of the same product among the other suppliers (correlated)."""
    other = aliased(Offer, name="other_offer")
    return (
        sa.select(sa.func.min(other.price))
        .where(
            other.product_id == Offer.product_id,
            other.supplier_id != Offer.supplier_id,
            other.status == OfferStatus.LISTED,
        )
        .correlate(Offer)
        .scalar_subquery()
    )


@dataclasses.dataclass(frozen=True)
class Deviation:
    offer: Offer
    lowest_other: Decimal | None
    other_count: int
    over_reference: Decimal | None  # % above the market reference price
    over_lowest_other: Decimal | None  # % above the lowest other supplier's price
    hits: int  # rule hits recorded for this offer
    last_action: OfferAction | None


SORTS = ("over_reference", "over_other", "price", "newest")


def deviation_query(filters: dict) -> sa.Select:
    lowest = lowest_other_price()
    over_reference = (Offer.price - Offer.market_price) * 100 / Offer.market_price
    over_other = (Offer.price - lowest) * 100 / lowest
    query = (
        sa.select(Offer, lowest.label("lowest_other"))
        .join(Product, Offer.product_id == Product.id)
        .join(Category, Product.category_id == Category.id)
        .where(Offer.status == OfferStatus(filters.get("status") or OfferStatus.LISTED.value))
    )
    if filters.get("supplier"):
        query = query.where(Offer.supplier_id == filters["supplier"])
    if filters.get("category"):
        # Catalogue codes are hierarchical: a code covers every code that starts with it.
        query = query.where(Category.code.startswith(filters["category"], autoescape=True))
    if filters.get("q"):
        text = filters["q"]
        query = query.where(
            sa.or_(
                Product.name.contains(text, autoescape=True),
                Product.model.contains(text, autoescape=True),
                Offer.supplier_sku.contains(text, autoescape=True),
            )
        )
    if filters.get("min_over_reference") is not None:
        query = query.where(Offer.market_price.is_not(None), over_reference >= filters["min_over_reference"])
    if filters.get("min_over_other") is not None:
        query = query.where(lowest.is_not(None), over_other >= filters["min_over_other"])
    if filters.get("flagged"):
        query = query.where(sa.exists().where(PriceRuleHit.offer_id == Offer.id))
    sort = filters.get("sort") or "over_reference"
    if sort == "over_reference":
        order = [Offer.market_price.is_(None), over_reference.desc()]
    elif sort == "over_other":
        order = [lowest.is_(None), over_other.desc()]
    elif sort == "price":
        order = [Offer.price.desc()]
    else:
        order = [Offer.updated_at.desc()]
    return query.order_by(*order, Offer.id)


def deviation_page(filters: dict, page: int, per_page: int) -> tuple[list[Deviation], int]:
    query = deviation_query(filters)
    total = db.session.scalar(sa.select(sa.func.count()).select_from(query.order_by(None).subquery())) or 0
    rows = db.session.execute(
        query.options(
            selectinload(Offer.product).selectinload(Product.category),
            selectinload(Offer.supplier),
        )
        .limit(per_page)
        .offset((page - 1) * per_page)
    ).all()
    offers = [offer for offer, _lowest in rows]
    ids = [offer.id for offer in offers]
    product_ids = {offer.product_id for offer in offers}
    others: dict[int, list[tuple[int, int]]] = {}
    hits: dict[int, int] = {}
    actions: dict[int, OfferAction] = {}
    if ids:
        for product_id, supplier_id in db.session.execute(
            sa.select(Offer.product_id, Offer.supplier_id).where(
                Offer.product_id.in_(product_ids), Offer.status == OfferStatus.LISTED
            )
        ):
            others.setdefault(product_id, []).append(supplier_id)
        hits = dict(
            db.session.execute(
                sa.select(PriceRuleHit.offer_id, sa.func.count())
                .where(PriceRuleHit.offer_id.in_(ids))
                .group_by(PriceRuleHit.offer_id)
            ).all()
        )
        for action in db.session.scalars(
            sa.select(OfferAction).where(OfferAction.offer_id.in_(ids)).order_by(OfferAction.id)
        ):
            actions[action.offer_id] = action  # the last one wins
    result = []
    for offer, lowest in rows:
        lowest = None if lowest is None else Decimal(str(lowest)).quantize(Decimal("0.01"))
        result.append(
            Deviation(
                offer=offer,
                lowest_other=lowest,
                other_count=len({s for s in others.get(offer.product_id, []) if s != offer.supplier_id}),
                over_reference=percent_over(offer.price, offer.market_price),
                over_lowest_other=percent_over(offer.price, lowest),
                hits=hits.get(offer.id, 0),
                last_action=actions.get(offer.id),
            )
        )
    return result, total


# --------------------------------------------------------------------------------------------
# Rules


def rules() -> list[PriceRule]:
    return list(db.session.scalars(sa.select(PriceRule).order_by(PriceRule.id)))


def save_rule(rule: PriceRule | None, values: dict, user: User) -> PriceRule:
    """Create or change a rule (values validated by PriceRuleForm)."""
    created = rule is None
    rule = rule or PriceRule()
    rule.name = values["name"]
    rule.kind = PriceRuleKind(values["kind"])
    rule.threshold_percent = values["threshold_percent"]
    rule.window_days = values["window_days"] if rule.kind is PriceRuleKind.RISE else None
    rule.action = PriceRuleAction(values["action"])
    rule.enabled = values["enabled"]
    rule.updated_by_id = user.id
    db.session.add(rule)
    db.session.flush()
    audit.record(
        "price_rule.create" if created else "price_rule.update",
        user=user,
        rule_id=rule.id,
        kind=rule.kind.value,
        threshold_percent=str(rule.threshold_percent),
        window_days=rule.window_days,
        rule_action=rule.action.value,
        enabled=rule.enabled,
    )
    return rule


# --------------------------------------------------------------------------------------------
# Actions on offers


def _move(
    offer: Offer,
    kind: OfferActionKind,
    reason: str,
    *,
    user: User | None = None,
    actor_label: str,
    rule: PriceRule | None = None,
    alert: Alert | None = None,
) -> OfferAction:
    sources, target = MOVES[kind]
    if offer.status not in sources:
        raise MonitorError(f"报价 {offer.supplier_sku} 当前状态不能{ACTION_WORDS[kind]}。")
    action = OfferAction(
        offer_id=offer.id,
        kind=kind,
        from_status=offer.status.value,
        to_status=target.value,
        reason=reason[:REASON_MAX],
        rule_id=rule.id if rule is not None else None,
        alert_id=alert.id if alert is not None else None,
        user_id=user.id if user is not None else None,
        actor_label=actor_label[:300],
        created_at=utcnow(),
    )
    offer.status = target  # through the ORM: search follows (capture on flush)
    db.session.add(action)
    return action


def last_action(offer_id: int) -> OfferAction | None:
    return db.session.scalar(
        sa.select(OfferAction)
        .where(OfferAction.offer_id == offer_id)
        .order_by(OfferAction.id.desc())
        .limit(1)
    )


def available_actions(offer: Offer, last: OfferAction | None) -> list[OfferActionKind]:
    """What an operator may do to this offer now."""
    kinds = [k for k in (OfferActionKind.FREEZE, OfferActionKind.DELIST) if offer.status in MOVES[k][0]]
    if offer.status is OfferStatus.FROZEN or (
        offer.status is OfferStatus.DELISTED and last is not None and last.kind is OfferActionKind.DELIST
    ):
        kinds.append(OfferActionKind.RESTORE)
    return kinds


def act(offer_id: int, kind: OfferActionKind, reason: str, user: User) -> OfferAction:
    """An operator freezes, delists or restores an offer, with a reason (audited)."""
    if user.role is not Role.OPERATOR:
        raise MonitorError("只有卖场运营人员可以处置报价。")
    reason = (reason or "").strip()
    if not 2 <= len(reason) <= REASON_MAX:
        raise MonitorError(f"请填写处置理由（2–{REASON_MAX} 个字）。", "reason")
    offer = db.session.scalar(
        sa.select(Offer)
        .where(Offer.id == offer_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if offer is None:
        raise MonitorError("报价不存在。", "offer_id")
    if kind not in available_actions(offer, last_action(offer.id)):
        if kind is OfferActionKind.RESTORE:
            raise MonitorError(f"报价 {offer.supplier_sku} 不是由价格监测冻结或下架的，不能在这里恢复上架。")
        raise MonitorError(
            f"报价 {offer.supplier_sku} 当前状态不能{ACTION_WORDS[kind]}（可能已被他人处置）。"
        )
    action = _move(
        offer, kind, reason, user=user, actor_label=f"{user.display_name}（{user.organization.name}）"
    )
    audit.record(
        f"price_monitor.{kind.value}",
        user=user,
        offer_id=offer.id,
        supplier_id=offer.supplier_id,
        from_status=action.from_status,
        to_status=action.to_status,
        reason=reason,
    )
    db.session.flush()
    return action


# --------------------------------------------------------------------------------------------
# The periodic job


def _locked_offer(offer_id: int) -> Offer | None:
    return db.session.scalar(
        sa.select(Offer)
        .where(Offer.id == offer_id)
        .options(selectinload(Offer.product), selectinload(Offer.supplier))
        .with_for_update(skip_locked=True)
        .execution_options(populate_existing=True)
    )


def _already_hit(rule: PriceRule, offer: Offer) -> bool:
    return (
        db.session.scalar(
            sa.select(PriceRuleHit.id).where(
                PriceRuleHit.rule_id == rule.id,
                PriceRuleHit.offer_id == offer.id,
                PriceRuleHit.price == offer.price,
            )
        )
        is not None
    )


def _not_hit(rule: PriceRule):
    return ~sa.exists().where(
        PriceRuleHit.rule_id == rule.id, PriceRuleHit.offer_id == Offer.id, PriceRuleHit.price == Offer.price
    )


def _fire(rule: PriceRule, offer: Offer, reference: Decimal, now: datetime) -> PriceRuleHit:
    """Record the hit, raise the alert, deduct credit, apply the rule's action."""
    percent = percent_over(offer.price, reference)
    move = RULE_MOVES.get(rule.action)
    where = f"{offer.supplier.name} 的报价「{offer.product.name}」（货号 {offer.supplier_sku}）"
    if rule.kind is PriceRuleKind.ABOVE_REFERENCE:
        kind = AlertKind.PRICE_ABOVE_REFERENCE
        message = (
            f"{where}单价 ¥{offer.price:,.2f} 高于市场参考价 ¥{reference:,.2f} {percent}%"
            f"（规则「{rule.name}」：超过 {rule.threshold_percent}%）"
        )
    else:
        kind = AlertKind.PRICE_RISE
        message = (
            f"{where}{rule.window_days} 天内由 ¥{reference:,.2f} 涨至 ¥{offer.price:,.2f}，涨幅 {percent}%"
            f"（规则「{rule.name}」：超过 {rule.threshold_percent}%）"
        )
    if move is not None:
        message += f"，已{ACTION_WORDS[move]}"
    alert = raise_alert(
        kind,
        message[:500],
        supplier_id=offer.supplier_id,
        raised_at=now,
        detail={
            "offer_id": offer.id,
            "product_id": offer.product_id,
            "supplier_sku": offer.supplier_sku,
            "rule_id": rule.id,
            "rule": rule.name,
            "price": str(offer.price),
            "reference": str(reference),
            "percent": str(percent),
            "action": rule.action.value,
        },
    )
    db.session.flush()  # the alert's id, for the hit and the action
    hit = PriceRuleHit(
        rule_id=rule.id,
        offer_id=offer.id,
        price=offer.price,
        reference=reference,
        alert_id=alert.id,
        action=rule.action,
        created_at=now,
    )
    db.session.add(hit)
    if rule.kind is PriceRuleKind.ABOVE_REFERENCE:
        credit.deduct(
            offer.supplier_id,
            CreditReason.PRICE_ABOVE_REFERENCE,
            f"offer:{offer.id}@{offer.price}",
            message,
            offer_id=offer.id,
            alert=alert,
            now=now,
        )
    if move is not None:
        _move(
            offer,
            move,
            f"价格监测规则「{rule.name}」：{message}",
            actor_label=f"系统（价格监测规则「{rule.name}」）",
            rule=rule,
            alert=alert,
        )
    db.session.flush()
    return hit


def _each(
    rule: PriceRule, candidates: Callable[[int, int], list[int]], check: Callable, now: datetime
) -> int:
    """Handle each candidate offer of ``rule`` in its own transaction; returns the hits."""
    fired = seen = 0
    after_id = 0
    while seen < MAX_PER_RUN:
        ids = candidates(after_id, min(BATCH, MAX_PER_RUN - seen))
        if not ids:
            break
        for offer_id in ids:
            after_id = offer_id
            seen += 1
            try:
                offer = _locked_offer(offer_id)
                reference = None
                if offer is not None and offer.status is OfferStatus.LISTED and not _already_hit(rule, offer):
                    reference = check(offer)
                if reference is not None:
                    _fire(rule, offer, reference, now)
                    fired += 1
                db.session.commit()
            except Exception:
                db.session.rollback()
                log.exception("price rule %s: offer %s could not be checked", rule.id, offer_id)
    return fired


def _ids(query: sa.Select, after_id: int, limit: int) -> list[int]:
    return list(db.session.scalars(query.where(Offer.id > after_id).order_by(Offer.id).limit(limit)))


def check_above_reference(rule: PriceRule, now: datetime) -> int:
    threshold = rule.threshold_percent
    # A generous prefilter in SQL (SQLite compares floats); the exact test is in Decimal below.
    query = sa.select(Offer.id).where(
        Offer.status == OfferStatus.LISTED,
        Offer.market_price.is_not(None),
        Offer.price * 100 + 1 > Offer.market_price * (100 + threshold),
        _not_hit(rule),
    )

    def check(offer: Offer) -> Decimal | None:
        if offer.market_price and exceeds(offer.price, offer.market_price, threshold):
            return offer.market_price
        return None

    return _each(rule, lambda after, limit: _ids(query, after, limit), check, now)


def window_low(offer: Offer, since: datetime) -> Decimal:
    """The lowest price the offer had from ``since`` until now: the price in force at ``since``
    (its last change before it) and every change after it."""
    opening = db.session.scalar(
        sa.select(PriceChange.price)
        .where(PriceChange.offer_id == offer.id, PriceChange.changed_at < since)
        .order_by(PriceChange.changed_at.desc(), PriceChange.id.desc())
        .limit(1)
    )
    inside = list(
        db.session.scalars(
            sa.select(PriceChange.price).where(
                PriceChange.offer_id == offer.id, PriceChange.changed_at >= since
            )
        )
    )
    prices = [p for p in (opening, *inside) if p is not None]
    return min(prices, default=offer.price)


def check_rise(rule: PriceRule, now: datetime) -> int:
    since = now - timedelta(days=rule.window_days or 1)
    changed = sa.select(PriceChange.offer_id).where(PriceChange.changed_at >= since)
    query = sa.select(Offer.id).where(
        Offer.status == OfferStatus.LISTED, Offer.id.in_(changed), _not_hit(rule)
    )

    def check(offer: Offer) -> Decimal | None:
        low = window_low(offer, since)
        return low if exceeds(offer.price, low, rule.threshold_percent) else None

    return _each(rule, lambda after, limit: _ids(query, after, limit), check, now)


@job
def evaluate_rules(now: datetime | None = None) -> dict[int, int]:
    """The periodic job (app/core/scheduler.py): every enabled rule over the listed offers.
    Returns the hits per rule id. ``now`` is for tests; the scheduler passes none.

    It commits once per offer itself; the ``job`` wrapper's final commit has nothing left to do.
    """
    now = now or utcnow()
    enabled = [
        (rule.id, rule.kind)
        for rule in db.session.scalars(
            sa.select(PriceRule).where(PriceRule.enabled.is_(True)).order_by(PriceRule.id)
        )
    ]
    db.session.commit()
    fired = {}
    for rule_id, kind in enabled:
        rule = db.session.get(PriceRule, rule_id)
        if rule is None:
            continue
        check = check_above_reference if kind is PriceRuleKind.ABOVE_REFERENCE else check_rise
        fired[rule_id] = check(rule, now)
    return fired
