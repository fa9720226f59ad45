"""The three body encodings: exact round trips, sniffing, and one-line DecodeErrors."""

from __future__ import annotations

import json
from urllib.parse import parse_qsl, quote, unquote, urlencode

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from emulator.errors import DecodeError, EmulatorError
from emulator.wire import (
    ENCODINGS,
    FORM_CONTENT_TYPE,
    JSON_CONTENT_TYPE,
    Encoding,
    WireFields,
    decode,
    encode,
    field_text,
    sniff_encoding,
)

TRICKY = ["", "&", "=", "+", "%", "#", "?", "a&b=c+d%20e#f?g", "line\nbreak\r\n", "🎬📼", " "]
values = st.one_of(st.sampled_from(TRICKY), st.text())
keys = st.one_of(st.sampled_from([t for t in TRICKY if t]), st.text(min_size=1))
field_maps = st.dictionaries(keys, values, min_size=1, max_size=8)


@pytest.mark.parametrize("encoding", ENCODINGS)
@settings(max_examples=150, deadline=None)
@given(fields=field_maps)
def test_decode_inverts_encode_for_arbitrary_unicode(
    encoding: Encoding, fields: dict[str, str]
) -> None:
    content_type, body = encode(fields, encoding)
    assert decode(body, content_type) == fields


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_round_trip_of_the_characters_that_break_naive_encoders(encoding: Encoding) -> None:
    fields = {
        "extra_params": '{"media":{"transcode":[{"replay_url":"https://x/a.mp4?a=1&b=2#t"}]}}',
        "amp&eq=": "plus+percent%hash#question?",
        "newline": "one\ntwo",
        "emoji🎬": "📼",
        "empty": "",
    }
    content_type, body = encode(fields, encoding)
    assert decode(body, content_type) == fields


def test_form_body_is_what_a_php_post_parser_reads() -> None:
    content_type, body = encode({"a": "b c&d", "e": "1+1=2"}, "form")
    assert content_type == FORM_CONTENT_TYPE
    assert body == b"a=b+c%26d&e=1%2B1%3D2"
    assert dict(parse_qsl(body.decode())) == {"a": "b c&d", "e": "1+1=2"}


def test_json_body_keeps_nested_json_as_a_string() -> None:
    extra = '{"media":{"transcode":[]}}'
    content_type, body = encode({"event": "procedure", "extra_params": extra}, "json")
    assert content_type == JSON_CONTENT_TYPE
    assert json.loads(body) == {"event": "procedure", "extra_params": extra}


def test_json_urlencoded_body_is_json_percent_encoded_as_a_whole() -> None:
    content_type, body = encode({"a": "x y+z"}, "json-urlencoded")
    assert content_type == JSON_CONTENT_TYPE
    assert body.startswith(b"%7B")
    assert b" " not in body and b"+" not in body  # a PHP urldecode() must not see a '+'
    assert json.loads(unquote(body.decode())) == {"a": "x y+z"}


def test_decode_keeps_json_value_types_and_field_text_gives_their_text() -> None:
    # issue 15 changed this test's premise: decode used to turn every JSON value into text;
    # fields are JSON values now, and field_text is the text a form body carries for each
    body = b'{"size": 12, "ok": true, "none": null, "media": {"a": [1]}}'
    fields = decode(body, "application/json")
    assert fields == {"size": 12, "ok": True, "none": None, "media": {"a": [1]}}
    assert {key: field_text(value) for key, value in fields.items()} == {
        "size": "12",
        "ok": "true",
        "none": "",
        "media": '{"a":[1]}',
    }


@pytest.mark.parametrize(
    ("body", "content_type", "expected"),
    [
        (b'{"a":"b"}', None, "json"),
        (b'  \n{"a":"b"}', None, "json"),
        (b"%7B%22a%22%3A%22b%22%7D", None, "json-urlencoded"),
        (b"%7b%22a%22%3A%22b%22%7D", None, "json-urlencoded"),
        (b"a=b", None, "form"),
        (b"a=b", "", "form"),
        (b"a=b", "application/x-www-form-urlencoded; charset=UTF-8", "form"),
        (b'{"a":"b"}', "Application/JSON; charset=utf-8", "json"),
        (b"%7B%22a%22%3A%22b%22%7D", "application/json", "json-urlencoded"),
        (b'{"a":"b"}', "application/vnd.zego+json", "json"),
        (b'\xef\xbb\xbf{"a":"b"}', None, "json"),
    ],
)
def test_sniff_encoding(body: bytes, content_type: str | None, expected: str) -> None:
    assert sniff_encoding(body, content_type) == expected


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_decode_without_content_type_sniffs_each_encoding(encoding: Encoding) -> None:
    fields = {"appid": "1", "event": "procedure", "extra_params": '{"media":{}}'}
    _, body = encode(fields, encoding)
    assert sniff_encoding(body) == encoding
    assert decode(body) == fields


def test_decode_ignores_a_utf8_byte_order_mark() -> None:
    assert decode(b'\xef\xbb\xbf{"a":"b"}', "application/json") == {"a": "b"}
    assert decode(b"\xef\xbb\xbfa=b", FORM_CONTENT_TYPE) == {"a": "b"}


