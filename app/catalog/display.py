"""How spec values read on a page: numbers without float noise or trailing zeros, booleans as
是/否, a missing value as a dash. Shared by the product page and the comparison pages."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from flask_babel import gettext as _

DASH = "—"


def format_number(value: Any) -> str:
    """``16`` → ``16``, ``15.60`` → ``15.6``, ``1e3`` → ``1000``; never scientific notation."""
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return str(value)
    if not number.is_finite():
        return str(value)
    text = format(number.normalize(), "f")
    return "0" if text in ("-0", "") else text


def is_blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def format_spec_value(value: Any, type_: str, unit: str | None = None, *, with_unit: bool = True) -> str:
    """One spec value for people. ``type_`` is the attribute type (number/enum/text/bool)."""
    if is_blank(value):
        return DASH
    if isinstance(value, bool):
        return _("是") if value else _("否")
    if str(type_) == "number" and not isinstance(value, str):
        text = format_number(value)
        return f"{text} {unit}" if unit and with_unit else text
    return str(value).strip()
