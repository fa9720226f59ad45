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

A plain copy (no tamper, rename or extra fields) also takes its body from the template:
the fixed text encoded once (:class:`~emulator.wire.BodyTemplate`), each copy's values
and fresh runs filled in — the bytes ``encode`` writes for its fields, and the body's text
escaped for the record's callback line once, as it is made.

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
from emulator.wire import BodyTemplate, Encoding, Holed, Run, WireFields, WireValue, field_text

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
        self._body: BodyTemplate | None = None  # plain copies' body, pre-encoded
        # the template, made now so that no slot of the rate schedule pays for it
        fields, self._catalogue_name, task_id = self._model_fields()
        if self._learn(fields, task_id):
            self._fields = fields
            self._stamp_keys(fields)

    @property
    def body_templated(self) -> bool:
        """True when copies' bodies come from a pre-encoded template (plain copies)."""
        return self._fields is not None and self._body is not None

    def __call__(self) -> Callback:
        """The next callback: the template with a fresh identity (see the module docstring)."""
        if self._fields is None:
            return self._generated()  # no template: every copy generated afresh
        factory = self.factory
        fake = factory.fake
        timestamp, drawn = factory.stamp(self.timestamp)
        nonce = self.nonce or drawn
        fields = dict(self._fields)  # restamped as signing.restamp does, its keys known
        stamp: WireValue = timestamp if self._numeric_timestamp else str(timestamp)
        once: WireValue = int(nonce) if self._numeric_nonce else nonce
        fields[self._timestamp_key] = stamp
        fields[self._nonce_key] = once
        # the fresh runs: the task id's (when it has one), then the other ids'
        runs = [
            fake.digits(length) if digits else fake.hex(length) for length, digits in self._draws
        ]
        task_id = self._task_id
        if self._random is not None:
            task_id = self._task_prefix + runs[0] + self._task_suffix
            for key in self._task_keys:
                fields[key] = task_id
        for key, (parts, places) in self._holed.items():  # a string: runs in its holes
            text = parts.copy()
            for place, hole in places:
                text[place] = runs[hole]
            fields[key] = "".join(text)
        if self._nested:  # inside a list or object: swapped where found
            fresh_ids = list(zip([run for run, _ in self._ids], runs[self._first :], strict=True))
            for key in self._nested:
                fields[key] = _swapped(fields[key], fresh_ids)
        if not self._plain:
            fields = wire_fields(
                fields, self.callback_secret, self.tamper, self.rename, self.extra_fields
            )
            return self._callback(task_id, fields)
        # sign in place: what wire_fields does with nothing else to apply (str() of a
        # string or an int is its field text)
        texts = sorted([self.callback_secret, str(stamp), str(once)])
        signature = sha1("".join(texts).encode("utf-8")).hexdigest()
        fields[self._signature_key] = signature
        callback = self._callback(task_id, fields)
        body = self._body
        if body is not None:  # the body from its template: the same bytes encode() writes
            scalars = [stamp, once, signature]
            if self._nested:
                scalars += [fields[key] for key in self._nested]
            callback.set_body(body.content_type, *body.render(scalars, runs))
        return callback

    def _callback(self, task_id: str, fields: WireFields, event: str | None = None) -> Callback:
        return Callback(
            callback_id=self.factory.next_callback_id(),
            event=event or self._catalogue_name,
            task_id=task_id,
            fields=fields,
            encoding=self.encoding,
            tamper=self.tamper,
        )

    def _stamp_keys(self, fields: WireFields) -> None:
        """Learn, once, what each copy's restamping and signing touch in the template, and
        (plain copies) the template of their body."""
        self._timestamp_key, self._nonce_key, self._signature_key = signature_keys(fields)
        self._numeric_timestamp = type(fields.get(self._timestamp_key)) is int
        self._numeric_nonce = type(fields.get(self._nonce_key)) is int
        self._plain = self.tamper == "none" and not self.rename and not self.extra_fields
        # a copy's fresh timestamp and nonce (at most 12 digits) never hold a random run
        # (16 or more hex characters), nor does what replaces one: only the fields whose
        # template text carries an old run are ever swapped
        runs = [run for run, _ in self._ids]
        swapped = [
            key
            for key, value in fields.items()
            if key not in self._task_keys and _carries(value, runs)
        ]
        first = self._first = 1 if self._random is not None else 0  # the other ids' runs
        # what each copy draws, in order: the task id's random run, then the other ids'
        self._draws = [(len(run), digits) for run, digits in self._ids]
        if self._random is not None:
            start, end = self._random
            self._draws.insert(0, (end - start, self._digits))
            self._task_prefix, self._task_suffix = self._task_id[:start], self._task_id[end:]
        holed = {
            key: _holes(value, runs, first) for key in swapped if type(value := fields[key]) is str
        }
        # each holed string as its pieces (a hole's piece empty), and the run of each hole
        self._holed = {
            key: (
                [part if isinstance(part, str) else "" for part in parts],
                [(place, part.index) for place, part in enumerate(parts) if isinstance(part, Run)],
            )
            for key, parts in holed.items()
        }
        self._nested = tuple(key for key in swapped if key not in holed)
        if self._plain:
            self._body = self._body_template(fields, holed)

    def _body_template(self, fields: WireFields, holed: dict[str, Holed]) -> BodyTemplate | None:
        """The template of a plain copy's body, checked against encode() on the template's
        own values (None, and each body encoded whole, if it ever disagreed)."""
        own_runs: list[str] = []
        if self._random is not None:
            start, end = self._random
            own_runs.append(self._task_id[start:end])
            for key in self._task_keys:
                holed[key] = [self._task_id[:start], Run(0), self._task_id[end:]]
        own_runs += [run for run, _ in self._ids]
        signed = dict(fields)
        signed[self._signature_key] = signed.get(self._signature_key, "")  # where a copy's goes
        scalars = (self._timestamp_key, self._nonce_key, self._signature_key, *self._nested)
        holed = {key: [part for part in parts if part != ""] for key, parts in holed.items()}
        template = BodyTemplate(signed, self.encoding, scalars, holed)
        own = [signed[key] for key in scalars]
        return template if template.check(signed, own, own_runs) else None

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
        return self._callback(
            task_id,
            wire_fields(fields, self.callback_secret, self.tamper, self.rename, self.extra_fields),
            name,
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


def _holes(text: str, runs: list[str], first: int) -> Holed:
    """``text`` as pieces around every occurrence of one of ``runs`` (the j-th run a
    ``Run(first + j)`` hole), longest run first where two could match."""
    order = sorted(range(len(runs)), key=lambda j: -len(runs[j]))
    pattern = re.compile("|".join(re.escape(runs[j]) for j in order))
    index = {run: first + j for j, run in enumerate(runs)}
    parts: Holed = []
    position = 0
    for match in pattern.finditer(text):
        parts += [text[position : match.start()], Run(index[match.group()])]
        position = match.end()
    parts.append(text[position:])
    return parts


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
