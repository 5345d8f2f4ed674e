from __future__ import annotations

import enum
from datetime import datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.auth.models import Organization, _enum
from app.core.db import TimestampMixin, utcnow
from app.core.money import Money
from app.extensions import db


class AlertKind(enum.StrEnum):
    ORDER_SPLITTING = "order_splitting"  # 疑似拆单
    LATE_CONFIRMATION = "late_confirmation"  # 供应商超时未确认
    LATE_ACCEPTANCE = "late_acceptance"  # 采购人超时未验收
    LATE_PAYMENT = "late_payment"  # 采购人超时未付款
    SUBSTITUTION = "substitution"  # 验收发现以次充好/型号不符
    PRICE_ABOVE_REFERENCE = "price_above_reference"  # 价格高于市场参考价
    PRICE_RISE = "price_rise"  # 短期涨价幅度过大 (app/oversight/monitoring.py)


class AlertStatus(enum.StrEnum):
    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"


class Alert(TimestampMixin, db.Model):
    """预警: something a regulator or operator should look at, tied to its evidence."""

    __tablename__ = "alerts"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[AlertKind] = mapped_column(_enum(AlertKind, "alert_kind"), index=True)
    status: Mapped[AlertStatus] = mapped_column(
        _enum(AlertStatus, "alert_status"), default=AlertStatus.OPEN, index=True
    )
    unit_id: Mapped[int | None] = mapped_column(sa.ForeignKey("organizations.id"), index=True)
    supplier_id: Mapped[int | None] = mapped_column(sa.ForeignKey("organizations.id"), index=True)
    order_id: Mapped[int | None] = mapped_column(sa.ForeignKey("orders.id"), index=True)
    message: Mapped[str] = mapped_column(sa.String(500))
    detail: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    raised_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)

    unit: Mapped[Organization | None] = relationship(foreign_keys=[unit_id])
    supplier: Mapped[Organization | None] = relationship(foreign_keys=[supplier_id])


# --------------------------------------------------------------------------------------------
# The alert workflow (open → acknowledged → resolved): every move and every note is one row.


class AlertAction(enum.StrEnum):
    NOTE = "note"  # 备注
    ACKNOWLEDGE = "acknowledge"  # 知悉
    RESOLVE = "resolve"  # 办结


class AlertNote(db.Model):
    """One entry of an alert's handling log: a note, or a move with its note — who, when, what.
    ``author_label`` keeps the name and organization as they were when the entry was written."""

    __tablename__ = "alert_notes"

    id: Mapped[int] = mapped_column(primary_key=True)
    alert_id: Mapped[int] = mapped_column(sa.ForeignKey("alerts.id", ondelete="CASCADE"), index=True)
    action: Mapped[AlertAction] = mapped_column(_enum(AlertAction, "alert_action"))
    from_status: Mapped[str | None] = mapped_column(sa.String(32))
    to_status: Mapped[str | None] = mapped_column(sa.String(32))
    author_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    author_label: Mapped[str] = mapped_column(sa.String(300))
    text: Mapped[str] = mapped_column(sa.String(2000), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


# --------------------------------------------------------------------------------------------
# Price monitoring (价格监测): operator rules, what they found, and what was done to offers.


class PriceRuleKind(enum.StrEnum):
    ABOVE_REFERENCE = "above_reference"  # 单价高于市场参考价超过 X%
    RISE = "rise"  # Y 天内涨价超过 X%


class PriceRuleAction(enum.StrEnum):
    ALERT = "alert"  # 仅预警
    FREEZE = "freeze"  # 预警并冻结报价（暂停销售）
    DELIST = "delist"  # 预警并下架报价


class PriceRule(TimestampMixin, db.Model):
    """An operator's price rule. Rules are switched off, never deleted: their hits refer to them."""

    __tablename__ = "price_rules"
    __table_args__ = (
        sa.CheckConstraint("threshold_percent >= 0 AND threshold_percent <= 1000", name="threshold_range"),
        sa.CheckConstraint("window_days IS NULL OR (window_days >= 1 AND window_days <= 365)", name="window"),
        sa.CheckConstraint("kind <> 'rise' OR window_days IS NOT NULL", name="rise_needs_window"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(100))
    kind: Mapped[PriceRuleKind] = mapped_column(_enum(PriceRuleKind, "price_rule_kind"))
    threshold_percent: Mapped[Decimal] = mapped_column(sa.Numeric(6, 2))
    window_days: Mapped[int | None]
    action: Mapped[PriceRuleAction] = mapped_column(
        _enum(PriceRuleAction, "price_rule_action"), default=PriceRuleAction.ALERT
    )
    enabled: Mapped[bool] = mapped_column(default=True)
    updated_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))


