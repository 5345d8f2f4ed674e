"""Validate and coerce a product's specs against its category's attribute registry.

Pure Python: the registry is passed in as :class:`AttributeSpec` values, so the same rules serve
the web app, the API and catalog uploads. Messages are Chinese and say how to fix the value.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

TRUE_WORDS = {"是", "有", "支持", "true", "yes", "y", "1", "√"}
FALSE_WORDS = {"否", "无", "不支持", "false", "no", "n", "0", "×"}

# Unit spellings accepted for each canonical unit, compared after NFKC + lowercase.
UNIT_ALIASES: dict[str, tuple[str, ...]] = {
    "GB": ("gb", "g", "gib"),
    "TB": ("tb", "t", "tib"),
    "英寸": ("英寸", "寸", "inch", "in", '"'),
    "kg": ("kg", "公斤", "千克"),
    "mm": ("mm", "毫米"),
    "W": ("w", "瓦"),
    "Wh": ("wh",),
    "页/分钟": ("页/分钟", "ppm", "页/分"),
    "dpi": ("dpi",),
    "张": ("张",),
    "升": ("升", "l"),
    "个": ("个",),
    "克": ("克", "g/m2", "g/m²", "gsm"),  # not "g": that is GB in "16G"
    "月": ("月", "个月"),
    "Hz": ("hz",),
    "流明": ("流明", "lm", "ansi流明"),
    "VA": ("va",),
    "分钟": ("分钟", "min"),
    "页": ("页",),
    "口": ("口", "个"),
    "核": ("核",),
    "GHz": ("ghz",),
}

_NUMBER_WITH_UNIT = re.compile(r"^\s*([-+]?\d+(?:\.\d+)?)\s*(.*?)\s*$")


@dataclass(frozen=True)
class AttributeSpec:
    code: str
    label: str
    type: str  # number | enum | text | bool
    unit: str | None = None
    required: bool = False
    enum_values: tuple[str, ...] = ()
    min_value: Decimal | None = None
    max_value: Decimal | None = None
    max_length: int = 200


@dataclass
class SpecResult:
    values: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.errors


def normalize_text(value: str) -> str:
    return unicodedata.normalize("NFKC", value).strip()


def coerce_number(spec: AttributeSpec, raw: Any) -> int | float:
    if isinstance(raw, bool):
        raise ValueError(f"「{spec.label}」应为数字")
    if isinstance(raw, int | Decimal):
        number = Decimal(raw)
    elif isinstance(raw, float):
        number = Decimal(repr(raw))
    else:
        text = normalize_text(str(raw))
        match = _NUMBER_WITH_UNIT.match(text)
        if not match:
            unit_hint = f"（单位：{spec.unit}）" if spec.unit else ""
            raise ValueError(f"「{spec.label}」应为数字{unit_hint}，例如 16，收到「{text[:40]}」")
        number = Decimal(match.group(1))
        unit = match.group(2).lower()
        if unit:
            accepted = UNIT_ALIASES.get(spec.unit or "", ())
            if spec.unit is None or (unit != spec.unit.lower() and unit not in accepted):
                expected = f"单位应为 {spec.unit}" if spec.unit else "不应带单位"
                raise ValueError(f"「{spec.label}」{expected}，收到「{text[:40]}」")
    if spec.min_value is not None and number < spec.min_value:
        raise ValueError(f"「{spec.label}」不能小于 {spec.min_value}{spec.unit or ''}")
    if spec.max_value is not None and number > spec.max_value:
        raise ValueError(f"「{spec.label}」不能大于 {spec.max_value}{spec.unit or ''}")
    # Integers stay integers in JSON so search and comparison see 16, not "16.0". Specs are
    # measurements, not money, so a float is the right JSON type for 15.6 inches.
    return int(number) if number == number.to_integral_value() else float(number)


def coerce_enum(spec: AttributeSpec, raw: Any) -> str:
    text = normalize_text(str(raw))
    for allowed in spec.enum_values:
        if text == allowed or text.lower() == allowed.lower():
            return allowed
    choices = "、".join(spec.enum_values[:12])
    raise ValueError(f"「{spec.label}」只能取以下值之一：{choices}；收到「{text[:40]}」")


def coerce_bool(spec: AttributeSpec, raw: Any) -> bool:
    if isinstance(raw, bool):
        return raw
    text = normalize_text(str(raw)).lower()
    if text in TRUE_WORDS:
        return True
    if text in FALSE_WORDS:
        return False
    raise ValueError(f"「{spec.label}」应填写“是”或“否”，收到「{text[:40]}」")


def coerce_text(spec: AttributeSpec, raw: Any) -> str:
    text = normalize_text(str(raw))
    if len(text) > spec.max_length:
        raise ValueError(f"「{spec.label}」不能超过 {spec.max_length} 个字符")
    return text


COERCERS = {"number": coerce_number, "enum": coerce_enum, "bool": coerce_bool, "text": coerce_text}


def is_blank(raw: Any) -> bool:
    return raw is None or (isinstance(raw, str) and not raw.strip())


def validate_specs(registry: Iterable[AttributeSpec], raw: Mapping[str, Any]) -> SpecResult:
    """Coerce every value to its registry type; unknown codes and missing required values are
    errors. Returns the clean values only when there are no errors."""
    result = SpecResult()
    specs = {spec.code: spec for spec in registry}
    for code in raw:
        if code not in specs:
            result.errors[code] = f"未知的规格参数「{code}」，该品目没有此参数，请删除或检查参数代码"
    for code, spec in specs.items():
        value = raw.get(code)
        if is_blank(value):
            if spec.required:
                result.errors[code] = f"「{spec.label}」为必填项，请填写"
            continue
        try:
            result.values[code] = COERCERS[spec.type](spec, value)
        except (ValueError, InvalidOperation) as exc:
            result.errors[code] = str(exc) if isinstance(exc, ValueError) else f"「{spec.label}」格式不正确"
    if result.errors:
        result.values = {}
    return result
