"""Validate and coerce a product's specs against its category's attribute registry.

Pure Python: the registry is passed in as :class:`AttributeSpec` values, so the same rules serve
the web app, the API and catalog uploads. Messages are Chinese and say how to fix the value.

Every message exists in two forms: ``SpecResult.errors`` holds it with the attribute's label in
front (``「内存容量」应为数字…``, for a form field), ``SpecResult.details`` without the label
(``应为数字…``, for an upload that names the row and the column itself).
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
    label_en: str = ""
    # A valid value shown in templates and messages; derived from the type and range when empty.
    example: str = ""

    def example_value(self) -> str:
        if self.example:
            return self.example
        if self.type == "enum":
            return self.enum_values[0] if self.enum_values else ""
        if self.type == "bool":
            return "是"
        if self.type == "number":
            return _format_number(example_number(self)) + (self.unit or "")
        return "（文字）"


def example_number(spec: AttributeSpec) -> Decimal:
    """16 when the range allows it (memory, the classic example), else a round value inside."""
    low, high = spec.min_value, spec.max_value
    candidate = Decimal(16)
    if (low is None or candidate >= low) and (high is None or candidate <= high):
        return candidate
    if low is not None and high is not None:
        middle = (low + high) / 2
        step = Decimal(1).scaleb(middle.adjusted() - 1)  # two significant digits
        if low == low.to_integral_value() and high == high.to_integral_value():
            step = max(step, Decimal(1))  # whole bounds suggest a count: no 4.5 processors
        rounded = middle.quantize(step)
        return rounded if low <= rounded <= high else low
    return low if low is not None else high  # type: ignore[return-value]


def _format_number(number: Decimal) -> str:
    text = format(number.normalize(), "f")
    return text


class SpecValueError(ValueError):
    """A value that does not fit its attribute. ``str()`` is the form-field message with the label
    (``「内存容量」应为数字…``); ``detail`` is the same without it."""

    def __init__(self, label: str, detail: str):
        super().__init__(f"「{label}」{detail}")
        self.label = label
        self.detail = detail


@dataclass
class SpecResult:
    values: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    details: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.errors


def normalize_text(value: str) -> str:
    return unicodedata.normalize("NFKC", value).strip()


def coerce_number(spec: AttributeSpec, raw: Any) -> int | float:
    if isinstance(raw, bool):
        raise SpecValueError(spec.label, "应为数字")
    if isinstance(raw, int | Decimal):
        number = Decimal(raw)
    elif isinstance(raw, float):
        number = Decimal(repr(raw))
    else:
        text = normalize_text(str(raw))
        match = _NUMBER_WITH_UNIT.match(text)
        if not match:
            unit_hint = f"（单位：{spec.unit}）" if spec.unit else ""
            example = _format_number(example_number(spec))
            raise SpecValueError(spec.label, f"应为数字{unit_hint}，例如 {example}，收到「{text[:40]}」")
        number = Decimal(match.group(1))
        unit = match.group(2).lower()
        if unit:
            accepted = UNIT_ALIASES.get(spec.unit or "", ())
            if spec.unit is None or (unit != spec.unit.lower() and unit not in accepted):
                expected = f"单位应为 {spec.unit}" if spec.unit else "不应带单位"
                raise SpecValueError(spec.label, f"{expected}，收到「{text[:40]}」")
    if not number.is_finite():
        raise SpecValueError(spec.label, "应为数字")
    if spec.min_value is not None and number < spec.min_value:
        raise SpecValueError(spec.label, f"不能小于 {spec.min_value}{spec.unit or ''}")
    if spec.max_value is not None and number > spec.max_value:
        raise SpecValueError(spec.label, f"不能大于 {spec.max_value}{spec.unit or ''}")
    # Integers stay integers in JSON so search and comparison see 16, not "16.0". Specs are
    # measurements, not money, so a float is the right JSON type for 15.6 inches.
    return int(number) if number == number.to_integral_value() else float(number)


def coerce_enum(spec: AttributeSpec, raw: Any) -> str:
    text = normalize_text(str(raw))
    for allowed in spec.enum_values:
        if text == allowed or text.lower() == allowed.lower():
            return allowed
    choices = "、".join(spec.enum_values[:12])
    more = " 等" if len(spec.enum_values) > 12 else ""
    raise SpecValueError(spec.label, f"只能取以下值之一：{choices}{more}；收到「{text[:40]}」")


def coerce_bool(spec: AttributeSpec, raw: Any) -> bool:
    if isinstance(raw, bool):
        return raw
    text = normalize_text(str(raw)).lower()
    if text in TRUE_WORDS:
        return True
    if text in FALSE_WORDS:
        return False
    raise SpecValueError(spec.label, f"应填写“是”或“否”，收到「{text[:40]}」")


def coerce_text(spec: AttributeSpec, raw: Any) -> str:
    text = normalize_text(str(raw))
    if len(text) > spec.max_length:
        raise SpecValueError(spec.label, f"不能超过 {spec.max_length} 个字符")
    return text


COERCERS = {"number": coerce_number, "enum": coerce_enum, "bool": coerce_bool, "text": coerce_text}

REQUIRED_DETAIL = "为必填项，请填写"


def is_blank(raw: Any) -> bool:
    return raw is None or (isinstance(raw, str) and not raw.strip())


class SpecValidator:
    """``validate_specs`` with the registry compiled once, for validating many rows."""

    def __init__(self, registry: Iterable[AttributeSpec]):
        self.specs: dict[str, AttributeSpec] = {spec.code: spec for spec in registry}
        self._plan = [(code, spec, self._compile(spec)) for code, spec in self.specs.items()]

    @staticmethod
    def _compile(spec: AttributeSpec):
        coerce = COERCERS[spec.type]
        if spec.type != "enum":
            return coerce
        # Enum values by their exact and lower-cased spelling: one dict lookup per value; the
        # full coercer still produces the message when nothing matches.
        known = {value.lower(): value for value in reversed(spec.enum_values)}
        known.update({value: value for value in spec.enum_values})

        def coerce_known_enum(spec: AttributeSpec, raw: Any) -> str:
            if isinstance(raw, str):
                found = known.get(raw) or known.get(normalize_text(raw).lower())
                if found is not None:
                    return found
            return coerce(spec, raw)

        return coerce_known_enum

    def __call__(self, raw: Mapping[str, Any], *, require: bool = True) -> SpecResult:
        """Coerce every value to its registry type; unknown codes and (with ``require``) missing
        required values are errors. Returns the clean values only when there are no errors."""
        result = SpecResult()
        specs = self.specs
        for code in raw:
            if code not in specs:
                message = f"未知的规格参数「{code}」，该品目没有此参数，请删除或检查参数代码"
                result.errors[code] = result.details[code] = message
        for code, spec, coerce in self._plan:
            value = raw.get(code)
            if value is None or (isinstance(value, str) and not value.strip()):
                if spec.required and require:
                    result.errors[code] = f"「{spec.label}」{REQUIRED_DETAIL}"
                    result.details[code] = REQUIRED_DETAIL
                continue
            try:
                result.values[code] = coerce(spec, value)
            except SpecValueError as exc:
                result.errors[code] = str(exc)
                result.details[code] = exc.detail
            except (ValueError, InvalidOperation):
                result.errors[code] = f"「{spec.label}」格式不正确"
                result.details[code] = "格式不正确"
        if result.errors:
            result.values = {}
        return result


def validate_specs(registry: Iterable[AttributeSpec], raw: Mapping[str, Any]) -> SpecResult:
    """Coerce every value to its registry type; unknown codes and missing required values are
    errors. Returns the clean values only when there are no errors."""
    return SpecValidator(registry)(raw)


def format_spec_value(spec: AttributeSpec, value: Any) -> str:
    """A coerced value as a supplier would write it (``16GB``, ``是``, ``银河麒麟``)."""
    if value is None:
        return "（空）"
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, int | float) and spec.type == "number":
        number = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
        return _format_number(number) + (spec.unit or "")
    return str(value)
