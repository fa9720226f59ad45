"""No control character from a scenario, a record or the network reaches the terminal raw
(issue #18): every command is driven with hostile names, ids and values, and its stdout
and stderr are scanned byte by byte.

Forbidden raw: C0 controls but the newline (ESC, so CSI/OSC sequences; BEL, BS, CR...),
DEL, C1 controls U+0080-U+009F (U+009B is a one-character CSI) and the bidirectional
embeddings, overrides and isolates U+202A-U+202E, U+2066-U+2069. Each must show escaped
(``\\x1b``, ``\\x9b``, ``\\u202e``), and ``--json`` must stay valid JSON.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from scripted import ScriptedReceiver, ThreadedReceiver

# what a hostile file or peer would send: retitle (OSC), clear (CSI 2J), bell, backspace,
# carriage return, DEL, a one-character C1 CSI, a right-to-left override, an isolate
HOSTILE = "E\x1b]0;pwn\x07\x1b[2J\x08\r\x7f\x9b\u202e\u2066Z"
YAML_HOSTILE = r"E\e]0;pwn\a\e[2J\b\r\x7f\x9b\u202e\u2066Z"  # the same, in YAML "..."
ESCAPED = r"E\x1b]0;pwn\x07\x1b[2J\x08\r\x7f\x9b\u202e\u2066Z"  # how it must show
FORBIDDEN_BYTES = (set(range(0x20)) - {0x0A}) | {0x7F}
FORBIDDEN_CHARS = re.compile("[\u0080-\u009f\u202a-\u202e\u2066-\u2069]")


def assert_terminal_safe(data: bytes) -> None:
    """No raw control byte, valid UTF-8, no raw C1 or bidi control character."""
    raw = sorted({byte for byte in data if byte in FORBIDDEN_BYTES})
    assert not raw, f"raw control bytes {[hex(b) for b in raw]} in {data[:300]!r}"
    text = data.decode("utf-8")
    assert not FORBIDDEN_CHARS.search(text), text


def env() -> dict[str, str]:
    """No colours asked for (a forced-colour CI would add rich's own ESC sequences)."""
    values = {
        k: v for k, v in os.environ.items() if k not in ("FORCE_COLOR", "ZEGO_CALLBACK_SECRET")
    }
    return {**values, "NO_COLOR": "1", "TERM": "dumb"}


def cli(args: Sequence[str]) -> subprocess.CompletedProcess[bytes]:
    done = subprocess.run(
        [sys.executable, "-m", "emulator", *args],
        env=env(),
        capture_output=True,
        timeout=120,
        check=False,
    )
    assert_terminal_safe(done.stdout)
    assert_terminal_safe(done.stderr)
    return done


def out_text(done: subprocess.CompletedProcess[bytes]) -> str:
    return (done.stdout + done.stderr).decode("utf-8")


# --- run and show: hostile names and values from a scenario, answers from the network ----

HOOK_SCENARIO = f"""\
name: "{YAML_HOSTILE}"
encoding: json
seed: 2
callbacks:
  - event: zim.before_send_msg
    msg_body: "{YAML_HOSTILE}"
    answer: {{result: 3, reason: "{YAML_HOSTILE}"}}
    expect: {{result: 3, reason: spam}}
receiver:
  responses: [200]
"""


@pytest.fixture
def hook_scenario(tmp_path: Path) -> Path:
    """A scenario whose name is hostile and whose receiver answers a hostile ``reason``
    (read back from the network as the hook's decision, and quoted in the verdict)."""
    path = tmp_path / "hostile.yaml"
    path.write_text(HOOK_SCENARIO)
    return path


def test_run_prints_hostile_names_and_answers_escaped(hook_scenario: Path, tmp_path: Path) -> None:
    record = tmp_path / "run.jsonl"
    done = cli(
        ["run", str(hook_scenario), "--builtin-receiver", "--virtual", "--no-live",
         "--record", str(record)]
    )  # fmt: skip
    assert done.returncode == 1, done.stderr  # the reason is not "spam": a failed verdict
    text = out_text(done)
    assert f"run {ESCAPED}" in text  # the run line
    assert text.count(ESCAPED) >= 4  # also the decision, the verdict, the summary title
    assert record.exists()


def test_run_json_stays_valid_json(hook_scenario: Path, tmp_path: Path) -> None:
    done = cli(
        ["run", str(hook_scenario), "--builtin-receiver", "--virtual", "--json",
         "--record", str(tmp_path / "run.jsonl")]
    )  # fmt: skip
    summary = json.loads(done.stdout)
    assert summary["scenario"] == HOSTILE  # the same text, escaped only as JSON escapes it


def test_show_prints_a_hostile_name_and_field_escaped(tmp_path: Path) -> None:
    scenario = tmp_path / "show.yaml"
    scenario.write_text(
        f'name: "{YAML_HOSTILE}"\nseed: 1\ncallbacks:\n'
        f'  - {{event: procedure, status: SUCCESS, task_id: "{YAML_HOSTILE}"}}\n'
    )
    done = cli(["show", str(scenario), "--encoding", "form"])
    assert done.returncode == 0, done.stderr
    text = out_text(done)
    assert f"# {ESCAPED}" in text and f"task_id = {ESCAPED}" in text
    as_json = cli(["show", str(scenario), "--json"])
    document = json.loads(as_json.stdout)
    assert document["scenario"] == HOSTILE
    assert document["requests"][0]["fields"]["task_id"] == HOSTILE


# --- exit-2 lines quoting a file's content -----------------------------------------------


@pytest.mark.parametrize(
    "content",
    [
        f'"{YAML_HOSTILE}": 1\ncallbacks:\n  - {{}}\n',  # an unknown key
        f'name: x\nencoding: "{YAML_HOSTILE}"\ncallbacks:\n  - {{}}\n',  # a value quoted
        f'name: x\ncallbacks:\n  - {{event: "{YAML_HOSTILE}"}}\n',  # an unknown event
    ],
    ids=["key", "value", "event"],
)
def test_an_exit_2_line_quoting_the_file_is_escaped(tmp_path: Path, content: str) -> None:
    scenario = tmp_path / "bad.yaml"
    scenario.write_text(content)
    for command in (["run", str(scenario), "--builtin-receiver"], ["show", str(scenario)]):
        done = cli(command)
        assert done.returncode == 2
        lines = done.stderr.decode().splitlines()
        assert len([line for line in lines if "error" in line]) == 1, lines
        assert "E\\x1b]0;pwn" in done.stderr.decode() or "E\\\\x1b]0;pwn" in done.stderr.decode()


def test_a_hostile_argument_is_escaped_in_the_usage_error() -> None:
    done = cli(["run", "--encoding", HOSTILE])
    assert done.returncode == 2
    assert done.stderr.decode().count("\n") == 1 and "E\\x1b]0;pwn" in done.stderr.decode()


# --- resume: hostile ids from a hand-edited record ---------------------------------------


def hostile_record(tmp_path: Path) -> Path:
    """A killed run's record whose run id, scenario name and callback id were hand-edited
    to hostile text: one callback with its first attempt (500) recorded, the retry pending."""
    scenario = tmp_path / "retry.yaml"
    scenario.write_text(
        "name: retry\nseed: 1\nencoding: json\nretry: {intervals: [1]}\n"
        "callbacks:\n  - {event: procedure, status: SUCCESS}\nreceiver:\n  responses: [500]\n"
    )
    record = tmp_path / "run.jsonl"
    done = cli(
        ["run", str(scenario), "--builtin-receiver", "--virtual", "--no-live",
         "--record", str(record)]
    )  # fmt: skip
    assert done.returncode == 0, done.stderr  # lost, and no expectation says otherwise
    kept = []
    for line in map(json.loads, record.read_text().splitlines()):
        if line["type"] in ("outcome", "summary") or line.get("attempt") == 2:
            continue  # killed before the retry
        line["run_id"] = HOSTILE
        if "callback_id" in line:
            line["callback_id"] = HOSTILE
        if line["type"] == "run":
            line["scenario"] = HOSTILE
            line.pop("plan", None)  # a record from before runs held their plan
        kept.append(json.dumps(line) + "\n")
    record.write_text("".join(kept))
    return record


@pytest.fixture
def receiver() -> Iterator[ThreadedReceiver]:
    with ThreadedReceiver(ScriptedReceiver()) as served:
        yield served


def test_resume_prints_hostile_record_ids_escaped(
    tmp_path: Path, receiver: ThreadedReceiver
) -> None:
    record = hostile_record(tmp_path)
    done = cli(["resume", str(record), "--virtual", "--target", receiver.url])
    assert done.returncode == 0, done.stderr
    text = out_text(done)
    assert f"resume run {ESCAPED}: 1 pending callback" in text
    assert f"{ESCAPED} attempt 2" in text and f"run {ESCAPED} finished" in text
    assert len(receiver.requests) == 1


def test_resume_json_stays_valid_json(tmp_path: Path, receiver: ThreadedReceiver) -> None:
    record = hostile_record(tmp_path)
    done = cli(["resume", str(record), "--virtual", "--json", "--target", receiver.url])
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["run_id"] == HOSTILE


# --- receive and api: hostile paths, fields and bodies from the network ------------------


def strings_of(value: object) -> Iterator[str]:
    """Every string inside a JSON value."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from strings_of(item)
    elif isinstance(value, list):
        for item in value:
            yield from strings_of(item)


def raw_http(url: str, request: bytes) -> bytes:
    """Send ``request`` as it is (no client library tidies it) and read the answer."""
    parts = urlsplit(url)
    with socket.create_connection((parts.hostname, parts.port), timeout=30) as conn:
        conn.sendall(request)
        answer = b""
        while chunk := conn.recv(65536):
            answer += chunk
    return answer


def post(path: bytes, content_type: bytes, body: bytes) -> bytes:
    return (
        b"POST " + path + b" HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: " + content_type
        + b"\r\nContent-Length: " + str(len(body)).encode() + b"\r\nConnection: close\r\n\r\n"
        + body
    )  # fmt: skip


HOSTILE_FORM = "%1b]0;pwn%07%1b[2J%08%0d%7f%c2%9b%e2%80%ae%e2%81%a6"  # HOSTILE[1:-1], encoded


def serve(args: Sequence[str]) -> tuple[subprocess.Popen[bytes], str]:
    """Start a server command; (process, the URL of its first line)."""
    process = subprocess.Popen(
        [sys.executable, "-m", "emulator", *args],
        env=env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert process.stdout is not None
    first = process.stdout.readline()
    match = re.search(rb"(http://127\.0\.0\.1:\d+\S*)", first)
    assert match, first
    return process, match.group(1).decode()


def stop(process: subprocess.Popen[bytes], first_line: bytes = b"") -> tuple[bytes, bytes]:
    process.send_signal(signal.SIGTERM)
    try:
        out, err = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    return first_line + out, err


@pytest.mark.parametrize("as_json", [False, True], ids=["lines", "json"])
def test_receive_prints_hostile_requests_escaped(as_json: bool) -> None:
    process, url = serve(["receive", "--port", "0", *(["--json"] if as_json else [])])
    base = url.removesuffix("/zego/callback")
    try:
        # a request path, decoded for display
        raw_http(base, post(b"/zego/" + HOSTILE_FORM.encode(), b"application/json", b"{}"))
        # field values of a (badly signed) callback
        form = f"event=procedure&appid=1&task_id=E{HOSTILE_FORM}Z&nonce={HOSTILE_FORM}"
        raw_http(base, post(b"/zego/callback", b"application/x-www-form-urlencoded", form.encode()))
        # an undecodable body, quoted as an excerpt
        raw_http(base, post(b"/zego/callback", b"application/json", HOSTILE.encode() + b"\xff"))
        # a Content-Type header with a C1 CSI byte pair
        raw_http(base, post(b"/zego/callback", b"application/json\xc2\x9b", b"{}"))
        # a header the HTTP parser itself refuses (raw ESC): nothing of it may be logged raw
        raw_http(base, post(b"/zego/callback", HOSTILE.encode(), b"{}"))
    finally:
        out, err = stop(process)
    assert_terminal_safe(out)
    assert_terminal_safe(err)
    text = out.decode()
    if as_json:
        items = [json.loads(line) for line in text.splitlines()]
        assert len(items) == 4
        assert any(HOSTILE[1:-1] in value for value in strings_of(items))
    else:
        assert "POST /zego/\\x1b]0;pwn\\x07" in text
        assert f"task id    {ESCAPED}" in text
        assert "\\x1b]0;pwn\\x07" in text.split("undecodable body", 1)[1]


def test_api_prints_hostile_requests_escaped(receiver: ThreadedReceiver) -> None:
    process, url = serve(["api", "--port", "0", "--callback-url", receiver.url])
    try:
        path = b"/" + HOSTILE_FORM.encode()
        raw_http(url, b"GET " + path + b"?Action=" + HOSTILE_FORM.encode() + b" HTTP/1.1\r\n"
                 b"Host: 127.0.0.1\r\nConnection: close\r\n\r\n")  # fmt: skip
        raw_http(url, b"GET /?Action=" + HOSTILE_FORM.encode() + b"&AppId=1 HTTP/1.1\r\n"
                 b"Host: 127.0.0.1\r\nConnection: close\r\n\r\n")  # fmt: skip
    finally:
        out, err = stop(process)
    assert_terminal_safe(out)
    assert_terminal_safe(err)
    assert out.decode().count("refused (Code") == 2
    assert "\\x1b]0;pwn" in out.decode()


# --- verify: a captured body with hostile fields -----------------------------------------


def test_verify_prints_a_hostile_body_escaped(tmp_path: Path) -> None:
    body = tmp_path / "body.json"
    fields = {"event": HOSTILE, "appid": 1, "task_id": HOSTILE, "nonce": HOSTILE,
              "timestamp": HOSTILE, "signature": HOSTILE}  # fmt: skip
    body.write_text(json.dumps(fields))
    done = cli(["verify", str(body), "--secret", "s"])
    assert done.returncode == 1
    assert ESCAPED in out_text(done)
    as_json = cli(["verify", str(body), "--secret", "s", "--json"])
    assert json.loads(as_json.stdout)["fields"]["task_id"] == HOSTILE


# --- check and report: answers from the network, ids from a record -----------------------


def test_check_prints_a_hostile_receiver_escaped() -> None:
    answer = ScriptedReceiver(text=HOSTILE)  # 200 with a hostile body to every callback
    with ThreadedReceiver(answer) as hostile:
        for extra in ([], ["--json"]):
            done = cli(["check", "--target", hostile.url, "--case", "signature.forged", *extra])
            assert done.returncode == 1, done.stderr
            if extra:
                assert json.loads(done.stdout)["passed"] is False


def test_report_json_of_a_hostile_record_stays_valid_json(
    tmp_path: Path, receiver: ThreadedReceiver
) -> None:
    record = hostile_record(tmp_path)
    assert cli(["resume", str(record), "--virtual", "--target", receiver.url]).returncode == 0
    plain = cli(["report", str(record)])
    assert plain.returncode == 0 and ESCAPED in out_text(plain)
    done = cli(["report", str(record), "--json"])
    assert done.returncode == 0
    assert HOSTILE in list(strings_of(json.loads(done.stdout)))


# --- the live view, on a real terminal (a pseudo-terminal) -------------------------------


def test_the_live_view_on_a_terminal_shows_hostile_names_escaped(tmp_path: Path) -> None:
    """On a terminal rich draws the live table with its own escape sequences, so the scan
    is for the hostile ones: the title (OSC 0), the clear (CSI 2J), BEL, BS, DEL, C1 CSI and
    the bidi controls never appear raw; their escaped form does."""
    import pty

    scenario = tmp_path / "live.yaml"
    scenario.write_text(
        f'name: "{YAML_HOSTILE}"\nseed: 1\nretry: {{intervals: [1]}}\n'
        f'callbacks:\n  - {{event: procedure, status: SUCCESS, task_id: "{YAML_HOSTILE}"}}\n'
        "receiver:\n  responses: [500, 200]\n"
    )
    leader, follower = pty.openpty()
    values = {k: v for k, v in env().items() if k not in ("NO_COLOR", "TERM")}
    process = subprocess.Popen(
        [sys.executable, "-m", "emulator", "run", str(scenario), "--builtin-receiver",
         "--speed", "2", "--record", str(tmp_path / "live.jsonl")],
        env={**values, "TERM": "xterm-256color", "COLUMNS": "120", "LINES": "40"},
        stdin=follower, stdout=follower, stderr=follower,
    )  # fmt: skip
    os.close(follower)
    seen = b""
    try:
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # the child closed the terminal
                break
            if not chunk:
                break
            seen += chunk
        assert process.wait(timeout=60) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        os.close(leader)
    text = seen.decode("utf-8")
    assert "callback" in text and "next request" in text  # the live table was drawn
    for raw in ("\x1b]0;pwn", "\x1b[2J", "\x07", "\x08", "\x7f", "\x9b", "\u202e", "\u2066"):
        assert raw not in text, repr(raw)
    assert "E\\x1b]0;pwn\\x07" in text
