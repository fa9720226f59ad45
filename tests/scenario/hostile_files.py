"""Hostile scenario files: the committed corpus's expectations and the generated ones.

Shared by ``tests/test_scenario.py`` (each fails with the right one-line error) and
``python -m bench hostile`` (each fails fast: CPU seconds against a 1 s budget).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from pathlib import Path

from emulator.scenario.reader import MAX_DEPTH, MAX_FILE_BYTES

BAD = Path(__file__).resolve().parent / "scenarios_bad"

# file -> (line, field, a fragment of the message); None where there is no line/field
BAD_FILES: dict[str, tuple[int | None, str | None, str]] = {
    "syntax-unclosed-flow.yaml": (3, None, "invalid YAML"),
    "syntax-bad-indent.yaml": (4, None, "after key callbacks[0].status"),
    "syntax-tab-indent.yaml": (3, None, "tab character"),
    "syntax-unclosed-quote.yaml": (5, None, "quoted scalar"),
    "syntax-colon-in-value.yaml": (4, None, "after key name"),
    "empty.yaml": (None, None, "the file is empty"),
    "only-comments.yaml": (None, None, "the file is empty"),
    "null-document.yaml": (None, None, "the file is empty"),
    "top-level-list.yaml": (2, None, "expected a mapping (key: value lines) at the top level"),
    "top-level-scalar.yaml": (2, None, "at the top level, got str"),
    "two-documents.yaml": (4, None, "a second YAML document"),
    "duplicate-key-top.yaml": (5, "name", "duplicate key 'name' (first at line 2)"),
    "duplicate-key-callback.yaml": (5, "callbacks[0].status", "duplicate key 'status'"),
    "non-text-key.yaml": (4, None, "a key must be plain text"),
    "unknown-key-top.yaml": (2, "taget", "unknown key 'taget'; did you mean 'target'?"),
    "unknown-key-callback.yaml": (4, "callbacks[1].stauts", "did you mean 'status'?"),
    "unknown-key-transcode.yaml": (
        5,
        "callbacks[0].transcode[1].resoluton",
        "did you mean 'resolution'?",
    ),
    "unknown-key-retry.yaml": (3, "retry.intervalls", "did you mean 'intervals'?"),
    "unknown-key-expect.yaml": (5, "expect.deliverd", "did you mean 'delivered'?"),
    "unknown-key-receiver.yaml": (5, "receiver.respones", "did you mean 'responses'?"),
    "secret-in-scenario.yaml": (2, "secret", "never holds the secret"),
    "unknown-event.yaml": (
        3,
        "callbacks[0].event",
        # the catalogue grew (issues 15, 16): the message lists every event, the close one first
        "unknown event 'transcode'; did you mean 'transcode_stop'? (known events: "
        "cloud_recording, compose, mix_start, mix_stop, procedure, record, room_close, "
        "room_create, room_login, room_logout, snapshot, stream_close, stream_create, "
        "transcode_start, transcode_stop, zim.call_create,",
    ),
    "event-typo.yaml": (4, "callbacks[1].event", "did you mean 'procedure'?"),
    "event-not-text.yaml": (3, "callbacks[0].event", "unknown event"),
    "key-of-other-event.yaml": (4, "callbacks[0].status", "unknown key 'status'; expected one of"),
    "missing-callbacks.yaml": (2, "callbacks", "required key is missing"),
    "empty-callbacks.yaml": (3, "callbacks", "expected at least 1 item, got 0"),
    "callbacks-not-list.yaml": (2, "callbacks", "expected a list, got a mapping"),
    "callback-not-mapping.yaml": (3, "callbacks[0]", "expected a mapping"),
    "bad-status.yaml": (3, "callbacks[0].status", "expected 'SUCCESS' or 'FAILED', got 'DONE'"),
    "status-lowercase.yaml": (3, "callbacks[0].status", "did you mean 'SUCCESS'?"),
    "bad-resolution.yaml": (5, "callbacks[0].transcode[1].resolution", "got '1080p'"),
    "transcode-not-list.yaml": (3, "callbacks[0].transcode", "expected a list"),
    "video-bitrate-text.yaml": (
        6,
        "callbacks[0].transcode[0].video.bitrate",
        "expected a whole number, got 'fast'",
    ),
    "bad-encoding.yaml": (2, "encoding", "'form', 'json' or 'json-urlencoded', got 'xml'"),
    "bad-order.yaml": (2, "order", "got 'random'"),
    "bad-tamper.yaml": (3, "callbacks[0].tamper", "did you mean 'bad_signature'?"),
    "negative-delay.yaml": (3, "callbacks[0].delay", "expected a number at least 0, got -5"),
    "huge-delay.yaml": (3, "callbacks[0].delay", "at most 86400"),
    "nan-delay.yaml": (3, "callbacks[0].delay", "expected a finite number"),
    "negative-repeat.yaml": (3, "callbacks[0].repeat", "at least 0"),
    "huge-repeat.yaml": (3, "callbacks[0].repeat", "at most 100000"),
    "repeat-text.yaml": (3, "callbacks[0].repeat", "expected a whole number, got 'many'"),
    "repeat-fraction.yaml": (3, "callbacks[0].repeat", "expected a whole number, got 1.5"),
    "repeat-digits.yaml": (3, "callbacks[0].repeat", "too many digits"),
    "huge-duplicates.yaml": (3, "callbacks[0].duplicates", "at most 100"),
    "too-many-deliveries.yaml": (2, "callbacks", "add up to 1200000 deliveries"),
    "timestamp-negative.yaml": (3, "callbacks[0].timestamp", "at least 0"),
    "fields-not-text.yaml": (4, "callbacks[0].fields.note", "expected text, got a list"),
    "name-list.yaml": (2, "name", "expected text, got a list"),
    "app-id-number.yaml": (2, "app_id", "put it in quotes"),
    "secret-env-not-a-name.yaml": (2, "secret_env", "name of an environment variable"),
    "seed-text.yaml": (2, "seed", "expected a whole number"),
    "speed-zero.yaml": (2, "speed", "greater than 0"),
    "concurrency-zero.yaml": (2, "concurrency", "at least 1"),
    "target-ftp.yaml": (2, "target", "scheme 'ftp'"),
    "target-no-scheme.yaml": (2, "target", "no scheme"),
    "target-no-host.yaml": (2, "target", "with a host"),
    "target-bad-port.yaml": (2, "target", "out of range"),
    "target-space.yaml": (2, "target", "without spaces"),
    "target-javascript.yaml": (2, "target", "scheme 'javascript'"),
    "target-number.yaml": (2, "target", "expected text, got 8080"),
    "retry-timeout-zero.yaml": (3, "retry.timeout", "greater than 0"),
    "retry-negative-interval.yaml": (3, "retry.intervals[1]", "at least 0, got -4"),
    "retry-too-many-intervals.yaml": (3, "retry.intervals", "at most 100 items, got 101"),
    "retry-not-mapping.yaml": (2, "retry", "expected a mapping"),
    "receiver-status-700.yaml": (5, "receiver.responses[1]", "at most 599, got 700"),
    "respond-empty.yaml": (4, "callbacks[0].respond", "at least 1 item"),
    "receiver-hang-text.yaml": (5, "receiver.hang", "expected true or false"),
    "expect-negative.yaml": (5, "expect.lost", "at least 0"),
    "expect-text.yaml": (5, "expect.delivered", "expected a whole number, got 'all'"),
    "python-tag.yaml": (3, "callbacks[0].status", "unsupported YAML tag !!python/object/apply"),
    "custom-tag.yaml": (3, "callbacks[0].status", "unsupported YAML tag !upper"),
    "set-tag.yaml": (2, "callbacks", "unsupported YAML tag !!set"),
    "undefined-alias.yaml": (3, "callbacks[0]", "alias *missing has no anchor"),
    "recursive-alias.yaml": (3, "callbacks[0]", "refers to a value that contains it"),
    "merge-not-mapping.yaml": (3, "callbacks[0]['<<']", "<< expects a mapping"),
    "alias-bomb.yaml": (6, "x-e[5]", "more than 50000 values"),
    "control-character.yaml": (3, None, "control character U+0007"),
    "json-syntax.json": (5, None, "invalid JSON: Expecting ',' delimiter"),
    "json-unknown-key.json": (4, "callbacks[0].reepat", "did you mean 'repeat'?"),
    "json-wrong-type.json": (5, "retry.timeout", "expected a number, got 'soon'"),
    "json-duplicate-key.json": (4, "seed", "duplicate key 'seed' (first at line 3)"),
    "json-top-level-list.json": (1, None, "at the top level, got a list"),
}


def fifty_megabytes(tmp: Path) -> Path:
    path = tmp / "fifty-megabytes.yaml"
    with path.open("wb") as handle:
        handle.truncate(50 * 1024 * 1024)
    return path


def over_the_limit(tmp: Path) -> Path:
    path = tmp / "valid-but-large.yaml"
    path.write_text("callbacks:\n  - status: SUCCESS\n" + "# padding\n" * (MAX_FILE_BYTES // 10))
    return path


def binary_garbage(tmp: Path) -> Path:
    path = tmp / "garbage.yaml"
    path.write_bytes(random.Random(7).randbytes(4096))
    return path


def nul_bytes(tmp: Path) -> Path:
    path = tmp / "nul.yaml"
    path.write_bytes(b"callbacks:\n  - status: SUCCESS\x00\x00\x00\n")
    return path


def latin1(tmp: Path) -> Path:
    path = tmp / "latin1.yaml"
    path.write_bytes("name: caf\u00e9\ncallbacks:\n  - status: SUCCESS\n".encode("latin-1"))
    return path


def utf16(tmp: Path) -> Path:
    path = tmp / "utf16.yaml"
    path.write_bytes("callbacks:\n  - status: SUCCESS\n".encode("utf-16"))
    return path


def deep_flow(tmp: Path) -> Path:
    path = tmp / "deep-flow.yaml"
    path.write_text("callbacks: " + "[" * 200_000 + "]" * 200_000 + "\n")
    return path


def deep_block(tmp: Path) -> Path:
    path = tmp / "deep-block.yaml"
    path.write_text(
        "".join(f"{'  ' * level}k{level}:\n" for level in range(300)) + "  " * 300 + "x"
    )
    return path


def deep_json(tmp: Path) -> Path:
    path = tmp / "deep.json"
    path.write_text('{"callbacks": ' + "[" * 100_000 + "]" * 100_000 + "}")
    return path


def many_values(tmp: Path) -> Path:
    path = tmp / "many-values.yaml"
    path.write_text("callbacks: [" + "{}, " * 200_000 + "]\n")
    return path


def alias_fan_out(tmp: Path) -> Path:
    path = tmp / "fan-out.yaml"
    big = "[" + ", ".join(str(n) for n in range(1000)) + "]"
    path.write_text(f"x-big: &big {big}\ncallbacks:\n" + "  - fields: {a: *big}\n" * 1000)
    return path


def directory(tmp: Path) -> Path:
    path = tmp / "a-directory.yaml"
    path.mkdir()
    return path


def missing(tmp: Path) -> Path:
    return tmp / "does-not-exist.yaml"


GENERATED: dict[str, tuple[Callable[[Path], Path], int | None, str | None, str]] = {
    "50 MB file": (fifty_megabytes, None, None, "the file is 50.0 MiB; scenario files are"),
    "valid YAML over the limit": (over_the_limit, None, None, "limited to 1 MiB"),
    "binary garbage": (binary_garbage, 1, None, "not UTF-8 text"),
    "NUL bytes": (nul_bytes, 2, None, "binary data"),
    "latin-1 text": (latin1, 1, None, "not UTF-8 text (byte 0xe9)"),
    "UTF-16 text": (utf16, 1, None, "UTF-16 text; save it as UTF-8"),
    "200,000 nested flow lists": (deep_flow, 1, None, f"nested deeper than {MAX_DEPTH}"),
    "300 nested block mappings": (
        deep_block,
        MAX_DEPTH + 1,
        "k0.k1.k2.k3...k30.k31",
        f"nested deeper than {MAX_DEPTH} levels",
    ),
    "100,000 nested JSON lists": (deep_json, 1, None, f"nested deeper than {MAX_DEPTH}"),
    "200,000 values": (many_values, 1, None, "more than 50000 values"),
    "one alias used 1,000 times": (
        alias_fan_out,
        51,
        "callbacks[48].fields.a",
        "aliases count as copies",
    ),
    "a directory": (directory, None, None, "is a directory"),
    "a missing file": (missing, None, None, "no such file"),
}
