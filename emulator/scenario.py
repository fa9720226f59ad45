"""Scenario files: YAML (or JSON) describing callbacks to deliver, validated with pydantic.

Every key is optional except ``callbacks``; anything not given is generated. A user's
mistake becomes one :class:`~emulator.errors.ScenarioError` naming file, line and field:

    load_scenario("s.yaml")   ->  s.yaml:7: callbacks[0].stauts: unknown key 'stauts';
                                  did you mean 'status'?

Loading goes file -> text -> value tree -> model, each step refusing hostile input early:

* the file is refused above :data:`MAX_FILE_BYTES` before it is read, and read with a cap;
* text must be UTF-8 without control characters (binary data is named as such);
* YAML is read event by event (never the recursive composer), so nesting is limited to
  :data:`MAX_DEPTH` and the values a document holds — aliases included, by their expanded
  size — to :data:`MAX_VALUES` (an alias bomb stops at the alias that crosses the budget);
  duplicate keys, unsupported tags and second documents are errors with their line;
* every value keeps the line it came from, so a pydantic error's location maps to a line.

JSON is read by the same YAML reader (JSON is YAML's flow style), its plain scalars as JSON
numbers; if the YAML reader cannot read a JSON file, :mod:`json` reads it (then without
line numbers for validation errors, but with the line of a syntax error).
"""

from __future__ import annotations

import difflib
import json
import os
import re
import stat
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal, Union, cast, get_args, get_origin
from urllib.parse import urlsplit

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    ValidationError,
    create_model,
    field_validator,
)
from pydantic_core import ErrorDetails

from emulator.callback import Tamper
from emulator.config import CALLBACK_SECRET_ENV, Secret, resolve_secret
from emulator.errors import ScenarioError
from emulator.events import EVENT_NAMES, EVENTS, EventParams
from emulator.retry import DEFAULT_TIMEOUT, ZEGO_INTERVALS, RetryPolicy
from emulator.wire import Encoding

Order = Literal["as_listed", "reversed", "shuffled"]
Status = Annotated[int, Field(ge=100, le=599)]

MAX_FILE_BYTES = 1024 * 1024  # a scenario is a few KiB; use repeat: for volume
MAX_DEPTH = 32  # nesting levels (a real scenario needs 6)
MAX_VALUES = 50_000  # values in one document, aliases counted by their expanded size
MAX_DELIVERIES = 1_000_000  # sum of repeat x (1 + duplicates) over a scenario's callbacks
MAX_URL_LENGTH = 2048
ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


# --- the models -------------------------------------------------------------------------


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


class RetryConfig(_Strict):
    """``retry:`` — ZEGO's policy unless overridden."""

    intervals: list[Annotated[float, Field(ge=0, le=86400)]] = Field(
        default_factory=lambda: list(ZEGO_INTERVALS),
        max_length=100,
        description="emulated seconds from the start of a request to the retry after it; "
        "one retry per entry (ZEGO: 2, 4, 8, 16, 32 -> at most 6 requests)",
    )
    timeout: float = Field(
        default=DEFAULT_TIMEOUT,
        gt=0,
        le=3600,
        description="per-request timeout in real seconds (not divided by --speed)",
    )
    resign_each_attempt: bool = Field(
        default=False,
        description="give every retry a fresh timestamp, nonce and signature (ZEGO re-sends "
        "the identical body)",
    )

    def policy(self) -> RetryPolicy:
        return RetryPolicy(tuple(self.intervals), self.timeout, self.resign_each_attempt)


