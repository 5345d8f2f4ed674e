"""Checkout: the cart becomes one order per supplier, reserved against one plan, all or none.

The steps, in order: replay (the same checkout key returns the orders it made), re-price from the
database and compare with what the buyer saw, check the plan, the rules and the splitting guard,
ask the finance budget API (outside any lock), then create the orders and reserve their budget in
the caller's transaction. Any refusal raises :class:`CheckoutError` before anything is written, or
rolls back with the caller's transaction.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
from datetime import timedelta
from decimal import Decimal

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload
from sqlalchemy.orm.attributes import set_committed_value

from app.auth.models import User
from app.catalog.models import Offer, OfferStatus
from app.compare.models import ComparisonRecord
from app.core.db import utcnow
from app.extensions import db
from app.orders import cart as carts
from app.orders.lifecycle import OPEN_STATUSES, Actor, record
from app.orders.models import CartItem, Order, OrderLine, OrderStatus
from app.orders.rules import RuleBook, RuleSet
from app.orders.rules import to_json as rules_json
from app.oversight.models import AlertKind
from app.oversight.services import raise_alert
from app.procurement import budget_check
from app.procurement import services as budget
from app.procurement.models import PlanStatus, ProcurementPlan
from app.procurement.services import fiscal_year


class CheckoutError(Exception):
    """A refused checkout; ``message`` is for the buyer, ``details`` lists what to look at."""

    def __init__(self, message: str, details: list[str] | None = None, *, field: str | None = None):
        super().__init__(message)
        self.details = details or []
        self.field = field


@dataclasses.dataclass
class SplitWarning:
    category: object
    orders: list[Order]  # the unit's recent orders in the category
    cart_amount: Decimal
    total: Decimal
    ceiling: Decimal
    cart_suppliers: int = 1  # this cart's suppliers in the category: one order each

    @property
    def summary(self) -> str:
        return (
            f"{self.category.name}：近期 {len(self.orders)} 笔订单 + 本次 {self.cart_suppliers} 家供应商"
            f" ¥{self.cart_amount:,.2f} = ¥{self.total:,.2f}，直购限额 ¥{self.ceiling:,.2f}"
        )


def eligible_plans(user: User, quote: carts.Quote) -> list[ProcurementPlan]:
    """Plans of the buyer's unit that are approved, of this fiscal year, cover every category in
    the cart and have enough available budget for all of it."""
    query = (
        sa.select(ProcurementPlan)
        .where(
            ProcurementPlan.unit_id == user.organization_id,
            ProcurementPlan.status == PlanStatus.APPROVED,
            ProcurementPlan.fiscal_year == fiscal_year(),
        )
        .options(joinedload(ProcurementPlan.categories))
        .order_by(ProcurementPlan.plan_no)
    )
    return [plan for plan in db.session.scalars(query).unique() if not plan_problems(plan, quote)]


def plan_problems(plan: ProcurementPlan, quote: carts.Quote) -> list[str]:
    """Why ``plan`` cannot pay for this cart (empty: it can): the one statement of the rules that
    the plan choice, the submit check and the page's explanation all use."""
    problems = []
    if plan.status is not PlanStatus.APPROVED:
        problems.append(_("计划当前不可用（已暂停或已结束）"))
    year = fiscal_year()
    if plan.fiscal_year != year:
        problems.append(
            _("属于 %(plan_year)s 年度，只能使用 %(year)s 年度的计划", plan_year=plan.fiscal_year, year=year)
        )
    covered = {category.id for category in plan.categories}
    missing = sorted(
        {
            line.offer.product.category.name
            for line in quote.lines
            if line.offer.product.category_id not in covered
        }
    )
    if missing:
        problems.append(_("不包含品目：%(names)s", names="、".join(missing)))
    if plan.available < quote.total:
        problems.append(
            _(
                "可用余额 ¥%(available)s，不足以支付 ¥%(total)s",
                available=f"{plan.available:,.2f}",
                total=f"{quote.total:,.2f}",
            )
        )
    return problems


