"""CallbackFactory: seeded determinism, current timestamps, tampering, renames."""

from __future__ import annotations

import json
import re
import time

import pytest

from emulator.callback.factory import CallbackFactory, wire_fields
from emulator.callback.model import TAMPERS, Tamper
from emulator.callback.tamper import STALE_BY_SECONDS, apply_tamper
from emulator.events.procedure import ProcedureCallback
from emulator.signing import callback_signature, verify_fields
from emulator.wire import ENCODINGS, Encoding, decode

SECRET = "factory-test-secret"


def bodies(
    seed: int | None, encoding: Encoding = "form", count: int = 5, nonce_seed: int | None = 1
) -> list[bytes]:
    factory = CallbackFactory(seed=seed, timestamp=1_700_000_000, nonce_seed=nonce_seed)
    out = []
    for index in range(count):
        model = factory.procedure(transcode=[{}] * (1 + index % 3))
        out.append(factory.callback(model, SECRET, encoding).body()[1])
    return out


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_same_seed_gives_byte_identical_bodies(encoding: Encoding) -> None:
    first = bodies(7, encoding)
    assert first == bodies(7, encoding)
    assert len(set(first)) == len(first)  # and the callbacks of one run differ from each other


def test_a_seed_fixes_the_payload_but_two_runs_never_share_a_nonce() -> None:
    runs = [[decode(body) for body in bodies(7, nonce_seed=None)] for _ in range(2)]
    for one, other in zip(*runs, strict=True):
        assert one["timestamp"] == other["timestamp"]
        assert one["nonce"] != other["nonce"]  # (timestamp, nonce) is a replay check's key
        assert one["signature"] != other["signature"]
        identity = {"nonce", "signature"}
        assert {k: v for k, v in one.items() if k not in identity} == {
            k: v for k, v in other.items() if k not in identity
        }


def test_different_seeds_give_different_data() -> None:
    runs = [bodies(seed, nonce_seed=None) for seed in range(10)]
    assert len({body for run in runs for body in run}) == 50
    fields = [decode(run[0]) for run in runs]
    for name in ("appid", "nonce", "task_id", "file_id", "extra_params"):
        assert len({f[name] for f in fields}) >= 9, name


def test_no_seed_gives_fresh_data_each_time() -> None:
    assert bodies(None) != bodies(None)


def test_timestamps_are_the_current_unix_time_unless_fixed() -> None:
    factory = CallbackFactory(seed=1)
    before = int(time.time())
    stamp = int(factory.procedure().timestamp)
    assert before <= stamp <= int(time.time())
    fixed = CallbackFactory(seed=1, now=lambda: 1_234_567_890.9)
    assert fixed.procedure().timestamp == "1234567890"


def test_nonces_are_six_digits_and_app_ids_look_like_zegos() -> None:
    factory = CallbackFactory(seed=2)
    nonces = [factory.procedure().nonce for _ in range(200)]
    assert all(re.fullmatch(r"[1-9]\d{5}", nonce) for nonce in nonces)
    assert len(set(nonces)) > 190
    assert re.fullmatch(r"\d{10}", factory.app_id)
    assert 0 < int(factory.app_id) < 2**32  # ZEGO app ids are uint32


def test_a_burst_in_one_second_keeps_six_digit_nonces_and_never_repeats_one() -> None:
    # 3,000 callbacks stamped in the same second: a collision among six-digit draws is
    # certain over this many (about 5 expected), and each must be redrawn as six digits.
    for nonce_seed in range(5):
        factory = CallbackFactory(seed=2, timestamp=1_700_000_000, nonce_seed=nonce_seed)
        nonces = [factory.procedure().nonce for _ in range(3_000)]
        assert all(re.fullmatch(r"[1-9]\d{5}", nonce) for nonce in nonces)
        assert len(set(nonces)) == len(nonces)


def test_given_app_id_is_used_on_every_callback() -> None:
    factory = CallbackFactory(seed=3, app_id="1234567890")
    assert {factory.procedure().appid for _ in range(3)} == {"1234567890"}


def test_build_accepts_params_models_mappings_and_keyword_overrides() -> None:
    from emulator.events.procedure import ProcedureParams

    a = CallbackFactory(seed=4, timestamp=1, nonce_seed=1).build(
        "procedure", ProcedureParams(status="FAILED")
    )
    b = CallbackFactory(seed=4, timestamp=1, nonce_seed=1).build("procedure", {"status": "FAILED"})
    c = CallbackFactory(seed=4, timestamp=1, nonce_seed=1).build(
        "procedure", {"status": "SUCCESS"}, status="FAILED"
    )
    assert a == b == c
    assert a.to_fields()["status"] == "FAILED"


def test_unknown_event_is_named_in_the_error() -> None:
    with pytest.raises(KeyError, match="unknown event 'transcode'"):
        CallbackFactory(seed=1).build("transcode")


def test_callback_is_signed_and_gets_sequential_ids() -> None:
    factory = CallbackFactory(seed=5)
    first = factory.callback(factory.procedure(), SECRET)
    second = factory.callback(factory.procedure(), SECRET, "json")
    assert (first.callback_id, second.callback_id) == ("cb-000001", "cb-000002")
    assert first.event == "procedure" and first.task_id == first.fields["task_id"]
    assert verify_fields(first.fields, SECRET)
    content_type, body = second.body()
    assert content_type == "application/json"
    assert decode(body, content_type) == second.fields


