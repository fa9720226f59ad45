"""The scenario model: what a scenario file may say, validated with pydantic.

Every key is optional except ``callbacks`` (which ``calls`` or ``sessions`` may stand in
for: they generate ZIM call and RTC room/user/stream callbacks); anything not given is
generated. Reading a file into this model is :mod:`emulator.scenario.reader`'s job.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from functools import cache
from typing import Annotated, Any, Literal, Union, cast

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    PlainValidator,
    PrivateAttr,
    Tag,
    ValidationInfo,
    create_model,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from emulator.callback.model import Tamper
from emulator.delivery.hook import hook_expectation
from emulator.delivery.verdict import Expectation, ExpectName, callback_expectation
from emulator.errors import ScenarioError
from emulator.events import EVENT_NAMES, EVENTS, EventParams, answer_reader
from emulator.retry import (
    DEFAULT_PROFILE,
    DEFAULT_TIMEOUT,
    ZEGO_INTERVALS,
    ProfileName,
    RetryPolicy,
    profile_policy,
)
from emulator.scenario.calls import CallScript
from emulator.sessions.order import Order
from emulator.sessions.plan import MAX_SESSION_EVENTS, SessionEntry
from emulator.urls import url_problem
from emulator.wire import Encoding


class DecisionExpect(BaseModel):
    """``expect: {result: 3}`` — what a synchronous hook's final answer must decide (see
    :mod:`emulator.delivery.hook`); give any of its keys."""

    model_config = ConfigDict(extra="forbid", title="DecisionExpect")

    answer: Literal["decision", "invalid", "error_status", "no_answer"] | None = Field(
        default=None, description="decision (the documented JSON), invalid, error_status, no_answer"
    )
    result: int | None = Field(default=None, description="0 neutral, 1 send, 2 silent, 3 refuse")
    meaning: Literal["neutral", "send", "silent", "refuse"] | None = None
    message: Literal["sent", "silent", "not_sent"] | None = Field(
        default=None, description="what ZIM does with the message"
    )
    reason: str | None = Field(default=None, max_length=4096)
    new_msg_body: str | None = Field(default=None, max_length=100_000)
    new_payload: str | None = Field(default=None, max_length=4096)

    @model_validator(mode="after")
    def _something_expected(self) -> DecisionExpect:
        if not self.wanted():
            raise ValueError(
                "expected at least one of answer, result, meaning, message, reason, "
                "new_msg_body, new_payload"
            )
        return self

    def wanted(self) -> dict[str, Any]:
        """The decision's keys and the values they must have."""
        return self.model_dump(exclude_none=True)


def _expect_kind(value: Any) -> str:
    """A mapping is a hook's decision, anything else a name (one branch is validated, so a
    mistake in either is reported as that branch's)."""
    return "decision" if isinstance(value, dict | DecisionExpect) else "name"


# a callback entry's expect: a name, or (a synchronous hook's) the decision its answer makes
CallbackExpect = Annotated[
    Annotated[ExpectName, Tag("name")] | Annotated[DecisionExpect, Tag("decision")],
    Discriminator(_expect_kind),
]


def _final_status(value: int) -> int:
    """A status the built-in receiver can answer with: 1xx is interim, never the answer."""
    if 100 <= value <= 199:
        raise ValueError(
            f"{value} is an informational (1xx) status, not a final answer; "
            "expected a status from 200 to 599"
        )
    return value


Status = Annotated[int, Field(ge=100, le=599), AfterValidator(_final_status)]


MAX_DELIVERIES = 1_000_000  # sum of repeat x (1 + duplicates) over a scenario's callbacks


MAX_URL_LENGTH = 2048
MAX_CALLS = 1_000  # call lifecycles in one scenario
MAX_ANSWER_CHARS = 64 * 1024  # a scripted answer body


ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