class PriceRuleHit(db.Model):
    """A rule matched an offer at a price: raised once per rule, offer and price."""

    __tablename__ = "price_rule_hits"
    __table_args__ = (sa.UniqueConstraint("rule_id", "offer_id", "price"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    rule_id: Mapped[int] = mapped_column(sa.ForeignKey("price_rules.id"))
    offer_id: Mapped[int] = mapped_column(sa.ForeignKey("offers.id"), index=True)
    price: Mapped[Decimal] = mapped_column(Money)
    # The market reference price (above_reference) or the window's lowest price (rise).
    reference: Mapped[Decimal] = mapped_column(Money)
    alert_id: Mapped[int | None] = mapped_column(sa.ForeignKey("alerts.id"))
    action: Mapped[PriceRuleAction] = mapped_column(_enum(PriceRuleAction, "price_rule_action"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)

    rule: Mapped[PriceRule] = relationship()


class OfferActionKind(enum.StrEnum):
    FREEZE = "freeze"  # 冻结
    DELIST = "delist"  # 下架
    RESTORE = "restore"  # 恢复上架


class OfferAction(db.Model):
    """A freeze, delisting or restore of an offer by price monitoring: by an operator (with a
    reason) or by a rule (``user_id`` None)."""

    __tablename__ = "offer_actions"

    id: Mapped[int] = mapped_column(primary_key=True)
    offer_id: Mapped[int] = mapped_column(sa.ForeignKey("offers.id"), index=True)
    kind: Mapped[OfferActionKind] = mapped_column(_enum(OfferActionKind, "offer_action_kind"))
    from_status: Mapped[str] = mapped_column(sa.String(32))
    to_status: Mapped[str] = mapped_column(sa.String(32))
    reason: Mapped[str] = mapped_column(sa.String(500))
    rule_id: Mapped[int | None] = mapped_column(sa.ForeignKey("price_rules.id"))
    alert_id: Mapped[int | None] = mapped_column(sa.ForeignKey("alerts.id"))
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    actor_label: Mapped[str] = mapped_column(sa.String(300))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


# --------------------------------------------------------------------------------------------
# Supplier credit (供应商信用): a 100-point ledger per supplier and year (app/oversight/credit.py).


class CreditReason(enum.StrEnum):
    LATE_CONFIRMATION = "late_confirmation"  # 超时未确认订单
    REJECTED_AFTER_CONFIRMATION = "rejected_after_confirmation"  # 确认后拒绝履约
    SUBSTITUTION = "substitution"  # 验收发现型号不符
    PRICE_ABOVE_REFERENCE = "price_above_reference"  # 报价高于市场参考价
    POOR_EVALUATION = "poor_evaluation"  # 履约评价差


class AppealStatus(enum.StrEnum):
    NONE = "none"  # 未申诉
    PENDING = "pending"  # 申诉中
    UPHELD = "upheld"  # 申诉成立：扣分撤销
    REJECTED = "rejected"  # 申诉驳回


class CreditEvent(db.Model):
    """One deduction, tied to its evidence (an order, an alert, an offer at a price). The same
    evidence deducts once: ``evidence_key`` is unique per reason."""

    __tablename__ = "credit_events"
    __table_args__ = (
        sa.UniqueConstraint("reason", "evidence_key"),
        sa.CheckConstraint("points < 0", name="points_negative"),
        sa.Index("ix_credit_events_supplier_year", "supplier_id", "year"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    supplier_id: Mapped[int] = mapped_column(sa.ForeignKey("organizations.id"))
    year: Mapped[int] = mapped_column(sa.SmallInteger)  # the mall's (Beijing) calendar year
    points: Mapped[int]
    reason: Mapped[CreditReason] = mapped_column(_enum(CreditReason, "credit_reason"))
    evidence_key: Mapped[str] = mapped_column(sa.String(80))
    order_id: Mapped[int | None] = mapped_column(sa.ForeignKey("orders.id"), index=True)
    offer_id: Mapped[int | None] = mapped_column(sa.ForeignKey("offers.id"))
    alert_id: Mapped[int | None] = mapped_column(sa.ForeignKey("alerts.id"))
    description: Mapped[str] = mapped_column(sa.String(500))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    appeal_due_at: Mapped[datetime]
    appeal_status: Mapped[AppealStatus] = mapped_column(
        _enum(AppealStatus, "credit_appeal_status"), default=AppealStatus.NONE, index=True
    )
    appeal_text: Mapped[str | None] = mapped_column(sa.String(2000))
    appealed_at: Mapped[datetime | None]
    appealed_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    decision_note: Mapped[str | None] = mapped_column(sa.String(1000))
    decided_at: Mapped[datetime | None]
    decided_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))

    supplier: Mapped[Organization] = relationship(foreign_keys=[supplier_id])
    alert: Mapped[Alert | None] = relationship()
