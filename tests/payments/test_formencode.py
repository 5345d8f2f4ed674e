"""Stripe's bracketed form encoding, both ways (no database)."""

from __future__ import annotations

from decimal import Decimal
from urllib.parse import parse_qsl

import pytest

from app.payments import formencode


def test_nested_dicts_lists_and_booleans_flatten_to_bracketed_keys():
    pairs = formencode.flatten(
        {
            "amount": 600000,
            "currency": "cny",
            "metadata": {"order_no": "DD1", "批次": "一"},
            "payment_method_types": ["card"],
            "confirm": True,
            "description": None,
        }
    )
    assert pairs == [
        ("amount", "600000"),
        ("currency", "cny"),
        ("metadata[order_no]", "DD1"),
        ("metadata[批次]", "一"),
        ("payment_method_types[0]", "card"),
        ("confirm", "true"),
    ]


def test_encode_is_url_encoded_and_decodes_back():
    body = formencode.encode({"amount": 1, "metadata": {"order_no": "D 1&2"}})
    assert body == "amount=1&metadata%5Border_no%5D=D+1%262"
    assert formencode.decode(parse_qsl(body)) == {"amount": "1", "metadata": {"order_no": "D 1&2"}}


@pytest.mark.parametrize("value", [Decimal("1.00"), 1.0])
def test_amounts_must_already_be_integer_fen(value):
    with pytest.raises(TypeError, match="integer fen"):
        formencode.encode({"amount": value})


def test_decode_reads_empty_brackets_as_a_list_and_nests():
    assert formencode.decode([("expand[]", "a"), ("expand[]", "b"), ("a[b][c]", "1")]) == {
        "expand": ["a", "b"],
        "a": {"b": {"c": "1"}},
    }


@pytest.mark.parametrize(
    "key",
    ["metadata[", "meta]data", "[x]", "a[b]c", "a[b][c][d][e]", "", "a b"],
)
def test_decode_refuses_malformed_names(key):
    with pytest.raises(formencode.FormDecodeError) as caught:
        formencode.decode([(key, "1")])
    assert caught.value.param == key


def test_decode_refuses_a_key_used_as_both_value_and_hash():
    with pytest.raises(formencode.FormDecodeError):
        formencode.decode([("metadata", "x"), ("metadata[a]", "1")])
    with pytest.raises(formencode.FormDecodeError):
        formencode.decode([("metadata[a]", "1"), ("metadata", "x")])