class CallbackCommon(_Strict):
    """Keys every callback entry accepts, whatever its event."""

    repeat: int = Field(
        default=1, ge=0, le=100_000, description="how many such callbacks (each its own task)"
    )
    delay: float = Field(
        default=0.0,
        ge=0,
        le=86400,
        description="emulated seconds from the start of the run to this callback's first request",
    )
    tamper: Tamper = Field(
        default="none",
        description="break the callback on purpose: bad_signature, stale_timestamp (validly "
        "signed, one hour old) or missing_signature",
    )
    duplicates: int = Field(
        default=0,
        ge=0,
        le=100,
        description="extra deliveries of the same signed callback (at-least-once delivery)",
    )
    rename: dict[str, str] = Field(
        default_factory=dict,
        max_length=100,
        description="wire field renames, e.g. {file_id: fileId}",
    )
    fields: dict[str, str] = Field(
        default_factory=dict,
        max_length=100,
        description="extra top-level wire fields added after signing",
    )
    timestamp: int | None = Field(
        default=None,
        ge=0,
        le=10**11,
        description="the timestamp field, Unix seconds (default: the time of the run)",
    )
    nonce: str | None = Field(
        default=None, max_length=256, description="the nonce field (default: random digits)"
    )
    respond: list[Status] | None = Field(
        default=None,
        min_length=1,
        max_length=100,
        description="how the built-in receiver (--builtin-receiver, demo) answers requests "
        "carrying this callback's task_id: the n-th request gets the n-th status, the last "
        "one repeats; overrides receiver.responses for these callbacks",
    )

    def event_params(self) -> dict[str, Any]:
        """The event-specific keys of this entry (what the event generator takes)."""
        common = set(CallbackCommon.model_fields) | {"event"}
        return {k: v for k, v in self.model_dump(exclude_unset=True).items() if k not in common}


def _entry_model(event: str, params: type[EventParams]) -> type[CallbackCommon]:
    """The scenario entry of one event: common keys, the event's keys, ``event: <name>``."""
    bases: Any = (CallbackCommon, params)
    # a Literal built at run time: typed as Any so every pydantic version's stubs accept it
    event_type: Any = Literal[event]
    model = create_model(
        f"{event.capitalize()}Entry",
        __base__=bases,
        __doc__=f"A ``{event}`` callback ({EVENTS[event].title}).",
        event=(
            event_type,
            Field(default=event, description="the callback event (default procedure)"),
        ),
    )
    return cast("type[CallbackCommon]", model)


ENTRY_MODELS: dict[str, type[CallbackCommon]] = {
    name: _entry_model(name, spec.params) for name, spec in EVENTS.items()
}


def _entry_event(value: Any) -> str:
    """The tag of an entry: its ``event`` (procedure when absent or not a mapping)."""
    if isinstance(value, dict):
        event = value.get("event", "procedure")
        return event if isinstance(event, str) else repr(event)
    return str(getattr(value, "event", "procedure"))


def _callback_entry_type() -> Any:
    """A union of every event's entry model, told apart by ``event`` (default procedure)."""
    tagged = tuple(Annotated[model, Tag(name)] for name, model in ENTRY_MODELS.items())
    if len(tagged) == 1:
        return next(iter(ENTRY_MODELS.values()))
    return Annotated[Union[tagged], Discriminator(_entry_event)]  # noqa: UP007


CallbackEntry = _callback_entry_type()


class ReceiverScript(_Strict):
    """``receiver:`` — how the built-in receiver answers (``--builtin-receiver``, demo)."""

    responses: list[Status] = Field(
        default_factory=lambda: [200],
        min_length=1,
        max_length=100,
        description="statuses for successive requests of every callback without its own "
        "respond: (one shared sequence), the last one repeats",
    )
    delay: float = Field(
        default=0.0, ge=0, le=3600, description="real seconds to wait before answering"
    )
    hang: bool = Field(default=False, description="never answer (the sender times out)")
    reset: bool = Field(
        default=False,
        description="drop the connection without answering (the sender records connection_reset)",
    )


class Expect(_Strict):
    """``expect:`` — checked after the run; any miss makes the exit code 1."""

    callbacks: int | None = Field(
        default=None, ge=0, description="deliveries made (duplicates count)"
    )
    delivered: int | None = Field(default=None, ge=0, description="deliveries answered 2xx")
    lost: int | None = Field(
        default=None, ge=0, description="deliveries dropped after the last retry failed"
    )
    attempts: int | None = Field(
        default=None, ge=0, description="HTTP requests in total, retries included"
    )
    max_attempts: int | None = Field(
        default=None, ge=0, description="most requests any one delivery took"
    )


def _schema_extra(schema: dict[str, Any]) -> None:
    """JSON Schema touches: the dialect, and ``anyOf`` for callback entries (an entry
    without ``event`` is a procedure, so more than one entry model may match it)."""
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    items = schema.get("properties", {}).get("callbacks", {}).get("items", {})
    if "oneOf" in items:
        items["anyOf"] = items.pop("oneOf")


