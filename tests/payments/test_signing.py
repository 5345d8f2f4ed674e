"""Stripe-Signature: sign, parse and verify (no database)."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from app.payments import signing

BODY = b'{"id":"evt_1","type":"payment_intent.succeeded"}'
SECRET = "whsec_one"
NOW = 1_800_000_000


def test_the_signature_is_hex_hmac_sha256_of_timestamp_dot_body():
    header = signing.sign_header(SECRET, BODY, NOW)
    expected = hmac.new(SECRET.encode(), f"{NOW}.".encode() + BODY, hashlib.sha256).hexdigest()
    assert header == f"t={NOW},v1={expected}"
    assert signing.verify(BODY, header, SECRET, now=NOW) == NOW


def test_one_signature_per_secret_and_any_match_verifies():
    header = signing.sign_header(["whsec_old", "whsec_new"], BODY, NOW)
    assert header.count("v1=") == 2
    assert signing.verify(BODY, header, ["whsec_new"], now=NOW) == NOW
    assert signing.verify(BODY, header, ["whsec_other", "whsec_old"], now=NOW) == NOW


def test_other_schemes_are_ignored():
    good = signing.compute(SECRET, NOW, BODY)
    header = f"t={NOW},v0=deadbeef,v1={good}"
    assert signing.verify(BODY, header, SECRET, now=NOW) == NOW


@pytest.mark.parametrize(
    ("header", "reason"),
    [
        (None, "missing"),
        ("", "missing"),
        ("garbage", "malformed"),
        ("t=abc,v1=00", "malformed"),
        ("t=-5,v1=00", "malformed"),
        (f"t={NOW}", "malformed"),
        ("v1=00", "malformed"),
        (f"t={NOW},t={NOW},v1=00", "malformed"),
        (f"t={NOW},v1=", "malformed"),
        (f"t={NOW}," + "v1=" + "a" * 5000, "malformed"),
        (f"t={NOW},v1=00", "mismatch"),
        (f"t={NOW},v1=ffff\u00e9", "mismatch"),
    ],
)
def test_malformed_and_wrong_headers_are_refused(header, reason):
    with pytest.raises(signing.SignatureError) as caught:
        signing.verify(BODY, header, SECRET, now=NOW)
    assert caught.value.reason == reason


def test_a_wrong_secret_a_changed_body_and_a_changed_timestamp_are_refused():
    header = signing.sign_header(SECRET, BODY, NOW)
    for body, head, secret in [
        (BODY, header, "whsec_two"),
        (BODY + b" ", header, SECRET),
        (BODY, header.replace(f"t={NOW}", f"t={NOW + 1}"), SECRET),
    ]:
        with pytest.raises(signing.SignatureError) as caught:
            signing.verify(body, head, secret, now=NOW)
        assert caught.value.reason == "mismatch"


@pytest.mark.parametrize(("offset", "ok"), [(-301, False), (-300, True), (300, True), (301, False)])
def test_the_timestamp_must_be_within_the_tolerance_either_way(offset, ok):
    header = signing.sign_header(SECRET, BODY, NOW + offset)
    if ok:
        assert signing.verify(BODY, header, SECRET, now=NOW, tolerance=300) == NOW + offset
    else:
        with pytest.raises(signing.SignatureError) as caught:
            signing.verify(BODY, header, SECRET, now=NOW, tolerance=300)
        assert caught.value.reason == "stale"


def test_no_configured_secret_verifies_nothing():
    header = signing.sign_header("", BODY, NOW)
    with pytest.raises(signing.SignatureError):
        signing.verify(BODY, header, [], now=NOW)
    with pytest.raises(signing.SignatureError):
        signing.verify(BODY, header, "", now=NOW)
