"""Comparison verbs: the compare list kept in the session, the snapshot of 2–4 products with their
listed offers, the side-by-side table built from it, and saved comparison records (比价记录).

The live comparison page and a saved record render through the same path: :func:`build_snapshot`
reads the database, :func:`comparison_table` turns a snapshot into rows and marks. A record is the
snapshot frozen at the moment it was saved, so it reads exactly as the page did.

Services flush, never commit.
"""

from __future__ import annotations

from collections.abc import MutableMapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import Select, exists, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from app.auth.models import Role, User
from app.catalog.charts import LOCAL_TZ, local_day
from app.catalog.display import format_spec_value, is_blank
from app.catalog.models import Category, Offer, OfferStatus, Product
from app.compare.models import ComparisonRecord
from app.core.db import utcnow
from app.core.money import to_money
from app.extensions import db

SESSION_KEY = "compare"
MAX_PRODUCTS = 4
MIN_PRODUCTS = 2
SNAPSHOT_VERSION = 1
NUMBER_PREFIX = "BJ"
NUMBER_ATTEMPTS = 5  # a concurrent save may take the number we computed; then take the next

# Who reads saved records: the purchasing unit's own staff, and oversight (every unit's records).
RECORD_READERS = (Role.PURCHASER, Role.APPROVER, Role.OPERATOR, Role.REGULATOR, Role.FINANCE)
ALL_ORGANIZATIONS_READERS = frozenset({Role.OPERATOR, Role.REGULATOR, Role.FINANCE})