class Scenario(_Strict):
    """A zego-emulator scenario file: callbacks to deliver, how, and what should happen."""

    model_config = ConfigDict(title="zego-emulator scenario", json_schema_extra=_schema_extra)

    name: str = Field(default="scenario", max_length=200, description="shown in output")
    description: str = Field(default="", max_length=10_000, description="free text")
    target: str | None = Field(
        default=None,
        max_length=MAX_URL_LENGTH,
        description="http:// or https:// URL to POST callbacks to (--target overrides)",
    )
    app_id: str | None = Field(
        default=None, max_length=64, description="the appid field, quoted (default: faked)"
    )
    encoding: Encoding = Field(default="form", description="body encoding")
    seed: int | None = Field(
        default=None, description="seed for fake data: same seed, same payloads"
    )
    secret_env: str | None = Field(
        default=None,
        max_length=200,
        description="name of the environment variable holding the callback secret "
        "(default ZEGO_CALLBACK_SECRET); a scenario never holds the secret itself",
    )
    concurrency: int | None = Field(
        default=None, ge=1, le=100_000, description="requests in flight at most"
    )
    speed: float | None = Field(
        default=None, gt=0, le=1_000_000, description="divide every wait by this"
    )
    retry: RetryConfig = Field(default_factory=RetryConfig, description="retry policy")
    callbacks: list[CallbackEntry] = Field(  # type: ignore[valid-type]
        min_length=1,
        max_length=10_000,
        description="callback entries; keys not given are faked realistically",
    )
    order: Order = Field(default="as_listed", description="delivery order (shuffled uses the seed)")
    receiver: ReceiverScript | None = Field(
        default=None, description="the built-in receiver's answers (--builtin-receiver, demo)"
    )
    expect: Expect | None = Field(default=None, description="checked after the run; a miss exits 1")

    @field_validator("target")
    @classmethod
    def _target_is_http_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        problem = url_problem(value)
        if problem:
            raise ValueError(problem)
        return value

    @field_validator("secret_env")
    @classmethod
    def _secret_env_is_a_name(cls, value: str | None) -> str | None:
        if value is not None and not ENV_NAME.match(value):
            raise ValueError(
                f"expected the name of an environment variable (like MY_SECRET), got "
                f"{_shorten(value)}; the secret itself never goes in a scenario"
            )
        return value

    @field_validator("callbacks")
    @classmethod
    def _deliveries_bounded(cls, value: list[CallbackCommon]) -> list[CallbackCommon]:
        total = sum(entry.repeat * (1 + entry.duplicates) for entry in value)
        if total > MAX_DELIVERIES:
            raise ValueError(
                f"the entries add up to {total} deliveries (repeat x (1 + duplicates)); "
                f"expected at most {MAX_DELIVERIES}"
            )
        return value


def url_problem(url: str) -> str | None:
    """Why ``url`` is not a usable target (an http/https URL with a host), or None."""
    shown = _shorten(url)
    if any(ch.isspace() or not ch.isprintable() for ch in url):
        return f"expected an http:// or https:// URL without spaces, got {shown}"
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        return f"expected an http:// or https:// URL, got {shown} ({exc})"
    if parts.scheme.lower() not in ("http", "https"):
        scheme = f"scheme {parts.scheme!r}" if parts.scheme else "no scheme"
        return f"expected an http:// or https:// URL, got {shown} ({scheme})"
    if not parts.hostname:
        return f"expected an http:// or https:// URL with a host, got {shown}"
    if port == 0:
        return f"expected a port from 1 to 65535, got {shown}"
    return None


def scenario_secret(
    scenario: Scenario | None, flag_value: str | None, quiet: bool = False
) -> Secret:
    """The callback secret: ``--secret``, else the scenario's ``secret_env`` variable, else
    ``ZEGO_CALLBACK_SECRET``, else the development default (see :func:`resolve_secret`)."""
    env_name = scenario.secret_env if scenario is not None else None
    if not flag_value and env_name and env_name != CALLBACK_SECRET_ENV:
        value = os.environ.get(env_name)
        if value:
            return Secret(value, f"env {env_name}")
        if not quiet:
            print(
                f"note: the scenario's secret_env {env_name} is not set; "
                f"falling back to {CALLBACK_SECRET_ENV}",
                file=sys.stderr,
            )
    return resolve_secret(flag_value, quiet=quiet)


