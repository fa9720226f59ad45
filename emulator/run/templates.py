"""Load mode's callbacks from templates: generated once, each copy fresh only in its identity.

    make = TemplateMaker(factory, "procedure", params={}, callback_secret="...")
    callback = make()  # a new task id, timestamp, nonce and signature; the rest the template's

A paced callback cannot afford a whole generation (faking, validating, shaping and encoding
``extra_params`` is most of its cost), and a load test needs distinct callbacks, not
distinct file sizes. So an entry is generated once, as a fresh generation would make it,
and each copy regenerates what a receiver keys on:

* ``timestamp`` (now, or the entry's fixed one) and ``nonce`` (the factory's nonce stream,
  never repeated at one timestamp), each with its wire type;
* the task id, when the entry leaves it to the seed: its random part (the longest run of
  at least 16 hex characters; all digits stay digits) drawn afresh from the seed, the
  rest of its shape kept (``1500020831-procedurev2-<32 hex>tt0``);
* the other ids a receiver keys on — a ``file_id`` (procedure's source file) and the
  vendor's ``TaskId``/``FileID``/``PersistentId`` inside ``extra_params`` (record) — their
  random run redrawn the same way and replaced wherever the template carries it (the
  media URLs hold the file id), unless the entry fixes them;
* the signature, then the entry's tamper, renames and extra fields — the same steps
  (:func:`~emulator.callback.factory.wire_fields`) a fresh generation takes.

An entry whose task id cannot be regenerated so (no such random run, its text also inside
another field, or a ``task_id``/``TaskId`` field besides it) is generated afresh for every
copy instead: correct, only slower.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from hashlib import sha1
from typing import Any

from emulator.callback.factory import CallbackFactory, wire_fields
from emulator.callback.model import Callback, Tamper
from emulator.signing import signature_keys
from emulator.wire import Encoding, WireFields, WireValue, field_text

RANDOM_RUN = re.compile(r"[0-9a-f]{16,}")  # the random part of a generated task id
ID_KEYS = ("file_id", "fileId", "FileID", "TaskId", "PersistentId")  # ids besides the task id


class TemplateMaker:
    """Callbacks of one event and params: a template, each call a copy with a fresh identity."""

    def __init__(
        self,
        factory: CallbackFactory,
        event: str,
        params: Mapping[str, Any] | None,
        callback_secret: str,
        *,
        encoding: Encoding = "json",
        tamper: Tamper = "none",
        rename: Mapping[str, str] | None = None,
        extra_fields: Mapping[str, WireValue] | None = None,
        timestamp: int | None = None,
        nonce: str | None = None,
    ) -> None:
        self.factory = factory
        self.event = event
        self.params = factory.params(event, params)  # validated once for every copy
        self.callback_secret = callback_secret
        self.encoding: Encoding = encoding
        self.tamper: Tamper = tamper
        self.rename = dict(rename) if rename else None
        self.extra_fields = dict(extra_fields) if extra_fields else None
        self.timestamp = timestamp
        self.nonce = nonce
        self._fields: WireFields | None = None  # the template's unsigned wire fields
        self._task_keys: tuple[str, ...] = ()  # the fields holding its task id
        self._task_id = ""
        self._random: tuple[int, int] | None = None  # the task id's random run: start, end
        self._digits = False  # ... all decimal digits
        self._catalogue_name = event
        self._ids: list[tuple[str, bool]] = []  # other ids' random runs: text, all digits
        # the template, made now so that no slot of the rate schedule pays for it
        fields, self._catalogue_name, task_id = self._model_fields()
        if self._learn(fields, task_id):
            self._fields = fields
            self._stamp_keys(fields)

    def __call__(self) -> Callback:
        """The next callback: the template with a fresh identity (see the module docstring)."""
        if self._fields is None:
            return self._generated()  # no template: every copy generated afresh
        factory = self.factory
        timestamp, drawn = factory.stamp(self.timestamp)
        nonce = self.nonce or drawn
        fields = dict(self._fields)  # restamped as signing.restamp does, its keys known
        fields[self._timestamp_key] = timestamp if self._numeric_timestamp else str(timestamp)
        fields[self._nonce_key] = int(nonce) if self._numeric_nonce else nonce
        task_id = self._task_id
        if self._random is not None:
            start, end = self._random
            length = end - start
            fresh = factory.fake.digits(length) if self._digits else factory.fake.hex(length)
            task_id = task_id[:start] + fresh + task_id[end:]
            for key in self._task_keys:
                fields[key] = task_id
        if self._ids:
            fake = factory.fake
            fresh_ids = [
                (run, fake.digits(len(run)) if digits else fake.hex(len(run)))
                for run, digits in self._ids
            ]
            for key in self._swap_keys:  # the only fields carrying an old run
                fields[key] = _swapped(fields[key], fresh_ids)
        if self._plain:  # sign in place: what wire_fields does with nothing else to apply
            stamped = (fields[self._timestamp_key], fields[self._nonce_key])
            texts = sorted([self.callback_secret, field_text(stamped[0]), field_text(stamped[1])])
            fields[self._signature_key] = sha1("".join(texts).encode("utf-8")).hexdigest()
        else:
            fields = wire_fields(
                fields, self.callback_secret, self.tamper, self.rename, self.extra_fields
            )
        return Callback(
            callback_id=factory.next_callback_id(),
            event=self._catalogue_name,
            task_id=task_id,
            fields=fields,
            encoding=self.encoding,
            tamper=self.tamper,
        )

    def _stamp_keys(self, fields: WireFields) -> None:
        """Learn, once, what each copy's restamping and signing touch in the template."""
        self._timestamp_key, self._nonce_key, self._signature_key = signature_keys(fields)
        self._numeric_timestamp = type(fields.get(self._timestamp_key)) is int
        self._numeric_nonce = type(fields.get(self._nonce_key)) is int
        self._plain = self.tamper == "none" and not self.rename and not self.extra_fields
        # a copy's fresh timestamp and nonce (at most 12 digits) never hold a random run
        # (16 or more hex characters), nor does what replaces one: only the fields whose
        # template text carries an old run are ever swapped
        runs = [run for run, _ in self._ids]
        self._swap_keys = tuple(
            key
            for key, value in fields.items()
            if key not in self._task_keys and _carries(value, runs)
        )

    def _model_fields(self) -> tuple[WireFields, str, str]:
        """A freshly generated model's unsigned wire fields, catalogue name and task id."""
        model = self.factory.build(self.event, self.params)
        update: dict[str, str] = {}
        if self.timestamp is not None:
            update["timestamp"] = str(self.timestamp)
        if self.nonce is not None:
            update["nonce"] = self.nonce
        if update:
            model = model.model_copy(update=update)
        return model.to_fields(), model.catalogue_name(), model.task_id

    def _generated(self) -> Callback:
        fields, name, task_id = self._model_fields()
        return Callback(
            callback_id=self.factory.next_callback_id(),
            event=name,
            task_id=task_id,
            fields=wire_fields(
                fields, self.callback_secret, self.tamper, self.rename, self.extra_fields
            ),
            encoding=self.encoding,
            tamper=self.tamper,
        )

    def _learn(self, fields: WireFields, task_id: str) -> bool:
        """Find where the template's identity lives; False when copies cannot be made from it."""
        timestamp_key, nonce_key, _ = signature_keys(fields)
        if self.nonce is not None and type(fields.get(nonce_key)) is int:
            return False  # a fixed nonce on a numeric nonce field: leave it to the model
        if self.timestamp is None and type(fields.get(timestamp_key)) not in (str, int):
            return False
        self._task_id = task_id
        self._ids = self._other_ids(fields, task_id)
        fixed = getattr(self.params, "task_id", None)
        if not task_id or (fixed and fixed == task_id):
            return True  # the entry fixes it (or the event has none): every copy shares it
        keys = tuple(key for key, value in fields.items() if value == task_id)
        if not keys or any(
            task_id in field_text(value) for key, value in fields.items() if key not in keys
        ):
            return False  # carried inside another field too: only a generation keeps them agreed
        if any(key.replace("_", "").lower() == "taskid" for key in fields if key not in keys):
            return False  # a task id field of its own besides the one the model names
        runs = [match.span() for match in RANDOM_RUN.finditer(task_id)]
        if not runs:
            return False
        start, end = max(runs, key=lambda span: span[1] - span[0])
        self._random = (start, end)
        self._digits = task_id[start:end].isdigit()
        self._task_keys = keys
        return True

    def _other_ids(self, fields: WireFields, task_id: str) -> list[tuple[str, bool]]:
        """The random runs of the template's other ids (file ids, a vendor's task id) that
        the entry leaves to the seed, each with whether it is all digits."""
        found: list[str] = []
        for key, value in fields.items():
            if type(value) is not str:
                continue
            if key in ID_KEYS:
                found.append(value)
            elif value.startswith("{"):  # JSON inside a string (record's extra_params)
                try:
                    inner = json.loads(value)
                except ValueError:
                    continue
                if isinstance(inner, dict):
                    found += [v for k, v in inner.items() if k in ID_KEYS and type(v) is str]
        given = [v for v in self.params.model_dump().values() if isinstance(v, str)]
        runs: list[tuple[str, bool]] = []
        for text in found:
            if text == task_id or any(text in value for value in given):
                continue  # the task id (redrawn above), or fixed by the entry
            spans = [match.group() for match in RANDOM_RUN.finditer(text)]
            if spans:
                run = max(spans, key=len)
                if all(run != seen for seen, _ in runs):
                    runs.append((run, run.isdigit()))
        return runs


def _carries(value: WireValue, runs: list[str]) -> bool:
    """True when ``value``'s text (any string in it) holds one of ``runs``."""
    if type(value) is str:
        return any(run in value for run in runs)
    if isinstance(value, list):
        return any(_carries(item, runs) for item in value)
    if isinstance(value, dict):
        return any(_carries(item, runs) for item in value.values())
    return False


def _swapped(value: WireValue, fresh: list[tuple[str, str]]) -> WireValue:
    """``value`` with every old random run in its text replaced by its fresh one."""
    if type(value) is str:
        for old, new in fresh:
            if old in value:
                value = value.replace(old, new)
        return value
    if isinstance(value, list):
        return [_swapped(item, fresh) for item in value]
    if isinstance(value, dict):
        return {key: _swapped(item, fresh) for key, item in value.items()}
    return value
