"""The callback events, one module each, discovered automatically.

Adding an event means adding one module here that defines ``SPEC`` (see ``base.py``).
"""

from __future__ import annotations

import importlib
import pkgutil
from typing import Any

from emulator.events.base import CallbackModel, Common, EventParams, EventSpec, Fake


def _discover() -> dict[str, EventSpec[Any]]:
    found: dict[str, EventSpec[Any]] = {}
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if info.name == "base" or info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        spec = getattr(module, "SPEC", None)
        if isinstance(spec, EventSpec):
            found[spec.name] = spec
    return found


EVENTS: dict[str, EventSpec[Any]] = _discover()
EVENT_NAMES: tuple[str, ...] = tuple(EVENTS)


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
]
