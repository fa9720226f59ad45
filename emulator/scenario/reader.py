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
        scenario = Scenario.model_validate(data)
    except ValidationError as exc:
        raise first_error(exc, document, shown) from None
    scenario._source = shown
    scenario._lines = document.lines
    return scenario


def _is_extension(key: Any) -> bool:
    return isinstance(key, str) and key.startswith("x-")


def _read_text(path: Path, shown: str) -> str:
    try:
        info = path.stat()
        if stat.S_ISDIR(info.st_mode):
            raise ScenarioError(shown, None, None, "is a directory; expected a scenario file")
        if not stat.S_ISREG(info.st_mode):  # a FIFO would block the read for ever
            raise ScenarioError(shown, None, None, f"{_file_kind(info.st_mode)}; {_REGULAR}")
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


_REGULAR = "expected a scenario file"


def _file_kind(mode: int) -> str:
    """``not a regular file (a FIFO)`` and the like, for a file we will not read."""
    kinds = (
        (stat.S_ISFIFO, "a FIFO"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISSOCK, "a socket"),
    )
    kind = next((name for test, name in kinds if test(mode)), "a special file")
    return f"not a regular file ({kind})"


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
    text: str = ""  # a scalar's source text
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
        node = _Node("scalar", line, merge=merge, text=event.value)
        if merge:
            node.value = "<<"
        elif self.is_json and event.implicit[0]:
            node.value = _json_scalar(tag, event, self.loader, line)
        else:
            if event.implicit[0] and tag in _NUMBER_TAGS and ":" in event.value:
                raise _Stop(line, _base_60(event.value, tag, self.loader, event))
            node.value = _yaml_scalar(tag, event, self.loader, line)
            if event.implicit[0] and tag == _STR and _overflows(event.value):
                # YAML 1.1 reads 1e400 as text, which a number field would take as inf
                raise _Stop(line, f"expected a finite number, got {shorten(event.value)}")
        problem = _unusable_value(node.value)
        if problem:
            raise _Stop(line, problem)
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
            if node.value is None:
                raise _Stop(node.line, _NULL_KEY)
            if not isinstance(node.value, str) and not node.merge:
                node.value = node.text  # ``1:``, ``yes:``: the key as written
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


_NULL_KEY = "unknown key null (an empty key, ~ or null); keys are text, such as 'callbacks'"


_NUMBER_TAGS = {"tag:yaml.org,2002:int", "tag:yaml.org,2002:float"}


MAX_INTEGER = 2**63 - 1  # no field holds more; a receiver's JSON parser may hold less


def _base_60(text: str, tag: str, loader: Any, event: Any) -> str:
    """Why a plain ``1:30`` is refused: YAML 1.1 reads it as a base-60 number."""
    node = yaml.ScalarNode(tag, text, event.start_mark, event.end_mark, event.style)
    try:
        value = loader.yaml_constructors[tag](loader, node)
    except Exception:
        value = None
    read_as = f" ({shorten(value)} seconds)" if value is not None else ""
    return (
        f"{shorten(text)} is a YAML 1.1 base-60 number{read_as}; write plain seconds "
        "(90), or put it in quotes for text"
    )


def _unusable_value(value: Any) -> str | None:
    """Why a parsed scalar cannot be a scenario value (None when it can)."""
    if isinstance(value, float) and (value != value or value in (_INF, -_INF)):
        return f"expected a finite number, got {shorten(value)}"
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > MAX_INTEGER:
        digits = len(str(abs(value)))
        return f"a {digits}-digit number is out of range; expected at most {MAX_INTEGER}"
    if isinstance(value, str) and _SURROGATE.search(value):
        code = f"U+{ord(_SURROGATE.search(value).group()):04X}"  # type: ignore[union-attr]
        return f"a lone surrogate ({code}) is not Unicode text; expected UTF-8 text"
    return None


_INF = float("inf")


_EXPONENT_NUMBER = re.compile(r"[-+]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)[eE][-+]?[0-9]+")


def _overflows(text: str) -> bool:
    """True for a YAML 1.2 number beyond a float's range (YAML 1.1 leaves ``1e400`` text)."""
    return _EXPONENT_NUMBER.fullmatch(text) is not None and float(text) in (_INF, -_INF)


_SURROGATE = re.compile("[\ud800-\udfff]")


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
    except (KeyError, IndexError, TypeError, OverflowError):  # ``!!bool maybe``, ``!!int ""``
        kind = tag.rsplit(":", 1)[-1]
        raise _Stop(line, f"cannot read {shorten(event.value)} as {kind}") from None


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
    depth, count, problem = _measure(data)
    if problem:
        raise ScenarioError(shown, _lone_surrogate_line(text), None, problem)
    if depth > MAX_DEPTH:
        raise ScenarioError(shown, None, None, f"nested deeper than {MAX_DEPTH} levels")
    if count > MAX_VALUES:
        raise ScenarioError(shown, None, None, f"the document holds more than {MAX_VALUES} values")
    return Document(data)


_SURROGATE_ESCAPE = re.compile(r"(\\+)u([dD][89a-fA-F][0-9a-fA-F]{2})")


def _lone_surrogate_line(text: str) -> int | None:
    """The line of the first ``\\udXXX`` escape of a JSON text that is not half of a pair."""
    previous_high_end = -1
    for match in _SURROGATE_ESCAPE.finditer(text):
        if len(match.group(1)) % 2 == 0:  # ``\\ud800``: an escaped backslash, then text
            continue
        high = int(match.group(2), 16) < 0xDC00
        paired_low = not high and match.start() == previous_high_end
        if high:
            following = _SURROGATE_ESCAPE.match(text, match.end())
            if following and len(following.group(1)) == 1 and following.group(2)[1] in "cdefCDEF":
                previous_high_end = match.end()
                continue
        if not paired_low:
            return text.count("\n", 0, match.start()) + 1
    return None


def _measure(data: Any) -> tuple[int, int, str | None]:
    """Depth, number of values and the first unusable value of plain data, without
    recursion."""
    depth = count = 0
    problem: str | None = None
    pending: list[tuple[Any, int]] = [(data, 0)]
    while pending:
        value, level = pending.pop()
        count += 1
        depth = max(depth, level)
        if isinstance(value, dict):
            pending.extend((item, level + 1) for item in value.values())
            pending.extend((key, level + 1) for key in value)
        elif isinstance(value, list):
            pending.extend((item, level + 1) for item in value)
        elif problem is None:
            problem = _unusable_value(value)
    return depth, count, problem
