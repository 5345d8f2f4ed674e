"""Stripe's request encoding: ``application/x-www-form-urlencoded`` with bracketed keys.

``{"amount": 100, "metadata": {"order_no": "D1"}}`` travels as ``amount=100&metadata[order_no]=D1``;
lists as ``key[0]=a&key[1]=b`` (``key[]=a`` is read too); booleans as ``true``/``false``. Money
never travels as a decimal here: amounts are integer fen (see :func:`app.core.money.to_fen`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

MAX_DEPTH = 4
_KEY = re.compile(r"^([A-Za-z0-9_\-.]+)((?:\[[^\[\]]*\])*)$")
_SEGMENT = re.compile(r"\[([^\[\]]*)\]")


class FormDecodeError(ValueError):
    def __init__(self, message: str, param: str):
        super().__init__(message)
        self.message = message
        self.param = param


def flatten(params: Mapping[str, Any], prefix: str | None = None) -> list[tuple[str, str]]:
    pairs: list[tuple[str, str]] = []
    for key, value in params.items():
        name = f"{prefix}[{key}]" if prefix else str(key)
        pairs.extend(_flatten_value(name, value))
    return pairs


def _flatten_value(name: str, value: Any) -> list[tuple[str, str]]:
    if value is None:
        return []
    if isinstance(value, Mapping):
        return flatten(value, name)
    if isinstance(value, list | tuple):
        pairs: list[tuple[str, str]] = []
        for index, item in enumerate(value):
            pairs.extend(_flatten_value(f"{name}[{index}]", item))
        return pairs
    if isinstance(value, bool):
        return [(name, "true" if value else "false")]
    if isinstance(value, float | Decimal):
        raise TypeError(f"{name}: send amounts as integer fen, not {type(value).__name__}")
    if isinstance(value, int | str):
        return [(name, str(value))]
    raise TypeError(f"{name}: cannot form-encode {type(value).__name__}")


def encode(params: Mapping[str, Any]) -> str:
    return urlencode(flatten(params))


def decode(pairs: Iterable[tuple[str, str]]) -> dict[str, Any]:
    """Nested dicts (and ``[]`` lists) from bracketed keys. Raises :class:`FormDecodeError`."""
    result: dict[str, Any] = {}
    for raw_key, value in pairs:
        match = _KEY.match(raw_key)
        if not match:
            raise FormDecodeError(f"Invalid parameter name: {raw_key}", raw_key)
        path = [match.group(1), *_SEGMENT.findall(match.group(2))]
        if len(path) > MAX_DEPTH:
            raise FormDecodeError(f"Parameter nested too deeply: {raw_key}", raw_key)
        _assign(result, path, value, raw_key)
    return result


def _assign(target: dict[str, Any], path: list[str], value: str, raw_key: str) -> None:
    node: Any = target
    for position, segment in enumerate(path):
        last = position == len(path) - 1
        following = None if last else path[position + 1]
        if isinstance(node, list):
            if segment != "" or not last:
                raise FormDecodeError(f"Invalid array parameter: {raw_key}", raw_key)
            node.append(value)
            return
        if segment == "":
            raise FormDecodeError(f"Invalid parameter name: {raw_key}", raw_key)
        if last:
            if isinstance(node.get(segment), dict | list):
                raise FormDecodeError(f"Invalid hash or array parameter: {raw_key}", raw_key)
            node[segment] = value
            return
        child = node.get(segment)
        wanted = list if following == "" else dict
        if child is None:
            child = node[segment] = wanted()
        elif not isinstance(child, wanted):
            raise FormDecodeError(f"Conflicting types for parameter: {raw_key}", raw_key)
        node = child
