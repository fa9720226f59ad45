"""The ``callback`` line from its template is the very text the dict encoder writes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from emulator.callback.factory import CallbackFactory
from emulator.jsontext import compact_encoder
from emulator.record.lines import callback_line, callback_text
from emulator.record.reader import read_record
from emulator.record.writer import Recorder
from emulator.wire import Encoding

ENCODE = compact_encoder()


@pytest.mark.parametrize("encoding", ["form", "json", "json-urlencoded"])
@pytest.mark.parametrize("delay", [0.0, 2, 1.5e-7, 3600.25])
def test_the_template_writes_what_the_dict_encoder_writes(encoding: Encoding, delay: float) -> None:
    factory = CallbackFactory(seed=4, app_id="1234567890")
    model = factory.procedure(status="SUCCESS")
    extra = {"note": 'a "quoted" \\ value — ünïcode\n'}  # escapes and non-ASCII in the body
    callback = factory.callback(model, "s", encoding=encoding, extra_fields=extra)
    target = "http://127.0.0.1:8080/zego/callback?x=ü"
    text = callback_text(callback, target, delay, "run-1")
    assert text == ENCODE(callback_line(callback, target, delay, "run-1"))
    assert json.loads(text) == callback_line(callback, target, delay, "run-1")


@pytest.mark.parametrize("expect", [None, "delivered", 'a "label" ü'])
@pytest.mark.parametrize("retry", [None, {"intervals": [2.0, 4.5], "profile": "cloud-recording"}])
def test_the_template_with_retry_and_expect_writes_what_the_dict_encoder_writes(
    expect: str | None, retry: dict[str, object] | None
) -> None:
    factory = CallbackFactory(seed=4, app_id="1234567890")
    callback = factory.callback(factory.compose(), "s")
    target = "http://127.0.0.1:8080/zego/callback"
    text = callback_text(callback, target, 2.5, "run-1", retry, expect)
    assert text == ENCODE(callback_line(callback, target, 2.5, "run-1", retry, expect))
    assert json.loads(text) == callback_line(callback, target, 2.5, "run-1", retry, expect)


def test_a_delay_json_cannot_write_as_it_stands_falls_back_to_the_dict() -> None:
    factory = CallbackFactory(seed=4)
    callback = factory.callback(factory.procedure(), "s")
    assert callback_text(callback, "http://127.0.0.1/x", float("inf"), "r") is None


def test_the_recorder_writes_template_lines_and_dict_lines_alike(tmp_path: Path) -> None:
    factory = CallbackFactory(seed=4)
    callback = factory.callback(factory.procedure(), "s")
    record = tmp_path / "r.jsonl"
    with Recorder(record) as recorder:
        recorder.callback(callback, "http://127.0.0.1/x", 1.0, "r")
        recorder.callback(callback, "http://127.0.0.1/x", 1.0, "r", expect="delivered")
    plain, judged = read_record(record)
    assert plain == callback_line(callback, "http://127.0.0.1/x", 1.0, "r")
    assert judged == {**plain, "expect": "delivered"}
