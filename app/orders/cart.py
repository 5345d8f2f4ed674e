"""The purchaser's cart and its quote: the cart priced from the database right now, grouped by
supplier, with what changed since each item was added and what cannot be ordered."""

from __future__ import annotations

import dataclasses
import hashlib
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import joinedload

from app.auth.models import User
from app.catalog.models import Offer, OfferStatus, Product
from app.core.db import utcnow
from app.extensions import db
from app.orders.models import CartItem

MAX_QUANTITY = 9999
MAX_CART_ITEMS = 100


class CartError(Exception):
    """A cart change that cannot be made; the message is for the buyer."""


@dataclasses.dataclass
class QuoteLine:
    item: CartItem
    offer: Offer
    quantity: int
    unit_price: Decimal
    problems: list[str]

    @property
    def amount(self) -> Decimal:
        return self.unit_price * self.quantity

    @property
    def price_changed(self) -> bool:
        return self.unit_price != self.item.added_price


@dataclasses.dataclass
class SupplierGroup:
    supplier: object
    lines: list[QuoteLine]

    @property
    def total(self) -> Decimal:
        return sum((line.amount for line in self.lines), Decimal("0.00"))

    @property
    def category_ids(self) -> set[int]:
        return {line.offer.product.category_id for line in self.lines}


@dataclasses.dataclass
class Quote:
    groups: list[SupplierGroup]

    @property
    def lines(self) -> list[QuoteLine]:
        return [line for group in self.groups for line in group.lines]

    @property
    def total(self) -> Decimal:
        return sum((group.total for group in self.groups), Decimal("0.00"))

    @property
    def problems(self) -> list[str]:
        return [problem for line in self.lines for problem in line.problems]

    @property
    def category_ids(self) -> set[int]:
        return {category_id for group in self.groups for category_id in group.category_ids}

    @property
    def fingerprint(self) -> str:
        """What the buyer saw: every offer, quantity and price. The checkout form carries it back,
        so a price or cart that changed in between (or a tampered form) is caught at submit."""
        parts = sorted(f"{line.offer.id}:{line.quantity}:{line.unit_price}" for line in self.lines)
        return hashlib.sha256("|".join(parts).encode()).hexdigest()[:32]


def _items(user: User) -> list[CartItem]:
    return list(
        db.session.scalars(
            sa.select(CartItem)
            .where(CartItem.user_id == user.id)
            .options(
                joinedload(CartItem.offer).joinedload(Offer.product).joinedload(Product.category),
                joinedload(CartItem.offer).joinedload(Offer.supplier),
            )
            .order_by(CartItem.id)
        ).unique()
    )


def count(user: User) -> int:
    return db.session.scalar(sa.select(sa.func.count()).where(CartItem.user_id == user.id)) or 0


@dataclasses.dataclass(frozen=True)
class Added:
    name: str  # the product's
    quantity: int  # now in the cart


def add(user: User, offer_id: int, quantity: int = 1) -> Added:
    """Put ``quantity`` of an offer in the cart, adding to the line already there: one read of the
    offer and one upsert, so two adds at once (two tabs) both count and neither fails."""
    if not 1 <= quantity <= MAX_QUANTITY:
        raise CartError(f"数量应为 1–{MAX_QUANTITY} 之间的整数。")
    offer = db.session.execute(
        sa.select(Offer.status, Offer.price, Product.name)
        .join(Product, Offer.product_id == Product.id)
        .where(Offer.id == offer_id)
    ).one_or_none()
    if offer is None or offer.status is not OfferStatus.LISTED:
        raise CartError("该报价不存在或已下架，不能加入购物车。")
    items = CartItem.__table__
    mine = items.c.user_id == user.id
    # A new line only while the cart has room; a line already there may always grow.
    room = sa.or_(
        sa.select(sa.func.count()).where(mine).scalar_subquery() < MAX_CART_ITEMS,
        sa.exists().where(mine, items.c.offer_id == offer_id),
    )
    columns = ("user_id", "offer_id", "quantity", "added_price", "added_at")
    values = (user.id, offer_id, quantity, offer.price, utcnow())
    insert = _insert_for_dialect()(items).from_select(
        columns,
        sa.select(
            *(sa.literal(value, items.c[name].type) for name, value in zip(columns, values, strict=True))
        ).where(room),
    )
    upsert = insert.on_conflict_do_update(
        index_elements=[items.c.user_id, items.c.offer_id],
        set_={"quantity": items.c.quantity + insert.excluded.quantity},
        where=items.c.quantity + insert.excluded.quantity <= MAX_QUANTITY,
    ).returning(items.c.quantity)
    in_cart = db.session.execute(upsert).scalar_one_or_none()
    if in_cart is None:
        if db.session.scalar(sa.select(sa.exists().where(mine, items.c.offer_id == offer_id))):
            raise CartError(f"数量应为 1–{MAX_QUANTITY} 之间的整数。")
        raise CartError(f"购物车最多 {MAX_CART_ITEMS} 项，请先提交或移除一些商品。")
    return Added(offer.name, in_cart)


def _insert_for_dialect():
    """The INSERT with ON CONFLICT of the database in use (PostgreSQL, or SQLite embedded)."""
    from sqlalchemy.dialects import postgresql, sqlite

    return postgresql.insert if db.session.get_bind().dialect.name == "postgresql" else sqlite.insert


def set_quantity(user: User, item_id: int, quantity: int) -> None:
    item = _own_item(user, item_id)
    if not 1 <= quantity <= MAX_QUANTITY:
        raise CartError(f"数量应为 1–{MAX_QUANTITY} 之间的整数。")
    item.quantity = quantity
    db.session.flush()


def remove(user: User, item_id: int) -> None:
    db.session.delete(_own_item(user, item_id))
    db.session.flush()


def acknowledge_prices(user: User) -> None:
    """The buyer has seen the current prices: they become the prices 'when added'."""
    for item in _items(user):
        item.added_price = item.offer.price
    db.session.flush()


def _own_item(user: User, item_id: int) -> CartItem:
    item = db.session.get(CartItem, item_id)
    if item is None or item.user_id != user.id:
        raise CartError("购物车中没有这一项。")
    return item


def quote(user: User) -> Quote:
    region = user.organization.region_code
    groups: dict[int, SupplierGroup] = {}
    for item in _items(user):
        offer = item.offer
        problems = []
        if offer.status is not OfferStatus.LISTED:
            problems.append(f"「{offer.product.name}」已下架，请移除。")
        elif offer.stock < item.quantity:
            problems.append(f"「{offer.product.name}」库存仅 {offer.stock}，少于所需数量 {item.quantity}。")
        if offer.regions and region not in offer.regions:
            problems.append(f"「{offer.product.name}」的供应商不向本单位所在地区供货。")
        line = QuoteLine(item, offer, item.quantity, offer.price, problems)
        groups.setdefault(offer.supplier_id, SupplierGroup(offer.supplier, [])).lines.append(line)
    return Quote(sorted(groups.values(), key=lambda group: group.supplier.name))
