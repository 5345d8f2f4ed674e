"""Demo orders: a season of direct orders in every state, made through the real cart, checkout and
lifecycle, then dated back over the past months so notices, dashboards, the price board and open
data have a history to show. Idempotent: each order's checkout key is fixed, so a second run finds
it and writes nothing."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app.auth.models import Role, User
from app.catalog.models import Offer, OfferStatus, Product
from app.core.db import utcnow
from app.extensions import db
from app.orders import cart
from app.orders import services as order_services
from app.orders.checkout import CheckoutRequest, fiscal_year, submit
from app.orders.lifecycle import Actor, transition
from app.orders.models import CartItem, Order
from app.orders.models import OrderStatus as S
from app.procurement.models import LedgerEntry, PlanStatus, ProcurementPlan

ORDER_COUNT = 60
ORDER_LIMIT = 9000  # stay under the comparison-record threshold: demo buyers skip that step
# Where each demo order's life stops, in proportions that look like a working mall.
ENDINGS = (
    [S.COMPLETED] * 18
    + [S.PAID] * 6
    + [S.PAYMENT_PENDING] * 3
    + [S.ACCEPTED] * 6
    + [S.DELIVERED] * 4
    + [S.SHIPPED] * 4
    + [S.CONFIRMED] * 4
    + [S.SUBMITTED] * 4
    + [S.REJECTED] * 4
    + [S.CANCELLED] * 4
    + [S.RETURNED] * 3
)
# The moves from submitted to each ending (the buyer, the supplier or finance takes each one).
PATH = [S.CONFIRMED, S.SHIPPED, S.DELIVERED, S.ACCEPTED, S.PAYMENT_PENDING, S.PAID, S.COMPLETED]
STEP = timedelta(hours=20)


def checkout_key(n: int) -> str:
    return f"demo-order-{n:03d}"


def load_orders(seed: int) -> int:
    """Create the demo orders that are missing; returns how many checkouts were made."""
    rng = random.Random(seed * 7919 + 11)
    purchasers = list(
        db.session.scalars(
            select(User)
            .where(User.role == Role.PURCHASER, User.username.like("buyer%"))
            .order_by(User.username)
        )
    )
    if not purchasers:
        return 0
    done = set(db.session.scalars(select(Order.checkout_key).where(Order.checkout_key.like("demo-order-%"))))
    created = 0
    for n in range(ORDER_COUNT):
        ending = ENDINGS[n % len(ENDINGS)]
        days_ago = 1 if ending is S.SUBMITTED else rng.randint(10, 160)
        buyer = purchasers[n % len(purchasers)]
        if checkout_key(n) in done:
            continue
        order = _checkout(buyer, n, rng)
        if order is None:
            continue
        _live(order, buyer, ending, n)
        _backdate(order, utcnow() - timedelta(days=days_ago), late_payment=n % 9 == 0)
        created += 1
    db.session.flush()
    return created


def _checkout(buyer: User, n: int, rng: random.Random) -> Order | None:
    plans = list(
        db.session.scalars(
            select(ProcurementPlan)
            .where(
                ProcurementPlan.unit_id == buyer.organization_id,
                ProcurementPlan.status == PlanStatus.APPROVED,
                ProcurementPlan.fiscal_year == fiscal_year(),
            )
            .options(selectinload(ProcurementPlan.categories))
            .order_by(ProcurementPlan.plan_no)
        )
    )
    if not plans:
        return None
    plan = plans[n % len(plans)]
    region = buyer.organization.region_code
    offers = [
        offer
        for offer in db.session.scalars(
            select(Offer)
            .join(Product)
            .where(
                Offer.status == OfferStatus.LISTED,
                Offer.price <= ORDER_LIMIT,
                Product.category_id.in_([c.id for c in plan.categories]),
            )
            .order_by(Offer.id)
        )
        if (not offer.regions or region in offer.regions) and offer.stock > 0
    ]
    if not offers:
        return None
    offer = offers[rng.randrange(len(offers))]
    quantity = max(1, min(offer.stock, 5, int(ORDER_LIMIT // offer.price)))
    db.session.execute(CartItem.__table__.delete().where(CartItem.user_id == buyer.id))
    cart.add(buyer, offer.id, quantity)
    quote = cart.quote(buyer)
    request = CheckoutRequest(
        checkout_key=checkout_key(n),
        fingerprint=quote.fingerprint,
        plan_id=plan.id,
        delivery_address=f"{buyer.organization.name}后勤楼 {n + 101} 室",
        contact_name=buyer.display_name,
        contact_phone=f"010-6555{n:04d}",
    )
    orders, _replayed = submit(buyer, request)
    return orders[0]


def _supplier_user(order: Order) -> User:
    return db.session.scalars(
        select(User)
        .where(User.organization_id == order.supplier_id, User.role == Role.SUPPLIER)
        .order_by(User.id)
    ).first()


def _live(order: Order, buyer: User, ending: S, n: int) -> None:
    supplier = Actor.of_user(_supplier_user(order))
    purchaser = Actor.of_user(buyer)
    if ending is S.REJECTED:
        transition(order, S.REJECTED, supplier, note="该型号暂时缺货")
        return
    if ending is S.CANCELLED:
        transition(order, S.CANCELLED, purchaser, note="需求调整，取消采购")
        return
    for step in PATH:
        if order.status is ending:
            return
        if step is S.ACCEPTED:
            _accept(order, buyer, accept=ending is not S.RETURNED)
            if ending is S.RETURNED:
                return
        elif step is S.SHIPPED:
            transition(order, S.SHIPPED, supplier, tracking_number=f"SF{order.id:010d}")
        elif step is S.PAYMENT_PENDING:
            transition(order, S.PAYMENT_PENDING, purchaser, note="发起支付")
        elif step is S.PAID:
            transition(order, S.PAID, Actor.system("国库集中支付（演示）"), note="已支付")
        elif step is S.COMPLETED:
            stars = 2 if n % 11 == 0 else 4 + n % 2
            order_services.evaluate(
                order, buyer, quality=stars, delivery=min(5, stars + 1), service=stars, comment="演示评价"
            )
        else:
            transition(order, step, supplier)
        db.session.flush()


def _accept(order: Order, buyer: User, *, accept: bool) -> None:
    received = [
        order_services.ReceivedLine(
            line_id=line.id,
            received_quantity=line.quantity,
            serial_numbers=[],
            delivered_model=line.model if accept else f"{line.model}-X",
        )
        for line in order.lines
    ]
    note = "" if accept else "实收型号与订单不符，退货"
    order_services.record_acceptance(order, buyer, accept=accept, received=received, note=note)


def _backdate(order: Order, start: datetime, *, late_payment: bool) -> None:
    """Spread the order's history over days from ``start``, and its dates and ledger with it."""
    db.session.flush()
    gaps = [
        timedelta(days=35) if (late_payment and event.to_status == S.PAID.value) else STEP
        for event in order.history[1:]
    ]
    start = min(start, utcnow() - sum(gaps, timedelta(hours=1)))  # the whole life lies in the past
    at = {}
    for k, event in enumerate(order.history):
        event.created_at = start if k == 0 else at["last"] + gaps[k - 1]
        at["last"] = event.created_at
        at[event.to_status] = event.created_at
    order.submitted_at = order.created_at = at[order.history[0].to_status]
    order.updated_at = at["last"]
    if S.SUBMITTED.value in at:
        order.confirm_due_at = at[S.SUBMITTED.value] + timedelta(hours=48)
    order.confirmed_at = at.get(S.CONFIRMED.value)
    order.delivered_at = at.get(S.DELIVERED.value)
    order.accept_due_at = order.delivered_at and order.delivered_at + timedelta(days=7)
    order.accepted_at = at.get(S.ACCEPTED.value)
    order.pay_due_at = order.accepted_at and order.accepted_at + timedelta(days=30)
    order.paid_at = at.get(S.PAID.value)
    if order.acceptance is not None:
        order.acceptance.created_at = order.accepted_at or at["last"]
    if order.evaluation is not None:
        order.evaluation.created_at = at["last"]
    for entry in db.session.scalars(select(LedgerEntry).where(LedgerEntry.reference == order.number)):
        entry.created_at = start