def test_tamper_bad_signature_is_well_formed_but_wrong() -> None:
    fields = wire_fields(CallbackFactory(seed=6).procedure().to_fields(), SECRET, "bad_signature")
    assert re.fullmatch(r"[0-9a-f]{40}", fields["signature"])
    assert not verify_fields(fields, SECRET)


def test_tamper_stale_timestamp_is_validly_signed_an_hour_old() -> None:
    good = wire_fields(
        CallbackFactory(seed=7, timestamp=1_700_000_000).procedure().to_fields(), SECRET
    )
    stale = apply_tamper(good, "stale_timestamp", SECRET)
    assert int(stale["timestamp"]) == 1_700_000_000 - STALE_BY_SECONDS == 1_699_996_400
    assert verify_fields(stale, SECRET)
    assert stale["signature"] == callback_signature(SECRET, stale["timestamp"], stale["nonce"])


def test_tamper_missing_signature_drops_the_field() -> None:
    fields = wire_fields(
        CallbackFactory(seed=8).procedure().to_fields(), SECRET, "missing_signature"
    )
    assert "signature" not in fields
    assert not verify_fields(fields, SECRET)


@pytest.mark.parametrize("tamper", TAMPERS)
def test_tamper_leaves_the_payload_alone(tamper: Tamper) -> None:
    fields = CallbackFactory(seed=9, timestamp=1_700_000_000).procedure().to_fields()
    tampered = wire_fields(fields, SECRET, tamper)
    for name in ("event", "appid", "nonce", "task_id", "status", "file_id", "extra_params"):
        assert tampered[name] == fields[name]


def test_unknown_tamper_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown tamper"):
        apply_tamper({"timestamp": "1", "nonce": "1"}, "corrupt", SECRET)


def test_rename_and_extra_fields_come_after_signing() -> None:
    fields = CallbackFactory(seed=10).procedure().to_fields()
    shaped = wire_fields(fields, SECRET, rename={"file_id": "fileId"}, extra_fields={"x": "1"})
    assert "file_id" not in shaped and shaped["fileId"] == fields["file_id"]
    assert shaped["x"] == "1"
    assert verify_fields(shaped, SECRET)


# scenario params of every kind: none, nested overrides, numbers given as ints, failures
GIVEN = {
    "procedure": [
        {},
        {"status": "FAILED"},
        {"transcode": [{}, {"resolution": "360p", "container": "m3u8"}, {"code": "70000"}]},
        {"transcode": [{"duration": 5, "size": 0, "video": {"fps": 60}, "audio": {"bitrate": 0}}]},
        {"task_id": "", "file_id": "42", "transcode": [{"message": "é 🎬", "replay_url": "x"}]},
    ],
    "compose": [{}, {"code": 60000}, {"format": "m3u8", "output_file_name": "a b"}],
    "snapshot": [{}, {"vendor": "hw"}, {"count": 2, "snapshot_pic_list": [{"offset": 3}]}],
}


@pytest.mark.parametrize("event", sorted(GIVEN))
def test_generated_models_are_the_validated_models_and_round_trip_the_wire(event: str) -> None:
    for seed in range(40):
        factory = CallbackFactory(seed=seed, timestamp=1_700_000_000)
        for params in GIVEN[event]:
            model = factory.build(event, params)
            again = type(model).model_validate(model.model_dump())
            assert again == model and repr(again) == repr(model)  # repr shows 25 vs 25.0
            for encoding in ENCODINGS:
                callback = factory.callback(model, SECRET, encoding)
                content_type, body = callback.body()
                assert decode(body, content_type) == callback.fields
                assert callback.fields == wire_fields(model.to_fields(), SECRET)


def test_extra_params_is_the_compact_json_of_the_dumped_outputs() -> None:
    for seed in range(40):
        factory = CallbackFactory(seed=seed)
        for params in GIVEN["procedure"]:
            model = factory.build("procedure", params)
            assert isinstance(model, ProcedureCallback)
            dumped = {"media": {"transcode": [entry.model_dump() for entry in model.transcode]}}
            expected = "" if model.status == "FAILED" else compact(dumped)
            assert model.to_fields()["extra_params"] == expected


def compact(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


@pytest.mark.parametrize(
    ("event", "params"),
    [
        ("procedure", {"status": "SUCCESS", "transcode": [{"resolution": "720p"}]}),
        ("compose", {"code": 60000}),
        ("procedure", {}),
    ],
)
def test_params_validated_once_build_what_each_copy_validated_would(
    event: str, params: dict[str, object]
) -> None:
    again = CallbackFactory(seed=21, app_id="1234567890", timestamp=1_700_000_000, nonce_seed=3)
    once = CallbackFactory(seed=21, app_id="1234567890", timestamp=1_700_000_000, nonce_seed=3)
    shared = once.params(event, params)
    for _ in range(3):  # a repeat: 3 copies, each its own faked identity
        expected = again.build(event, dict(params))
        assert once.build(event, shared).model_dump() == expected.model_dump()
