"""JSON has no Infinity or NaN: no encoding ever puts one on the wire (or in a record)."""

from __future__ import annotations

import math

import pytest

from emulator.jsontext import compact_encoder
from emulator.wire import ENCODINGS, Encoding, WireValue, encode, field_text


@pytest.mark.parametrize("encoding", ENCODINGS)
@pytest.mark.parametrize("value", [math.inf, -math.inf, math.nan, {"duration": math.inf}])
def test_non_finite_number_is_refused_by_every_encoding(
    encoding: Encoding, value: WireValue
) -> None:
    with pytest.raises(ValueError, match="JSON"):
        encode({"event": "procedure", "extra": value}, encoding)


def test_a_form_field_never_reads_infinity() -> None:
    with pytest.raises(ValueError):
        field_text(math.inf)


def test_record_lines_refuse_nan_too() -> None:
    with pytest.raises(ValueError):
        compact_encoder()({"latency_ms": math.nan})
    assert compact_encoder()({"latency_ms": 1.5}) == '{"latency_ms":1.5}'


def test_a_record_line_writes_a_non_finite_number_as_null() -> None:
    from emulator.jsontext import record_encoder

    assert record_encoder()({"latency_ms": math.inf, "a": [math.nan, 1.0]}) == (
        '{"latency_ms":null,"a":[null,1.0]}'
    )
