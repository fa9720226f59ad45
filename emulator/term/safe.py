"""Text for the terminal: nothing from a scenario, a record or the network reaches it raw.

    say(f"run {name} -> {target}")           # print(), every line made safe
    table.add_row(safe(callback_id), ...)     # one value, for a rich cell or Text
    say(json_text(summary, indent=2))         # JSON, the same characters \\u-escaped

Escaped (as ``\\x1b``, ``\\x9b``, ``\\u202e``): every character Python does not call
printable. That is the C0 controls (ESC, so no CSI/OSC sequence can recolour, retitle or
clear the terminal; BEL, BS, CR, TAB...), DEL, the C1 controls U+0080-U+009F (U+009B is a
one-character CSI to many terminals), the bidirectional embeddings, overrides and isolates
U+202A-U+202E and U+2066-U+2069 (they reorder how a line reads: escaped on purpose, like
every other invisible format character), the line and paragraph separators, unpaired
surrogates and unassigned code points. Printable text (accents, CJK, emoji) is kept.
:func:`say` keeps the newlines between lines and escapes each line; JSON stays valid
JSON (the characters escaped only ever occur inside its strings).
"""

from __future__ import annotations

import json
import sys
from typing import IO, Any

from emulator.redact import without_controls


def safe(text: object) -> str:
    """``text`` as one terminal-safe line (a newline in it is escaped too)."""
    return without_controls(str(text))


def safe_lines(text: str) -> str:
    """``text`` terminal-safe line by line: its newlines kept, all else escaped."""
    if text.isprintable():
        return text
    return "\n".join(without_controls(line) for line in text.split("\n"))


def say(text: object = "", *, file: IO[str] | None = None, flush: bool = True) -> None:
    """``print`` for the terminal layer: ``text`` made safe line by line."""
    print(safe_lines(str(text)), file=file if file is not None else sys.stdout, flush=flush)


def safe_strings(value: Any) -> Any:
    """A copy of a JSON-like value with every string in it (keys too) made safe: what a
    renderer that quotes record text gets handed."""
    if isinstance(value, str):
        return without_controls(value)
    if isinstance(value, dict):
        return {safe_strings(key): safe_strings(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [safe_strings(item) for item in value]
    return value


class SafeStream:
    """A text stream whose every write is made safe line by line (for plain ``print``s)."""

    def __init__(self, stream: IO[str]) -> None:
        self.stream = stream

    def write(self, text: str) -> int:
        return self.stream.write(safe_lines(text))

    def flush(self) -> None:
        self.stream.flush()


def _json_escape(char: str) -> str:
    code = ord(char)
    if code <= 0xFFFF:
        return f"\\u{code:04x}"
    code -= 0x10000
    return f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}"


def json_safe(text: str) -> str:
    """JSON text with every non-printable character ``\\u``-escaped (still the same JSON)."""
    if text.replace("\n", "").isprintable():
        return text
    return "".join(ch if ch == "\n" or ch.isprintable() else _json_escape(ch) for ch in text)


def json_text(value: Any, indent: int | None = None) -> str:
    """``value`` as JSON for a terminal: non-ASCII text kept, control characters escaped."""
    return json_safe(json.dumps(value, ensure_ascii=False, indent=indent))


__all__ = ["SafeStream", "json_safe", "json_text", "safe", "safe_lines", "safe_strings", "say"]
