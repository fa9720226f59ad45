"""How one received or captured callback reads on a terminal.

    for line in callback_lines(verdict.fields, verdict):
        print(line)

The common fields come first (event, app id, task id, time), then the event's own lines
from its spec's ``describe(fields)`` (so a new event module displays itself), then the
signature verdict and, when the event's ``check`` finds the body incomplete, what it
lacks. Values come from untrusted bodies: control characters are escaped and very long
values cut. The callback secret is never an input here, so it can never show.
``callback_markup`` is the same block with rich markup (values escaped, verdict coloured).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Literal

from emulator.events import spec_for_fields
from emulator.events.base import PASCAL_COMMON, common_text, event_of, printable, row
from emulator.redact import without_controls
from emulator.signing import signature_keys
from emulator.verify import MS_TIMESTAMP_FROM, Verdict
from emulator.wire import WireValue, field_text

SignatureState = Literal["valid", "invalid", "missing"]

_STYLES = {"valid": "green", "invalid": "bold red", "missing": "bold red", "stale": "yellow"}


def signature_state(
    fields: Mapping[str, WireValue], verdict: Verdict | None
) -> SignatureState | None:
    """``valid``/``invalid``/``missing`` for a checked callback; None when it was not checked."""
    if not fields.get(signature_keys(fields)[2]):
        return "missing"
    if verdict is None:
        return None
    return "valid" if verdict.signature_ok else "invalid"


def _time_text(timestamp: str) -> str:
    try:
        value = int(timestamp)
        in_ms = value >= MS_TIMESTAMP_FROM
        moment = dt.datetime.fromtimestamp(value / 1000 if in_ms else value, tz=dt.UTC)
    except (ValueError, OverflowError, OSError):
        return printable(timestamp) if timestamp else "(none)"
    if in_ms:
        return f"{timestamp} ms ({moment:%Y-%m-%d %H:%M:%S.%f}"[:-3] + " UTC)"
    return f"{timestamp} ({moment:%Y-%m-%d %H:%M:%S} UTC)"


def _verdict_text(fields: Mapping[str, WireValue], verdict: Verdict | None) -> tuple[str, str]:
    """The signature row's text and its rich style."""
    state = signature_state(fields, verdict)
    if state is None:
        return "not checked", "dim"
    text: str = state
    style = _STYLES[state]
    if state == "invalid":
        text = "INVALID (does not match the secret)"
    elif state == "missing":
        text = "MISSING (no signature in the body)"
    if verdict is not None and not verdict.fresh:
        stale = [r for r in verdict.reasons if "timestamp" in r]
        text += f", stale ({'; '.join(stale)})" if stale else ", stale"
        if state == "valid":
            style = _STYLES["stale"]
    return text, style


def _event_lines(fields: Mapping[str, WireValue]) -> list[str]:
    spec = spec_for_fields(fields)
    if spec is not None:
        try:
            return [printable(line, limit=None) for line in spec.describe(fields)]
        except Exception:  # a describe bug must not hide the callback; fall back to raw fields
            pass
    shown = {*PASCAL_COMMON, *PASCAL_COMMON.values()}
    return [
        row(key, printable(field_text(value))) for key, value in fields.items() if key not in shown
    ]


def _rows(fields: Mapping[str, WireValue], verdict: Verdict | None) -> list[tuple[str, str]]:
    """``(line, style)`` pairs; style is "" for plain lines."""
    event = event_of(fields)
    spec = spec_for_fields(fields)
    title = f"{printable(event) or '(no event field)'}"
    if spec is not None:
        title = f"{printable(spec.name)} — {spec.title}"
    elif event:
        title += " — unknown event"
    rows: list[tuple[str, str]] = [(title, "bold")]
    body = [row("app id", printable(common_text(fields, "appid")) or "(none)")]
    if task_id := common_text(fields, "task_id"):
        body.append(row("task id", printable(task_id)))
    body.append(row("time", _time_text(common_text(fields, "timestamp"))))
    body.append(row("nonce", printable(common_text(fields, "nonce")) or "(none)"))
    if verdict is not None:
        body.append(row("encoding", verdict.encoding))
    rows.extend((f"  {line}", "") for line in body)
    text, style = _verdict_text(fields, verdict)
    rows.append((f"  {row('signature', text)}", style))
    rows.extend((f"  {line}", "") for line in _event_lines(fields))
    problems = _shape_problems(fields)
    if problems:
        rows.append((f"  {row('incomplete', printable('; '.join(problems)))}", "yellow"))
    return [(without_controls(line), style) for line, style in rows]  # reasons quote values


def _shape_problems(fields: Mapping[str, WireValue]) -> list[str]:
    """What the event's ``check`` finds missing or broken in the body ([] when whole)."""
    spec = spec_for_fields(fields)
    if spec is None or spec.check is None:
        return []
    try:
        return spec.check(fields)
    except Exception:  # a check bug must not hide the callback
        return []


def callback_lines(fields: Mapping[str, WireValue], verdict: Verdict | None = None) -> list[str]:
    """Plain-text lines describing one callback (and its signature verdict, when given)."""
    return [line for line, _ in _rows(fields, verdict)]


def callback_markup(fields: Mapping[str, WireValue], verdict: Verdict | None = None) -> list[str]:
    """The same lines as :func:`callback_lines` with rich markup; values are escaped."""
    from rich.markup import escape

    return [
        f"[{style}]{escape(line)}[/]" if style else escape(line)
        for line, style in _rows(fields, verdict)
    ]


__all__ = ["SignatureState", "callback_lines", "callback_markup", "signature_state"]
