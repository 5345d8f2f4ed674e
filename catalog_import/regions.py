"""Delivery regions: province-level divisions of GB/T 2260, written by suppliers as names, short
names or codes (``江苏省、浙江``, ``320000,330000``) or ``全国``.

The code → name table lives here (this package never imports the app); ``app.catalog.regions``
re-exports it.
"""

from __future__ import annotations

import re
import unicodedata

PROVINCES: dict[str, str] = {
    "110000": "北京市",
    "120000": "天津市",
    "130000": "河北省",
    "140000": "山西省",
    "150000": "内蒙古自治区",
    "210000": "辽宁省",
    "220000": "吉林省",
    "230000": "黑龙江省",
    "310000": "上海市",
    "320000": "江苏省",
    "330000": "浙江省",
    "340000": "安徽省",
    "350000": "福建省",
    "360000": "江西省",
    "370000": "山东省",
    "410000": "河南省",
    "420000": "湖北省",
    "430000": "湖南省",
    "440000": "广东省",
    "450000": "广西壮族自治区",
    "460000": "海南省",
    "500000": "重庆市",
    "510000": "四川省",
    "520000": "贵州省",
    "530000": "云南省",
    "540000": "西藏自治区",
    "610000": "陕西省",
    "620000": "甘肃省",
    "630000": "青海省",
    "640000": "宁夏回族自治区",
    "650000": "新疆维吾尔自治区",
    "710000": "台湾省",
    "810000": "香港特别行政区",
    "820000": "澳门特别行政区",
}

# The 31 provincial-level divisions of the mainland: what 全国 means for delivery.
MAINLAND: tuple[str, ...] = tuple(sorted(code for code in PROVINCES if code < "700000"))
NATIONWIDE_WORDS = frozenset({"全国", "全国范围", "全国各地", "全部地区"})

_SUFFIXES = ("维吾尔自治区", "壮族自治区", "回族自治区", "特别行政区", "自治区", "省", "市")


def _short(name: str) -> str:
    for suffix in _SUFFIXES:
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return name


_BY_TOKEN: dict[str, str] = {}
for _code, _name in PROVINCES.items():
    _BY_TOKEN[_code] = _code
    _BY_TOKEN[_name] = _code
    _BY_TOKEN[_short(_name)] = _code
_BY_TOKEN["内蒙"] = "150000"

SEPARATORS = re.compile(r"[、,，;；/|\s]+")


class RegionError(ValueError):
    def __init__(self, unknown: list[str]):
        self.unknown = unknown
        super().__init__("、".join(unknown))


def parse_regions(text: str) -> tuple[str, ...]:
    """Province codes, sorted and unique. Raises :class:`RegionError` listing what it could not
    read; an empty text gives an empty tuple (the caller decides whether that is allowed)."""
    tokens = [t for t in SEPARATORS.split(unicodedata.normalize("NFKC", text).strip()) if t]
    codes: set[str] = set()
    unknown: list[str] = []
    for token in tokens:
        if token in NATIONWIDE_WORDS:
            codes.update(MAINLAND)
            continue
        code = _BY_TOKEN.get(token)
        if code is None:
            unknown.append(token)
        else:
            codes.add(code)
    if unknown:
        raise RegionError(unknown)
    return tuple(sorted(codes))


def format_regions(codes: tuple[str, ...] | list[str]) -> str:
    """The supplier-facing spelling: ``全国`` when all of the mainland is covered, else names."""
    unique = set(codes)
    if unique >= set(MAINLAND):
        rest = sorted(unique - set(MAINLAND))
        return "、".join(["全国", *(PROVINCES.get(c, c) for c in rest)])
    return "、".join(PROVINCES.get(c, c) for c in sorted(unique))
