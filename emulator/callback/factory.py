"""CallbackFactory: realistic callbacks from a seed, every given field winning.

    factory = CallbackFactory(seed=7, app_id="1234567890")
    model = factory.procedure(status="SUCCESS", transcode=[{"resolution": "720p"}])
    callback = factory.callback(model, callback_secret="...", encoding="json")

The same seed gives the same models in the same order; timestamps are the current time
unless fixed with ``timestamp=``.
"""

from __future__ import annotations

import random
import secrets
import time
from collections.abc import Callable, Mapping
from typing import Any

from emulator.callback.model import Callback, Tamper
from emulator.callback.tamper import apply_tamper
from emulator.events import EventParams, event_spec
from emulator.events.base import CallbackModel, Common, Fake, below
from emulator.signing import sign_fields
from emulator.wire import Encoding, WireFields, WireValue


class CallbackFactory:
    """Generates typed callbacks with seeded fake data (see module docstring)."""

    def __init__(
        self,
        seed: int | None = None,
        app_id: str | None = None,
        timestamp: int | None = None,
        now: Callable[[], float] = time.time,
        nonce_seed: int | None = None,
    ) -> None:
        self.fake = Fake(seed)
        # nonces come from a stream of their own, NOT the payload seed: two runs of one
        # seeded scenario in the same second must not send the same (timestamp, nonce) —
        # a receiver's replay check would refuse the second. Recorded by the run, so a
        # resume can regenerate the same nonces.
        self.nonce_seed = nonce_seed if nonce_seed is not None else secrets.randbits(64)
        self._nonce_random = random.Random(self.nonce_seed)
        self.app_id = app_id or str(self.fake.random.randint(1_000_000_000, 4_294_967_295))
        self.vod_app_id = f"1500{self.fake.digits(6)}"
        self.fixed_timestamp = timestamp
        self.now = now
        self._count = 0
        self._nonces: tuple[int, set[str]] = (-1, set())  # nonces used at one timestamp

    def common(self, timestamp: int | None = None) -> Common:
        """Common field values for the next callback (``timestamp``, else the factory's
        fixed one, else now)."""
        timestamp, nonce = self.stamp(timestamp)
        return Common(
            appid=self.app_id,
            timestamp=str(timestamp),
            nonce=nonce,
            vod_app_id=self.vod_app_id,
        )

    def stamp(self, timestamp: int | None = None) -> tuple[int, str]:
        """The next callback's ``(timestamp, nonce)``, as :meth:`common` draws them (the
        same nonce stream), without the rest of the common values."""
        if timestamp is None:
            timestamp = self.fixed_timestamp
        if timestamp is None:
            timestamp = int(self.now())
        return timestamp, self._fresh_nonce(timestamp)

    def _fresh_nonce(self, timestamp: int) -> str:
        """A random nonce never repeated at the same timestamp: (timestamp, nonce) is what a
        receiver's replay check keys on, so two callbacks of a burst must not share it."""
        if self._nonces[0] != timestamp:
            self._nonces = (timestamp, set())
        used = self._nonces[1]
        rng = self._nonce_random
        nonce = str(100_000 + below(rng, 900_000))  # six digits, as ZEGO's samples
        while nonce in used:
            # redraw six digits while most of them are free; wider only for a huge burst
            # in one second (more than half of the 900,000 six-digit nonces used)
            low, high = (100_000, 1_000_000) if len(used) < 450_000 else (10**11, 10**12)
            nonce = str(low + below(rng, high - low))
        used.add(nonce)
        return nonce

    def build(
        self,
        event: str,
        params: EventParams | Mapping[str, Any] | None = None,
        *,
        timestamp: int | None = None,
        **overrides: Any,
    ) -> CallbackModel:
        """A typed callback of ``event``; ``params``/``overrides`` are the event's scenario keys.

        ``timestamp`` (Unix seconds) is the callback's send time, so the event's own times
        (login/create/close milliseconds) are faked consistent with it.
        """
        spec = event_spec(event)
        if isinstance(params, spec.params) and not overrides:
            parsed = params  # validated already (see params()): shared, never mutated
        else:
            if isinstance(params, EventParams):
                merged = params.model_dump(exclude_unset=True) | overrides
            else:
                merged = dict(params or {}) | overrides
            parsed = spec.params.model_validate(merged) if merged else spec.default_params
        return spec.generate(self.fake, parsed, self.common(timestamp))

    def params(self, event: str, params: Mapping[str, Any] | None = None) -> EventParams:
        """``event``'s scenario keys validated once, for :meth:`build` to reuse across many
        callbacks (an entry's ``repeat`` copies differ only in what is faked)."""
        spec = event_spec(event)
        parsed: EventParams = spec.params.model_validate(params) if params else spec.default_params
        return parsed

    def procedure(self, **params: Any) -> CallbackModel:
        """A ``procedure`` callback (transcoding finished)."""
        return self.build("procedure", params)

    def compose(self, **params: Any) -> CallbackModel:
        """A ``compose`` callback (media merge finished)."""
        return self.build("compose", params)

    def snapshot(self, **params: Any) -> CallbackModel:
        """A ``snapshot`` callback (screenshots finished)."""
        return self.build("snapshot", params)

    def next_callback_id(self) -> str:
        self._count += 1
        return f"cb-{self._count:06d}"

    def callback(
        self,
        model: CallbackModel,
        callback_secret: str,
        encoding: Encoding = "json",
        tamper: Tamper = "none",
        rename: Mapping[str, str] | None = None,
        extra_fields: Mapping[str, WireValue] | None = None,
        callback_id: str | None = None,
    ) -> Callback:
        """The model as it goes on the wire: fields shaped, signed, tampered, ready to encode."""
        return Callback(
            callback_id=callback_id or self.next_callback_id(),
            event=model.catalogue_name(),
            task_id=model.task_id,
            fields=wire_fields(model.to_fields(), callback_secret, tamper, rename, extra_fields),
            encoding=encoding,
            tamper=tamper,
        )


def wire_fields(
    fields: Mapping[str, WireValue],
    callback_secret: str,
    tamper: Tamper = "none",
    rename: Mapping[str, str] | None = None,
    extra_fields: Mapping[str, WireValue] | None = None,
) -> WireFields:
    """Sign ``fields``, apply a tamper, then renames and extra fields (pure)."""
    shaped = sign_fields(fields, callback_secret)  # a new dict: the steps below may change it
    if tamper != "none":
        shaped = apply_tamper(shaped, tamper, callback_secret)
    if rename:
        shaped = renamed(shaped, rename)
    if extra_fields:
        shaped.update(extra_fields)
    return shaped


class RenameError(ValueError):
    """A ``rename`` that would drop a field or rename one the callback lacks."""

    def __init__(self, key: str, message: str) -> None:
        super().__init__(message)
        self.key = key


def renamed(fields: Mapping[str, WireValue], rename: Mapping[str, str]) -> WireFields:
    """``fields`` with keys renamed at once (``{a: b, b: a}`` swaps); RenameError when a
    source is missing or two fields would end up with one name."""
    for source in rename:
        if source not in fields:
            raise RenameError(
                source, f"the callback has no field {source!r} (it has: {', '.join(fields)})"
            )
    result: WireFields = {}
    for key, value in fields.items():
        name = rename.get(key, key)
        if name in result:
            culprit = key if key in rename else next(k for k, v in rename.items() if v == name)
            raise RenameError(
                culprit,
                f"the callback already has a field {name!r}; renaming onto it would drop one",
            )
        result[name] = value
    return result