def split_warnings(user: User, quote: carts.Quote, book: RuleBook | None = None) -> list[SplitWarning]:
    """Orders of this unit in one category within the window whose sum with this cart crosses the
    direct-order ceiling (each order being under it): the pattern of a split purchase. A cart whose
    suppliers split one category's purchase into several orders is the same pattern."""
    book = book or RuleBook.load(user.organization.region_code, quote.category_ids)
    warnings = []
    by_category: dict[int, Decimal] = {}
    suppliers: dict[int, set[int]] = {}
    categories = {}
    for line in quote.lines:
        category = line.offer.product.category
        categories[category.id] = category
        by_category[category.id] = by_category.get(category.id, Decimal("0.00")) + line.amount
        suppliers.setdefault(category.id, set()).add(line.offer.supplier_id)
    for category_id, cart_amount in sorted(by_category.items()):
        rules = book.rules_for(category_id)
        since = utcnow() - timedelta(days=rules.split_window_days)
        recent = sa.and_(
            Order.unit_id == user.organization_id,
            Order.submitted_at >= since,
            Order.status.in_(OPEN_STATUSES),
            OrderLine.category_id == category_id,
        )
        # One sum in the database on every checkout; the orders are read only to be shown.
        earlier = db.session.scalar(
            sa.select(sa.func.coalesce(sa.func.sum(OrderLine.amount), Decimal("0.00")))
            .join(Order, OrderLine.order_id == Order.id)
            .where(recent)
        )
        if earlier + cart_amount <= rules.direct_ceiling:
            continue
        in_category = sa.select(OrderLine.order_id).join(Order, OrderLine.order_id == Order.id).where(recent)
        orders = list(
            db.session.scalars(sa.select(Order).where(Order.id.in_(in_category)).order_by(Order.submitted_at))
        )
        in_cart = len(suppliers[category_id])
        if orders or in_cart > 1:
            warnings.append(
                SplitWarning(
                    categories[category_id],
                    orders,
                    cart_amount,
                    earlier + cart_amount,
                    rules.direct_ceiling,
                    in_cart,
                )
            )
    return warnings


def order_number(checkout_key: str, supplier_id: int) -> str:
    """Derived from the checkout key, so a retried submit asks the budget API with the same key."""
    digest = hashlib.sha256(f"{checkout_key}:{supplier_id}".encode()).digest()
    return f"DD{utcnow():%Y%m%d}{base64.b32encode(digest).decode()[:10]}"


def existing_orders(user: User, checkout_key: str, *options) -> list[Order]:
    """The orders an earlier submit of this checkout made (``options``: what to load with them)."""
    return list(
        db.session.scalars(
            sa.select(Order)
            .where(Order.checkout_key == checkout_key, Order.unit_id == user.organization_id)
            .options(*options)
            .order_by(Order.id)
        )
    )


@dataclasses.dataclass(frozen=True)
class CheckoutRequest:
    checkout_key: str  # one per checkout page: a double-click or a retry replays, never repeats
    fingerprint: str  # Quote.fingerprint as shown to the buyer
    plan_id: int
    delivery_address: str
    contact_name: str
    contact_phone: str
    comparison_record_id: int | None = None
    note: str = ""
    split_reason: str = ""


