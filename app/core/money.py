"""Money: Decimal CNY with 2 places, ``Numeric(14, 2)`` in the database, never float."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

import sqlalchemy as sa
from sqlalchemy.types import TypeDecorator

CENT = Decimal("0.01")
MONEY_PRECISION = 14


def to_money(value: Any) -> Decimal:
    """Parse and round to fen. Floats are refused: they have already lost the exact value."""
    if isinstance(value, float):
        raise TypeError("money must not be a float")
    try:
        amount = value if isinstance(value, Decimal) else Decimal(str(value).strip())
    except (InvalidOperation, ValueError) as exc:
        raise ValueError(f"不是有效的金额: {value!r}") from exc
    if not amount.is_finite():
        raise ValueError(f"不是有效的金额: {value!r}")
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def to_fen(amount: Decimal) -> int:
    """Integer minor units for the wire (payment providers)."""
    return int(to_money(amount) * 100)


def from_fen(fen: int) -> Decimal:
    return (Decimal(fen) / 100).quantize(CENT)


def format_cny(amount: Decimal | None) -> str:
    return "—" if amount is None else f"¥{to_money(amount):,.2f}"


class Money(TypeDecorator):
    """``NUMERIC(14, 2)`` on PostgreSQL. SQLite has no decimal type, so values are bound as exact
    decimal strings and read back through ``str`` → Decimal rounded to fen; every amount we store
    (< 10^12) survives that round trip exactly."""

    impl = sa.Numeric(MONEY_PRECISION, 2)
    cache_ok = True

    def load_dialect_impl(self, dialect):
        if dialect.name == "sqlite":
            return dialect.type_descriptor(sa.Numeric(MONEY_PRECISION, 2, asdecimal=False))
        return dialect.type_descriptor(sa.Numeric(MONEY_PRECISION, 2))

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        amount = to_money(value)
        return str(amount) if dialect.name == "sqlite" else amount

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if isinstance(value, float):
            value = repr(value)
        return to_money(value)

    @property
    def python_type(self):
        return Decimal
