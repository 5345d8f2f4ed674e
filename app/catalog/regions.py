"""Provincial-level divisions of GB/T 2260 (中华人民共和国行政区划代码): code → name.

Offers keep their delivery regions as six-digit province codes (``320000``); pages show names.
The 34 provincial-level divisions: 23 provinces (including 台湾省), 5 autonomous regions,
4 municipalities and 2 special administrative regions.
"""

from __future__ import annotations

from collections.abc import Iterable

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