class CompareError(ValueError):
    """A request the compare list or a save cannot honour; the message is for the user."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


# --------------------------------------------------------------------------------------------
# The compare list (session["compare"]: product ids in the order they were added)


def compare_ids(session: MutableMapping) -> list[int]:
    """The ids in the session, cleaned: integers, no duplicates, at most MAX_PRODUCTS."""
    raw = session.get(SESSION_KEY)
    if not isinstance(raw, list):
        return []
    ids: list[int] = []
    for value in raw:
        if isinstance(value, int) and not isinstance(value, bool) and value > 0 and value not in ids:
            ids.append(value)
    return ids[:MAX_PRODUCTS]


def _store(session: MutableMapping, ids: list[int]) -> None:
    session[SESSION_KEY] = list(ids)


def active_product(product_id: int) -> Product | None:
    return db.session.scalar(
        select(Product)
        .where(Product.id == product_id, Product.is_active.is_(True))
        .options(selectinload(Product.category))
    )


def products_in_order(ids: Sequence[int]) -> list[Product]:
    """The active products among ``ids``, in the order of ``ids``, with their registries loaded."""
    if not ids:
        return []
    found = {
        p.id: p
        for p in db.session.scalars(
            select(Product)
            .where(Product.id.in_(list(ids)), Product.is_active.is_(True))
            .options(selectinload(Product.category).selectinload(Category.attributes))
        )
    }
    return [found[i] for i in ids if i in found]


@dataclass
class AddResult:
    product: Product
    ids: list[int]
    added: bool  # False: it was already in the list
    other_categories: list[str] = field(default_factory=list)  # names, when they differ


def add_to_compare(session: MutableMapping, product_id: int) -> AddResult:
    product = active_product(product_id)
    if product is None:
        raise CompareError(_("商品不存在或已下架，未加入对比。"))
    current = products_in_order(compare_ids(session))
    ids = [p.id for p in current]  # products delisted since they were added drop out here
    if product.id in ids:
        _store(session, ids)
        return AddResult(product=product, ids=ids, added=False)
    if len(ids) >= MAX_PRODUCTS:
        _store(session, ids)
        raise CompareError(_("对比列表最多只能放 %(max)s 件商品，请先移除一件再加入。", max=MAX_PRODUCTS))
    ids.append(product.id)
    _store(session, ids)
    others = sorted({p.category.name for p in current if p.category_id != product.category_id})
    return AddResult(product=product, ids=ids, added=True, other_categories=others)


def remove_from_compare(session: MutableMapping, product_id: int) -> bool:
    ids = compare_ids(session)
    if product_id not in ids:
        return False
    ids.remove(product_id)
    _store(session, ids)
    return True


def clear_compare(session: MutableMapping) -> None:
    session.pop(SESSION_KEY, None)


def prune_compare(session: MutableMapping) -> tuple[list[Product], int]:
    """The active products of the list; products delisted since they were added are removed from
    the session. Returns the products and how many were removed."""
    ids = compare_ids(session)
    products = products_in_order(ids)
    removed = len(ids) - len(products)
    if SESSION_KEY in session and (removed or session[SESSION_KEY] != ids):
        _store(session, [p.id for p in products])
    return products, removed


# --------------------------------------------------------------------------------------------
# Snapshot: everything a comparison shows, as plain JSON


def money_text(amount: Decimal | None) -> str | None:
    return None if amount is None else str(to_money(amount))


def listed_offers(product_ids: Sequence[int]) -> dict[int, list[Offer]]:
    """The listed offers of each product, cheapest first (then by id), read from the database."""
    offers: dict[int, list[Offer]] = {pid: [] for pid in product_ids}
    if not product_ids:
        return offers
    for offer in db.session.scalars(
        select(Offer)
        .where(Offer.product_id.in_(list(product_ids)), Offer.status == OfferStatus.LISTED)
        .options(selectinload(Offer.supplier))
        .order_by(Offer.price, Offer.id)
    ):
        offers[offer.product_id].append(offer)
    return offers


def _attribute_rows(products: Sequence[Product]) -> list[dict]:
    """The union of the products' category registries, keyed by attribute code (shared attributes
    keep one code across categories), in registry order, first category first."""
    rows: dict[str, dict] = {}
    seen_categories: set[int] = set()
    for product in products:
        category = product.category
        if category.id in seen_categories:
            continue
        seen_categories.add(category.id)
        for attribute in category.attributes:
            enum_values = list(attribute.enum_values) if attribute.enum_values else None
            row = rows.get(attribute.code)
            if row is None:
                rows[attribute.code] = {
                    "code": attribute.code,
                    "label_zh": attribute.label_zh,
                    "label_en": attribute.label_en,
                    "type": str(attribute.type),
                    "unit": attribute.unit,
                    "comparable": attribute.comparable,
                    "better": str(attribute.better) if attribute.better else None,
                    "enum_values": enum_values,
                    "category_codes": [category.code],
                }
                continue
            row["category_codes"].append(category.code)
            # Only what every category agrees on can rank values across them.
            row["comparable"] = row["comparable"] and attribute.comparable
            if row["better"] != (str(attribute.better) if attribute.better else None):
                row["better"] = None
            if row["enum_values"] != enum_values:
                row["enum_values"] = None
    return list(rows.values())


def _offer_entry(offer: Offer) -> dict:
    return {
        "offer_id": offer.id,
        "supplier_id": offer.supplier_id,
        "supplier_name": offer.supplier.name,
        "supplier_sme": offer.supplier.is_sme,
        "price": money_text(offer.price),
        "market_price": money_text(offer.market_price),
        "market_price_source": offer.market_price_source,
        "in_stock": offer.stock > 0,
        "regions": list(offer.regions or []),
        "warranty_months": offer.warranty_months,
        "lead_time_days": offer.lead_time_days,
    }


def build_snapshot(products: Sequence[Product], now: datetime | None = None) -> dict:
    """The comparison of ``products`` as it stands in the database now: registry rows, specs,
    every listed offer with its price. Money is a two-place string, as on the API."""
    now = now or utcnow()
    offers = listed_offers([p.id for p in products])
    entries = []
    for product in products:
        product_offers = offers[product.id]
        lowest = product_offers[0] if product_offers else None
        entries.append(
            {
                "product_id": product.id,
                "name": product.name,
                "brand": product.brand,
                "model": product.model,
                "manufacturer": product.manufacturer,
                "category_code": product.category.code,
                "category_name": product.category.name,
                "catalog_version": product.category.catalog_version,
                "origin": str(product.origin),
                "energy_saving": product.energy_saving,
                "environmental": product.environmental,
                "specs": dict(product.specs or {}),
                "offers": [_offer_entry(o) for o in product_offers],
                "lowest_offer_id": lowest.id if lowest else None,
                "lowest_price": money_text(lowest.price) if lowest else None,
            }
        )
    return {
        "version": SNAPSHOT_VERSION,
        "saved_at": now.isoformat(),
        "attributes": _attribute_rows(products),
        "products": entries,
    }


def overall_lowest(snapshot: dict) -> tuple[Decimal, int] | None:
    """The lowest listed price over every compared product's offers, and its offer (ties: the
    lower offer id)."""
    best: tuple[Decimal, int] | None = None
    for product in snapshot["products"]:
        for offer in product["offers"]:
            candidate = (Decimal(offer["price"]), offer["offer_id"])
            if best is None or candidate < best:
                best = candidate
    return best


def lowest_entry(snapshot: dict) -> dict | None:
    """The offer holding the overall lowest price, with its product's name, from a snapshot."""
    found = overall_lowest(snapshot)
    if found is None:
        return None
    for product in snapshot["products"]:
        for offer in product["offers"]:
            if offer["offer_id"] == found[1]:
                return {**offer, "product_id": product["product_id"], "product_name": product["name"]}
    return None  # pragma: no cover - overall_lowest found it in the same snapshot


