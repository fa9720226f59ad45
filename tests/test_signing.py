"""ZEGO's two signatures: the published worked examples, and every verify path."""

from __future__ import annotations

import hashlib

import pytest

from emulator.callback.tamper import STALE_BY_SECONDS, apply_tamper
from emulator.signing import (
    api_signature,
    callback_signature,
    restamp,
    sign_fields,
    verify_api_signature,
    verify_callback_signature,
    verify_fields,
)
from emulator.wire import WireFields

# spec §2: secret "secret", timestamp 1470820198, nonce 123412
ZEGO_CALLBACK_EXAMPLE = ("secret", "1470820198", "123412")
ZEGO_CALLBACK_SIGNATURE = "5bd59fd62953a8059fb7eaba95720f66d19e4517"
# spec §5: AppId 12345, SignatureNonce 4fd24687296dd9f3, ServerSecret ..., Timestamp 1615186943
ZEGO_API_EXAMPLE = (12345, "4fd24687296dd9f3", "9193cc662a4c0ec135ec71fb57194b38", 1615186943)
ZEGO_API_SIGNATURE = "43e5cfcca828314675f91b001390566a"


def test_callback_signature_reproduces_zego_worked_example() -> None:
    assert callback_signature(*ZEGO_CALLBACK_EXAMPLE) == ZEGO_CALLBACK_SIGNATURE


def test_callback_signature_is_sha1_of_the_sorted_join_zego_shows() -> None:
    joined = "1234121470820198secret"  # the joined string of ZEGO's example
    assert hashlib.sha1(joined.encode()).hexdigest() == ZEGO_CALLBACK_SIGNATURE


def test_callback_signature_sorts_as_strings_not_numbers() -> None:
    # as numbers 9 < 10, as strings "10" < "9": the join must be "109key"
    expected = hashlib.sha1(b"109key").hexdigest()
    assert callback_signature("key", "9", "10") == expected
    assert callback_signature("key", "10", "9") == expected


def test_callback_signature_hashes_non_ascii_secrets_as_utf8() -> None:
    expected = hashlib.sha1("11密钥".encode()).hexdigest()
    assert callback_signature("密钥", "1", "1") == expected


def test_api_signature_reproduces_zego_worked_example() -> None:
    assert api_signature(*ZEGO_API_EXAMPLE) == ZEGO_API_SIGNATURE
    app_id, nonce, secret, timestamp = ZEGO_API_EXAMPLE
    assert api_signature(str(app_id), nonce, secret, str(timestamp)) == ZEGO_API_SIGNATURE


def test_verify_callback_signature_accepts_the_right_signature() -> None:
    assert verify_callback_signature(*ZEGO_CALLBACK_EXAMPLE, ZEGO_CALLBACK_SIGNATURE)
    assert verify_callback_signature(*ZEGO_CALLBACK_EXAMPLE, ZEGO_CALLBACK_SIGNATURE.upper())
    assert verify_callback_signature(*ZEGO_CALLBACK_EXAMPLE, f" {ZEGO_CALLBACK_SIGNATURE}\n")


def test_verify_callback_signature_rejects_every_wrong_signature_without_raising() -> None:
    wrong = [
        "",
        "0" * 40,
        ZEGO_CALLBACK_SIGNATURE[:-1],  # shorter
        ZEGO_CALLBACK_SIGNATURE + "0",  # longer
        ZEGO_CALLBACK_SIGNATURE[:-1] + "f",  # last character differs
        "签名" * 20,  # not ASCII at all
    ]
    for signature in wrong:
        assert not verify_callback_signature(*ZEGO_CALLBACK_EXAMPLE, signature), signature


def test_verify_callback_signature_rejects_another_secret_timestamp_or_nonce() -> None:
    secret, timestamp, nonce = ZEGO_CALLBACK_EXAMPLE
    assert not verify_callback_signature("secret2", timestamp, nonce, ZEGO_CALLBACK_SIGNATURE)
    assert not verify_callback_signature(secret, "1470820199", nonce, ZEGO_CALLBACK_SIGNATURE)
    assert not verify_callback_signature(secret, timestamp, "123413", ZEGO_CALLBACK_SIGNATURE)