# --- loading ----------------------------------------------------------------------------

DataPath = tuple[str | int, ...]


def load_scenario(path: str | Path) -> Scenario:
    """Read, parse and validate a scenario file; any problem is one :class:`ScenarioError`."""
    shown = str(path)
    text = _read_text(Path(path), shown)
    document = _parse(text, shown, Path(path))
    if document.data is None:
        raise ScenarioError(
            shown, None, None, "the file is empty; expected a mapping with a 'callbacks' list"
        )
    if not isinstance(document.data, dict):
        raise ScenarioError(
            shown,
            document.lines.get((), 1),
            None,
            f"expected a mapping (key: value lines) at the top level, got {_kind(document.data)}",
        )
    # top-level keys starting with x- are the user's own (a place for YAML anchors)
    data = {key: value for key, value in document.data.items() if not _is_extension(key)}
    document.data = data
    try:
        return Scenario.model_validate(data)
    except ValidationError as exc:
        raise _first_error(exc, document, shown) from None


def _is_extension(key: Any) -> bool:
    return isinstance(key, str) and key.startswith("x-")


# --- file -> text -----------------------------------------------------------------------


def _read_text(path: Path, shown: str) -> str:
    try:
        info = path.stat()
        if stat.S_ISDIR(info.st_mode):
            raise ScenarioError(shown, None, None, "is a directory; expected a scenario file")
        if info.st_size > MAX_FILE_BYTES:
            raise ScenarioError(shown, None, None, _too_large(info.st_size))
        with path.open("rb") as handle:
            raw = handle.read(MAX_FILE_BYTES + 1)
    except ValueError:  # e.g. a NUL byte in the path
        raise ScenarioError(shown, None, None, "not a usable file name") from None
    except FileNotFoundError:
        raise ScenarioError(shown, None, None, "no such file") from None
    except IsADirectoryError:
        raise ScenarioError(shown, None, None, "is a directory; expected a scenario file") from None
    except OSError as exc:
        reason = (exc.strerror or str(exc)).lower()
        raise ScenarioError(shown, None, None, f"cannot read the file: {reason}") from None
    if len(raw) > MAX_FILE_BYTES:
        raise ScenarioError(shown, None, None, _too_large(None))
    return _decode(raw, shown)


def _too_large(size: int | None) -> str:
    limit = f"{MAX_FILE_BYTES / 1024 / 1024:g} MiB"
    amount = f"{size / 1024 / 1024:.1f} MiB" if size is not None else f"more than {limit}"
    return (
        f"the file is {amount}; scenario files are limited to {limit} "
        "(use repeat: for many callbacks)"
    )


_BOMS = {
    b"\xff\xfe\x00\x00": "UTF-32",
    b"\x00\x00\xfe\xff": "UTF-32",
    b"\xff\xfe": "UTF-16",
    b"\xfe\xff": "UTF-16",
}
# what YAML allows in a document: tab, newlines and printable characters
_NOT_YAML_TEXT = re.compile(
    "[^\x09\x0a\x0d\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]"
)


def _decode(raw: bytes, shown: str) -> str:
    for bom, name in _BOMS.items():
        if raw.startswith(bom):
            raise ScenarioError(shown, 1, None, f"the file is {name} text; save it as UTF-8")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        binary = b"\x00" in raw[:8192]
        what = "binary data" if binary else f"byte 0x{raw[exc.start]:02x}"
        raise ScenarioError(
            shown, line, None, f"not UTF-8 text ({what}); expected a YAML or JSON file"
        ) from None
    bad = _NOT_YAML_TEXT.search(text)
    if bad:
        line = text.count("\n", 0, bad.start()) + 1
        code = f"U+{ord(bad.group()):04X}"
        what = "binary data" if bad.group() == "\x00" else f"control character {code}"
        raise ScenarioError(shown, line, None, f"{what} in the file; expected YAML or JSON text")
    return text


# --- text -> value tree (with the line of every value) ----------------------------------


