from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.auth.models import Organization, _enum
from app.core.db import TimestampMixin, utcnow
from app.extensions import db


class AlertKind(enum.StrEnum):
    ORDER_SPLITTING = "order_splitting"  # 疑似拆单
    LATE_CONFIRMATION = "late_confirmation"  # 供应商超时未确认
    LATE_ACCEPTANCE = "late_acceptance"  # 采购人超时未验收
    LATE_PAYMENT = "late_payment"  # 采购人超时未付款
    SUBSTITUTION = "substitution"  # 验收发现以次充好/型号不符
    PRICE_ABOVE_REFERENCE = "price_above_reference"  # 价格高于市场参考价


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
