from __future__ import annotations

import enum
from datetime import datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.auth.models import Organization, _enum
from app.core.db import TimestampMixin, utcnow
from app.core.money import Money
from app.extensions import db

CATALOG_VERSION = "2022"


class CategoryKind(enum.StrEnum):
    GOODS = "goods"
    WORKS = "works"
    SERVICES = "services"


class Category(db.Model):
    """One row of the government procurement item catalogue. A code means nothing without its
    catalogue version (A02010104 is 台式计算机 in 2013 but 服务器 in 2022)."""

    __tablename__ = "categories"
    __table_args__ = (sa.UniqueConstraint("catalog_version", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    catalog_version: Mapped[str] = mapped_column(sa.String(8), default=CATALOG_VERSION)
    code: Mapped[str] = mapped_column(sa.String(9))
    name: Mapped[str] = mapped_column(sa.String(200))
    level: Mapped[int] = mapped_column(sa.SmallInteger)
    parent_id: Mapped[int | None] = mapped_column(sa.ForeignKey("categories.id"), index=True)
    kind: Mapped[CategoryKind] = mapped_column(_enum(CategoryKind, "category_kind"))
    description: Mapped[str] = mapped_column(sa.Text, default="")
    is_leaf: Mapped[bool] = mapped_column(default=True)

    parent: Mapped[Category | None] = relationship(remote_side=[id], back_populates="children")
    children: Mapped[list[Category]] = relationship(back_populates="parent", order_by="Category.code")
    attributes: Mapped[list[Attribute]] = relationship(
        back_populates="category", order_by="Attribute.position", cascade="all, delete-orphan"
    )

    def __repr__(self) -> str:
        return f"<Category {self.catalog_version}:{self.code} {self.name}>"


class AttributeType(enum.StrEnum):
    NUMBER = "number"
    ENUM = "enum"
    TEXT = "text"
    BOOL = "bool"


class Better(enum.StrEnum):
    HIGHER = "higher"
    LOWER = "lower"


class Attribute(db.Model):
    """A typed spec attribute of a category. Shared attributes (brand, memory_gb, screen_inch,
    energy_class, origin) keep one code in every category so they compare across categories."""

    __tablename__ = "attributes"
    __table_args__ = (
        sa.UniqueConstraint("category_id", "code"),
        sa.CheckConstraint("min_value IS NULL OR max_value IS NULL OR min_value <= max_value", name="range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    category_id: Mapped[int] = mapped_column(sa.ForeignKey("categories.id"), index=True)
    code: Mapped[str] = mapped_column(sa.String(48))
    label_zh: Mapped[str] = mapped_column(sa.String(64))
    label_en: Mapped[str] = mapped_column(sa.String(64))
    type: Mapped[AttributeType] = mapped_column(_enum(AttributeType, "attribute_type"))
    unit: Mapped[str | None] = mapped_column(sa.String(16))
    required: Mapped[bool] = mapped_column(default=False)
    facetable: Mapped[bool] = mapped_column(default=False)
    comparable: Mapped[bool] = mapped_column(default=True)
    better: Mapped[Better | None] = mapped_column(_enum(Better, "attribute_better"))
    enum_values: Mapped[list[str] | None] = mapped_column(sa.JSON)
    min_value: Mapped[Decimal | None] = mapped_column(sa.Numeric(18, 4))
    max_value: Mapped[Decimal | None] = mapped_column(sa.Numeric(18, 4))
    position: Mapped[int] = mapped_column(default=0)

    category: Mapped[Category] = relationship(back_populates="attributes")


class Origin(enum.StrEnum):
    DOMESTIC = "domestic"  # 国产
    IMPORTED = "imported"  # 进口


class Product(TimestampMixin, db.Model):
    """A canonical item (标准商品/SPU): brand + manufacturer model + typed specs. Suppliers quote
    against it, so the same model from different suppliers compares like for like."""

    __tablename__ = "products"

    id: Mapped[int] = mapped_column(primary_key=True)
    category_id: Mapped[int] = mapped_column(sa.ForeignKey("categories.id"), index=True)
    brand: Mapped[str] = mapped_column(sa.String(64))
    model: Mapped[str] = mapped_column(sa.String(128))
    manufacturer: Mapped[str] = mapped_column(sa.String(200))
    name: Mapped[str] = mapped_column(sa.String(300))
    # normalized brand + "|" + normalized model; two products may never share it.
    dedup_key: Mapped[str] = mapped_column(sa.String(200), unique=True)
    specs: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    energy_saving: Mapped[bool] = mapped_column(default=False)  # 节能产品
    environmental: Mapped[bool] = mapped_column(default=False)  # 环境标志产品
    origin: Mapped[Origin] = mapped_column(_enum(Origin, "product_origin"), default=Origin.DOMESTIC)
    description: Mapped[str] = mapped_column(sa.Text, default="")
    is_active: Mapped[bool] = mapped_column(default=True)
    # Bumped on every change that search must see (external versioning on Elasticsearch).
    row_version: Mapped[int] = mapped_column(default=1)
    # Set when the product or one of its offers changed and the index has not caught up yet;
    # cleared by the indexing job, swept periodically so a lost job heals.
    search_dirty: Mapped[bool] = mapped_column(default=True, server_default=sa.true(), index=True)

    category: Mapped[Category] = relationship()
    offers: Mapped[list[Offer]] = relationship(back_populates="product")


class OfferStatus(enum.StrEnum):
    DRAFT = "draft"
    PENDING_REVIEW = "pending_review"
    LISTED = "listed"
    REJECTED = "rejected"
    DELISTED = "delisted"
    # 冻结: held by the operator (price monitoring); not orderable, not searchable, not shown to
    # buyers, until the operator restores it or a corrected price passes review again.
    FROZEN = "frozen"


class Offer(TimestampMixin, db.Model):
    """A supplier's listing (SKU) of a canonical product."""

    __tablename__ = "offers"
    __table_args__ = (
        sa.UniqueConstraint("supplier_id", "supplier_sku"),
        sa.CheckConstraint("price > 0", name="price_positive"),
        sa.CheckConstraint("market_price IS NULL OR market_price > 0", name="market_price_positive"),
        sa.CheckConstraint("stock >= 0", name="stock_nonnegative"),
        sa.CheckConstraint("warranty_months >= 0", name="warranty_nonnegative"),
        sa.CheckConstraint("lead_time_days >= 0", name="lead_time_nonnegative"),
        sa.Index("ix_offers_product_status", "product_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(sa.ForeignKey("products.id"))
    supplier_id: Mapped[int] = mapped_column(sa.ForeignKey("organizations.id"), index=True)
    supplier_sku: Mapped[str] = mapped_column(sa.String(64))
    price: Mapped[Decimal] = mapped_column(Money)
    # Market reference price, e.g. the lowest self-operated e-commerce price for the same model.
    market_price: Mapped[Decimal | None] = mapped_column(Money)
    market_price_source: Mapped[str | None] = mapped_column(sa.String(200))
    stock: Mapped[int] = mapped_column(default=0)
    regions: Mapped[list[str]] = mapped_column(sa.JSON, default=list)  # GB/T 2260 province codes
    warranty_months: Mapped[int] = mapped_column(default=12)
    lead_time_days: Mapped[int] = mapped_column(default=3)
    status: Mapped[OfferStatus] = mapped_column(_enum(OfferStatus, "offer_status"), default=OfferStatus.DRAFT)
    listed_at: Mapped[datetime | None]

    product: Mapped[Product] = relationship(back_populates="offers")
    supplier: Mapped[Organization] = relationship()
    price_history: Mapped[list[PriceChange]] = relationship(
        back_populates="offer", order_by="PriceChange.changed_at", cascade="all, delete-orphan"
    )


class PriceChange(db.Model):
    """Every price an offer has had, kept for price monitoring and the price-history chart."""

    __tablename__ = "price_changes"
    __table_args__ = (
        sa.CheckConstraint("price > 0", name="price_positive"),
        sa.Index("ix_price_changes_offer_time", "offer_id", "changed_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    offer_id: Mapped[int] = mapped_column(sa.ForeignKey("offers.id"))
    price: Mapped[Decimal] = mapped_column(Money)
    market_price: Mapped[Decimal | None] = mapped_column(Money)
    changed_at: Mapped[datetime] = mapped_column(default=utcnow)
    changed_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    source: Mapped[str] = mapped_column(sa.String(32), default="manual")  # manual, import, api, demo

    offer: Mapped[Offer] = relationship(back_populates="price_history")