def test_verify_api_signature_paths() -> None:
    assert verify_api_signature(*ZEGO_API_EXAMPLE, ZEGO_API_SIGNATURE)
    assert verify_api_signature(*ZEGO_API_EXAMPLE, ZEGO_API_SIGNATURE.upper())
    for signature in ("", "0" * 32, ZEGO_API_SIGNATURE[:-1], ZEGO_API_SIGNATURE + "a", "é" * 32):
        assert not verify_api_signature(*ZEGO_API_EXAMPLE, signature), signature
    app_id, nonce, secret, timestamp = ZEGO_API_EXAMPLE
    assert not verify_api_signature(app_id, nonce, secret, timestamp + 1, ZEGO_API_SIGNATURE)


def test_sign_fields_sets_the_signature_and_leaves_the_input_alone() -> None:
    fields = {"event": "procedure", "timestamp": "1470820198", "nonce": "123412"}
    signed = sign_fields(fields, "secret")
    assert signed["signature"] == ZEGO_CALLBACK_SIGNATURE
    assert "signature" not in fields
    assert verify_fields(signed, "secret")
    assert not verify_fields(signed, "other")


def test_verify_fields_rejects_missing_or_empty_signature() -> None:
    fields = {"timestamp": "1470820198", "nonce": "123412"}
    assert not verify_fields(fields, "secret")
    assert not verify_fields({**fields, "signature": ""}, "secret")


def _zego_sha1(secret: str, timestamp: str, nonce: str) -> str:
    """The digest's recipe, written out: sort the three strings, join, sha1."""
    return hashlib.sha1("".join(sorted([secret, timestamp, nonce])).encode()).hexdigest()


def test_a_numeric_timestamp_is_signed_over_its_decimal_text() -> None:
    # room_create/room_close (and ZIM) send timestamp as a JSON number (digest §1.2)
    fields: WireFields = {
        "event": "room_create",
        "appid": 1,
        "timestamp": 1470820198,
        "nonce": "123412",
    }
    signed = sign_fields(fields, "secret")
    assert signed["signature"] == ZEGO_CALLBACK_SIGNATURE
    assert signed["timestamp"] == 1470820198  # still a number
    assert verify_fields(signed, "secret")


def test_pascal_case_bodies_sign_timestamp_and_nonce_into_signature() -> None:
    fields = {
        "Event": "transcode_start",
        "Appid": "1",
        "Timestamp": "1470820198",
        "Nonce": "123412",
    }
    signed = sign_fields(fields, "secret")
    assert signed["Signature"] == ZEGO_CALLBACK_SIGNATURE
    assert "signature" not in signed
    assert verify_fields(signed, "secret")
    assert not verify_fields({**signed, "Nonce": "123413"}, "secret")


@pytest.mark.parametrize(
    "fields",
    [
        {"event": "room_create", "timestamp": 1499676978, "nonce": "350176"},
        {"event": "room_login", "timestamp": "1499676978", "nonce": "350176"},
        {"Event": "transcode_stop", "Timestamp": "1499676978", "Nonce": "350176"},
    ],
)
def test_tampers_keep_the_timestamp_type_and_the_field_spelling(fields: WireFields) -> None:
    signed = sign_fields(fields, "k")
    stamp_key = "Timestamp" if "Timestamp" in fields else "timestamp"
    signature_key = "Signature" if "Timestamp" in fields else "signature"
    stale = apply_tamper(signed, "stale_timestamp", "k")
    assert type(stale[stamp_key]) is type(fields[stamp_key])
    assert int(str(stale[stamp_key])) == 1499676978 - STALE_BY_SECONDS
    assert verify_fields(stale, "k")
    bad = apply_tamper(signed, "bad_signature", "k")
    assert set(bad) == set(signed) and not verify_fields(bad, "k")
    missing = apply_tamper(signed, "missing_signature", "k")
    assert signature_key not in missing and stamp_key in missing


def test_restamp_keeps_each_common_field_type() -> None:
    numeric = restamp({"timestamp": 1, "nonce": "5", "x": [1]}, 1700000000, "123456")
    assert numeric == {"timestamp": 1700000000, "nonce": "123456", "x": [1]}
    text = restamp({"Timestamp": "1", "Nonce": "5"}, 1700000000, "123456")
    assert text == {"Timestamp": "1700000000", "Nonce": "123456"}
    signed = sign_fields(numeric, "k")
    assert signed["signature"] == _zego_sha1("k", "1700000000", "123456")
