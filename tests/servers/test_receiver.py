"""The local receiver: verification, scripted answers and the ``receive`` command.

Every test starts a real Receiver on 127.0.0.1 (a free port) and talks to it over a real
socket — with the Dispatcher on a VirtualClock when the retry schedule matters, with a
plain aiohttp client when the exact answer to one request does.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import signal
import socket
import struct
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from emulator.callback.factory import CallbackFactory
from emulator.callback.model import Callback, Tamper
from emulator.clock import VirtualClock
from emulator.delivery.dispatch import Delivery, Dispatcher
from emulator.delivery.results import Outcome
from emulator.record.reader import read_record
from emulator.retry import RetryPolicy
from emulator.servers.receiver import MAX_BODY_BYTES, Receiver, parse_responses
from emulator.term.receive import received_lines
from emulator.wire import ENCODINGS, Encoding

SECRET = "receiver-test-secret"
ZEGO_OFFSETS = [0.0, 2.0, 6.0, 14.0, 30.0, 62.0]
HANG_TIMEOUT = 0.3  # real seconds; only where the receiver must not answer in time
SAFE_TIMEOUT = 10.0


def make_callback(
    encoding: Encoding = "form", tamper: Tamper = "none", seed: int = 7, **params: object
) -> Callback:
    factory = CallbackFactory(seed=seed, app_id="1234567890")
    return factory.callback(
        factory.procedure(**params), callback_secret=SECRET, encoding=encoding, tamper=tamper
    )


async def deliver(
    callback: Callback,
    url: str,
    timeout: float = SAFE_TIMEOUT,
    intervals: tuple[float, ...] = (2.0, 4.0, 8.0, 16.0, 32.0),
) -> Outcome:
    policy = RetryPolicy(intervals=intervals, timeout=timeout)
    async with Dispatcher(policy=policy, clock=VirtualClock()) as dispatcher:
        return await dispatcher.deliver(Delivery(callback, url))


async def post(url: str, body: bytes, content_type: str | None) -> tuple[int, str]:
    headers = {"Content-Type": content_type} if content_type else {}
    async with (
        aiohttp.ClientSession() as session,
        session.post(url, data=body, headers=headers) as response,
    ):
        return response.status, await response.text()


# --- verification -------------------------------------------------------------------------


@pytest.mark.parametrize("encoding", ENCODINGS)
async def test_accepts_what_the_dispatcher_sends_in_every_encoding(encoding: Encoding) -> None:
    callback = make_callback(encoding)
    async with Receiver(SECRET) as receiver:
        outcome = await deliver(callback, receiver.url)

    assert outcome.delivered and outcome.attempts == 1
    (item,) = receiver.received
    assert item.status == 200 and item.accepted
    assert item.encoding == encoding
    assert item.fields == callback.fields
    assert item.verdict is not None and item.verdict.signature_ok
    receiver.check()


@pytest.mark.parametrize("tamper", ["bad_signature", "missing_signature"])
async def test_a_wrong_or_missing_signature_is_rejected_with_401(tamper: Tamper) -> None:
    async with Receiver(SECRET) as receiver:
        content_type, body = make_callback(tamper=tamper).body()
        status, text = await post(receiver.url, body, content_type)

    assert status == 401
    assert "signature" in text
    (item,) = receiver.received
    assert item.rejection == "unauthorized" and not item.accepted
    with pytest.raises(AssertionError, match=r"401 /zego/callback .*signature"):
        receiver.check()


async def test_a_callback_signed_with_another_secret_is_rejected_with_401() -> None:
    async with Receiver("another-secret") as receiver:
        content_type, body = make_callback().body()
        status, _ = await post(receiver.url, body, content_type)
    assert status == 401


async def test_a_stale_timestamp_is_rejected_with_401() -> None:
    async with Receiver(SECRET, max_age=300) as receiver:
        content_type, body = make_callback(tamper="stale_timestamp").body()
        status, text = await post(receiver.url, body, content_type)

    assert status == 401
    assert "timestamp" in text
    (item,) = receiver.received
    assert item.verdict is not None and item.verdict.signature_ok and not item.verdict.fresh


async def test_without_max_age_a_stale_but_well_signed_callback_is_accepted() -> None:
    async with Receiver(SECRET, max_age=None) as receiver:
        content_type, body = make_callback(tamper="stale_timestamp").body()
        status, _ = await post(receiver.url, body, content_type)
    assert status == 200


async def test_a_rejected_callback_is_refused_on_every_retry_and_lost() -> None:
    async with Receiver(SECRET) as receiver:
        outcome = await deliver(make_callback(tamper="bad_signature"), receiver.url)

    assert outcome.lost
    assert [attempt.status for attempt in outcome.history] == [401] * 6
    assert [attempt.offset_s for attempt in outcome.history] == ZEGO_OFFSETS


async def test_a_body_over_one_mib_gets_413() -> None:
    async with Receiver(SECRET) as receiver:
        status, _ = await post(receiver.url, b"a=" + b"x" * MAX_BODY_BYTES, "text/plain")
        small_status, _ = await post(receiver.url, b"x" * 10, "application/json")

    assert status == 413
    assert small_status == 400
    assert [item.rejection for item in receiver.received] == ["too_large", "undecodable"]


async def test_a_chunked_body_over_one_mib_gets_413_too() -> None:
    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(20):
            yield b"x" * (64 * 1024)

    async with (
        Receiver(SECRET) as receiver,
        aiohttp.ClientSession() as session,
        session.post(receiver.url, data=chunks()) as response,
    ):
        status = response.status
    assert status == 413
    assert receiver.received[0].rejection == "too_large"


@pytest.mark.parametrize("hang_up", ["reset", "half_close"])
async def test_a_client_that_goes_away_mid_body_is_recorded_not_an_error(hang_up: str) -> None:
    async with Receiver(SECRET) as receiver:
        port = int(receiver.url.split(":")[2].split("/")[0])
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(
            b"POST /zego/callback HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n"
            b"Content-Type: application/x-www-form-urlencoded\r\nExpect: 100-continue\r\n\r\n"
        )
        await writer.drain()
        assert (await reader.readline()).startswith(b"HTTP/1.1 100")  # the handler runs now
        writer.write(b"appid=1&ev")
        await writer.drain()
        if hang_up == "reset":
            sock = writer.get_extra_info("socket")
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            writer.transport.abort()
        else:
            writer.write_eof()
        for _ in range(1000):  # until the receiver has handled it (no time limit asserted)
            if receiver.received:
                break
            await asyncio.sleep(0.01)
        writer.close()
        content_type, body = make_callback().body()
        status, _ = await post(receiver.url, body, content_type)

    assert receiver.errors == []
    assert receiver.received[0].rejection == "incomplete"
    assert status == 200


GARBAGE: list[tuple[bytes, str | None]] = [
    (b"", None),
    (b"", "application/json"),
    (b"", "application/x-www-form-urlencoded"),
    (b"\xff\xfe\x00garbage", None),
    (b"\xff\xfe\x00garbage", "application/x-www-form-urlencoded"),
    (b"{", "application/json"),
    (b"[1, 2, 3]", "application/json"),
    (b"null", "application/json"),
    (b'{"a": {"b": [1, 2]}, "c": null}', "application/json"),
    (b"%7B%22a%22", "application/json"),
    (b"%7B%ZZ", "application/json"),
    (b"a=%zz&&==", "application/x-www-form-urlencoded"),
    (b"a=1", "text/plain"),
    (b"a=1", "multipart/form-data; boundary=x"),
    (b"event=procedure&signature=", "application/x-www-form-urlencoded"),
    (b'{"timestamp": [], "nonce": {}, "signature": 5}', "application/json"),
    (b"timestamp=NaN&nonce=1&signature=ab", "application/x-www-form-urlencoded"),
    (b"timestamp=1e999&nonce=1&signature=ab", "application/x-www-form-urlencoded"),
    ("signature=\u00e9\u00e9&nonce=\u2603".encode(), "application/x-www-form-urlencoded"),
]


async def test_garbage_is_answered_400_or_401_and_never_500() -> None:
    rng = random.Random(4)
    bodies = list(GARBAGE)
    for _ in range(60):
        size = rng.randint(0, 300)
        content_type = rng.choice([None, "application/json", "application/x-www-form-urlencoded"])
        bodies.append((bytes(rng.getrandbits(8) for _ in range(size)), content_type))

    async with Receiver(SECRET) as receiver:
        statuses = [await post(receiver.url, body, ctype) for body, ctype in bodies]

    assert {status for status, _ in statuses} <= {400, 401}
    assert {status for status, _ in statuses} == {400, 401}  # both kinds were exercised
    assert receiver.errors == []
    assert len(receiver.received) == len(bodies)
    assert all(item.rejection in ("undecodable", "unauthorized") for item in receiver.received)


async def test_post_on_any_path_is_received_and_get_is_not_allowed() -> None:
    async with Receiver(SECRET, path="/hooks/zego") as receiver:
        content_type, body = make_callback().body()
        assert receiver.url.endswith("/hooks/zego")
        base = receiver.url.removesuffix("/hooks/zego")
        status, _ = await post(base + "/somewhere/else", body, content_type)
        async with aiohttp.ClientSession() as session, session.get(receiver.url) as response:
            get_status = response.status

    assert status == 200
    assert receiver.received[0].path == "/somewhere/else"
    assert get_status == 405


# --- replays ------------------------------------------------------------------------------


async def test_a_second_delivery_of_an_accepted_callback_is_acknowledged_by_default() -> None:
    # issue 14 changed the default: a repeat of an accepted callback gets 200 (was 409)
    async with Receiver(SECRET).respond(201, 500) as receiver:
        content_type, body = make_callback().body()
        first, _ = await post(receiver.url, body, content_type)
        second, text = await post(receiver.url, body, content_type)

    assert (first, second) == (201, 200)  # the script's 500 was never used
    assert "duplicate" in text
    assert receiver.received[1].duplicate and receiver.received[1].rejection is None
    receiver.check()


async def test_replay_status_409_refuses_a_second_delivery_of_an_accepted_callback() -> None:
    async with Receiver(SECRET, replay_status=409) as receiver:
        content_type, body = make_callback().body()
        first, _ = await post(receiver.url, body, content_type)
        second, text = await post(receiver.url, body, content_type)

    assert (first, second) == (200, 409)
    assert "replay" in text
    assert receiver.received[1].rejection == "replay"


async def test_a_different_body_reusing_an_accepted_timestamp_and_nonce_is_a_replay() -> None:
    callback = make_callback(status="SUCCESS")
    forged = dict(callback.fields, status="FAILED")  # the signature does not cover the body
    async with Receiver(SECRET) as receiver:
        content_type, body = callback.body()
        await post(receiver.url, body, content_type)
        forged_type, forged_body = Callback("x", "procedure", "t", forged).body()
        status, _ = await post(receiver.url, forged_body, forged_type)
    assert status == 409


async def test_zego_retries_after_a_failure_are_not_replays() -> None:
    receiver = Receiver(SECRET).respond(500, 503, 200)
    async with receiver:
        outcome = await deliver(make_callback(), receiver.url)

    assert outcome.delivered and outcome.attempts == 3
    assert [item.status for item in receiver.received] == [500, 503, 200]
    assert [item.rejection for item in receiver.received] == [None, None, None]


async def test_an_idempotent_receiver_acknowledges_a_duplicate_without_the_script() -> None:
    receiver = Receiver(SECRET, replay_status=200).respond(201, 500)
    async with receiver:
        content_type, body = make_callback().body()
        statuses = [(await post(receiver.url, body, content_type))[0] for _ in range(3)]

    assert statuses == [201, 200, 200]  # the script's 500 was never used
    assert [item.duplicate for item in receiver.received] == [False, True, True]
    assert "duplicate" in received_lines(receiver.received[1])[-1]
    receiver.check()  # an acknowledged duplicate is not a problem


async def test_a_forged_body_is_refused_even_by_an_idempotent_receiver() -> None:
    callback = make_callback(status="SUCCESS")
    forged = Callback("x", "procedure", "t", dict(callback.fields, status="FAILED"))
    async with Receiver(SECRET, replay_status=200) as receiver:
        await post(receiver.url, callback.body()[1], callback.body()[0])
        status, text = await post(receiver.url, forged.body()[1], forged.body()[0])
    assert status == 409 and "different body" in text


async def test_the_replay_check_can_be_turned_off() -> None:
    async with Receiver(SECRET, replay_status=None) as receiver:
        content_type, body = make_callback().body()
        statuses = [(await post(receiver.url, body, content_type))[0] for _ in range(2)]
    assert statuses == [200, 200]


# --- scripted answers ---------------------------------------------------------------------


async def test_script_500_500_200_takes_three_attempts_on_zegos_schedule() -> None:
    receiver = Receiver(SECRET).respond(500, 500, 200)
    async with receiver:
        outcome = await deliver(make_callback(), receiver.url)

    assert outcome.delivered and outcome.attempts == 3
    assert [attempt.status for attempt in outcome.history] == [500, 500, 200]
    assert [attempt.offset_s for attempt in outcome.history] == [0.0, 2.0, 6.0]
    receiver.check()  # scripted failures are expected, not problems


async def test_the_last_scripted_status_repeats_until_the_callback_is_lost() -> None:
    async with Receiver(SECRET, responses=(200, 503)) as receiver:
        first = await deliver(make_callback(seed=1), receiver.url)
        second = await deliver(make_callback(seed=2), receiver.url)

    assert first.delivered and first.attempts == 1
    assert second.lost and [attempt.status for attempt in second.history] == [503] * 6


async def test_per_task_scripts_answer_by_the_callbacks_task_id() -> None:
    lost = make_callback(seed=1)
    retried = make_callback(seed=2)
    other = make_callback(seed=3)
    scripts = {lost.task_id: [500], retried.task_id: [502, 200]}
    async with Receiver(SECRET, responses=(201,), per_task_responses=scripts) as receiver:
        outcomes = [await deliver(cb, receiver.url) for cb in (lost, retried, other)]

    assert [outcome.attempts for outcome in outcomes] == [6, 2, 1]
    assert [outcome.final_status for outcome in outcomes] == [500, 200, 201]


async def test_hang_makes_the_sender_time_out() -> None:
    async with Receiver(SECRET, hang=True) as receiver:
        outcome = await deliver(make_callback(), receiver.url, HANG_TIMEOUT, intervals=(2.0,))

    assert outcome.lost
    assert [(a.status, a.error) for a in outcome.history] == [(None, "timeout")] * 2
    assert [item.answer for item in receiver.received] == ["hung", "hung"]


async def test_reset_makes_the_sender_see_a_reset_connection() -> None:
    async with Receiver(SECRET, reset=True) as receiver:
        outcome = await deliver(make_callback(), receiver.url)

    assert outcome.lost and outcome.attempts == 6
    assert {(a.status, a.error) for a in outcome.history} == {(None, "connection_reset")}
    assert {item.answer for item in receiver.received} == {"reset"}


async def test_a_delay_longer_than_the_timeout_is_a_timeout() -> None:
    async with Receiver(SECRET, delay=1.0, replay_status=None) as receiver:
        outcome = await deliver(make_callback(), receiver.url, HANG_TIMEOUT, intervals=(2.0,))
    assert [(a.status, a.error) for a in outcome.history] == [(None, "timeout")] * 2


async def test_a_short_delay_still_answers() -> None:
    async with Receiver(SECRET, delay=0.05) as receiver:
        outcome = await deliver(make_callback(), receiver.url)
    assert outcome.delivered and outcome.history[0].status == 200


def test_bad_scripts_are_refused_with_a_clear_message() -> None:
    with pytest.raises(ValueError, match="200 to 599"):  # 1xx: not a final answer (issue 18)
        Receiver(SECRET).respond(700)
    with pytest.raises(ValueError, match="at least one"):
        Receiver(SECRET, responses=())
    assert parse_responses("500, 500,200") == [500, 500, 200]
    with pytest.raises(ValueError, match="separated by commas"):
        parse_responses("500;200")


# --- record and display ---------------------------------------------------------------------


async def test_record_holds_every_request_and_never_the_secret(tmp_path: Path) -> None:
    path = tmp_path / "received.jsonl"
    receiver = Receiver(SECRET, record=path).respond(500, 200)
    async with receiver:
        await deliver(make_callback(), receiver.url)
        content_type, body = make_callback(tamper="bad_signature", seed=9).body()
        await post(receiver.url, body, content_type)

    lines = read_record(path)
    assert [line["type"] for line in lines] == ["received"] * 3
    assert [line["status"] for line in lines] == [500, 200, 401]
    assert lines[0]["fields"]["event"] == "procedure"
    assert SECRET not in path.read_text()


async def test_each_callback_is_shown_with_its_verdict_and_answer() -> None:
    shown: list[str] = []
    receiver = Receiver(SECRET, on_received=lambda item: shown.extend(received_lines(item)))
    async with receiver:
        callback = make_callback(transcode=[{"resolution": "720p"}])
        await deliver(callback, receiver.url)

    text = "\n".join(shown)
    assert callback.task_id in text
    assert "720p" in text or "1280x720" in text
    assert "valid" in text
    assert "-> 200 accepted" in text


# --- the receive command --------------------------------------------------------------------


async def test_receive_command_prints_its_url_then_each_callback_and_stops_on_ctrl_c(
    tmp_path: Path,
) -> None:
    record = tmp_path / "got.jsonl"
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "emulator", "receive", "--port", "0", "--json",
        "--respond", "500,200", "--record", str(record),
        env={**os.environ, "ZEGO_CALLBACK_SECRET": SECRET},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    assert process.stdout is not None
    try:
        listening = json.loads(await asyncio.wait_for(process.stdout.readline(), 30))
        url = listening["url"]
        assert listening["type"] == "listening" and url.startswith("http://127.0.0.1:")
        outcome = await deliver(make_callback("json-urlencoded"), url)
        lines = [json.loads(await process.stdout.readline()) for _ in range(2)]
    finally:
        process.send_signal(signal.SIGINT)
        _, stderr = await asyncio.wait_for(process.communicate(), 30)

    assert outcome.delivered and outcome.attempts == 2
    assert [line["status"] for line in lines] == [500, 200]
    assert lines[1]["encoding"] == "json-urlencoded" and lines[1]["signature_ok"] is True
    assert process.returncode == 130
    assert b"Traceback" not in stderr
    assert len(read_record(record)) == 2


def test_receive_command_refuses_a_bad_script_with_exit_2() -> None:
    from emulator.cli.main import main

    assert main(["receive", "--respond", "fine", "--port", "0"]) == 2


def test_accepted_nonces_older_than_max_age_are_forgotten_at_most_once_a_second() -> None:
    receiver = Receiver(SECRET, max_age=300)
    now = time.time()

    def remember(count: int, stamp: float) -> None:
        for number in range(count):
            receiver._accepted_nonces[(str(int(stamp)), f"n{stamp}-{number}")] = (stamp, "")

    remember(1500, now - 1000)  # long stale: cannot come back fresh
    remember(10, now)  # still within max_age
    receiver._forget_old_nonces()
    assert len(receiver._accepted_nonces) == 10
    remember(1500, now - 1000)
    receiver._forget_old_nonces()  # swept less than a second ago: no scan per request
    assert len(receiver._accepted_nonces) == 1510
    receiver._next_forget = 0.0  # a second later
    receiver._forget_old_nonces()
    assert len(receiver._accepted_nonces) == 10
