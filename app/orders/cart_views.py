"""The purchaser's cart and checkout pages (购物车、结算). Thin: the verbs live in
:mod:`app.orders.cart` and :mod:`app.orders.checkout`. Purchasers only.

Cart lines are named in POST bodies (``item_id``), never in URLs, and every cart verb checks the
line belongs to the signed-in user. A checkout page hands out a fresh checkout key and the quote's
fingerprint; a refused submit rolls the whole request back (nothing reserved) and shows the form
again with what went wrong, a replayed one lands on the same result page.
"""

from __future__ import annotations

import dataclasses
import logging
import uuid
from decimal import Decimal

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from marshmallow import ValidationError
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import selectinload
from werkzeug.routing import BuildError

from app.auth.access import roles_required, safe_next_url
from app.auth.models import Role
from app.compare.models import ComparisonRecord
from app.compare.services import visible_records
from app.extensions import db
from app.orders import cart as carts
from app.orders import checkout
from app.orders.lifecycle import STATUS_LABELS
from app.orders.models import Order
from app.orders.rules import RuleBook, RuleSet
from app.orders.schemas import (
    CartAddForm,
    CartClearForm,
    CartItemForm,
    CartQuantityForm,
    CheckoutForm,
    SubmittedQuery,
)
from app.procurement.models import ProcurementPlan

log = logging.getLogger(__name__)

bp = Blueprint("cart", __name__, url_prefix="/cart")

RECORD_CHOICES = 100  # the unit's most recent comparison records offered at checkout


@bp.app_context_processor
def cart_helpers():
    # A callable, so only pages that show the count (a purchaser's header) run the query.
    return {"cart_count": _cart_count}


def _cart_count() -> int:
    if not current_user.is_authenticated or current_user.role is not Role.PURCHASER:
        return 0
    try:
        return carts.count(current_user)
    except SQLAlchemyError:
        # The header of an error page (database busy) must still render.
        log.warning("cart count unavailable", exc_info=True)
        return 0


def order_url(order_id: int) -> str:
    try:
        return url_for("orders.order_detail", order_id=order_id)
    except BuildError:  # the order pages' blueprint is not registered (yet)
        return f"/orders/{order_id}"


# --------------------------------------------------------------------------------------------
# The cart


def _render_cart(status: int = 200, *, errors: dict | None = None, item_errors: dict | None = None, **extra):
    quote = carts.quote(current_user)
    return (
        render_template(
            "orders/cart.html",
            quote=quote,
            errors=errors or {},
            item_errors=item_errors or {},
            changed=[line for line in quote.lines if line.price_changed],
            max_quantity=carts.MAX_QUANTITY,
            cart_count=lambda: len(quote.lines),  # the header's count, known without a query
            **extra,
        ),
        status,
    )


@bp.get("")
@roles_required(Role.PURCHASER)
def cart_page():
    return _render_cart()


@bp.post("/add")
@roles_required(Role.PURCHASER)
def add():
    data = request.form.to_dict()
    back = safe_next_url(data.get("next"), url_for("cart.cart_page"))
    try:
        form = CartAddForm().load(data)
        added = carts.add(current_user, form["offer_id"], form["quantity"])
    except ValidationError as exc:
        return _render_cart(422, errors=exc.messages, add_failed=True, back=back)
    except carts.CartError as exc:
        db.session.rollback()
        return _render_cart(422, errors={"_schema": [str(exc)]}, add_failed=True, back=back)
    flash(
        _(
            "已加入购物车：%(name)s，共 %(quantity)s 件。",
            name=added.name,
            quantity=added.quantity,
        ),
        "success",
    )
    return redirect(back)


@bp.post("/quantity")
@roles_required(Role.PURCHASER)
def set_quantity():
    data = request.form.to_dict()
    try:
        form = CartQuantityForm().load(data)
        carts.set_quantity(current_user, form["item_id"], form["quantity"])
    except ValidationError as exc:
        return _item_error(data.get("item_id"), exc.messages)
    except carts.CartError as exc:
        return _item_error(data.get("item_id"), {"_schema": [str(exc)]})
    flash(_("已修改数量。"), "success")
    return redirect(url_for("cart.cart_page"))


def _item_error(raw_item_id, messages: dict):
    db.session.rollback()
    try:
        item_id = int(raw_item_id)
    except (TypeError, ValueError):
        item_id = None
    quote = carts.quote(current_user)
    if item_id in {line.item.id for line in quote.lines}:
        # Shown next to the line's own quantity box.
        text = [m for key in ("quantity", "_schema", "item_id") for m in messages.get(key, [])]
        return _render_cart(422, errors=messages, item_errors={item_id: text})
    return _render_cart(422, errors=messages)


@bp.post("/remove")
@roles_required(Role.PURCHASER)
def remove():
    try:
        form = CartItemForm().load(request.form.to_dict())
        carts.remove(current_user, form["item_id"])
    except ValidationError as exc:
        return _render_cart(422, errors=exc.messages)
    except carts.CartError as exc:
        return _render_cart(422, errors={"_schema": [str(exc)]})
    flash(_("已从购物车移除。"), "success")
    return redirect(url_for("cart.cart_page"))


@bp.post("/clear")
@roles_required(Role.PURCHASER)
def clear():
    form = CartClearForm().load(request.form.to_dict())
    if not form["confirm"]:
        return _render_cart(confirm_clear=True)
    lines = carts.quote(current_user).lines
    for line in lines:
        carts.remove(current_user, line.item.id)
    if lines:
        flash(_("已清空购物车。"), "success")
    return redirect(url_for("cart.cart_page"))


