from __future__ import annotations

import enum
from datetime import datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.auth.models import Organization, User, _enum
from app.catalog.models import Category, Offer
from app.compare.models import ComparisonRecord
from app.core.db import TimestampMixin, utcnow
from app.core.money import Money
from app.extensions import db
from app.procurement.models import ProcurementPlan


class CartItem(db.Model):
    """One offer in a purchaser's cart (persisted per user). ``added_price`` is the price seen when
    it was added, so a change since then can be shown before submit."""

    __tablename__ = "cart_items"
    __table_args__ = (
        sa.UniqueConstraint("user_id", "offer_id"),
        sa.CheckConstraint("quantity > 0", name="quantity_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    offer_id: Mapped[int] = mapped_column(sa.ForeignKey("offers.id"))
    quantity: Mapped[int]
    added_price: Mapped[Decimal] = mapped_column(Money)
    added_at: Mapped[datetime] = mapped_column(default=utcnow)

    offer: Mapped[Offer] = relationship()


class OrderStatus(enum.StrEnum):
    PENDING_APPROVAL = "pending_approval"  # 待审批
    SUBMITTED = "submitted"  # 待供应商确认
    CONFIRMED = "confirmed"  # 已确认
    REJECTED = "rejected"  # 已拒绝 (supplier, or the approver refused)
    CANCELLED = "cancelled"  # 已取消 (buyer, or the confirm deadline passed)
    SHIPPED = "shipped"  # 已发货
    DELIVERED = "delivered"  # 已送达
    ACCEPTED = "accepted"  # 已验收
    RETURNED = "returned"  # 已退货
    PAYMENT_PENDING = "payment_pending"  # 待支付
    PAID = "paid"  # 已支付
    COMPLETED = "completed"  # 已完成


class Order(TimestampMixin, db.Model):
    """A direct order (直购订单) to one supplier against one plan. Lines freeze the offers' prices."""

    __tablename__ = "orders"
    __table_args__ = (
        # One order per supplier per checkout: a replayed or double-clicked submit collides here.
        sa.UniqueConstraint("checkout_key", "supplier_id"),
        sa.CheckConstraint("total > 0", name="total_positive"),
        # A unit's recent orders (the anti-splitting window, its order list) and a buyer's last
        # order (the delivery details a checkout starts from).
        sa.Index("ix_orders_unit_id_submitted_at", "unit_id", "submitted_at"),
        sa.Index("ix_orders_buyer_id_id", "buyer_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(sa.String(32), unique=True)  # DD20261126-… (budget-check key)
    checkout_key: Mapped[str] = mapped_column(sa.String(64))
    unit_id: Mapped[int] = mapped_column(sa.ForeignKey("organizations.id"))
    buyer_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    supplier_id: Mapped[int] = mapped_column(sa.ForeignKey("organizations.id"), index=True)
    plan_id: Mapped[int] = mapped_column(sa.ForeignKey("procurement_plans.id"), index=True)
    comparison_record_id: Mapped[int | None] = mapped_column(sa.ForeignKey("comparison_records.id"))
    status: Mapped[OrderStatus] = mapped_column(_enum(OrderStatus, "order_status"), index=True)
    total: Mapped[Decimal] = mapped_column(Money)
    region_code: Mapped[str] = mapped_column(sa.String(6))  # the buying unit's province
    delivery_address: Mapped[str] = mapped_column(sa.String(300))
    contact_name: Mapped[str] = mapped_column(sa.String(64))
    contact_phone: Mapped[str] = mapped_column(sa.String(32))
    note: Mapped[str] = mapped_column(sa.String(1000), default="")
    needs_approval: Mapped[bool] = mapped_column(default=False)
    # Anti-splitting: the buyer's written reason when related orders add up over the ceiling.
    split_reason: Mapped[str | None] = mapped_column(sa.String(1000))
    # What the finance budget API answered (or "local" when none is configured), and how fast.
    budget_check: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    tracking_number: Mapped[str | None] = mapped_column(sa.String(64))
    submitted_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    confirm_due_at: Mapped[datetime | None]  # set when the order reaches the supplier
    confirmed_at: Mapped[datetime | None] = mapped_column(index=True)  # notices, dashboards
    delivered_at: Mapped[datetime | None]
    accept_due_at: Mapped[datetime | None]
    accepted_at: Mapped[datetime | None]
    pay_due_at: Mapped[datetime | None]
    paid_at: Mapped[datetime | None]
    # Deadline alerts already raised, so the scheduled check raises each one once.
    overdue_flags: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    # The rules in force at submit (RuleSet as JSON): its deadlines hold whatever the operator
    # changes later.
    rules: Mapped[dict] = mapped_column(sa.JSON, default=dict)

    unit: Mapped[Organization] = relationship(foreign_keys=[unit_id])
    supplier: Mapped[Organization] = relationship(foreign_keys=[supplier_id])
    buyer: Mapped[User] = relationship()
    plan: Mapped[ProcurementPlan] = relationship()
    comparison_record: Mapped[ComparisonRecord | None] = relationship()
    lines: Mapped[list[OrderLine]] = relationship(
        back_populates="order", order_by="OrderLine.id", cascade="all, delete-orphan"
    )
    history: Mapped[list[OrderEvent]] = relationship(
        back_populates="order", order_by="OrderEvent.id", cascade="all, delete-orphan"
    )
    acceptance: Mapped[Acceptance | None] = relationship(back_populates="order")
    evaluation: Mapped[Evaluation | None] = relationship(back_populates="order")


class OrderLine(db.Model):
    """An ordered offer with the snapshot frozen at submit: name, specs, unit price and the price
    evidence (market reference, lowest other offer for the same product)."""

    __tablename__ = "order_lines"
    __table_args__ = (
        sa.CheckConstraint("quantity > 0", name="quantity_positive"),
        sa.CheckConstraint("unit_price > 0", name="unit_price_positive"),
        sa.CheckConstraint("amount = round(unit_price * quantity, 2)", name="amount_is_price_times_quantity"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(sa.ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    offer_id: Mapped[int] = mapped_column(sa.ForeignKey("offers.id"))
    product_id: Mapped[int] = mapped_column(sa.ForeignKey("products.id"), index=True)
    category_id: Mapped[int] = mapped_column(sa.ForeignKey("categories.id"), index=True)
    supplier_sku: Mapped[str] = mapped_column(sa.String(64))
    name: Mapped[str] = mapped_column(sa.String(300))
    brand: Mapped[str] = mapped_column(sa.String(64))
    model: Mapped[str] = mapped_column(sa.String(128))
    specs: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    unit_price: Mapped[Decimal] = mapped_column(Money)
    quantity: Mapped[int]
    amount: Mapped[Decimal] = mapped_column(Money)
    market_price: Mapped[Decimal | None] = mapped_column(Money)
    lowest_other_price: Mapped[Decimal | None] = mapped_column(Money)

    order: Mapped[Order] = relationship(back_populates="lines")
    category: Mapped[Category] = relationship()


class OrderEvent(db.Model):
    """A row of an order's history: who moved it from which status to which, when, and why."""

    __tablename__ = "order_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(sa.ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    from_status: Mapped[str | None] = mapped_column(sa.String(32))
    to_status: Mapped[str] = mapped_column(sa.String(32))
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))  # None: the system
    actor_label: Mapped[str] = mapped_column(sa.String(100))
    note: Mapped[str] = mapped_column(sa.String(1000), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    order: Mapped[Order] = relationship(back_populates="history")
    actor: Mapped[User | None] = relationship()


class Acceptance(db.Model):
    """验收单: what arrived, checked against what was ordered."""

    __tablename__ = "acceptances"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(sa.ForeignKey("orders.id", ondelete="CASCADE"), unique=True)
    accepted: Mapped[bool]
    # Per line: {"line_id", "received_quantity", "serial_numbers": [...], "delivered_model", "substituted"}
    lines: Mapped[list[dict]] = mapped_column(sa.JSON)
    substitution: Mapped[bool] = mapped_column(default=False)  # a delivered model differs from the ordered
    note: Mapped[str] = mapped_column(sa.String(1000), default="")
    created_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    order: Mapped[Order] = relationship(back_populates="acceptance")


class Evaluation(db.Model):
    """履约评价 after acceptance: 1–5 stars for quality, delivery and service."""

    __tablename__ = "evaluations"
    __table_args__ = (
        sa.CheckConstraint("quality BETWEEN 1 AND 5", name="quality_range"),
        sa.CheckConstraint("delivery BETWEEN 1 AND 5", name="delivery_range"),
        sa.CheckConstraint("service BETWEEN 1 AND 5", name="service_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(sa.ForeignKey("orders.id", ondelete="CASCADE"), unique=True)
    supplier_id: Mapped[int] = mapped_column(sa.ForeignKey("organizations.id"), index=True)
    quality: Mapped[int] = mapped_column(sa.SmallInteger)
    delivery: Mapped[int] = mapped_column(sa.SmallInteger)
    service: Mapped[int] = mapped_column(sa.SmallInteger)
    comment: Mapped[str] = mapped_column(sa.String(1000), default="")
    created_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    order: Mapped[Order] = relationship(back_populates="evaluation")


class OrderRule(TimestampMixin, db.Model):
    """Direct-order rules for a region and/or category; the most specific match wins and unset
    fields fall back to the next one, then to the defaults in DESIGN.md."""

    __tablename__ = "order_rules"
    __table_args__ = (
        sa.UniqueConstraint("region_code", "category_id"),
        sa.CheckConstraint("direct_ceiling IS NULL OR direct_ceiling > 0", name="ceiling_positive"),
        sa.CheckConstraint("approval_threshold IS NULL OR approval_threshold >= 0", name="threshold_nonneg"),
        sa.CheckConstraint(
            "comparison_required_above IS NULL OR comparison_required_above >= 0", name="compare_nonneg"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    region_code: Mapped[str | None] = mapped_column(sa.String(6))  # None: every region
    category_id: Mapped[int | None] = mapped_column(sa.ForeignKey("categories.id"))  # None: every category
    direct_ceiling: Mapped[Decimal | None] = mapped_column(Money)
    approval_threshold: Mapped[Decimal | None] = mapped_column(Money)
    comparison_required_above: Mapped[Decimal | None] = mapped_column(Money)
    confirm_hours: Mapped[int | None]
    accept_days: Mapped[int | None]
    pay_days: Mapped[int | None]
    split_window_days: Mapped[int | None]
    updated_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))

    category: Mapped[Category | None] = relationship()
