"""What every callback event shares: the common fields, the fake-data source, the registry entry.

An event module (``procedure.py``, ``compose.py``, ...) defines

* a pydantic model of the callback (subclass of :class:`CallbackModel`) whose
  ``event_fields()`` gives the event's own wire fields as strings;
* a pydantic model of the scenario parameters it accepts (subclass of :class:`EventParams`);
* a ``generate(fake, params, common)`` function that fills every field not given;
* ``SPEC = EventSpec(...)`` tying them together, which ``emulator.events`` discovers.
"""

from __future__ import annotations

import functools
import json
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict

from emulator.jsontext import compact_encoder

COMMON_FIELDS = ("event", "appid", "timestamp", "nonce", "signature")


class CallbackModel(BaseModel):
    """The typed fields of one callback; ``to_fields()`` is what goes on the wire."""

    model_config = ConfigDict(extra="forbid")

    event: str
    appid: str
    timestamp: str
    nonce: str
    signature: str = ""
    task_id: str = ""

    def event_fields(self) -> dict[str, str]:
        """The event's own top-level wire fields, every value a string."""
        raise NotImplementedError

    def to_fields(self) -> dict[str, str]:
        """Every top-level wire field, common ones first, every value a string."""
        fields = {
            "appid": self.appid,
            "event": self.event,
            "nonce": self.nonce,
            "signature": self.signature,
            "timestamp": self.timestamp,
        }
        fields.update(self.event_fields())
        return fields


class EventParams(BaseModel):
    """Scenario parameters of one event; every field optional (faked when absent)."""

    model_config = ConfigDict(extra="forbid")


class Fake:
    """Seeded fake-data source: the same seed gives the same sequence of values.

    Faker is imported lazily (it is slow to import) and only where its realism helps;
    numbers and hex come from one ``random.Random`` so they are fast and reproducible.
    """

    def __init__(self, seed: int | None = None) -> None:
        self.seed = seed
        self.random = random.Random(seed)
        self._faker: Any = None

    @property
    def faker(self) -> Any:
        """A Faker instance seeded from this source (created on first use)."""
        if self._faker is None:
            from faker import Faker

            self._faker = Faker()
            self._faker.seed_instance(self.random.getrandbits(64))
        return self._faker

    def digits(self, count: int) -> str:
        """``count`` decimal digits, the first one not zero (one draw, not one a digit)."""
        return str(self.random.randrange(10 ** (count - 1), 10**count))

    def hex(self, count: int) -> str:
        """``count`` lowercase hex characters."""
        return f"{self.random.getrandbits(count * 4):0{count}x}"

    def near(self, value: float, spread: float) -> float:
        """A value within ``spread`` (a fraction, e.g. 0.1) of ``value``."""
        return value * (1 + self.random.uniform(-spread, spread))

    def integer(self, low: int, high: int) -> int:
        """An integer from ``low`` to ``high`` inclusive, evenly (for small ranges).

        ``random()`` scaled, as ``random.choice`` once did: ~4x cheaper than ``randint``.
        """
        return low + int(self.random.random() * (high - low + 1))

    def choice(self, options: tuple[str, ...] | list[str]) -> str:
        """One of ``options``, evenly."""
        return options[self.integer(0, len(options) - 1)]


@dataclass(frozen=True)
class Common:
    """Common field values the factory hands to every event generator."""

    appid: str
    timestamp: str
    nonce: str
    vod_app_id: str  # the Tencent VOD sub-app id that task ids and URLs embed


ParamsT = TypeVar("ParamsT", bound=EventParams)


@dataclass(frozen=True)
class EventSpec(Generic[ParamsT]):
    """A callback event: its name, models, generator and how a receiver summarises it."""

    name: str
    title: str
    model: type[CallbackModel]
    params: type[ParamsT]
    generate: Callable[[Fake, ParamsT, Common], CallbackModel]
    describe: Callable[[Mapping[str, str]], list[str]]
    # problems a complete body of this event cannot have (missing fields, nested JSON that
    # does not parse — what a truncated capture shows); None: no event-specific check
    check: Callable[[Mapping[str, str]], list[str]] | None = None

    @functools.cached_property
    def default_params(self) -> ParamsT:
        """The params of an entry that gives none: validated once, shared (never mutated)."""
        return self.params.model_validate({})


ROW_LABEL_WIDTH = 10
VALUE_LIMIT = 300  # characters of one untrusted value shown before it is cut


def row(label: str, value: str) -> str:
    """One ``label     value`` line of a callback's display (see ``emulator.display``)."""
    return f"{label:<{ROW_LABEL_WIDTH}} {value}"


def printable(text: str, limit: int | None = VALUE_LIMIT) -> str:
    """``text`` safe for a terminal: control characters escaped, cut after ``limit`` chars."""
    safe = text
    if not text.isprintable():  # the usual case is all printable: one C call, no loop
        safe = "".join(
            ch if ch.isprintable() else ch.encode("unicode_escape").decode("ascii") for ch in text
        )
    if limit is not None and len(safe) > limit:
        return f"{safe[:limit]}… ({len(safe)} characters)"
    return safe


def _model_fields(value: Any) -> dict[str, Any]:
    """A pydantic model's fields by name: what ``model_dump`` gives for the plain models of
    this package (no aliases or custom serializers), without building the dicts (~2 µs)."""
    if isinstance(value, BaseModel):
        return value.__dict__
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


_compact_json = compact_encoder(default=_model_fields)


def compact_json(value: Any) -> str:
    """JSON text as ZEGO nests it in a field: no spaces, non-ASCII kept.

    A pydantic model in ``value`` is written as its fields, as ``model_dump`` would give them.
    """
    return _compact_json(value)


def parse_json_field(fields: Mapping[str, str], name: str) -> Any:
    """A nested JSON field decoded, or None when absent/empty/not JSON."""
    text = fields.get(name, "")
    if not text:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return None