def submit(user: User, request: CheckoutRequest) -> tuple[list[Order], bool]:
    """Create the orders of the buyer's cart; returns them and whether this was a replay."""
    checkout_key = request.checkout_key
    replayed = existing_orders(user, checkout_key)
    if replayed:
        return replayed, True

    quote = carts.quote(user)
    if not quote.lines:
        # A concurrent submit of this checkout may have committed (emptying the cart) since the
        # look above: a double-click is answered with its orders, not with an empty cart.
        replayed = existing_orders(user, checkout_key)
        if replayed:
            return replayed, True
        raise CheckoutError("购物车是空的。")
    if quote.fingerprint != request.fingerprint:
        changed = [
            f"「{line.offer.product.name}」现价 ¥{line.unit_price:,.2f}"
            f"（加入时 ¥{line.item.added_price:,.2f}）"
            for line in quote.lines
            if line.price_changed
        ]
        raise CheckoutError("购物车的商品、数量或价格已变化，请核对后重新提交。", changed)
    if quote.problems:
        raise CheckoutError("购物车中有不能下单的商品。", quote.problems)

    plan = (
        db.session.scalars(
            sa.select(ProcurementPlan)
            .where(ProcurementPlan.id == request.plan_id, ProcurementPlan.unit_id == user.organization_id)
            .options(joinedload(ProcurementPlan.categories))
        )
        .unique()
        .one_or_none()
    )
    if plan is None:
        raise CheckoutError("所选采购计划不存在或不属于本单位。", field="plan_id")
    _check_plan(plan, quote)

    book = RuleBook.load(user.organization.region_code, quote.category_ids)
    group_rules = [(group, book.strictest(group.category_ids)) for group in quote.groups]
    comparison = _check_rules(user, group_rules, request.comparison_record_id)
    warnings = split_warnings(user, quote, book)
    split_reason = request.split_reason.strip()
    if warnings and not split_reason:
        raise CheckoutError(
            "本单位近期同品目订单累计将超过直购限额，涉嫌拆分采购：请填写说明后再提交，监管部门会收到预警。",
            [
                w.summary + (f"（{'、'.join(o.number for o in w.orders)}）" if w.orders else "")
                for w in warnings
            ],
            field="split_reason",
        )

    # The finance budget API is asked before any row is locked, over one connection per checkout.
    numbers = {group.supplier.id: order_number(checkout_key, group.supplier.id) for group in quote.groups}
    answers = {}
    with budget_check.http_session() as http:
        for group in quote.groups:
            try:
                answers[group.supplier.id] = budget_check.check(
                    numbers[group.supplier.id], plan, group.total, http
                )
            except budget_check.BudgetCheckRefused as refused:
                raise CheckoutError(str(refused)) from None

    lowest = _lowest_other_prices(quote)
    try:
        with db.session.begin_nested():
            orders = _create_orders(user, plan, group_rules, request, comparison, numbers, answers, lowest)
    except IntegrityError:
        # A concurrent submit of the same checkout won the race: answer with its orders.
        replayed = existing_orders(user, checkout_key)
        if replayed:
            return replayed, True
        raise
    db.session.execute(
        sa.delete(CartItem).where(
            CartItem.user_id == user.id, CartItem.id.in_([line.item.id for line in quote.lines])
        )
    )
    # The plan row stays locked from this UPDATE to the commit: only this transaction's own
    # inserts follow it.
    try:
        budget.reserve_all(plan, [(order.number, order.total) for order in orders], user=user)
    except budget.BudgetError as refused:
        raise CheckoutError(str(refused), field="plan_id") from None
    for order in orders:
        record_submit(order, user)
    if warnings:
        for w in warnings:
            raise_alert(
                AlertKind.ORDER_SPLITTING,
                f"{user.organization.name} 疑似拆分采购 · {w.summary}",
                unit_id=user.organization_id,
                order_id=orders[0].id,
                detail={
                    "category_code": w.category.code,
                    "orders": [o.number for o in w.orders] + [o.number for o in orders],
                    "total": str(w.total),
                    "ceiling": str(w.ceiling),
                    "reason": split_reason,
                },
            )
    db.session.flush()
    return orders, False


def _check_plan(plan: ProcurementPlan, quote: carts.Quote) -> None:
    problems = plan_problems(plan, quote)
    if problems:
        raise CheckoutError(f"采购计划 {plan.plan_no} {problems[0]}。", field="plan_id")


