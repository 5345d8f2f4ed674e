from __future__ import annotations

import enum
from datetime import datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.auth.models import Organization, _enum
from app.catalog.models import Category
from app.core.db import TimestampMixin, utcnow
from app.core.money import Money
from app.extensions import db

plan_categories = sa.Table(
    "plan_categories",
    db.metadata,
    sa.Column("plan_id", sa.ForeignKey("procurement_plans.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("category_id", sa.ForeignKey("categories.id"), primary_key=True),
)


class PlanStatus(enum.StrEnum):
    APPROVED = "approved"  # 已批复: orders may be placed against it
    SUSPENDED = "suspended"  # 暂停: finance froze it
    CLOSED = "closed"  # 已结束: fiscal year over


class ProcurementPlan(TimestampMixin, db.Model):
    """An approved procurement plan. Its balance is a ledger:
    ``available = amount − reserved − consumed`` and never goes below zero."""

    __tablename__ = "procurement_plans"
    __table_args__ = (
        sa.CheckConstraint("amount >= 0", name="amount_nonnegative"),
        sa.CheckConstraint("reserved >= 0", name="reserved_nonnegative"),
        sa.CheckConstraint("consumed >= 0", name="consumed_nonnegative"),
        sa.CheckConstraint("released >= 0", name="released_nonnegative"),
        sa.CheckConstraint("round(reserved + consumed, 2) <= amount", name="within_amount"),
        sa.CheckConstraint("fiscal_year BETWEEN 2000 AND 2100", name="fiscal_year_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(sa.ForeignKey("organizations.id"), index=True)
    plan_no: Mapped[str] = mapped_column(sa.String(64), unique=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    fiscal_year: Mapped[int]
    budget_line_code: Mapped[str] = mapped_column(sa.String(64))  # 预算项目编码
    fund_source: Mapped[str] = mapped_column(sa.String(64))  # 资金来源
    amount: Mapped[Decimal] = mapped_column(Money)
    reserved: Mapped[Decimal] = mapped_column(Money, default=Decimal("0.00"))
    consumed: Mapped[Decimal] = mapped_column(Money, default=Decimal("0.00"))
    released: Mapped[Decimal] = mapped_column(Money, default=Decimal("0.00"))
    status: Mapped[PlanStatus] = mapped_column(_enum(PlanStatus, "plan_status"), default=PlanStatus.APPROVED)
    approved_at: Mapped[datetime] = mapped_column(default=utcnow)

    unit: Mapped[Organization] = relationship()
    categories: Mapped[list[Category]] = relationship(secondary=plan_categories, order_by=Category.code)
    ledger: Mapped[list[LedgerEntry]] = relationship(
        back_populates="plan", order_by="LedgerEntry.id", cascade="all, delete-orphan"
    )

    @property
    def available(self) -> Decimal:
        return self.amount - self.reserved - self.consumed


class LedgerKind(enum.StrEnum):
    RESERVE = "reserve"  # 预占: order submitted
    RELEASE = "release"  # 释放: rejected / cancelled / returned
    CONSUME = "consume"  # 核销: paid


class LedgerEntry(db.Model):
    """One movement of a plan's budget; the plan's totals are the sums of these."""

    __tablename__ = "ledger_entries"
    __table_args__ = (sa.CheckConstraint("amount > 0", name="amount_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(sa.ForeignKey("procurement_plans.id"), index=True)
    kind: Mapped[LedgerKind] = mapped_column(_enum(LedgerKind, "ledger_kind"))
    amount: Mapped[Decimal] = mapped_column(Money)
    reference: Mapped[str | None] = mapped_column(sa.String(64), index=True)  # order number
    note: Mapped[str] = mapped_column(sa.String(500), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))

    plan: Mapped[ProcurementPlan] = relationship(back_populates="ledger")
