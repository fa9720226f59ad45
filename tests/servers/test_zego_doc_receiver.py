"""Receivers written only from ZEGO's documentation accept what the emulator sends.

The receivers below know nothing of ``emulator``: they do what ZEGO's PHP sample does —
read ``signature``, ``timestamp`` and ``nonce`` from the POSTed form, sort
``[secret, timestamp, nonce]`` as strings, join, sha1, compare — or, for JSON delivery,
what the docs say ("the data is JSON and must be UrlDecoded"): urldecode, then json_decode.
Callbacks go over a real socket through the Dispatcher, in all three encodings.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote_plus

import pytest
from aiohttp import web

from emulator.callback.factory import CallbackFactory
from emulator.callback.model import Callback, Tamper
from emulator.clock import VirtualClock
from emulator.delivery.dispatch import Delivery, Dispatcher
from emulator.retry import RetryPolicy
from emulator.servers.start import RunningServer, start_server
from emulator.wire import ENCODINGS, Encoding

CALLBACK_SECRET = "doc-receiver-secret"


def php_sample_check_signature(post: Mapping[str, Any], secret: str) -> bool:
    """ZEGO's PHP ``checkSignature()``, line for line (PHP's null reads as "")."""
    signature = post.get("signature")
    timestamp = post.get("timestamp") or ""
    nonce = post.get("nonce") or ""
    tmp_arr = sorted([secret, str(timestamp), str(nonce)])  # sort($tmpArr, SORT_STRING)
    tmp_str = hashlib.sha1("".join(tmp_arr).encode("utf-8")).hexdigest()  # sha1(implode())
    return signature is not None and tmp_str == signature


@dataclass
class DocReceiver:
    """What a customer writes from the docs: one form endpoint, one JSON endpoint."""

    secret: str
    accepted: list[dict[str, Any]] = field(default_factory=list)
    rejected: int = 0

    def _answer(self, fields: dict[str, Any]) -> web.Response:
        if php_sample_check_signature(fields, self.secret):
            self.accepted.append(fields)
            return web.Response(text="success")
        self.rejected += 1
        return web.Response(status=401, text="bad signature")

    async def form(self, request: web.Request) -> web.Response:
        post = await request.post()  # $_POST
        return self._answer({key: str(value) for key, value in post.items()})

    async def json(self, request: web.Request) -> web.Response:
        raw = (await request.read()).decode("utf-8")
        data = json.loads(unquote_plus(raw))  # json_decode(urldecode($raw), true)
        return self._answer(data)

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/zego/form", self.form)
        app.router.add_post("/zego/json", self.json)
        return app


@pytest.fixture
async def doc_receiver() -> AsyncIterator[tuple[DocReceiver, RunningServer]]:
    receiver = DocReceiver(CALLBACK_SECRET)
    async with await start_server(receiver.app()) as server:
        yield receiver, server


def path_for(encoding: Encoding) -> str:
    return "/zego/form" if encoding == "form" else "/zego/json"


def generated_callbacks(encoding: Encoding, tamper: Tamper = "none") -> list[Callback]:
    factory = CallbackFactory(seed=2024)
    models = [
        factory.procedure(
            transcode=[{"resolution": "360p"}, {"resolution": "720p", "container": "m3u8"}]
        ),
        factory.procedure(status="FAILED"),
        factory.procedure(
            transcode=[{"resolution": "540p"}, {"resolution": "720p", "code": "70000"}]
        ),
    ]
    return [factory.callback(model, CALLBACK_SECRET, encoding, tamper) for model in models]


async def deliver(callbacks: list[Callback], url: str) -> list[Any]:
    async with Dispatcher(policy=RetryPolicy(timeout=30), clock=VirtualClock()) as dispatcher:
        return await dispatcher.deliver_all(Delivery(callback, url) for callback in callbacks)


def assert_documented_extra_params(text: str) -> None:
    extra = json.loads(text)
    assert list(extra) == ["media"] and list(extra["media"]) == ["transcode"]
    for entry in extra["media"]["transcode"]:
        assert isinstance(entry["code"], str) and isinstance(entry["message"], str)
        assert isinstance(entry["replay_url"], str)
        assert isinstance(entry["size"], int) and isinstance(entry["duration"], float)
        video, audio = entry["video"], entry["audio"]
        assert {k: type(v) for k, v in video.items()} == {
            "height": int, "width": int, "bitrate": int, "codec": str, "fps": int,
        }  # fmt: skip
        assert {k: type(v) for k, v in audio.items()} == {
            "bitrate": int, "codec": str, "sampling_rate": int,
        }  # fmt: skip


@pytest.mark.parametrize("encoding", ENCODINGS)
async def test_doc_receiver_accepts_generated_callbacks(
    encoding: Encoding, doc_receiver: tuple[DocReceiver, RunningServer]
) -> None:
    receiver, server = doc_receiver
    callbacks = generated_callbacks(encoding)
    outcomes = await deliver(callbacks, server.url + path_for(encoding))

    assert [(o.delivered, o.attempts, o.final_status) for o in outcomes] == [(True, 1, 200)] * 3
    assert receiver.rejected == 0
    # the receiver read back exactly the fields that were signed and sent
    assert receiver.accepted == [callback.fields for callback in callbacks]
    succeeded, failed, partly_failed = receiver.accepted
    assert_documented_extra_params(succeeded["extra_params"])
    assert_documented_extra_params(partly_failed["extra_params"])
    assert (failed["status"], failed["extra_params"]) == ("FAILED", "")
    urls = [t["replay_url"] for t in json.loads(succeeded["extra_params"])["media"]["transcode"]]
    assert urls[0].endswith(".mp4") and urls[1].endswith(".m3u8")
    codes = [t["code"] for t in json.loads(partly_failed["extra_params"])["media"]["transcode"]]
    assert (partly_failed["status"], codes) == ("SUCCESS", ["0", "70000"])


@pytest.mark.parametrize("encoding", ENCODINGS)
@pytest.mark.parametrize("tamper", ["bad_signature", "missing_signature"])
async def test_doc_receiver_rejects_tampered_callbacks_until_they_are_lost(
    encoding: Encoding, tamper: Tamper, doc_receiver: tuple[DocReceiver, RunningServer]
) -> None:
    receiver, server = doc_receiver
    (callback, *_) = generated_callbacks(encoding, tamper)
    (outcome,) = await deliver([callback], server.url + path_for(encoding))

    assert outcome.lost
    assert outcome.attempts == 6  # the first request and ZEGO's 5 retries
    assert {attempt.status for attempt in outcome.history} == {401}
    assert (receiver.accepted, receiver.rejected) == ([], 6)


async def test_doc_receiver_has_no_age_check_so_a_stale_callback_passes_it(
    doc_receiver: tuple[DocReceiver, RunningServer],
) -> None:
    receiver, server = doc_receiver
    (callback, *_) = generated_callbacks("form", "stale_timestamp")
    (outcome,) = await deliver([callback], server.url + path_for("form"))
    # stale_timestamp is validly signed; only a receiver that checks the age refuses it
    assert outcome.delivered and receiver.accepted == [callback.fields]


def test_php_sample_check_reproduces_zegos_worked_example() -> None:
    post = {"signature": "5bd59fd62953a8059fb7eaba95720f66d19e4517",
            "timestamp": "1470820198", "nonce": "123412"}  # fmt: skip
    assert php_sample_check_signature(post, "secret")
    assert not php_sample_check_signature({**post, "nonce": "123413"}, "secret")
