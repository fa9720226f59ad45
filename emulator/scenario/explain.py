"""A pydantic error on a parsed scenario, as one ``file:line: field: expected`` message.

The first error wins; its location maps back to the line of the key it came from, unknown
keys get a "did you mean" from the keys the model knows.
"""

from __future__ import annotations

import difflib
import re
import sys
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, get_args, get_origin

from pydantic import (
    BaseModel,
    ValidationError,
)
from pydantic_core import ErrorDetails

from emulator.errors import ScenarioError
from emulator.events import EVENT_NAMES
from emulator.scenario.model import ENTRY_MODELS, Scenario, entry_event, shorten

DataPath = tuple[str | int, ...]


@dataclass
class Document:
    """Plain values (dict/list/str/int/float/bool/None) and the line of each value's key."""

    data: Any
    lines: dict[DataPath, int] = field(default_factory=dict)


def first_error(exc: ValidationError, document: Document, shown: str) -> ScenarioError:
    """The validation error on the earliest line, as ``file:line: field: what was expected``."""
    errors = exc.errors(include_url=False)
    located = [_locate(error, document) for error in errors]

    def rank(index: int) -> tuple[bool, int]:
        # a missing key goes last: a misspelt key's "did you mean" says more than its absence
        line = located[index][0]
        return errors[index]["type"] == "missing", line if line is not None else sys.maxsize

    line, path, message = located[min(range(len(located)), key=rank)]
    if len(located) > 1:
        more = len(located) - 1
        message += f" (and {more} more problem{'s' if more > 1 else ''})"
    return ScenarioError(shown, line, dotted(path) or None, message)


def _locate(error: ErrorDetails, document: Document) -> tuple[int | None, DataPath, str]:
    """The line, data path and message of one pydantic error."""
    path, value = _data_path(error["loc"], document.data)
    kind = error["type"]
    if kind == "missing":
        parent = path
        path = (*path, error["loc"][-1])
        return _line_of(parent, document), path, "required key is missing"
    if kind == "union_tag_invalid" and isinstance(value, dict) and "event" in value:
        path = (*path, "event")
        value = value["event"]
        kind = "unknown_event"
    elif kind == "literal_error" and _is_event_path(path):
        kind = "unknown_event"
    if kind == "extra_forbidden":
        return _line_of(path, document), path, _unknown_key(path, document.data)
    return _line_of(path, document), path, _describe(kind, error, value)


def _data_path(loc: tuple[int | str, ...], data: Any) -> tuple[DataPath, Any]:
    """Follow a pydantic ``loc`` through the data; parts that name no value (union tags,
    ``[key]`` markers, a missing key) are skipped. Returns the path and the value there."""
    path: list[str | int] = []
    value = data
    for part in loc:
        in_dict = isinstance(value, dict) and part in value
        in_list = isinstance(value, list) and isinstance(part, int) and 0 <= part < len(value)
        if not (in_dict or in_list):
            continue
        value = value[part]
        path.append(part)
    return tuple(path), value


def _line_of(path: DataPath, document: Document) -> int | None:
    for end in range(len(path), -1, -1):
        line = document.lines.get(path[:end])
        if line is not None:
            return line
    return None


def _is_event_path(path: DataPath) -> bool:
    return len(path) == 3 and path[0] == "callbacks" and path[2] == "event"


def _unknown_key(path: DataPath, data: Any) -> str:
    key = path[-1]
    known = sorted(_known_keys(path[:-1], data))
    if key == "secret" and len(path) == 1:
        return (
            "a scenario never holds the secret; set ZEGO_CALLBACK_SECRET (or name another "
            "variable with secret_env:)"
        )
    text = key_text(key)
    close = difflib.get_close_matches(text, known, n=1, cutoff=0.6)
    if close:
        return f"unknown key {text!r}; did you mean {close[0]!r}?{_lookalikes(text)}"
    if known:
        return f"unknown key {text!r}; expected one of: {', '.join(known)}"
    return f"unknown key {text!r}"


def _lookalikes(text: str) -> str:
    """`` ('а' is U+0430 CYRILLIC SMALL LETTER A, not ASCII)`` for a key's foreign letters."""
    foreign = [char for char in dict.fromkeys(text) if not char.isascii()]
    if not foreign:
        return ""
    named = ", ".join(
        f"{char!r} is U+{ord(char):04X} {unicodedata.name(char, 'an unnamed character')}"
        for char in foreign[:3]
    )
    return f" ({named}, not ASCII)"