@pytest.mark.parametrize(
    ("body", "content_type", "says"),
    [
        (b"", FORM_CONTENT_TYPE, "empty"),
        (b"", JSON_CONTENT_TYPE, "not JSON"),
        (b"a=b", "text/xml", "unsupported content type"),
        (b"<xml/>", "text/xml; charset=utf-8", "unsupported content type"),
        (b"\x89PNG\r\n\x1a\n\x00\xff", FORM_CONTENT_TYPE, "not UTF-8"),
        (b"\xff\xfe{", None, "not UTF-8"),
        (b"just some words", FORM_CONTENT_TYPE, "not form-urlencoded"),
        (b"a=%FF", FORM_CONTENT_TYPE, "not form-urlencoded"),
        (b'{"appid":"1","event":"proc', JSON_CONTENT_TYPE, "not JSON"),
        (b"%7B%22appid%22%3A%221", JSON_CONTENT_TYPE, "not JSON"),
        (b"%7B%22a%22%3A%22%FF%22%7D", JSON_CONTENT_TYPE, "not JSON"),
        (b'["a", "b"]', JSON_CONTENT_TYPE, "expected an object"),
        (b"a=b", JSON_CONTENT_TYPE, "not JSON"),
    ],
)
def test_decode_errors_are_one_line_decode_errors(
    body: bytes, content_type: str | None, says: str
) -> None:
    with pytest.raises(DecodeError) as info:
        decode(body, content_type)
    assert isinstance(info.value, EmulatorError)
    message = str(info.value)
    assert says in message
    assert "\n" not in message


def test_encode_rejects_an_unknown_encoding() -> None:
    with pytest.raises(ValueError, match="unknown encoding"):
        encode({"a": "b"}, "xml")


# bytes the escaping treats apart: separators, the escapes' own characters, JSON punctuation
SEPARATORS = ["&", "=", "+", "%", " ", '"', "{", "}", ":", "/", ",", "~", "-", "é", "🎬"]
texts = st.one_of(
    st.text(),
    st.text(alphabet=st.sampled_from([*SEPARATORS, "a", "Z", "0"])),
    st.text(alphabet=st.characters(max_codepoint=0x2FF), min_size=30),  # many distinct bytes
)


@settings(max_examples=300, deadline=None)
@given(fields=st.dictionaries(texts, texts, min_size=1, max_size=8))
def test_bodies_are_byte_identical_to_urllib_and_json(fields: dict[str, str]) -> None:
    text = json.dumps(fields, ensure_ascii=False, separators=(",", ":"))
    assert encode(fields, "form") == (FORM_CONTENT_TYPE, urlencode(fields).encode("ascii"))
    assert encode(fields, "json") == (JSON_CONTENT_TYPE, text.encode("utf-8"))
    expected = quote(text, safe="").encode("ascii")
    assert encode(fields, "json-urlencoded") == (JSON_CONTENT_TYPE, expected)


def test_a_value_holding_separators_is_escaped_field_by_field() -> None:
    fields = {"replay_url": "https://x/a.mp4?a=1&b=2", "a": "b"}
    assert encode(fields, "form")[1] == b"replay_url=https%3A%2F%2Fx%2Fa.mp4%3Fa%3D1%26b%3D2&a=b"


BIG_ID = 858012925204410400  # ZEGO's room_session_id example: above 2**53
TYPED: WireFields = {
    "appid": 1234567890,
    "timestamp": 1499676978,
    "room_session_id": BIG_ID,
    "rtmp_url": ["rtmp://a.example/live/s1", "rtmp://b.example/live/s1?x=1&y=2"],
    "Details": {"Input": {"StreamId": "s1"}, "Outputs": [{"Width": 1280, "Fps": 25}]},
    "stream_attr": '{"cid":0}',
    "duration": 170.612,
}


@pytest.mark.parametrize("encoding", ["json", "json-urlencoded"])
def test_json_bodies_keep_numbers_arrays_and_objects_and_round_trip(encoding: Encoding) -> None:
    content_type, body = encode(TYPED, encoding)
    assert decode(body, content_type) == TYPED
    text = body.decode() if encoding == "json" else unquote(body.decode())
    assert '"room_session_id":858012925204410400,' in text  # an integer literal, exact
    assert '"appid":1234567890,' in text
    assert '"rtmp_url":["rtmp://a.example/live/s1",' in text
    assert '"stream_attr":"{\\"cid\\":0}"' in text  # JSON-in-string stays a string


def test_form_writes_numbers_as_decimal_text_and_arrays_objects_as_compact_json() -> None:
    content_type, body = encode(TYPED, "form")
    assert content_type == FORM_CONTENT_TYPE
    pairs = dict(parse_qsl(body.decode(), strict_parsing=True))
    assert pairs["appid"] == "1234567890"
    assert pairs["room_session_id"] == "858012925204410400"
    assert pairs["rtmp_url"] == '["rtmp://a.example/live/s1","rtmp://b.example/live/s1?x=1&y=2"]'
    assert json.loads(pairs["Details"]) == TYPED["Details"]
    assert pairs["Details"] == '{"Input":{"StreamId":"s1"},"Outputs":[{"Width":1280,"Fps":25}]}'
    assert pairs["duration"] == "170.612"
    assert decode(body, content_type) == {key: field_text(value) for key, value in TYPED.items()}
    assert b"room_session_id=858012925204410400&" in body