class RetryConfig(_Strict):
    """``retry:`` — ZEGO's policy unless overridden."""

    intervals: list[Annotated[float, Field(ge=0, le=86400)]] = Field(
        default_factory=lambda: list(ZEGO_INTERVALS),
        max_length=100,
        description="emulated seconds from the start of a request to the retry after it; "
        "one retry per entry (ZEGO: 2, 4, 8, 16, 32 -> at most 6 requests)",
    )
    timeout: float = Field(
        default=DEFAULT_TIMEOUT,
        gt=0,
        le=3600,
        description="per-request timeout in real seconds (not divided by --speed)",
    )
    resign_each_attempt: bool = Field(
        default=False,
        description="give every retry a fresh timestamp, nonce and signature (ZEGO re-sends "
        "the identical body)",
    )

    profile: ProfileName | None = Field(
        default=None,
        description="ZEGO's documented schedule to follow: rtc (5 retries at 2/4/8/16/32 s on "
        "no answer or non-2xx), legacy-2 (two retries), cloud-recording (2 retries 5 s apart, "
        "on no answer only), zim-before-send (2.5 s timeout, one immediate retry on no "
        "answer); default: each event's own family (rtc, cloud-recording for "
        "cloud_recording); intervals and timeout given here win over the profile's",
    )

    def policy(self, event_profile: str = DEFAULT_PROFILE) -> RetryPolicy:
        """The policy of ``profile`` (else ``event_profile``, the event family's), with the
        ``intervals``/``timeout`` this block gives explicitly winning."""
        given = self.model_fields_set
        return profile_policy(
            self.profile or event_profile,
            intervals=tuple(self.intervals) if "intervals" in given else None,
            timeout=self.timeout if "timeout" in given else None,
            resign_each_attempt=self.resign_each_attempt,
        )


class CallbackCommon(_Strict):
    """Keys every callback entry accepts, whatever its event."""

    repeat: int = Field(
        default=1, ge=0, le=100_000, description="how many such callbacks (each its own task)"
    )
    delay: float = Field(
        default=0.0,
        ge=0,
        le=86400,
        description="emulated seconds from the start of the run to this callback's first request",
    )
    tamper: Tamper = Field(
        default="none",
        description="break the callback on purpose: bad_signature, stale_timestamp (validly "
        "signed, one hour old) or missing_signature",
    )
    duplicates: int = Field(
        default=0,
        ge=0,
        le=100,
        description="extra deliveries of the same signed callback (at-least-once delivery)",
    )
    rename: dict[str, str] = Field(
        default_factory=dict,
        max_length=100,
        description="wire field renames, e.g. {file_id: fileId}",
    )
    fields: dict[str, str] = Field(
        default_factory=dict,
        max_length=100,
        description="extra top-level wire fields added after signing",
    )
    timestamp: int | None = Field(
        default=None,
        ge=0,
        le=10**11,
        description="the timestamp field, Unix seconds (default: the time of the run)",
    )
    nonce: str | None = Field(
        default=None, max_length=256, description="the nonce field (default: random digits)"
    )
    respond: list[Status] | None = Field(
        default=None,
        min_length=1,
        max_length=100,
        description="how the built-in receiver (--builtin-receiver, demo) answers requests "
        "carrying this callback's task_id: the n-th request gets the n-th status, the last "
        "one repeats; overrides receiver.responses for these callbacks",
    )
    answer: str | dict[str, Any] | None = Field(
        default=None,
        description="the body the built-in receiver answers this callback with: a mapping "
        "is sent as JSON (a hook's decision, e.g. {result: 3, reason: spam}), text as it is",
    )
    answer_after: float | None = Field(
        default=None,
        ge=0,
        le=3600,
        description="real seconds the built-in receiver waits before answering this callback "
        "(default receiver.delay)",
    )

    @field_validator("answer")
    @classmethod
    def _answer_bounded(cls, value: str | dict[str, Any] | None) -> str | dict[str, Any] | None:
        if value is not None and len(str(value)) > MAX_ANSWER_CHARS:
            raise ValueError(f"expected an answer of at most {MAX_ANSWER_CHARS} characters")
        return value

    expect: CallbackExpect | None = Field(
        default=None,
        description="what each delivery of this callback must come to: accepted (a 2xx), "
        "refused (every request answered, none with a 2xx), lost (never a 2xx) or any; "
        "default refused for a tampered callback, any otherwise. A broken one fails the run. "
        "A hook (zim.before_send_msg) may expect its answer's decision instead, e.g. "
        "{result: 3}; its answer must be the documented JSON unless expected {answer: invalid}",
    )

    @model_validator(mode="after")
    def _decision_only_for_a_hook(self) -> CallbackCommon:
        if isinstance(self.expect, DecisionExpect) and not self._is_hook():
            raise ValueError(
                f"expect: a decision ({self.expect.wanted()}) is what a synchronous hook's "
                "answer makes (zim.before_send_msg); expected accepted, refused, lost or any"
            )
        return self

    def _is_hook(self) -> bool:
        return answer_reader(str(getattr(self, "event", "procedure"))) is not None

    def expectation(self) -> Expectation:
        """This entry's per-callback expectation (``expect:``, else the tamper's default; a
        hook's also fails on an answer that is not the documented JSON)."""
        if self._is_hook():
            expect = self.expect
            wanted = expect.wanted() if isinstance(expect, DecisionExpect) else expect
            return hook_expectation(wanted, self.tamper)
        return callback_expectation(self.expect, self.tamper)

    def event_params(self) -> dict[str, Any]:
        """The event-specific keys of this entry (what the event generator takes)."""
        common = set(CallbackCommon.model_fields) | {"event"}
        return {k: v for k, v in self.model_dump(exclude_unset=True).items() if k not in common}


