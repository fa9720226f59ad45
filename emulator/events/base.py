"""What every callback event shares: the common fields, the fake-data source, the registry entry.

An event module (``procedure.py``, ``compose.py``, ...) defines

* a pydantic model of the callback (subclass of :class:`CallbackModel`) whose
  ``event_fields()`` gives the event's own wire fields as strings;
* a pydantic model of the scenario parameters it accepts (subclass of :class:`EventParams`);
* a ``generate(fake, params, common)`` function that fills every field not given;
* ``SPEC = EventSpec(...)`` tying them together, which ``emulator.events`` discovers.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict

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
        """``count`` decimal digits, the first one not zero.

        Draws exactly what ``randint(1, 9)`` then ``randint(0, 9)`` per digit would (4 random
        bits, redrawn when out of range) — the same values per seed, ~4x faster.
        """
        bits = self.random.getrandbits
        value = bits(4)
        while value >= 9:
            value = bits(4)
        out = [chr(49 + value)]  # "1".."9"
        for _ in range(count - 1):
            value = bits(4)
            while value >= 10:
                value = bits(4)
            out.append(chr(48 + value))  # "0".."9"
        return "".join(out)

    def hex(self, count: int) -> str:
        """``count`` lowercase hex characters."""
        return f"{self.random.getrandbits(count * 4):0{count}x}"

    def near(self, value: float, spread: float) -> float:
        """A value within ``spread`` (a fraction, e.g. 0.1) of ``value``."""
        return value * (1 + self.random.uniform(-spread, spread))

    def choice(self, options: tuple[str, ...] | list[str]) -> str:
        return options[self.random.randrange(len(options))]


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


ROW_LABEL_WIDTH = 10
VALUE_LIMIT = 300  # characters of one untrusted value shown before it is cut


def row(label: str, value: str) -> str:
    """One ``label     value`` line of a callback's display (see ``emulator.display``)."""
    return f"{label:<{ROW_LABEL_WIDTH}} {value}"


def printable(text: str, limit: int | None = VALUE_LIMIT) -> str:
    """``text`` safe for a terminal: control characters escaped, cut after ``limit`` chars."""
    safe = "".join(
        ch if ch.isprintable() or ch == " " else ch.encode("unicode_escape").decode("ascii")
        for ch in text
    )
    if limit is not None and len(safe) > limit:
        return f"{safe[:limit]}… ({len(safe)} characters)"
    return safe


def compact_json(value: Any) -> str:
    """JSON text as ZEGO nests it in a field: no spaces, non-ASCII kept."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def parse_json_field(fields: Mapping[str, str], name: str) -> Any:
    """A nested JSON field decoded, or None when absent/empty/not JSON."""
    text = fields.get(name, "")
    if not text:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return None
