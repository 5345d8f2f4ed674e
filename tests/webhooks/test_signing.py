"""Signatures against the Standard Webhooks reference test vector
(standard-webhooks/standard-webhooks, libraries/python/tests/test_webhooks.py::test_sign_function)."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime

import pytest

from app.webhooks import signing

SPEC_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
SPEC_MSG_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
SPEC_TIMESTAMP = 1614265330
SPEC_PAYLOAD = b'{"test": 2432232314}'
SPEC_SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def test_the_spec_test_vector():
    key = signing.secret_key(SPEC_SECRET)
    assert signing.signature(key, SPEC_MSG_ID, SPEC_TIMESTAMP, SPEC_PAYLOAD) == SPEC_SIGNATURE
    # The prefix is optional, as in the reference libraries.
    assert signing.secret_key(SPEC_SECRET.removeprefix("whsec_")) == key


def test_headers_and_verification_of_the_spec_vector():
    headers = signing.headers([signing.secret_key(SPEC_SECRET)], SPEC_MSG_ID, SPEC_TIMESTAMP, SPEC_PAYLOAD)
    assert headers == {
        "webhook-id": SPEC_MSG_ID,
        "webhook-timestamp": "1614265330",
        "webhook-signature": SPEC_SIGNATURE,
    }
    assert signing.verify(SPEC_SECRET, SPEC_PAYLOAD, headers, now=SPEC_TIMESTAMP + 10) == {"test": 2432232314}


def test_the_spec_near_miss_signature_is_refused():
    # The reference suite's invalid signature differs from the valid one in its last character.
    headers = {
        "webhook-id": SPEC_MSG_ID,
        "webhook-timestamp": str(SPEC_TIMESTAMP),
        "webhook-signature": "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OA=",
    }
    with pytest.raises(signing.VerificationError):
        signing.verify(SPEC_SECRET, SPEC_PAYLOAD, headers)


def test_several_signatures_any_one_matches():
    other = signing.new_secret()
    keys = [signing.secret_key(other), signing.secret_key(SPEC_SECRET)]
    header = signing.signature_header(keys, SPEC_MSG_ID, SPEC_TIMESTAMP, SPEC_PAYLOAD)
    first, second = header.split(" ")
    assert second == SPEC_SIGNATURE and first.startswith("v1,") and first != second
    sent = {"webhook-id": SPEC_MSG_ID, "webhook-timestamp": str(SPEC_TIMESTAMP), "webhook-signature": header}
    assert signing.verify(SPEC_SECRET, SPEC_PAYLOAD, sent) == {"test": 2432232314}
    assert signing.verify(other, SPEC_PAYLOAD, sent) == {"test": 2432232314}
    with pytest.raises(signing.VerificationError):
        signing.verify(signing.new_secret(), SPEC_PAYLOAD, sent)


@pytest.mark.parametrize("skew", [-301, 301])
def test_stale_or_future_timestamps_are_refused(skew):
    headers = signing.headers([signing.secret_key(SPEC_SECRET)], SPEC_MSG_ID, SPEC_TIMESTAMP, SPEC_PAYLOAD)
    with pytest.raises(signing.VerificationError):
        signing.verify(SPEC_SECRET, SPEC_PAYLOAD, headers, now=SPEC_TIMESTAMP + skew)


def test_a_tampered_body_is_refused():
    headers = signing.headers([signing.secret_key(SPEC_SECRET)], SPEC_MSG_ID, SPEC_TIMESTAMP, SPEC_PAYLOAD)
    with pytest.raises(signing.VerificationError):
        signing.verify(SPEC_SECRET, b'{"test": 2432232315}', headers)


def test_new_secrets_are_whsec_with_32_random_bytes():
    first, second = signing.new_secret(), signing.new_secret()
    assert first.startswith("whsec_") and first != second
    assert len(base64.b64decode(first.removeprefix("whsec_"))) == 32


@pytest.mark.parametrize(
    "bad", ["whsec_not base64!", "whsec_", "whsec_" + base64.b64encode(b"short").decode()]
)
def test_malformed_secrets_are_refused(bad):
    with pytest.raises(signing.InvalidSecret):
        signing.secret_key(bad)


def test_body_is_type_timestamp_and_data_as_utf8_json():
    when = datetime(2026, 11, 26, 7, 8, 9, 123456, tzinfo=UTC)
    body = signing.body_bytes("order.confirmed", when, {"order_no": "DD1", "unit": "财政局"})
    assert (
        body
        == (
            '{"type":"order.confirmed","timestamp":"2026-11-26T07:08:09.123456Z",'
            '"data":{"order_no":"DD1","unit":"财政局"}}'
        ).encode()
    )
    assert json.loads(body)["data"]["unit"] == "财政局"
