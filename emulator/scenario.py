"""Scenario files: YAML (or JSON) describing callbacks to deliver, validated with pydantic.

Every key is optional except ``callbacks``; anything not given is generated. A user's
mistake becomes one :class:`~emulator.errors.ScenarioError` naming file, line and field.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag, create_model

from emulator.callback import Tamper
from emulator.events import EVENTS, EventParams
from emulator.retry import DEFAULT_TIMEOUT, ZEGO_INTERVALS, RetryPolicy
from emulator.wire import Encoding

Order = Literal["as_listed", "reversed", "shuffled"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class RetryConfig(_Strict):
    """``retry:`` — ZEGO's policy unless overridden."""

    intervals: list[Annotated[float, Field(ge=0, le=86400)]] = Field(
        default_factory=lambda: list(ZEGO_INTERVALS), max_length=100
    )
    timeout: float = Field(default=DEFAULT_TIMEOUT, gt=0, le=3600)
    resign_each_attempt: bool = False

    def policy(self) -> RetryPolicy:
        return RetryPolicy(tuple(self.intervals), self.timeout, self.resign_each_attempt)


class CallbackCommon(_Strict):
    """Keys every callback entry accepts, whatever its event."""

    repeat: int = Field(default=1, ge=0, le=1_000_000)
    delay: float = Field(default=0.0, ge=0, le=86400)
    tamper: Tamper = "none"
    duplicates: int = Field(default=0, ge=0, le=100)
    rename: dict[str, str] = Field(default_factory=dict)
    fields: dict[str, str] = Field(default_factory=dict)
    timestamp: int | None = Field(default=None, ge=0)
    nonce: str | None = None

    def event_params(self) -> dict[str, Any]:
        """The event-specific keys of this entry (what the event generator takes)."""
        common = set(CallbackCommon.model_fields) | {"event"}
        return {k: v for k, v in self.model_dump(exclude_unset=True).items() if k not in common}


def _entry_model(event: str, params: type[EventParams]) -> type[CallbackCommon]:
    """The scenario entry of one event: common keys, the event's keys, ``event: <name>``."""
    bases: Any = (CallbackCommon, params)
    model: type[CallbackCommon] = create_model(
        f"{event.capitalize()}Entry",
        __base__=bases,
        event=(Literal[event], event),
    )
    return model


ENTRY_MODELS: dict[str, type[CallbackCommon]] = {
    name: _entry_model(name, spec.params) for name, spec in EVENTS.items()
}


def _entry_event(value: Any) -> str:
    if isinstance(value, dict):
        return str(value.get("event", "procedure"))
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

    responses: list[Annotated[int, Field(ge=100, le=599)]] = Field(default_factory=lambda: [200])
    delay: float = Field(default=0.0, ge=0, le=3600)
    hang: bool = False


class Expect(_Strict):
    """``expect:`` — checked after the run; any miss makes the exit code 1."""

    callbacks: int | None = Field(default=None, ge=0)
    delivered: int | None = Field(default=None, ge=0)
    lost: int | None = Field(default=None, ge=0)
    attempts: int | None = Field(default=None, ge=0)
    max_attempts: int | None = Field(default=None, ge=0)


class Scenario(_Strict):
    """A validated scenario file."""

    name: str = "scenario"
    description: str = ""
    target: str | None = None
    app_id: str | None = None
    encoding: Encoding = "form"
    seed: int | None = None
    secret_env: str | None = None
    concurrency: int | None = Field(default=None, ge=1, le=100_000)
    speed: float | None = Field(default=None, gt=0)
    retry: RetryConfig = Field(default_factory=RetryConfig)
    callbacks: list[CallbackEntry] = Field(min_length=1)  # type: ignore[valid-type]
    order: Order = "as_listed"
    receiver: ReceiverScript | None = None
    expect: Expect | None = None


def load_scenario(path: str | Path) -> Scenario:  # pragma: no cover - filled in below
    raise NotImplementedError
