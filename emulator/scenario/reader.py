"""Reading scenario files: hostile-input YAML (or JSON) into the scenario model.

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

import json
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import (
    ValidationError,
)

from emulator.errors import ScenarioError
from emulator.scenario.explain import DataPath, Document, dotted, first_error, key_text, kind_of
from emulator.scenario.model import Scenario, shorten

_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


MAX_FILE_BYTES = 1024 * 1024  # a scenario is a few KiB; use repeat: for volume


MAX_DEPTH = 32  # nesting levels (a real scenario needs 6)


MAX_VALUES = 50_000  # values in one document, aliases counted by their expanded size


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
            f"expected a mapping (key: value lines) at the top level, got {kind_of(document.data)}",
        )
    # top-level keys starting with x- are the user's own (a place for YAML anchors)
    data = {key: value for key, value in document.data.items() if not _is_extension(key)}
    document.data = data
    try:
        return Scenario.model_validate(data)
    except ValidationError as exc:
        raise first_error(exc, document, shown) from None


def _is_extension(key: Any) -> bool:
    return isinstance(key, str) and key.startswith("x-")


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


class _Stop(Exception):
    """A problem found while composing: line, message (the field is the open path)."""

    def __init__(self, line: int | None, message: str, key: Any = None) -> None:
        super().__init__(message)
        self.line = line
        self.message = message
        self.key = key  # the key the problem is at, below the open path


def _parse(text: str, shown: str, path: Path) -> Document:
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
            message += f" (after key {dotted(composer.last_key)})"
        yaml_error = ScenarioError(shown, line, None, message)
        if not is_json:
            raise yaml_error from None
        return _parse_json(text, shown, yaml_error if not json_suffix else None)
    finally:
        composer.dispose()
    document = Document(None)
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
        return dotted(path) or None

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
                    f"duplicate key {key_text(node.value)!r} (first at line {first})",
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
        raise _Stop(line, f"cannot read {shorten(event.value)} as {kind}: {reason}") from None


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


def _parse_json(text: str, shown: str, yaml_error: ScenarioError | None) -> Document:
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
    return Document(data)


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