def _check_rules(user: User, group_rules: list[tuple[carts.SupplierGroup, RuleSet]], record_id: int | None):
    over = [
        f"{group.supplier.name}：¥{group.total:,.2f}，直购限额 ¥{rules.direct_ceiling:,.2f}"
        for group, rules in group_rules
        if group.total > rules.direct_ceiling
    ]
    if over:
        raise CheckoutError(
            "订单金额超过直购限额，须采用竞争性采购方式（如竞价、询价），不能直接下单。", over
        )
    comparison = None
    if record_id is not None:
        comparison = db.session.get(ComparisonRecord, record_id)
        if comparison is None or comparison.organization_id != user.organization_id:
            raise CheckoutError("所选比价记录不存在或不属于本单位。", field="comparison_record_id")
    needing = [group for group, rules in group_rules if group.total > rules.comparison_required_above]
    if needing and comparison is None:
        threshold = min(rules.comparison_required_above for _, rules in group_rules)
        raise CheckoutError(
            f"订单金额超过 ¥{threshold:,.2f}，须附比价记录作为比价依据。", field="comparison_record_id"
        )
    return comparison


def _lowest_other_prices(quote: carts.Quote) -> dict[int, Decimal | None]:
    """For each offer in the quote, the lowest listed price of another offer of its product (the
    price evidence frozen on the order line); one query for the whole cart."""
    rows = db.session.execute(
        sa.select(Offer.id, Offer.product_id, Offer.price).where(
            Offer.product_id.in_({line.offer.product_id for line in quote.lines}),
            Offer.status == OfferStatus.LISTED,
        )
    ).all()
    return {
        line.offer.id: min(
            (
                price
                for offer_id, product_id, price in rows
                if product_id == line.offer.product_id and offer_id != line.offer.id
            ),
            default=None,
        )
        for line in quote.lines
    }


def _create_orders(
    user, plan, group_rules, request: CheckoutRequest, comparison, numbers, answers, lowest
) -> list[Order]:
    """The orders and their lines, one INSERT each: ORM bulk inserts that hand back the rows,
    without the unit of work's bookkeeping per object (the checkout is the mall's busiest write)."""
    now = utcnow()
    rows = []
    for group, rules in group_rules:
        needs_approval = group.total > rules.approval_threshold
        rows.append(
            {
                "number": numbers[group.supplier.id],
                "checkout_key": request.checkout_key,
                "unit_id": user.organization_id,
                "buyer_id": user.id,
                "supplier_id": group.supplier.id,
                "plan_id": plan.id,
                "comparison_record_id": comparison.id if comparison else None,
                "status": OrderStatus.PENDING_APPROVAL if needs_approval else OrderStatus.SUBMITTED,
                "total": group.total,
                "region_code": user.organization.region_code,
                "delivery_address": request.delivery_address,
                "contact_name": request.contact_name,
                "contact_phone": request.contact_phone,
                "note": request.note,
                "needs_approval": needs_approval,
                "split_reason": request.split_reason.strip() or None,
                "budget_check": answers[group.supplier.id],
                "rules": rules_json(rules),
                "submitted_at": now,
                "confirm_due_at": None if needs_approval else now + timedelta(hours=rules.confirm_hours),
                "overdue_flags": [],
                "created_at": now,
                "updated_at": now,
            }
        )
    orders = db.session.scalars(sa.insert(Order).returning(Order, sort_by_parameter_order=True), rows).all()
    line_rows = [
        {
            "order_id": order.id,
            "offer_id": line.offer.id,
            "product_id": line.offer.product_id,
            "category_id": line.offer.product.category_id,
            "supplier_sku": line.offer.supplier_sku,
            "name": line.offer.product.name,
            "brand": line.offer.product.brand,
            "model": line.offer.product.model,
            "specs": dict(line.offer.product.specs),
            "unit_price": line.unit_price,
            "quantity": line.quantity,
            "amount": line.amount,
            "market_price": line.offer.market_price,
            "lowest_other_price": lowest[line.offer.id],
        }
        for order, (group, _rules) in zip(orders, group_rules, strict=True)
        for line in group.lines
    ]
    lines = db.session.scalars(
        sa.insert(OrderLine).returning(OrderLine, sort_by_parameter_order=True), line_rows
    ).all()
    for order in orders:
        # What the rows hold is known: the payloads and the history need not load it again.
        set_committed_value(order, "lines", [line for line in lines if line.order_id == order.id])
        set_committed_value(order, "history", [])
    return orders


def record_submit(order: Order, user: User) -> None:
    record(order, None, order.status, Actor.of_user(user), "提交订单")