@dataclass
class _Document:
    """Plain values (dict/list/str/int/float/bool/None) and the line of each value's key."""

    data: Any
    lines: dict[DataPath, int] = field(default_factory=dict)


@dataclass(eq=False)
class _Node:
    """One parsed value: a scalar, or a sequence/mapping of nodes."""

    kind: Literal["scalar", "seq", "map"]
    line: int
    value: Any = None  # the scalar's value
    items: list[Any] = field(default_factory=list)  # seq: nodes; map: (key node, value node)
    merge: bool = False  # the YAML merge key ``<<``
    height: int = 0  # nesting levels below
    size: int = 1  # values inside, aliases expanded


@dataclass(eq=False)
class _Open:
    """A sequence or mapping whose end event has not come yet."""

    node: _Node
    anchor: str | None
    key: _Node | None = None  # mapping: the key waiting for its value
    seen: dict[Any, int] = field(default_factory=dict)  # mapping: key -> line


_SCALAR_TAGS = {
    "tag:yaml.org,2002:null",
    "tag:yaml.org,2002:bool",
    "tag:yaml.org,2002:int",
    "tag:yaml.org,2002:float",
    "tag:yaml.org,2002:str",
}
_STR = "tag:yaml.org,2002:str"
_TIMESTAMP = "tag:yaml.org,2002:timestamp"  # kept as text: no field wants a date
_MERGE = "tag:yaml.org,2002:merge"
_COLLECTION_TAGS = {"tag:yaml.org,2002:seq", "tag:yaml.org,2002:map", "!"}
_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Stop(Exception):
    """A problem found while composing: line, message (the field is the open path)."""

    def __init__(self, line: int | None, message: str, key: Any = None) -> None:
        super().__init__(message)
        self.line = line
        self.message = message
        self.key = key  # the key the problem is at, below the open path


def _parse(text: str, shown: str, path: Path) -> _Document:
    json_suffix = path.suffix.lower() == ".json"
    is_json = json_suffix or text.lstrip()[:1] in ("{", "[")
    composer = _Composer(text, is_json)
    try:
        root = composer.compose()
    except _Stop as stop:
        raise ScenarioError(shown, stop.line, composer.where(stop.key), stop.message) from None
    except yaml.YAMLError as exc:
        line, message = _yaml_problem(exc, text)
        if "maximum nesting depth" in message:
            # newer libyaml refuses deep nesting while scanning ahead, before our own
            # check sees the events: the same limit, said the same way
            where = composer.where()
            message = f"nested deeper than {MAX_DEPTH} levels"
            raise ScenarioError(shown, line, where and f"{where}[0]...", message) from None
        if composer.last_key:
            message += f" (after key {_dotted(composer.last_key)})"
        yaml_error = ScenarioError(shown, line, None, message)
        if not is_json:
            raise yaml_error from None
        return _parse_json(text, shown, yaml_error if not json_suffix else None)
    finally:
        composer.dispose()
    document = _Document(None)
    if root is not None:
        document.lines[()] = root.line
        document.data = _plain(root, (), document.lines)
    return document


def _yaml_problem(exc: yaml.YAMLError, text: str) -> tuple[int | None, str]:
    """The line and one-sentence description of a YAML syntax error."""
    if isinstance(exc, yaml.MarkedYAMLError):
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        problem = exc.problem or "unreadable YAML"
        if mark is not None and _char_at(text, mark.line, mark.column) == "\t":
            return line, "a tab character where YAML expects spaces; indent with spaces"
        context = f" ({exc.context})" if exc.context else ""
        return line, f"invalid YAML{context}: {problem}"
    return None, f"invalid YAML: {exc}"


def _char_at(text: str, line: int, column: int) -> str:
    """The character at a 0-based line and column of ``text`` ("" when out of range)."""
    start = 0
    for _ in range(line):
        start = text.find("\n", start) + 1
        if start == 0:
            return ""
    return text[start + column : start + column + 1]