# --------------------------------------------------------------------------------------------
# The comparison table


@dataclass
class Cell:
    text: str
    applicable: bool = True  # False: the product's category has no such attribute
    best: bool = False


@dataclass
class Row:
    key: str
    label_zh: str
    label_en: str
    unit: str | None
    cells: list[Cell]
    differs: bool
    ranked: bool = False  # some cell is marked best
    section: str = "specs"  # "basic" or "specs"

    def label(self, locale: str) -> str:
        return self.label_en if locale == "en" and self.label_en else self.label_zh


@dataclass
class Column:
    product: dict  # the snapshot's product entry
    lowest_price: Decimal | None
    supplier_count: int
    is_lowest: bool


@dataclass
class ComparisonTable:
    columns: list[Column]
    rows: list[Row]
    category_names: list[str]

    @property
    def categories_differ(self) -> bool:
        return len(self.category_names) > 1

    @property
    def difference_count(self) -> int:
        return sum(1 for row in self.rows if row.differs)

    def visible_rows(self, only_differences: bool) -> list[Row]:
        return [row for row in self.rows if row.differs or not only_differences]


def _normalized(value: Any, type_: str) -> Any:
    """A value as compared for "有差异": 16 and 16.0 are the same, "A4 " and "A4" too."""
    if is_blank(value):
        return None
    if isinstance(value, bool):
        return value
    if type_ == "number" and not isinstance(value, str):
        try:
            return Decimal(str(value)).normalize()
        except InvalidOperation:
            return str(value)
    return str(value).strip()


def _rank(value: Any, attribute: dict) -> Decimal | None:
    """A number where larger means further along the attribute's ``better`` direction's axis:
    the value for numbers and booleans (True counts higher), the position in ``enum_values``
    for enums (see app/catalog/registry.py). None when the value cannot be ranked."""
    type_ = attribute["type"]
    if value is None:
        return None
    if type_ == "bool" and isinstance(value, bool):
        return Decimal(int(value))
    if type_ == "number" and isinstance(value, Decimal):
        return value
    if type_ == "enum":
        values = attribute.get("enum_values")
        if values and value in values:
            return Decimal(values.index(value))
    return None


def best_flags(values: Sequence[Any], attribute: dict) -> list[bool]:
    """Which of the (normalized) values are best for a comparable attribute with ``better`` set:
    the highest rank for "higher", the lowest for "lower"; ties are all best. Nothing is marked
    when fewer than two different rankable values exist."""
    if not attribute.get("comparable") or attribute.get("better") not in ("higher", "lower"):
        return [False] * len(values)
    ranks = [_rank(v, attribute) for v in values]
    present = {r for r in ranks if r is not None}
    if len(present) < 2:
        return [False] * len(values)
    target = max(present) if attribute["better"] == "higher" else min(present)
    return [r == target for r in ranks]


def _basic_rows(products: list[dict]) -> list[Row]:
    """Rows every product has: category, manufacturer, origin and the policy flags."""
    origins = {"domestic": _("国产"), "imported": _("进口")}
    yes, no = _("是"), _("否")
    definitions = [
        ("category", _("品目"), lambda p: f"{p['category_code']} {p['category_name']}"),
        ("manufacturer", _("制造商"), lambda p: p["manufacturer"]),
        ("origin", _("产地"), lambda p: origins.get(p["origin"], p["origin"])),
        ("energy_saving", _("节能产品"), lambda p: yes if p["energy_saving"] else no),
        ("environmental", _("环境标志产品"), lambda p: yes if p["environmental"] else no),
    ]
    rows = []
    for key, label, get in definitions:
        texts = [get(p) for p in products]
        rows.append(
            Row(
                key=key,
                label_zh=label,  # already in the reader's language
                label_en=label,
                unit=None,
                cells=[Cell(text) for text in texts],
                differs=len(set(texts)) > 1,
                section="basic",
            )
        )
    return rows