def event_profile(event: str) -> str:
    """The retry profile ZEGO documents for ``event``'s family (``rtc`` if unknown)."""
    spec = EVENTS.get(event)
    return spec.retry_profile if spec is not None else DEFAULT_PROFILE


def entry_model_name(event: str) -> str:
    """``ProcedureEntry`` for ``procedure``, ``ZimRoomCreateEntry`` for ``zim.room_create``."""
    return "".join(part.capitalize() for part in re.split(r"[._]", event)) + "Entry"


def _entry_model(event: str, params: type[EventParams]) -> type[CallbackCommon]:
    """The scenario entry of one event: common keys, the event's keys, ``event: <name>``."""
    bases: Any = (CallbackCommon, params)
    # a Literal built at run time: typed as Any so every pydantic version's stubs accept it
    event_type: Any = Literal[event]
    model = create_model(
        entry_model_name(event),
        __base__=bases,
        __doc__=f"A ``{event}`` callback ({EVENTS[event].title}).",
        event=(
            event_type,
            Field(default=event, description="the callback event (default procedure)"),
        ),
    )
    return cast("type[CallbackCommon]", model)


class _EntryModels(Mapping[str, type[CallbackCommon]]):
    """Event name -> its entry model, built (and the event's module imported) on first use:
    a scenario pays only for the events it names."""

    def __init__(self) -> None:
        self._built: dict[str, type[CallbackCommon]] = {}

    def __getitem__(self, event: str) -> type[CallbackCommon]:
        model = self._built.get(event)
        if model is None:
            model = self._built[event] = _entry_model(event, EVENTS[event].params)
        return model

    def __contains__(self, event: object) -> bool:
        return event in EVENTS

    def __iter__(self) -> Iterator[str]:
        return iter(EVENT_NAMES)

    def __len__(self) -> int:
        return len(EVENT_NAMES)


ENTRY_MODELS = _EntryModels()


def entry_event(value: Any) -> str:
    """The tag of an entry: its ``event`` (procedure when absent or not a mapping)."""
    if isinstance(value, dict):
        event = value.get("event", "procedure")
        return event if isinstance(event, str) else repr(event)
    return str(getattr(value, "event", "procedure"))