class _Composer:
    """Builds :class:`_Node` trees from parser events without recursion, within limits."""

    def __init__(self, text: str, is_json: bool) -> None:
        self.loader = _Loader(text)
        self.is_json = is_json
        self.stack: list[_Open] = []
        self.anchors: dict[str, _Node] = {}
        self.open_anchors: set[str] = set()
        self.values = 0
        self.last_key: DataPath = ()  # the path of the last key read

    def dispose(self) -> None:
        self.loader.dispose()

    def path(self) -> DataPath:
        """The path of the value being read."""
        path: list[Any] = []
        for frame in self.stack:
            if frame.node.kind == "seq":
                path.append(len(frame.node.items))
            elif frame.key is not None:
                path.append(frame.key.value)
        return tuple(path)

    def where(self, key: Any = None) -> str | None:
        """The dotted path of the value being read (and ``key`` below it), None at the top."""
        path = self.path() if key is None else (*self.path(), key)
        return _dotted(path) or None

    def compose(self) -> _Node | None:
        self.loader.get_event()  # stream start
        if self.loader.check_event(yaml.StreamEndEvent):
            return None
        self.loader.get_event()  # document start
        root = self._node()
        self.loader.get_event()  # document end
        if not self.loader.check_event(yaml.StreamEndEvent):
            event = self.loader.peek_event()
            raise _Stop(
                _line(event),
                "a second YAML document (---); expected one scenario per file",
            )
        return root

    def _node(self) -> _Node:
        """Read one complete node (however deep) from the event stream."""
        while True:
            event = self.loader.get_event()
            node: _Node | None = None
            if isinstance(event, yaml.AliasEvent):
                node = self._alias(event)
            elif isinstance(event, yaml.ScalarEvent):
                node = self._scalar(event)
            elif isinstance(event, (yaml.SequenceStartEvent, yaml.MappingStartEvent)):
                self._open(event)
                continue
            elif isinstance(event, (yaml.SequenceEndEvent, yaml.MappingEndEvent)):
                node = self._close()
            else:  # pragma: no cover - the parser never emits others inside a document
                raise _Stop(_line(event), f"unexpected YAML event {type(event).__name__}")
            if not self.stack:
                return node
            self._add(self.stack[-1], node)

    def _count(self, amount: int, line: int) -> None:
        self.values += amount
        if self.values > MAX_VALUES:
            raise _Stop(
                line,
                f"the document holds more than {MAX_VALUES} values (aliases count as "
                "copies); use repeat: for many callbacks",
            )

    def _alias(self, event: Any) -> _Node:
        line = _line(event)
        anchor = event.anchor
        if anchor in self.open_anchors:
            raise _Stop(line, f"alias *{anchor} refers to a value that contains it")
        node = self.anchors.get(anchor)
        if node is None:
            raise _Stop(line, f"alias *{anchor} has no anchor &{anchor} before it")
        if len(self.stack) + node.height > MAX_DEPTH:
            raise _Stop(line, f"nested deeper than {MAX_DEPTH} levels (through alias *{anchor})")
        self._count(node.size, line)
        return node

    def _scalar(self, event: Any) -> _Node:
        line = _line(event)
        self._count(1, line)
        tag = event.tag
        if tag is None or tag == "!":
            tag = self.loader.resolve(yaml.ScalarNode, event.value, event.implicit)
        merge = tag == _MERGE
        node = _Node("scalar", line, merge=merge)
        if merge:
            node.value = "<<"
        elif self.is_json and event.implicit[0]:
            node.value = _json_scalar(tag, event, self.loader, line)
        else:
            node.value = _yaml_scalar(tag, event, self.loader, line)
        if event.anchor:
            self.anchors[event.anchor] = node
        return node

    def _open(self, event: Any) -> None:
        line = _line(event)
        if len(self.stack) + 1 > MAX_DEPTH:
            raise _Stop(line, f"nested deeper than {MAX_DEPTH} levels")
        if event.tag not in (None, *_COLLECTION_TAGS):
            raise _Stop(line, f"unsupported YAML tag {_short_tag(event.tag)}; {_PLAIN_YAML}")
        self._count(1, line)
        kind: Literal["seq", "map"] = "seq" if isinstance(event, yaml.SequenceStartEvent) else "map"
        if event.anchor:
            self.open_anchors.add(event.anchor)
        self.stack.append(_Open(_Node(kind, line), event.anchor))

    def _close(self) -> _Node:
        frame = self.stack.pop()
        node = frame.node
        if node.kind == "map":
            node.items = _merged(node.items)
        if frame.anchor:
            self.open_anchors.discard(frame.anchor)
            self.anchors[frame.anchor] = node
        return node

    def _add(self, frame: _Open, node: _Node) -> None:
        parent = frame.node
        parent.height = max(parent.height, node.height + 1)
        parent.size += node.size
        if parent.kind == "seq":
            parent.items.append(node)
            return
        if frame.key is None:
            if node.kind != "scalar":
                raise _Stop(node.line, "a key must be plain text, not a list or mapping")
            first = frame.seen.get(node.value)
            if first is not None:
                raise _Stop(
                    node.line,
                    f"duplicate key {_key_text(node.value)!r} (first at line {first})",
                    key=node.value,
                )
            frame.seen[node.value] = node.line
            frame.key = node
            self.last_key = self.path()
            return
        if frame.key.merge and not _mergeable(node):
            raise _Stop(node.line, "<< expects a mapping (*alias) or a list of them")
        parent.items.append((frame.key, node))
        frame.key = None