def _known_keys(path: DataPath, data: Any) -> set[str]:
    """The keys the model accepts at ``path`` (a mapping's location in the data)."""
    models: list[type[BaseModel]] = [Scenario]
    value = data
    for index, part in enumerate(path):
        value = _child(value, part)
        if index == 1 and path[0] == "callbacks":
            models = [ENTRY_MODELS.get(entry_event(value), ENTRY_MODELS["procedure"])]
            continue
        if isinstance(part, int):
            continue
        found: list[type[BaseModel]] = []
        for model in models:
            info = model.model_fields.get(part)
            if info is not None:
                found.extend(_models_in(info.annotation))
        models = found
    return {name for model in models for name in model.model_fields}


def _child(value: Any, part: str | int) -> Any:
    if isinstance(value, dict):
        return value.get(part)
    if isinstance(value, list) and isinstance(part, int) and 0 <= part < len(value):
        return value[part]
    return None


def _models_in(annotation: Any) -> Iterator[type[BaseModel]]:
    """Pydantic models inside a type (through list, dict values, unions, Annotated)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        yield annotation
        return
    if get_origin(annotation) is dict:
        yield from _models_in(get_args(annotation)[1])
        return
    for arg in get_args(annotation):
        yield from _models_in(arg)


def _describe(kind: str, error: ErrorDetails, value: Any) -> str:
    """What was expected, in words, for one pydantic error type."""
    ctx = error.get("ctx") or {}
    got = _got(value)
    if kind == "unknown_event":
        text = value if isinstance(value, str) else repr(value)
        close = difflib.get_close_matches(text, EVENT_NAMES, n=1, cutoff=0.6)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        return f"unknown event {text!r}{hint} (known events: {', '.join(EVENT_NAMES)})"
    if kind == "literal_error":
        expected = str(ctx.get("expected", ""))
        options = {option.lower(): option for option in re.findall(r"'([^']*)'", expected)}
        close = difflib.get_close_matches(str(value).lower(), list(options), n=1, cutoff=0.6)
        hint = f"; did you mean {options[close[0]]!r}?" if close and isinstance(value, str) else ""
        return f"expected {expected}, got {got}{hint}"
    simple = {
        "int_type": "a whole number",
        "int_parsing": "a whole number",
        "int_from_float": "a whole number",
        "int_parsing_size": "a smaller whole number",
        "float_type": "a number",
        "float_parsing": "a number",
        "finite_number": "a finite number",
        "bool_type": "true or false",
        "bool_parsing": "true or false",
        "list_type": "a list",
        "dict_type": "a mapping (key: value)",
        "model_type": "a mapping (key: value)",
        "model_attributes_type": "a mapping (key: value)",
    }
    if kind in simple:
        return f"expected {simple[kind]}, got {got}"
    if kind == "string_type":
        hint = " (put it in quotes)" if isinstance(value, (int, float, bool)) else ""
        return f"expected text, got {got}{hint}"
    bounds = {
        "greater_than_equal": ("at least", "ge"),
        "greater_than": ("greater than", "gt"),
        "less_than_equal": ("at most", "le"),
        "less_than": ("less than", "lt"),
    }
    if kind in bounds:
        words, name = bounds[kind]
        return f"expected a number {words} {_number(ctx.get(name))}, got {got}"
    if kind in ("too_short", "too_long"):
        words, name = (
            ("at least", "min_length") if kind == "too_short" else ("at most", "max_length")
        )
        limit = ctx.get(name)
        items = "item" if limit == 1 else "items"
        return f"expected {words} {limit} {items}, got {ctx.get('actual_length')}"
    if kind in ("string_too_short", "string_too_long"):
        words, name = (
            ("at least", "min_length") if kind == "string_too_short" else ("at most", "max_length")
        )
        return f"expected text of {words} {ctx.get(name)} characters, got {len(str(value))}"
    if kind in ("value_error", "assertion_error"):
        return str(ctx.get("error", error["msg"]))
    message = error["msg"]
    return message[:1].lower() + message[1:] + f", got {got}"


def _number(value: Any) -> str:
    """``86400.0`` -> ``86400``; other values as they are."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _got(value: Any) -> str:
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return kind_of(value)
    return shorten(value)


def kind_of(value: Any) -> str:
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if value is None:
        return "nothing (null)"
    return f"{type(value).__name__} {shorten(value)}"


def key_text(key: Any) -> str:
    return key if isinstance(key, str) else str(key)


def dotted(path: DataPath) -> str:
    """``("callbacks", 0, "transcode", 1, "x")`` -> ``callbacks[0].transcode[1].x``."""
    text = ""
    if len(path) > 12:  # a runaway nesting: its start and end say enough
        return f"{dotted(path[:4])}...{dotted(path[-2:])}"
    for part in path:
        if isinstance(part, int) and not isinstance(part, bool):
            text += f"[{part}]"
        else:
            name = key_text(part)
            simple = re.fullmatch(r"[A-Za-z_][A-Za-z0-9_-]*", name) is not None
            text += (f".{name}" if text else name) if simple else f"[{name!r}]"
    return text
