"""A password in a target URL (``http://user:password@host/``) is sent as Basic credentials
and never shown or stored: not in the record, the terminal, ``show``'s curl line, the HTML
or JUnit report. A resume of such a record asks for the URL again instead of sending to
the masked one."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

from aiohttp import web
from scripted import ScriptedReceiver, ThreadedReceiver

from emulator.cli.main import main
from emulator.redact import hides_a_password, without_password

PASSWORD = "pa55-Wd-never-shown"
ROOT = Path(__file__).resolve().parents[1]
SCENARIO = str(ROOT / "scenarios" / "retry-then-success.yaml")


def test_without_password_keeps_the_user_and_hides_the_password() -> None:
    assert (
        without_password(f"http://bob:{PASSWORD}@h:8080/cb?x=1") == "http://bob:***@h:8080/cb?x=1"
    )
    assert without_password("http://h/cb") == "http://h/cb"
    assert without_password("http://bob@h/cb") == "http://bob@h/cb"  # no password to hide
    assert hides_a_password(without_password(f"https://u:{PASSWORD}@h/"))
    assert not hides_a_password("https://u@h/")


class BasicAuthReceiver(ScriptedReceiver):
    """Answers 200 only to requests carrying ``bob:PASSWORD`` as Basic credentials."""

    def __init__(self) -> None:
        super().__init__(statuses=[200])
        self.authorized = 0

    async def handle(self, request: web.Request) -> web.Response:
        wanted = "Basic " + base64.b64encode(f"bob:{PASSWORD}".encode()).decode()
        if request.headers.get("Authorization") != wanted:
            return web.Response(status=401)
        self.authorized += 1
        return await super().handle(request)


def test_a_password_in_the_target_is_sent_but_never_shown_or_stored(
    tmp_path: Path, capsys: Any
) -> None:
    record, page, junit = tmp_path / "r.jsonl", tmp_path / "r.html", tmp_path / "r.xml"
    receiver = BasicAuthReceiver()
    with ThreadedReceiver(receiver) as served:
        url = served.url.replace("http://", f"http://bob:{PASSWORD}@")
        scenario = tmp_path / "one.yaml"
        scenario.write_text("name: one\ncallbacks:\n  - event: procedure\n")
        args = ["--target", url, "--virtual", "--no-live", "--secret", "s"]
        assert main(["run", str(scenario), *args, "--record", str(record)]) == 0
        assert main(["show", str(scenario), "--target", url, "--secret", "s"]) == 0
        assert main(["show", str(scenario), "--target", url, "--secret", "s", "--json"]) == 0
    assert receiver.authorized == 1  # the credentials went on the wire
    assert main(["report", str(record), "--html", str(page), "--junit", str(junit)]) == 0
    assert main(["report", str(record), "--json"]) == 0
    shown = capsys.readouterr()
    for text in (record.read_text(), page.read_text(), junit.read_text(), shown.out, shown.err):
        assert PASSWORD not in text
        assert base64.b64encode(f"bob:{PASSWORD}".encode()).decode() not in text
    assert "bob:***@" in record.read_text()


def test_resuming_a_record_with_a_hidden_password_asks_for_the_url(
    tmp_path: Path, capsys: Any
) -> None:
    record = tmp_path / "r.jsonl"
    receiver = BasicAuthReceiver()
    with ThreadedReceiver(receiver) as served:
        url = served.url.replace("http://", f"http://bob:{PASSWORD}@")
        scenario = tmp_path / "one.yaml"
        scenario.write_text("name: one\ncallbacks:\n  - event: procedure\n")
        args = ["--target", url, "--virtual", "--no-live", "--secret", "s", "--record"]
        assert main(["run", str(scenario), *args, str(record)]) == 0
        kept = [line for line in record.read_text().splitlines() if '"type":"run"' in line
                or '"type":"callback"' in line]  # fmt: skip
        record.write_text("\n".join(kept) + "\n")  # as a kill before any answer leaves it
        assert main(["resume", str(record), "--virtual"]) == 2
        error = capsys.readouterr().err
        assert "hides the password" in error and PASSWORD not in error
        assert main(["resume", str(record), "--virtual", "--target", url]) == 0
    assert receiver.authorized == 2
    assert PASSWORD not in record.read_text()
    assert json.loads(record.read_text().splitlines()[-1])["type"] == "summary"