_PLAIN_YAML = "scenario values are text, numbers, true/false, lists and mappings"


def _short_tag(tag: str) -> str:
    return "!!" + tag[len("tag:yaml.org,2002:") :] if tag.startswith("tag:yaml.org,2002:") else tag


def _line(event: Any) -> int:
    mark = getattr(event, "start_mark", None)
    return int(mark.line) + 1 if mark is not None else 1


def _yaml_scalar(tag: str, event: Any, loader: Any, line: int) -> Any:
    if tag in (_STR, _TIMESTAMP):
        return event.value
    if tag not in _SCALAR_TAGS:
        raise _Stop(line, f"unsupported YAML tag {_short_tag(tag)}; {_PLAIN_YAML}")
    node = yaml.ScalarNode(tag, event.value, event.start_mark, event.end_mark, event.style)
    try:
        return loader.yaml_constructors[tag](loader, node)
    except (ValueError, yaml.YAMLError) as exc:
        kind = tag.rsplit(":", 1)[-1]
        reason = "too many digits" if "digits" in str(exc) else str(exc)
        raise _Stop(line, f"cannot read {_shorten(event.value)} as {kind}: {reason}") from None


def _json_scalar(tag: str, event: Any, loader: Any, line: int) -> Any:
    """A plain scalar of a JSON file: a JSON number, true, false or null (else as YAML)."""
    try:
        return json.loads(event.value)
    except ValueError:
        return _yaml_scalar(tag, event, loader, line)


def _mergeable(node: _Node) -> bool:
    if node.kind == "map":
        return True
    return node.kind == "seq" and all(item.kind == "map" for item in node.items)


def _merged(items: list[tuple[_Node, _Node]]) -> list[tuple[_Node, _Node]]:
    """A mapping's entries with ``<<`` merges applied (explicit keys win, earlier sources win)."""
    if not any(key.merge for key, _ in items):
        return items
    result = [(key, value) for key, value in items if not key.merge]
    present = {key.value for key, _ in result}
    for key, value in items:
        if not key.merge:
            continue
        sources = [value] if value.kind == "map" else list(value.items)
        for source in sources:
            for source_key, source_value in source.items:
                if source_key.value not in present:
                    present.add(source_key.value)
                    result.append((source_key, source_value))
    return result


def _plain(node: _Node, path: DataPath, lines: dict[DataPath, int]) -> Any:
    """Plain Python values from a node tree, noting each value's line under its path."""
    if node.kind == "scalar":
        return node.value
    if node.kind == "seq":
        values = []
        for index, item in enumerate(node.items):
            lines[(*path, index)] = item.line
            values.append(_plain(item, (*path, index), lines))
        return values
    mapping: dict[Any, Any] = {}
    for key, value in node.items:
        lines[(*path, key.value)] = key.line
        mapping[key.value] = _plain(value, (*path, key.value), lines)
    return mapping


# --- JSON the YAML reader could not read -------------------------------------------------