@bp.post("/acknowledge")
@roles_required(Role.PURCHASER)
def acknowledge():
    carts.acknowledge_prices(current_user)
    flash(_("已确认新价格。"), "success")
    return redirect(url_for("cart.cart_page"))


# --------------------------------------------------------------------------------------------
# Checkout


@dataclasses.dataclass
class GroupPreview:
    """One future order: a supplier's lines, the rules that apply to it and what they mean."""

    group: carts.SupplierGroup
    rules: RuleSet

    @property
    def needs_approval(self) -> bool:
        return self.group.total > self.rules.approval_threshold

    @property
    def over_ceiling(self) -> bool:
        return self.group.total > self.rules.direct_ceiling

    @property
    def needs_comparison(self) -> bool:
        return self.group.total > self.rules.comparison_required_above


def _plan_reasons(quote: carts.Quote) -> list[tuple[ProcurementPlan, list[str]]]:
    """Each of the unit's plans and why it cannot pay for this cart (shown when none can)."""
    plans = db.session.scalars(
        select(ProcurementPlan)
        .where(ProcurementPlan.unit_id == current_user.organization_id)
        .options(selectinload(ProcurementPlan.categories))
        .order_by(ProcurementPlan.fiscal_year.desc(), ProcurementPlan.plan_no)
        .limit(50)
    ).all()
    return [(plan, checkout.plan_problems(plan, quote)) for plan in plans]


def _defaults() -> dict:
    """The delivery details of the buyer's last order, so a repeat buyer need not type them."""
    last = db.session.execute(
        select(Order.delivery_address, Order.contact_name, Order.contact_phone)
        .where(Order.buyer_id == current_user.id)
        .order_by(Order.id.desc())
        .limit(1)
    ).one_or_none()
    if last is None:
        return {"contact_name": current_user.display_name}
    return dict(last._mapping)


def _render_checkout(
    status: int = 200,
    *,
    form: dict | None = None,
    errors: dict | None = None,
    message: str | None = None,
    details: list[str] | None = None,
):
    quote = carts.quote(current_user)
    if not quote.lines and status == 200:
        flash(_("购物车是空的，请先挑选商品。"), "info")
        return redirect(url_for("cart.cart_page"))
    book = RuleBook.load(current_user.organization.region_code, quote.category_ids)
    previews = [GroupPreview(group, book.strictest(group.category_ids)) for group in quote.groups]
    plans = checkout.eligible_plans(current_user, quote) if quote.lines else []
    posted = form or {}
    stale = bool(posted.get("fingerprint")) and posted["fingerprint"] != quote.fingerprint
    values = {**_defaults(), **{k: v for k, v in posted.items() if isinstance(v, str)}}
    records = db.session.scalars(
        visible_records(current_user)
        .order_by(ComparisonRecord.created_at.desc(), ComparisonRecord.id.desc())
        .limit(RECORD_CHOICES)
    ).all()
    compare_threshold = min((p.rules.comparison_required_above for p in previews), default=None)
    return (
        render_template(
            "orders/checkout.html",
            quote=quote,
            previews=previews,
            plans=plans,
            plan_reasons=[] if plans or not quote.lines else _plan_reasons(quote),
            records=records,
            needs_comparison=any(p.needs_comparison for p in previews),
            compare_threshold=compare_threshold,
            over_ceiling=[p for p in previews if p.over_ceiling],
            warnings=checkout.split_warnings(current_user, quote, book) if quote.lines else [],
            checkout_key=uuid.uuid4().hex,
            values=values,
            errors=errors or {},
            message=message,
            details=details or [],
            stale=stale,
            fiscal_year=checkout.fiscal_year(),
            order_url=order_url,
            cart_count=lambda: len(quote.lines),
        ),
        status,
    )


@bp.get("/checkout")
@roles_required(Role.PURCHASER)
def checkout_page():
    return _render_checkout()


@bp.post("/checkout")
@roles_required(Role.PURCHASER)
def submit():
    data = request.form.to_dict()
    data.pop("csrf_token", None)
    try:
        form = CheckoutForm().load(data)
    except ValidationError as exc:
        return _render_checkout(422, form=data, errors=exc.messages)
    try:
        orders, replayed = checkout.submit(current_user, checkout.CheckoutRequest(**form))
    except checkout.CheckoutError as refused:
        # Nothing of this attempt may stay: no order, no reservation, the cart as it was.
        db.session.rollback()
        # A field's problem (plan, comparison record, reason) is 422 and shown at the field; a cart
        # that changed under the buyer (prices, stock, budget taken meanwhile) is a 409.
        return _render_checkout(
            422 if refused.field else 409,
            form=data,
            errors={refused.field: [str(refused)]} if refused.field else {},
            message=None if refused.field else str(refused),
            details=refused.details,
        )
    if replayed:
        flash(_("这次提交已经处理过，下面是当时生成的订单，没有重复下单。"), "info")
    else:
        flash(_("已提交 %(n)s 个订单，预算已预占。", n=len(orders)), "success")
    return redirect(url_for("cart.submitted", key=form["checkout_key"]), 303)


@bp.get("/submitted")
@roles_required(Role.PURCHASER)
def submitted():
    try:
        args = SubmittedQuery().load(request.args.to_dict())
    except ValidationError:
        abort(404)
    orders = checkout.existing_orders(
        current_user,
        args["key"],
        selectinload(Order.supplier),
        selectinload(Order.plan),
        selectinload(Order.lines),
    )
    if not orders:
        abort(404)
    return render_template(
        "orders/submitted.html",
        orders=orders,
        plan=orders[0].plan,
        total=sum((o.total for o in orders), Decimal("0.00")),
        status_labels=STATUS_LABELS,
        order_url=order_url,
    )
