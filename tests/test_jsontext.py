"""Compact JSON text: the reused encoder writes exactly what ``json.dumps`` writes."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from emulator import jsontext
from emulator.jsontext import compact_encoder

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(),  # inf and nan included: both refuse them (JSON has neither)
    st.text(),
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner), st.dictionaries(st.text(), inner)),
    max_leaves=30,
)


def dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)


@settings(max_examples=300, deadline=None)
@given(value=values)
def test_compact_text_is_what_json_dumps_writes(value: Any) -> None:
    try:
        expected = dumps(value)
    except ValueError:  # a non-finite float: never written as Infinity or NaN
        with pytest.raises(ValueError):
            compact_encoder()(value)
        return
    assert compact_encoder()(value) == expected


def test_default_turns_other_objects_into_json_values() -> None:
    encode = compact_encoder(default=sorted)
    assert encode({"tags": {"b", "a"}}) == '{"tags":["a","b"]}'


def test_an_object_json_cannot_write_is_a_type_error() -> None:
    with pytest.raises(TypeError, match="set is not JSON serializable"):
        compact_encoder()({"tags": {"a"}})


def test_without_the_c_encoder_the_text_is_the_same(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(jsontext, "_make_c_encoder", None)
    value = {"a": [1, 2.5, None, True, "é\n"], "b": {"c": 1e300}}
    assert compact_encoder()(value) == dumps(value)
    with pytest.raises(ValueError):
        compact_encoder()({"b": {"c": float("inf")}})
