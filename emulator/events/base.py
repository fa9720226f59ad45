"""What every callback event shares: the common fields, the fake-data source, the registry entry.

An event module (``procedure.py``, ``compose.py``, ...) defines

* a pydantic model of the callback (subclass of :class:`CallbackModel`) whose
  ``event_fields()`` gives the event's own wire fields as JSON values, each with the type
  ZEGO documents (most are strings; ``common_fields()`` is overridden where the common
  fields are numbers or PascalCase);
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
from emulator.wire import WireFields, WireValue, field_text

COMMON_FIELDS = ("event", "appid", "timestamp", "nonce", "signature")
# the same fields as transcode_start/transcode_stop spell them (and Cloud Recording's app_id)
PASCAL_COMMON = {name: name.capitalize() for name in COMMON_FIELDS} | {"task_id": "TaskId"}
SHAPE_FIELDS = (*COMMON_FIELDS, *PASCAL_COMMON.values(), "app_id")
CLOUD_RECORDING = "cloud_recording"  # the Cloud Recording status callback has no event field


class CallbackModel(BaseModel):
    """The typed fields of one callback; ``to_fields()`` is what goes on the wire."""

    model_config = ConfigDict(extra="forbid")

    event: str
    appid: str
    timestamp: str
    nonce: str
    signature: str = ""
    task_id: str = ""

    def event_fields(self) -> WireFields:
        """The event's own top-level wire fields, each a JSON value of its documented type."""
        raise NotImplementedError

    def catalogue_name(self) -> str:
        """The name the catalogue knows this event by (records, reports, ``send --event``):
        the wire ``event`` unless another product sends the same name (``zim.room_create``)."""
        return self.event

    def common_fields(self) -> WireFields:
        """The common wire fields (all strings here; an event that types them otherwise,
        e.g. ``room_create``'s numeric ``appid``/``timestamp``, overrides this)."""
        return {
            "appid": self.appid,
            "event": self.event,
            "nonce": self.nonce,
            "signature": self.signature,
            "timestamp": self.timestamp,
        }

    def to_fields(self) -> WireFields:
        """Every top-level wire field, common ones first."""
        fields = self.common_fields()
        fields.update(self.event_fields())
        return fields


class EventParams(BaseModel):
    """Scenario parameters of one event; every field optional (faked when absent)."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


def below(rng: random.Random, n: int) -> int:
    """A random integer in ``[0, n)``: what ``rng.randrange(low, low + n)`` adds to ``low``,
    drawn the same way (``getrandbits`` of ``n``'s bit length until below ``n``), without
    ``randrange``'s argument checks (a third of a draw's cost on a hot path)."""
    getrandbits = rng.getrandbits
    bits = n.bit_length()
    value = getrandbits(bits)
    while value >= n:
        value = getrandbits(bits)
    return value


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
        low = 10 ** (count - 1)
        return str(low + below(self.random, 9 * low))

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
    describe: Callable[[Mapping[str, WireValue]], list[str]]
    # problems a complete body of this event cannot have (missing fields, nested JSON that
    # does not parse — what a truncated capture shows); None: no event-specific check
    check: Callable[[Mapping[str, WireValue]], list[str]] | None = None
    # the wire field naming the callback's task (its ``task_id`` in records and the
    # built-in receiver's per-task scripts); events without a task id name another id
    task_field: str = "task_id"
    # the retry profile ZEGO documents for this event's family (emulator.retry.PROFILES)
    retry_profile: str = "rtc"
    # a synchronous hook (ZIM's before_send_msg): reads each answer into the ``decision``
    # its attempt line records, from (status, error, response body); None: body ignored
    read_answer: Callable[[int | None, str | None, bytes], dict[str, Any]] | None = None
    # True when received fields are this event's, for a wire name two products share
    # (ZIM's room_create has operator_account); None: the default for its wire name
    claims: Callable[[Mapping[str, WireValue]], bool] | None = None

    @functools.cached_property
    def wire_event(self) -> str:
        """The ``event`` value on the wire (``room_create`` for ``zim.room_create``)."""
        default = self.model.model_fields["event"].default
        return default if isinstance(default, str) else self.name

    @functools.cached_property
    def default_params(self) -> ParamsT:
        """The params of an entry that gives none: validated once, shared (never mutated)."""
        return self.params.model_validate({})


ROW_LABEL_WIDTH = 10
VALUE_LIMIT = 300  # characters of one untrusted value shown before it is cut


def row(label: str, value: str) -> str:
    """One ``label     value`` line of a callback's display (see ``emulator.term.display``)."""
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


def text(fields: Mapping[str, WireValue], name: str, default: str = "") -> str:
    """Field ``name`` as text (a number as its decimal text, see ``wire.field_text``), or
    ``default`` when absent."""
    if name not in fields:
        return default
    return field_text(fields[name])


def common_text(fields: Mapping[str, WireValue], name: str, default: str = "") -> str:
    """A common field (``event``, ``appid``, ``timestamp``, ``nonce``, ``signature``,
    ``task_id``) as text, in whichever spelling the body uses (``Timestamp`` in
    ``transcode_*``, ``app_id`` in Cloud Recording)."""
    if name in fields:
        return field_text(fields[name])
    pascal = PASCAL_COMMON.get(name, name)
    if pascal in fields:
        return field_text(fields[pascal])
    if name == "appid" and "app_id" in fields:
        return field_text(fields["app_id"])
    return default


def event_of(fields: Mapping[str, WireValue]) -> str:
    """The event a decoded body is (``event``/``Event``; Cloud Recording's status callback,
    which has no event field, by its ``app_id`` + ``event_type``); "" when none says."""
    name = common_text(fields, "event")
    if not name and "event_type" in fields and "app_id" in fields:
        return CLOUD_RECORDING
    return name


def parse_json_field(fields: Mapping[str, WireValue], name: str) -> Any:
    """A nested JSON field decoded (JSON text in a string, or already an array/object in a
    JSON body), or None when absent/empty/not JSON."""
    value = fields.get(name, "")
    if isinstance(value, list | dict):
        return value
    if not value or not isinstance(value, str):
        return None
    try:
        return json.loads(value)
    except ValueError:
        return None
