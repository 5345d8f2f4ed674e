"""Listing review (上架审核): what suppliers submitted, what operators decided.

- :class:`OfferSubmission`: an offer sent to review (a new offer, an offer of a newly proposed
  product, or a change of a listed one), with what changed; open until an operator decides.
- :class:`ReviewDecision`: each decision, with the operator and the reason — the supplier sees
  them all on the offer's page and on the page of the upload that submitted it.
- :class:`ProductProposal`: a canonical product a supplier's upload proposed. It stays inactive
  (not on any public page) until an operator approves an offer of it.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.auth.models import Organization, User, _enum
from app.catalog.models import Offer, Product
from app.core.db import utcnow
from app.extensions import db


class SubmissionKind(enum.StrEnum):
    NEW_PRODUCT = "new_product"  # an offer of a product the supplier proposed (新商品)
    NEW_OFFER = "new_offer"  # a new offer of an existing product (新报价)
    CHANGE = "change"  # a change of an offer that was listed before (变更)


class Decision(enum.StrEnum):
    APPROVE = "approve"
    REJECT = "reject"


class OfferSubmission(db.Model):
    __tablename__ = "offer_submissions"
    # The queue starts from the pending offers and finds each one's open submission here.
    __table_args__ = (sa.Index("ix_offer_submissions_offer_open", "offer_id", "closed_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    offer_id: Mapped[int] = mapped_column(sa.ForeignKey("offers.id"))
    organization_id: Mapped[int] = mapped_column(sa.ForeignKey("organizations.id"))
    batch_id: Mapped[int | None] = mapped_column(sa.ForeignKey("import_batches.id"), index=True)
    source: Mapped[str] = mapped_column(sa.String(16), default="import")  # import | api
    kind: Mapped[SubmissionKind] = mapped_column(_enum(SubmissionKind, "submission_kind"))
    # For a change: {"warranty_months": [12, 36], …} (old, new), as text.
    changes: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    submitted_at: Mapped[datetime] = mapped_column(default=utcnow)
    closed_at: Mapped[datetime | None]

    offer: Mapped[Offer] = relationship()
    organization: Mapped[Organization] = relationship()


class ReviewDecision(db.Model):
    __tablename__ = "review_decisions"

    id: Mapped[int] = mapped_column(primary_key=True)
    offer_id: Mapped[int] = mapped_column(sa.ForeignKey("offers.id"), index=True)
    submission_id: Mapped[int | None] = mapped_column(sa.ForeignKey("offer_submissions.id"))
    batch_id: Mapped[int | None] = mapped_column(sa.ForeignKey("import_batches.id"), index=True)
    operator_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    decision: Mapped[Decision] = mapped_column(_enum(Decision, "review_decision"))
    reason: Mapped[str] = mapped_column(sa.Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    offer: Mapped[Offer] = relationship()
    operator: Mapped[User] = relationship()
    submission: Mapped[OfferSubmission | None] = relationship()


class ProductProposal(db.Model):
    __tablename__ = "product_proposals"

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(sa.ForeignKey("products.id"), unique=True)
    organization_id: Mapped[int] = mapped_column(sa.ForeignKey("organizations.id"), index=True)
    batch_id: Mapped[int | None] = mapped_column(sa.ForeignKey("import_batches.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    approved_at: Mapped[datetime | None]
    approved_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))

    product: Mapped[Product] = relationship()