def _parse_json(text: str, shown: str, yaml_error: ScenarioError | None) -> _Document:
    """JSON that the YAML reader could not read; ``yaml_error`` is raised instead of a JSON
    syntax error when the file may well be YAML (no .json suffix)."""

    def no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        mapping: dict[str, Any] = {}
        for key, value in pairs:
            if key in mapping:
                raise _Stop(None, f"duplicate key {key!r}")
            mapping[key] = value
        return mapping

    try:
        data = json.loads(text, object_pairs_hook=no_duplicates)
    except json.JSONDecodeError as exc:
        if yaml_error is not None:
            raise yaml_error from None
        raise ScenarioError(
            shown, exc.lineno, None, f"invalid JSON: {exc.msg} (column {exc.colno})"
        ) from None
    except _Stop as stop:
        raise ScenarioError(shown, None, None, stop.message) from None
    except (RecursionError, ValueError) as exc:
        reason = "nested too deeply" if isinstance(exc, RecursionError) else str(exc)
        raise ScenarioError(shown, None, None, f"invalid JSON: {reason}") from None
    depth, count = _measure(data)
    if depth > MAX_DEPTH:
        raise ScenarioError(shown, None, None, f"nested deeper than {MAX_DEPTH} levels")
    if count > MAX_VALUES:
        raise ScenarioError(shown, None, None, f"the document holds more than {MAX_VALUES} values")
    return _Document(data)


def _measure(data: Any) -> tuple[int, int]:
    """Depth and number of values of plain data, without recursion."""
    depth = count = 0
    pending: list[tuple[Any, int]] = [(data, 0)]
    while pending:
        value, level = pending.pop()
        count += 1
        depth = max(depth, level)
        if isinstance(value, dict):
            pending.extend((item, level + 1) for item in value.values())
        elif isinstance(value, list):
            pending.extend((item, level + 1) for item in value)
    return depth, count


# --- pydantic errors -> one ScenarioError ------------------------------------------------


def _first_error(exc: ValidationError, document: _Document, shown: str) -> ScenarioError:
    """The validation error on the earliest line, as ``file:line: field: what was expected``."""
    located = [_locate(error, document) for error in exc.errors(include_url=False)]
    located.sort(key=lambda item: item[0] if item[0] is not None else sys.maxsize)
    line, path, message = located[0]
    if len(located) > 1:
        more = len(located) - 1
        message += f" (and {more} more problem{'s' if more > 1 else ''})"
    return ScenarioError(shown, line, _dotted(path) or None, message)


def _locate(error: ErrorDetails, document: _Document) -> tuple[int | None, DataPath, str]:
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


def _line_of(path: DataPath, document: _Document) -> int | None:
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
    text = _key_text(key)
    close = difflib.get_close_matches(text, known, n=1, cutoff=0.6)
    if close:
        return f"unknown key {text!r}; did you mean {close[0]!r}?"
    if known:
        return f"unknown key {text!r}; expected one of: {', '.join(known)}"
    return f"unknown key {text!r}"


def _known_keys(path: DataPath, data: Any) -> set[str]:
    """The keys the model accepts at ``path`` (a mapping's location in the data)."""
    models: list[type[BaseModel]] = [Scenario]
    value = data
    for index, part in enumerate(path):
        value = _child(value, part)
        if index == 1 and path[0] == "callbacks":
            models = [ENTRY_MODELS.get(_entry_event(value), ENTRY_MODELS["procedure"])]
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
        return _kind(value)
    return _shorten(value)


def _kind(value: Any) -> str:
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if value is None:
        return "nothing (null)"
    return f"{type(value).__name__} {_shorten(value)}"


def _shorten(value: Any, limit: int = 40) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 4] + "...'"


def _key_text(key: Any) -> str:
    return key if isinstance(key, str) else str(key)


def _dotted(path: DataPath) -> str:
    """``("callbacks", 0, "transcode", 1, "x")`` -> ``callbacks[0].transcode[1].x``."""
    text = ""
    if len(path) > 12:  # a runaway nesting: its start and end say enough
        return f"{_dotted(path[:4])}...{_dotted(path[-2:])}"
    for part in path:
        if isinstance(part, int) and not isinstance(part, bool):
            text += f"[{part}]"
        else:
            name = _key_text(part)
            simple = re.fullmatch(r"[A-Za-z_][A-Za-z0-9_-]*", name) is not None
            text += (f".{name}" if text else name) if simple else f"[{name!r}]"
    return text
