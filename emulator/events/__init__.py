"""The callback events, one module each, discovered automatically.

Adding an event means adding one module here that defines ``SPEC`` (see ``base.py``), or
``SPECS`` for a small family. A subpackage holds one product's events (``zim/``: ZIM's,
registered as ``zim.<event>`` because their wire names clash with RTC's); its modules are
discovered the same way.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Iterator, Mapping
from types import ModuleType
from typing import Any

from emulator.events.base import CallbackModel, Common, EventParams, EventSpec, Fake, event_of
from emulator.wire import WireValue


def _modules(path: list[str], package: str) -> Iterator[ModuleType]:
    """The event modules under ``path``, subpackages' modules included (sorted by name)."""
    for info in sorted(pkgutil.iter_modules(path), key=lambda m: m.name):
        if info.name == "base" or info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{package}.{info.name}")
        yield module
        if info.ispkg:
            yield from _modules(list(module.__path__), module.__name__)


def _discover() -> dict[str, EventSpec[Any]]:
    found: dict[str, EventSpec[Any]] = {}
    for module in _modules(list(__path__), __name__):
        specs = [getattr(module, "SPEC", None), *getattr(module, "SPECS", ())]
        for spec in specs:
            if isinstance(spec, EventSpec):
                found[spec.name] = spec
    return found


EVENTS: dict[str, EventSpec[Any]] = _discover()
EVENT_NAMES: tuple[str, ...] = tuple(EVENTS)
# wire ``event`` value -> the specs sending it (ZIM's room_create shares RTC's name)
_BY_WIRE_NAME: dict[str, list[EventSpec[Any]]] = {}
for _spec in EVENTS.values():
    _BY_WIRE_NAME.setdefault(_spec.wire_event, []).append(_spec)


def spec_for_fields(fields: Mapping[str, WireValue]) -> EventSpec[Any] | None:
    """The spec of a received callback, from its wire ``event`` (None when unknown).

    When two products send the same name, the spec whose ``claims`` recognises the fields
    wins; otherwise the one without ``claims`` (the default product).
    """
    name = event_of(fields)
    candidates = _BY_WIRE_NAME.get(name) or ([EVENTS[name]] if name in EVENTS else [])
    if len(candidates) <= 1:
        return candidates[0] if candidates else None
    for spec in candidates:
        if spec.claims is not None and spec.claims(fields):
            return spec
    return next((spec for spec in candidates if spec.claims is None), candidates[0])


def event_spec(name: str) -> EventSpec[Any]:
    """The spec of event ``name``; KeyError naming the known events otherwise."""
    try:
        return EVENTS[name]
    except KeyError:
        raise KeyError(
            f"unknown event {name!r}; expected one of {', '.join(EVENT_NAMES)}"
        ) from None


__all__ = [
    "EVENTS",
    "EVENT_NAMES",
    "CallbackModel",
    "Common",
    "EventParams",
    "EventSpec",
    "Fake",
    "event_spec",
    "spec_for_fields",
]
