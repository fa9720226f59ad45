"""How one callback reads on a terminal: its fields, its event's lines, the verdict."""

from __future__ import annotations

import pytest

from emulator.callback.factory import CallbackFactory
from emulator.callback.model import Tamper
from emulator.events import EVENTS
from emulator.term.display import callback_lines, callback_markup, signature_state
from emulator.verify import Verdict, verify_callback

SECRET = "display-test-secret-value"


def checked(secret: str = SECRET, tamper: Tamper = "none", max_age: float | None = None) -> Verdict:
    factory = CallbackFactory(seed=31, app_id="1234567890", timestamp=1_700_000_000)
    model = factory.procedure(transcode=[{"resolution": "540p"}])
    content_type, body = factory.callback(model, SECRET, "form", tamper=tamper).body()
    return verify_callback(body, content_type, secret, max_age=max_age, now=1_700_000_000)


def test_valid_callback_shows_event_ids_outputs_and_verdict() -> None:
    verdict = checked()
    text = "\n".join(callback_lines(verdict.fields, verdict))
    assert text.splitlines()[0] == "procedure — on-demand transcoding finished"
    assert "app id     1234567890" in text
    assert f"task id    {verdict.fields['task_id']}" in text
    assert "1700000000 (2023-11-14 22:13:20 UTC)" in text
    assert "status     SUCCESS" in text
    assert "540p 960x540 h264" in text
    assert "signature  valid" in text
    assert SECRET not in text


@pytest.mark.parametrize(
    ("secret", "tamper", "state", "shown"),
    [
        (SECRET, "none", "valid", "signature  valid"),
        ("another", "none", "invalid", "signature  INVALID"),
        (SECRET, "bad_signature", "invalid", "signature  INVALID"),
        (SECRET, "missing_signature", "missing", "signature  MISSING"),
    ],
)
def test_signature_states(secret: str, tamper: Tamper, state: str, shown: str) -> None:
    verdict = checked(secret, tamper)
    assert signature_state(verdict.fields, verdict) == state
    assert shown in callback_lines(verdict.fields, verdict)[6]


def test_stale_timestamp_is_shown_with_its_age() -> None:
    verdict = checked(tamper="stale_timestamp", max_age=300)
    line = next(x for x in callback_lines(verdict.fields, verdict) if "signature" in x)
    assert "valid, stale (timestamp is 3600 s old" in line


def test_without_a_verdict_the_signature_is_not_checked() -> None:
    fields = checked().fields
    assert signature_state(fields, None) is None
    assert any("not checked" in line for line in callback_lines(fields))


def test_unknown_event_shows_its_raw_fields_escaped() -> None:
    lines = callback_lines({"event": "mystery", "colour": "\x1b[31mred\nline", "nonce": "1"})
    assert lines[0] == "mystery — unknown event"
    assert any(line.strip() == "colour     \\x1b[31mred\\nline" for line in lines)
    assert all("\x1b" not in line and "\n" not in line for line in lines)


def test_every_event_displays_itself() -> None:
    factory = CallbackFactory(seed=32)
    for name, spec in EVENTS.items():
        fields = factory.callback(factory.build(name), SECRET).fields
        lines = callback_lines(fields)
        assert lines[0] == f"{name} — {spec.title}"
        assert len(lines) > 6


def test_very_long_values_are_cut() -> None:
    lines = callback_lines({"event": "x", "appid": "9" * 5000})
    assert any("(5000 characters)" in line and len(line) < 400 for line in lines)


def test_markup_escapes_values_and_colours_the_verdict() -> None:
    verdict = checked("another")
    markup = callback_markup({**verdict.fields, "appid": "[bold]x[/bold]"}, verdict)
    assert any("\\[bold]x\\[/bold]" in line for line in markup)
    assert any(line.startswith("[bold red]") and "INVALID" in line for line in markup)