def comparison_table(snapshot: dict) -> ComparisonTable:
    products = snapshot["products"]
    lowest_prices = [Decimal(p["lowest_price"]) if p.get("lowest_price") else None for p in products]
    priced = [price for price in lowest_prices if price is not None]
    cheapest = min(priced) if priced else None
    columns = [
        Column(
            product=p,
            lowest_price=price,
            supplier_count=len({o["supplier_id"] for o in p["offers"]}),
            is_lowest=price is not None and price == cheapest and len(products) > 1,
        )
        for p, price in zip(products, lowest_prices, strict=True)
    ]
    rows = _basic_rows(products)
    for attribute in snapshot["attributes"]:
        categories = set(attribute.get("category_codes") or ())
        applicable = [p["category_code"] in categories for p in products]
        raw = [
            p["specs"].get(attribute["code"]) if ok else None
            for p, ok in zip(products, applicable, strict=True)
        ]
        normalized = [_normalized(v, attribute["type"]) for v in raw]
        flags = best_flags(normalized, attribute)
        cells = [
            Cell(
                text=format_spec_value(value, attribute["type"], attribute["unit"], with_unit=False)
                if ok
                else _("不适用"),
                applicable=ok,
                best=flag,
            )
            for value, ok, flag in zip(raw, applicable, flags, strict=True)
        ]
        rows.append(
            Row(
                key=attribute["code"],
                label_zh=attribute["label_zh"],
                label_en=attribute["label_en"],
                unit=attribute["unit"],
                cells=cells,
                differs=len({repr(v) for v in normalized}) > 1,
                ranked=any(flags),
            )
        )
    names = []
    for p in products:
        if p["category_name"] not in names:
            names.append(p["category_name"])
    return ComparisonTable(columns=columns, rows=rows, category_names=names)


# --------------------------------------------------------------------------------------------
# Comparison records


def record_number_prefix(day_text: str) -> str:
    return f"{NUMBER_PREFIX}-{day_text}-"


def next_record_number(now: datetime) -> str:
    """``BJ-YYYYMMDD-NNNN``: the day in China and the next number of that day's sequence."""
    prefix = record_number_prefix(local_day(now, LOCAL_TZ).strftime("%Y%m%d"))
    last = db.session.scalar(
        select(ComparisonRecord.number)
        .where(ComparisonRecord.number.startswith(prefix, autoescape=True))
        .order_by(func.length(ComparisonRecord.number).desc(), ComparisonRecord.number.desc())
        .limit(1)
    )
    sequence = int(last[len(prefix) :]) + 1 if last else 1
    return f"{prefix}{sequence:04d}"


def default_title(products: Sequence[Product]) -> str:
    names = []
    for product in products:
        if product.category.name not in names:
            names.append(product.category.name)
    title = _("%(categories)s比价（%(count)s 件商品）", categories="、".join(names), count=len(products))
    return title[:200]


def save_record(
    user: User,
    product_ids: Sequence[int],
    *,
    title: str | None = None,
    note: str | None = None,
    now: datetime | None = None,
) -> ComparisonRecord:
    """Freeze the comparison of ``product_ids`` as a record of the user's organization. Prices are
    read from the database here, never taken from the request."""
    if user.role is not Role.PURCHASER:
        raise CompareError(_("只有采购经办人可以保存比价记录。"))
    ids = list(dict.fromkeys(product_ids))
    if not MIN_PRODUCTS <= len(ids) <= MAX_PRODUCTS:
        raise CompareError(_("比价记录需要 %(min)s–%(max)s 件商品。", min=MIN_PRODUCTS, max=MAX_PRODUCTS))
    products = products_in_order(ids)
    if len(products) != len(ids):
        raise CompareError(_("对比的商品中有已下架的商品，请刷新对比页后重新保存。"))
    now = now or utcnow()
    snapshot = build_snapshot(products, now)
    lowest = overall_lowest(snapshot)
    if lowest is None:
        raise CompareError(_("对比的商品都没有在售报价，不能保存比价记录。"))
    record = ComparisonRecord(
        organization_id=user.organization_id,
        created_by_id=user.id,
        created_at=now,
        title=(title or "").strip()[:200] or default_title(products),
        note=(note or "").strip()[:1000],
        product_ids=[p.id for p in products],
        product_count=len(products),
        snapshot=snapshot,
        lowest_price=lowest[0],
        lowest_offer_id=lowest[1],
    )
    _insert_with_number(record, now)
    return record


def _insert_with_number(record: ComparisonRecord, now: datetime) -> None:
    """Give the record the next number of the day and insert it. Two saves at the same moment may
    compute the same number; the unique constraint refuses the second, which then rolls back to
    its savepoint and takes the next one."""
    for attempt in range(NUMBER_ATTEMPTS):
        record.number = next_record_number(now)
        try:
            with db.session.begin_nested():
                db.session.add(record)
                db.session.flush()
            return
        except IntegrityError:
            taken = db.session.scalar(select(exists().where(ComparisonRecord.number == record.number)))
            if not taken or attempt == NUMBER_ATTEMPTS - 1:
                raise


def visible_records(user: User) -> Select:
    """The records a user may read: their organization's, or every one for oversight roles."""
    query = select(ComparisonRecord)
    if user.role not in ALL_ORGANIZATIONS_READERS:
        query = query.where(ComparisonRecord.organization_id == user.organization_id)
    return query
