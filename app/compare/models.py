from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.auth.models import Organization, User
from app.core.db import utcnow
from app.core.money import Money
from app.extensions import db


class ComparisonRecord(db.Model):
    """A saved comparison (比价记录): 2–4 products with their offers and prices frozen at the
    moment it was saved. An order attaches it as the evidence that the buyer compared."""

    __tablename__ = "comparison_records"
    __table_args__ = (
        sa.CheckConstraint("lowest_price > 0", name="lowest_price_positive"),
        sa.CheckConstraint("product_count BETWEEN 2 AND 4", name="product_count_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(sa.String(32), unique=True)  # BJ-20261126-0001 style
    organization_id: Mapped[int] = mapped_column(sa.ForeignKey("organizations.id"), index=True)
    created_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    title: Mapped[str] = mapped_column(sa.String(200))
    note: Mapped[str] = mapped_column(sa.String(1000), default="")
    product_ids: Mapped[list[int]] = mapped_column(sa.JSON)
    product_count: Mapped[int]
    # The frozen evidence: attribute rows, products with specs, every listed offer and its price.
    snapshot: Mapped[dict] = mapped_column(sa.JSON)
    lowest_price: Mapped[Decimal] = mapped_column(Money)
    lowest_offer_id: Mapped[int | None] = mapped_column(sa.ForeignKey("offers.id"))

    organization: Mapped[Organization] = relationship()
    created_by: Mapped[User] = relationship()
