"""The callback events, one module each, listed by name in ``_registry.py``.

Adding an event means adding one module here that defines ``SPEC`` (see ``base.py``), or
``SPECS`` for a small family, and its line in ``_registry.py``. A subpackage holds one
product's events (``zim/``: ZIM's, registered as ``zim.<event>`` because their wire names
clash with RTC's).

An event's module — its pydantic models — is imported the first time the event is used
(``event_spec``, ``EVENTS[name]``, a received callback of it); listing the names
(``EVENT_NAMES``, ``name in EVENTS``) imports none, so startup does not grow with the
catalogue.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable, Iterator, Mapping
from types import ModuleType
from typing import Any

from emulator.events._registry import EVENT_MODULES, wire_name
from emulator.events.base import CallbackModel, Common, EventParams, EventSpec, Fake, event_of
from emulator.wire import WireValue

EVENT_NAMES: tuple[str, ...] = tuple(EVENT_MODULES)


def _module_specs(module: ModuleType) -> list[EventSpec[Any]]:
    """The specs a module defines: its ``SPEC`` and the members of its ``SPECS``."""
    found = [getattr(module, "SPEC", None), *getattr(module, "SPECS", ())]
    return [spec for spec in found if isinstance(spec, EventSpec)]


class _Events(Mapping[str, EventSpec[Any]]):
    """Event name -> spec; a spec's module is imported on first access."""

    def __init__(self, modules: Mapping[str, str]) -> None:
        self._modules = dict(modules)
        self._loaded: dict[str, EventSpec[Any]] = {}

    def __getitem__(self, name: str) -> EventSpec[Any]:
        spec = self._loaded.get(name)
        if spec is not None:
            return spec
        module_name = self._modules[name]  # KeyError for an unknown event
        module = importlib.import_module(f"{__name__}.{module_name}")
        for found in _module_specs(module):
            self._loaded.setdefault(found.name, found)
        spec = self._loaded.get(name)
        if spec is None:
            raise LookupError(
                f"emulator/events/_registry.py names {name!r} in {module_name}, "
                "which defines no such SPEC"
            )
        return spec

    def __contains__(self, name: object) -> bool:
        return name in self._modules

    def __iter__(self) -> Iterator[str]:
        return iter(self._modules)

    def __len__(self) -> int:
        return len(self._modules)

    def loaded(self) -> tuple[str, ...]:
        """The events whose modules have been imported so far."""
        return tuple(name for name in self._modules if name in self._loaded)


EVENTS = _Events(EVENT_MODULES)
# wire ``event`` value -> the events sending it (ZIM's room_create shares RTC's name)
_BY_WIRE_NAME: dict[str, list[str]] = {}
for _name in EVENT_NAMES:
    _BY_WIRE_NAME.setdefault(wire_name(_name), []).append(_name)


def answer_reader(name: str) -> Callable[[int | None, str | None, bytes], dict[str, Any]] | None:
    """The answer reader of event ``name``, a synchronous hook (None for the others)."""
    spec = EVENTS.get(name)
    return spec.read_answer if spec is not None else None


def spec_for_fields(fields: Mapping[str, WireValue]) -> EventSpec[Any] | None:
    """The spec of a received callback, from its wire ``event`` (None when unknown).

    When two products send the same name, the spec whose ``claims`` recognises the fields
    wins; otherwise the one without ``claims`` (the default product).
    """
    name = event_of(fields)
    names = _BY_WIRE_NAME.get(name) or ([name] if name in EVENTS else [])
    if len(names) <= 1:
        return EVENTS[names[0]] if names else None
    candidates = [EVENTS[candidate] for candidate in names]
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


def discover() -> dict[str, EventSpec[Any]]:
    """Every event module's specs, found by importing every module (slow: for the test
    that holds ``_registry.py`` to the modules)."""
    found: dict[str, EventSpec[Any]] = {}
    for module in _event_modules(list(__path__), __name__):
        for spec in _module_specs(module):
            found[spec.name] = spec
    return found


def _event_modules(path: list[str], package: str) -> Iterator[ModuleType]:
    """The modules under ``path``, subpackages' included (sorted by name)."""
    for info in sorted(pkgutil.iter_modules(path), key=lambda m: m.name):
        if info.name == "base" or info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{package}.{info.name}")
        yield module
        if info.ispkg:
            yield from _event_modules(list(module.__path__), module.__name__)


__all__ = [
    "EVENTS",
    "EVENT_NAMES",
    "CallbackModel",
    "Common",
    "EventParams",
    "EventSpec",
    "Fake",
    "answer_reader",
    "discover",
    "event_spec",
    "spec_for_fields",
]