def _validate_entry(value: Any) -> CallbackCommon:
    """One callback entry, validated by the entry model of its ``event`` (default
    procedure): a union told apart by ``event`` whose members are built as they are named."""
    event = entry_event(value)
    if event not in ENTRY_MODELS:
        raise PydanticCustomError(
            "union_tag_invalid",
            "Input tag {tag!r} found using {discriminator} does not match any of the "
            "expected tags: {expected_tags}",
            {
                "discriminator": "entry_event()",
                "tag": event,
                "expected_tags": ", ".join(repr(name) for name in EVENT_NAMES),
            },
        )
    return ENTRY_MODELS[event].model_validate(value)


# what ``callbacks:`` holds; its JSON Schema is the union of every entry model (see
# Scenario.model_json_schema)
CallbackEntry = Annotated[CallbackCommon, PlainValidator(_validate_entry)]


def _callback_entry_union() -> Any:
    """A union of every event's entry model, told apart by ``event`` (for the schema)."""
    tagged = tuple(Annotated[ENTRY_MODELS[name], Tag(name)] for name in EVENT_NAMES)
    if len(tagged) == 1:
        return ENTRY_MODELS[EVENT_NAMES[0]]
    return Annotated[Union[tagged], Discriminator(entry_event)]  # noqa: UP007


class ReceiverScript(_Strict):
    """``receiver:`` — how the built-in receiver answers (``--builtin-receiver``, demo)."""

    responses: list[Status] = Field(
        default_factory=lambda: [200],
        min_length=1,
        max_length=100,
        description="statuses for successive requests of every callback without its own "
        "respond: (one shared sequence), the last one repeats",
    )
    delay: float = Field(
        default=0.0, ge=0, le=3600, description="real seconds to wait before answering"
    )
    hang: bool = Field(default=False, description="never answer (the sender times out)")
    answer: str | dict[str, Any] | None = Field(
        default=None,
        description="the body of every 2xx (default ok): a mapping is sent as JSON (a hook's "
        "decision, e.g. {result: 1}), text as it is; an entry's answer: wins",
    )
    reset: bool = Field(
        default=False,
        description="drop the connection without answering (the sender records connection_reset)",
    )


class Expect(_Strict):
    """``expect:`` — checked after the run; any miss makes the exit code 1."""

    callbacks: int | None = Field(
        default=None, ge=0, description="deliveries made (duplicates count)"
    )
    delivered: int | None = Field(default=None, ge=0, description="deliveries answered 2xx")
    lost: int | None = Field(
        default=None, ge=0, description="deliveries dropped after the last retry failed"
    )
    attempts: int | None = Field(
        default=None, ge=0, description="HTTP requests in total, retries included"
    )
    max_attempts: int | None = Field(
        default=None, ge=0, description="most requests any one delivery took"
    )


def _schema_extra(schema: dict[str, Any]) -> None:
    """JSON Schema touches: the dialect, and ``anyOf`` for callback entries (an entry
    without ``event`` is a procedure, so more than one entry model may match it)."""
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    items = schema.get("properties", {}).get("callbacks", {}).get("items", {})
    if "oneOf" in items:
        items["anyOf"] = items.pop("oneOf")


