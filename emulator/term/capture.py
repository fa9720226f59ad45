"""Checking a captured callback body: the ``verify`` command's work.

    valid = verify_body_file("body.txt", callback_secret, content_type=None, as_json=False)

Reads the body (a file or ``-`` for stdin, at most ``MAX_BODY_BYTES``), decodes it in
whichever of the three encodings it is in, checks that it is a whole callback (not cut
short, not some other document), verifies its signature and prints it. Unreadable files
raise UsageError and bodies that are not callbacks raise DecodeError (exit 2 either way);
a wrong or missing signature is a result, not an error.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any, BinaryIO

from emulator.errors import DecodeError, UsageError
from emulator.events import spec_for_fields
from emulator.events.base import COMMON_FIELDS, SHAPE_FIELDS, event_of
from emulator.term.display import callback_lines, callback_markup, signature_state
from emulator.term.safe import json_text, say
from emulator.verify import Verdict, verify_callback
from emulator.wire import WireValue

MAX_BODY_BYTES = 10 * 1024 * 1024


def _read_capped(stream: BinaryIO, name: str, limit: int) -> bytes:
    body = stream.read(limit + 1)
    if len(body) > limit:
        raise UsageError(
            f"{name} is larger than {limit // (1024 * 1024)} MiB; a callback body is a few KiB"
        )
    return body


def read_body(path_or_dash: str, limit: int = MAX_BODY_BYTES) -> bytes:
    """The bytes of a body file, or of stdin for ``-``; UsageError when unreadable or too big."""
    if path_or_dash == "-":
        if sys.stdin is None:
            raise UsageError("no body: stdin is closed; give a FILE")
        if sys.stdin.isatty():
            print("reading the callback body from stdin (end with Ctrl-D)", file=sys.stderr)
        return _read_capped(sys.stdin.buffer, "stdin", limit)
    path = Path(path_or_dash)
    try:
        with path.open("rb") as stream:
            return _read_capped(stream, str(path), limit)
    except IsADirectoryError:
        raise UsageError(f"{path} is a directory; expected a file holding one body") from None
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror or exc}") from None


def check_callback_shape(fields: Mapping[str, WireValue]) -> None:
    """DecodeError unless ``fields`` look like one whole callback of a known or unknown event."""
    if not any(name in fields for name in SHAPE_FIELDS):
        names = ", ".join(list(fields)[:3]) or "nothing"
        raise DecodeError(
            f"body decodes to {names}, not a callback: none of the fields "
            f"{', '.join(COMMON_FIELDS)} is present"
        )
    spec = spec_for_fields(fields)
    if spec is None or spec.check is None:
        return
    problems = spec.check(fields)
    if problems:
        raise DecodeError(f"body is not a whole {spec.name} callback: {'; '.join(problems)}")


def verify_body(
    body: bytes,
    callback_secret: str,
    content_type: str | None = None,
    max_age: float | None = None,
    now: float | None = None,
) -> Verdict:
    """Decode, shape-check and verify one captured body (DecodeError when it is not one)."""
    if not body.strip():
        raise DecodeError("body is empty: expected a form or JSON callback body")
    verdict = verify_callback(body, content_type, callback_secret, max_age=max_age, now=now)
    check_callback_shape(verdict.fields)
    return verdict


def verdict_json(verdict: Verdict) -> dict[str, Any]:
    """The ``verify --json`` object: validity, signature state, encoding and every field."""
    return {
        "valid": verdict.ok,
        "signature": signature_state(verdict.fields, verdict),
        "fresh": verdict.fresh,
        "reasons": list(verdict.reasons),
        "encoding": verdict.encoding,
        "event": event_of(verdict.fields),
        "fields": dict(verdict.fields),
    }


def verify_body_file(
    path_or_dash: str,
    secret: str,
    content_type: str | None = None,
    as_json: bool = False,
    max_age: float | None = None,
) -> bool:
    """Verify a captured body and print it; True when its signature is valid (and fresh).

    ``secret`` is the callback secret; it is only used to check, never printed.
    """
    verdict = verify_body(read_body(path_or_dash), secret, content_type, max_age)
    if as_json:
        say(json_text(verdict_json(verdict), indent=2))
    elif sys.stdout.isatty():
        from rich.console import Console

        console = Console(highlight=False)
        for line in callback_markup(verdict.fields, verdict):
            console.print(line)
    else:
        say("\n".join(callback_lines(verdict.fields, verdict)))
    return verdict.ok


__all__ = [
    "MAX_BODY_BYTES",
    "check_callback_shape",
    "read_body",
    "verdict_json",
    "verify_body",
    "verify_body_file",
]
