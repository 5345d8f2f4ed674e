"""Provincial-level divisions of GB/T 2260 (中华人民共和国行政区划代码): code → name.

Offers keep their delivery regions as six-digit province codes (``320000``); pages show names.
The 34 provincial-level divisions: 23 provinces (including 台湾省), 5 autonomous regions,
4 municipalities and 2 special administrative regions.
"""

from __future__ import annotations

from collections.abc import Iterable

import catalog_import.regions as import_regions

PROVINCES = import_regions.PROVINCES  # one table, kept in the import library the app builds on

# The 31 provincial-level divisions of the mainland: an offer delivering to all of them is "全国".
MAINLAND: frozenset[str] = frozenset(code for code in PROVINCES if code < "700000")


def province_name(code: str) -> str:
    """The name of a province code; an unknown code is shown as it is rather than dropped."""
    return PROVINCES.get(code, code)


def region_names(codes: Iterable[str]) -> list[str]:
    """Names in code order (the order of GB/T 2260), without duplicates."""
    return [province_name(code) for code in sorted(set(codes))]


def covers_mainland(codes: Iterable[str]) -> bool:
    return set(codes) >= MAINLAND