class Scenario(_Strict):
    """A zego-emulator scenario file: callbacks to deliver, how, and what should happen."""

    model_config = ConfigDict(title="zego-emulator scenario", json_schema_extra=_schema_extra)

    name: str = Field(default="scenario", max_length=200, description="shown in output")
    description: str = Field(default="", max_length=10_000, description="free text")
    target: str | None = Field(
        default=None,
        max_length=MAX_URL_LENGTH,
        description="http:// or https:// URL to POST callbacks to (--target overrides)",
    )
    app_id: str | None = Field(
        default=None, max_length=64, description="the appid field, quoted (default: faked)"
    )
    encoding: Encoding = Field(
        default="json",
        description="body encoding: json (default, ZEGO's own: one JSON object, values "
        "typed), form (key=value pairs; numbers as text, arrays/objects as JSON text; ZEGO "
        "sends it only on request) or json-urlencoded (the json text percent-encoded)",
    )
    seed: int | None = Field(
        default=None, description="seed for fake data: same seed, same payloads"
    )
    secret_env: str | None = Field(
        default=None,
        max_length=200,
        description="name of the environment variable holding the callback secret "
        "(default ZEGO_CALLBACK_SECRET); a scenario never holds the secret itself",
    )
    concurrency: int | None = Field(
        default=None, ge=1, le=100_000, description="requests in flight at most"
    )
    speed: float | None = Field(
        default=None, gt=0, le=1_000_000, description="divide every wait by this"
    )
    retry: RetryConfig = Field(default_factory=RetryConfig, description="retry policy")
    calls: list[CallScript] = Field(
        default_factory=list,
        max_length=MAX_CALLS,
        description="ZIM call invitations: each generates its coherent call_create, "
        "call_accept/call_reject, call_cancel/call_timeout and call_invite callbacks",
    )
    sessions: list[SessionEntry] = Field(
        default_factory=list,
        max_length=1000,
        description="room/user/stream lifecycles (RTC): each entry's logins, streams, "
        "re-publishes and end generate coherent room_*, stream_* callbacks",
    )
    callbacks: list[CallbackEntry] = Field(
        default=None,
        validate_default=True,
        max_length=10_000,
        description="callback entries; keys not given are faked realistically (required "
        "unless calls: or sessions: generate the callbacks)",
    )
    order: Order = Field(
        default="as_listed",
        description="delivery order: as_listed, reversed, shuffled (by the seed), or "
        "zego-documented (session callbacks in the orders ZEGO's solution pages warn about)",
    )
    receiver: ReceiverScript | None = Field(
        default=None, description="the built-in receiver's answers (--builtin-receiver, demo)"
    )
    expect: Expect | None = Field(default=None, description="checked after the run; a miss exits 1")

    def retry_policy(self, event: str | None = None) -> RetryPolicy:
        """The retry policy of ``event``'s callbacks (its family's profile unless
        ``retry.profile`` names one); without ``event``, the run's: the profile every
        entry's family shares, ``rtc`` when they differ."""
        if event is not None:
            return self.retry.policy(event_profile(event))
        families = {event_profile(str(getattr(e, "event", "procedure"))) for e in self.callbacks}
        return self.retry.policy(families.pop() if len(families) == 1 else DEFAULT_PROFILE)

    @classmethod
    def model_json_schema(cls, *args: Any, **kwargs: Any) -> dict[str, Any]:
        """The JSON Schema of scenario files: every event's entry in ``callbacks``."""
        if cls is Scenario:
            return _schema_model().model_json_schema(*args, **kwargs)
        return super().model_json_schema(*args, **kwargs)

    # where the scenario came from: its file and the line of each value (set by the reader)
    _source: str | None = PrivateAttr(default=None)
    _lines: dict[tuple[str | int, ...], int] = PrivateAttr(default_factory=dict)

    def __eq__(self, other: object) -> bool:
        """Equal when the values are; the file and lines they were read from do not count."""
        if not isinstance(other, Scenario):
            return NotImplemented
        return self.__dict__ == other.__dict__

    __hash__ = None  # type: ignore[assignment]

    def problem_at(self, path: tuple[str | int, ...], message: str) -> ScenarioError:
        """A ScenarioError at a value of this scenario: its file, line and dotted field."""
        line = next(
            (
                self._lines[path[:end]]
                for end in range(len(path), 0, -1)
                if path[:end] in self._lines
            ),
            None,
        )
        field = "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in path)
        return ScenarioError(self._source or f"scenario {self.name!r}", line, field[1:], message)

    @field_validator("target")
    @classmethod
    def _target_is_http_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        problem = url_problem(value)
        if problem:
            raise ValueError(problem)
        return value

    @field_validator("secret_env")
    @classmethod
    def _secret_env_is_a_name(cls, value: str | None) -> str | None:
        # the value is never quoted back: what is not a name may well be the secret
        if value is not None and not ENV_NAME.match(value):
            raise ValueError(
                "expected the name of an environment variable (like MY_SECRET), got text "
                "that is not one (not shown); the secret itself never goes in a scenario"
            )
        if value is not None and looks_like_secret(value):
            raise ValueError(
                "expected the name of an environment variable (like MY_SECRET), got what "
                "looks like a secret (not shown); the secret itself never goes in a scenario"
            )
        return value

    @model_validator(mode="before")
    @classmethod
    def _calls_stand_in_for_callbacks(cls, data: Any) -> Any:
        """A scenario with ``calls`` or ``sessions`` (valid or not) needs no ``callbacks``."""
        generates = isinstance(data, dict) and (data.get("calls") or data.get("sessions"))
        if generates and "callbacks" not in data:
            return {**data, "callbacks": ()}  # a tuple: no scenario file can write one
        return data

    @field_validator("callbacks", mode="before")
    @classmethod
    def _callbacks_or_calls(cls, value: Any, info: ValidationInfo) -> Any:
        """``callbacks`` is required, and not empty, unless ``calls`` or ``sessions`` make
        the callbacks."""
        generated = bool(info.data.get("calls") or info.data.get("sessions"))
        if value == ():
            return []
        if value is None:
            if generated:
                return []
            raise PydanticCustomError("missing", "Field required")
        if isinstance(value, list) and not value and not generated:
            raise PydanticCustomError(
                "too_short",
                "List should have at least 1 item after validation, not 0",
                {"field_type": "List", "min_length": 1, "actual_length": 0},
            )
        return value

    @field_validator("sessions")
    @classmethod
    def _session_events_bounded(cls, value: list[SessionEntry]) -> list[SessionEntry]:
        total = sum(entry.event_count() for entry in value)
        if total > MAX_SESSION_EVENTS:
            raise ValueError(
                f"the sessions may make up to {total} callbacks; expected at most "
                f"{MAX_SESSION_EVENTS} (fewer users, streams or republish)"
            )
        return value

    @field_validator("callbacks")
    @classmethod
    def _deliveries_bounded(cls, value: list[CallbackCommon]) -> list[CallbackCommon]:
        total = sum(entry.repeat * (1 + entry.duplicates) for entry in value)
        if total > MAX_DELIVERIES:
            raise ValueError(
                f"the entries add up to {total} deliveries (repeat x (1 + duplicates)); "
                f"expected at most {MAX_DELIVERIES}"
            )
        return value


@cache
def _schema_model() -> type[Scenario]:
    """Scenario with ``callbacks`` typed as the union of every entry model: its JSON Schema
    is the scenario file's (building it imports every event module)."""
    info = Scenario.model_fields["callbacks"]
    entries: Any = list.__class_getitem__(_callback_entry_union())
    model: type[Scenario] = create_model(
        "Scenario", __base__=Scenario, __doc__=Scenario.__doc__, callbacks=(entries, info)
    )
    return model


_HEX_RUN = re.compile(r"[0-9a-fA-F]{16,}")


def looks_like_secret(name: str) -> bool:
    """True for text shaped like a key rather than a variable name: a run of 16+ hex
    digits with both letters and digits (ZEGO's secrets are 32 hex digits)."""
    for run in _HEX_RUN.findall(name):
        if any(c.isdigit() for c in run) and any(c.isalpha() for c in run):
            return True
    return False


def shorten(value: Any, limit: int = 40) -> str:
    """``repr(value)``, cut to ``limit`` characters (error messages quote user values)."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 4] + "...'"
