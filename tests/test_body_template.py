"""BodyTemplate writes, for every copy, exactly what ``encode`` writes for its fields.

Copies of one callback differ only in a few values (timestamp, nonce, signature, the random
run of an id). The template encodes the rest once; these properties check the bytes of a
copy and the record's text of its body against ``encode`` and ``json``, for hostile keys and
values (quotes, backslashes, control characters, non-ASCII, ``=``/``&``/``%``/``+``), numbers,
nested values and all three encodings.
"""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from emulator.wire import ENCODINGS, BodyTemplate, Encoding, Run, WireValue, decode, encode

TEXT = st.text(
    st.sampled_from('ab"\\\x00\x1f\n\t=&%+ é€😀/:{}[],') | st.characters(codec="utf-8"),
    max_size=12,
)
RUN = st.text(st.sampled_from("0123456789abcdef"), min_size=16, max_size=32)
SCALAR: st.SearchStrategy[WireValue] = st.one_of(
    TEXT,
    st.integers(-(2**70), 2**70),
    st.booleans(),
    st.none(),
    st.floats(allow_nan=False, allow_infinity=False),
    st.lists(TEXT, max_size=3),
    st.dictionaries(TEXT, TEXT, max_size=3),
    st.text(st.sampled_from("0123456789abcdefXYZ"), min_size=1, max_size=20),  # plain ones
)


@st.composite
def templates(draw: st.DrawFn) -> dict[str, Any]:
    """Fields, which keys are scalar or holed, the holes' runs and a copy's new values."""
    keys = draw(st.lists(TEXT, min_size=1, max_size=8, unique=True))
    kinds = draw(st.lists(st.sampled_from("fsh"), min_size=len(keys), max_size=len(keys)))
    runs = draw(st.lists(RUN, min_size=1, max_size=3))
    fields: dict[str, WireValue] = {}
    scalars: list[str] = []
    holed: dict[str, list[str | Run]] = {}
    for key, kind in zip(keys, kinds, strict=True):
        if kind == "h":
            parts: list[str | Run] = [draw(TEXT)]
            for _ in range(draw(st.integers(1, 3))):
                parts += [Run(draw(st.integers(0, len(runs) - 1))), draw(TEXT)]
            holed[key] = parts
            fields[key] = fill(parts, runs)
        else:
            fields[key] = draw(SCALAR)
            if kind == "s":
                scalars.append(key)
    fresh_runs = [draw(st.text(st.sampled_from("0123456789abcdef"), min_size=len(run),
                               max_size=len(run))) for run in runs]  # fmt: skip
    fresh = [draw(SCALAR) for _ in scalars]
    encoding: Encoding = draw(st.sampled_from(ENCODINGS))
    return {"fields": fields, "scalars": scalars, "holed": holed, "runs": runs,
            "fresh_runs": fresh_runs, "fresh": fresh, "encoding": encoding}  # fmt: skip


def fill(parts: list[str | Run], runs: list[str]) -> str:
    return "".join(part if isinstance(part, str) else runs[part.index] for part in parts)


@settings(max_examples=400, deadline=None)
@given(templates())
def test_a_copy_is_the_bytes_encode_writes_and_its_record_text(case: dict[str, Any]) -> None:
    template = BodyTemplate(case["fields"], case["encoding"], case["scalars"], case["holed"])
    copy = dict(case["fields"])  # the copy's fields, made as a reader expects them
    for key, value in zip(case["scalars"], case["fresh"], strict=True):
        copy[key] = value
    for key, parts in case["holed"].items():
        copy[key] = fill(parts, case["fresh_runs"])
    body, literal = template.render(case["fresh"], case["fresh_runs"])
    content_type, expected = encode(copy, case["encoding"])
    assert body == expected
    assert template.content_type == content_type
    assert json.loads(literal) == body.decode("utf-8")  # the record's text of the body
    assert literal == json.dumps(body.decode("utf-8"), ensure_ascii=False)
    if case["encoding"] != "form":  # a form body carries text only
        assert decode(body, content_type) == copy


def test_the_check_rejects_a_template_made_for_other_fields() -> None:
    fields: dict[str, WireValue] = {"a": "x", "b": 1}
    template = BodyTemplate(fields, "json", ["b"])
    assert template.check(fields, [1], [])
    assert not template.check({"a": "y", "b": 1}, [1], [])
