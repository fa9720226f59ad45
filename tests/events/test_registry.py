"""The event registry lists every event without importing its module; specs load on use."""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
from typing import Any

import pytest

from emulator.events import EVENT_NAMES, EVENTS, EventSpec, discover, event_spec, spec_for_fields
from emulator.events._registry import EVENT_MODULES, wire_name


def _registry_lines(found: dict[str, EventSpec[Any]]) -> str:
    """What ``EVENT_MODULES`` should say for the specs ``found``."""
    lines = []
    for name, spec in found.items():
        module = spec.generate.__module__.removeprefix("emulator.events.")
        lines.append(f'    "{name}": "{module}",')
    return "\n".join(lines)


def test_registry_lists_exactly_the_events_the_modules_define() -> None:
    found = discover()
    assert list(EVENT_MODULES) == list(found), (
        "emulator/events/_registry.py must list every event, in this order:\n"
        + _registry_lines(found)
    )
    for name, spec in found.items():
        module = importlib.import_module(f"emulator.events.{EVENT_MODULES[name]}")
        defined = [getattr(module, "SPEC", None), *getattr(module, "SPECS", ())]
        assert spec in defined, f"{name} is not defined in {EVENT_MODULES[name]}"
    assert list(EVENT_NAMES) == list(EVENT_MODULES)
    assert set(EVENTS) == set(found)


def test_wire_names_follow_from_event_names() -> None:
    for name, spec in discover().items():
        assert wire_name(name) == spec.wire_event, name


def test_each_spec_is_the_modules_own() -> None:
    found = discover()
    for name in EVENT_NAMES:
        assert EVENTS[name] is found[name]
        assert event_spec(name) is found[name]
        assert name in EVENTS


def test_unknown_event_names_the_known_ones() -> None:
    with pytest.raises(KeyError, match="expected one of cloud_recording, compose"):
        event_spec("no_such_event")
    assert "no_such_event" not in EVENTS
    assert EVENTS.get("no_such_event") is None


def _fresh(code: str) -> dict[str, object]:
    """Run ``code`` in a fresh interpreter; it prints one JSON value."""
    output = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    value: dict[str, object] = json.loads(output)
    return value


def test_listing_events_imports_no_event_module() -> None:
    report = _fresh(
        "import json, sys\n"
        "from emulator.events import EVENT_NAMES, EVENTS\n"
        "names = list(EVENT_NAMES); known = 'procedure' in EVENTS; count = len(EVENTS)\n"
        "before = sorted(m for m in sys.modules if m.startswith('emulator.events.')\n"
        "                and m not in ('emulator.events.base', 'emulator.events._registry'))\n"
        "EVENTS['compose']\n"
        "after = sorted(m for m in sys.modules if m.startswith('emulator.events.')\n"
        "               and m not in ('emulator.events.base', 'emulator.events._registry'))\n"
        "print(json.dumps({'names': names, 'known': known, 'count': count,\n"
        "                  'before': before, 'after': after, 'loaded': EVENTS.loaded()}))\n"
    )
    assert report["names"] == list(EVENT_MODULES)
    assert report["known"] is True
    assert report["count"] == len(EVENT_MODULES)
    assert report["before"] == []
    assert report["after"] == ["emulator.events.compose"]
    assert report["loaded"] == ["compose"]


def test_a_received_callback_finds_its_spec_by_wire_name() -> None:
    assert spec_for_fields({"event": "compose"}) is event_spec("compose")
    assert spec_for_fields({"event": "room_create"}) is event_spec("room_create")
    zim_room = {"event": "room_create", "operator_account": "u1"}
    assert spec_for_fields(zim_room) is event_spec("zim.room_create")
    assert spec_for_fields({"event": "zim.room_create"}) is event_spec("zim.room_create")
    assert spec_for_fields({"event": "no_such_event"}) is None
