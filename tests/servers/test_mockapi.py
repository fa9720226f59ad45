"""The mock server API's front door: ZEGO's md5 signature, its return codes, and no 500s."""

from __future__ import annotations

import asyncio
import json
import re
import socket
import threading
from collections.abc import AsyncIterator, Iterator
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode, urlsplit

import aiohttp
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from emulator.clock import VirtualClock
from emulator.servers.api_client import ZegoApiClient
from emulator.servers.mockapi import MockApi, RateLimiter
from emulator.servers.start import RunningServer
from emulator.signing import api_signature, verify_api_signature

APP_ID = "12345"
SERVER_SECRET = "9193cc662a4c0ec135ec71fb57194b38"
NOW = 1_700_000_000.0


def test_zego_published_md5_example_verifies() -> None:
    expected = "43e5cfcca828314675f91b001390566a"
    assert api_signature(12345, "4fd24687296dd9f3", SERVER_SECRET, 1615186943) == expected
    assert verify_api_signature("12345", "4fd24687296dd9f3", SERVER_SECRET, "1615186943", expected)
    assert not verify_api_signature(
        "12345", "4fd24687296dd9f3", SERVER_SECRET, "1615186944", expected
    )


def test_client_signs_with_16_hex_nonce_current_timestamp_and_version_2() -> None:
    client = ZegoApiClient("http://127.0.0.1:1", APP_ID, SERVER_SECRET, now=lambda: NOW)
    params = client.signed_params("MergeMedia", Vendor="Tencent", InputFileId=["a", "b"])
    assert params["Action"] == "MergeMedia" and params["AppId"] == APP_ID
    assert re.fullmatch(r"[0-9a-f]{16}", str(params["SignatureNonce"]))
    assert params["Timestamp"] == "1700000000" and params["SignatureVersion"] == "2.0"
    assert params["Signature"] == api_signature(
        APP_ID, str(params["SignatureNonce"]), SERVER_SECRET, "1700000000"
    )
    assert params["InputFileId[]"] == ["a", "b"]
    pairs = parse_qsl(urlsplit(client.url("MergeMedia", InputFileId=["a", "b"])).query)
    assert [value for name, value in pairs if name == "InputFileId[]"] == ["a", "b"]
    assert SERVER_SECRET not in repr(client) and SERVER_SECRET not in client.url("X")


# --- a running mock, called over a real socket ------------------------------------------


class FakeMonotonic:
    """A hand-moved monotonic clock for the rate limiter (no timing in the tests)."""

    def __init__(self) -> None:
        self.value = 100.0

    def __call__(self) -> float:
        return self.value


@pytest.fixture
def monotonic() -> FakeMonotonic:
    return FakeMonotonic()


@pytest.fixture
async def api_server(monotonic: FakeMonotonic) -> AsyncIterator[RunningServer]:
    api = MockApi(
        app_id=APP_ID,
        server_secret=SERVER_SECRET,
        clock=VirtualClock(),
        now=lambda: NOW,
        monotonic=monotonic,
    )
    async with await api.start() as server:
        yield server


@pytest.fixture
async def client(api_server: RunningServer) -> AsyncIterator[ZegoApiClient]:
    async with ZegoApiClient(api_server.url, APP_ID, SERVER_SECRET, now=lambda: NOW) as client:
        yield client


async def get(server: RunningServer, query: str, method: str = "GET") -> tuple[int, Any]:
    """One raw request; ``(status, parsed JSON body or the text)``."""
    async with (
        aiohttp.ClientSession() as session,
        session.request(method, f"{server.url}/?{query}") as response,
    ):
        text = await response.text()
    try:
        return response.status, json.loads(text)
    except ValueError:
        return response.status, text


def signed(**overrides: str) -> dict[str, str]:
    """A validly signed DescribeMediaTask query, then ``overrides`` applied."""
    nonce, timestamp = "4fd24687296dd9f3", str(int(NOW))
    params = {
        "Action": "DescribeMediaTask",
        "AppId": APP_ID,
        "SignatureNonce": nonce,
        "Timestamp": timestamp,
        "Signature": api_signature(APP_ID, nonce, SERVER_SECRET, timestamp),
        "SignatureVersion": "2.0",
        "TaskId": "nope",
        "Vendor": "Tencent",
    }
    params.update(overrides)
    return {name: value for name, value in params.items() if value != "<drop>"}


async def test_a_valid_signature_is_accepted_and_the_envelope_is_zego_shaped(
    api_server: RunningServer,
) -> None:
    status, body = await get(api_server, urlencode(signed()))
    assert status == 200
    assert set(body) == {"Code", "Message", "RequestId", "Data"}
    assert body["Code"] == 1000  # authenticated; the task simply does not exist
    assert "nope" in body["Message"] and re.fullmatch(r"[0-9a-f]{16}", body["RequestId"])


def _resigned(
    app_id: str, nonce: str, timestamp: str, secret: str = SERVER_SECRET
) -> dict[str, str]:
    return signed(
        AppId=app_id,
        SignatureNonce=nonce,
        Timestamp=timestamp,
        Signature=api_signature(app_id, nonce, secret, timestamp),
    )


@pytest.mark.parametrize(
    ("query", "code"),
    [
        (signed(Signature="43e5cfcca828314675f91b001390566a"), 100000005),
        (_resigned(APP_ID, "abcd", str(int(NOW)), secret="wrong-secret"), 100000005),
        (signed(Signature="ZZ"), 100000005),
        (_resigned(APP_ID, "abcd", str(int(NOW) - 601)), 100000004),
        (_resigned(APP_ID, "abcd", str(int(NOW) + 601)), 100000004),
        (_resigned("54321", "abcd", str(int(NOW))), 7),
        (signed(SignatureVersion="1.0"), 2),
        (signed(SignatureVersion="<drop>"), 2),
        (signed(Signature="<drop>"), 2),
        (signed(Timestamp="<drop>"), 2),
        (signed(Timestamp="soon"), 2),
        (signed(AppId="abc"), 2),
        (signed(AppId="99999999999"), 2),
        (signed(SignatureNonce="<drop>"), 2),
        (signed(Action="<drop>"), 2),
        (signed(IsTest="maybe"), 2),
        (signed(Action="DeleteEverything"), 2),
    ],
)
async def test_refusals_carry_the_documented_codes(
    api_server: RunningServer, query: dict[str, str], code: int
) -> None:
    status, body = await get(api_server, urlencode(query))
    assert (status, body["Code"]) == (200, code), body["Message"]
    assert body["Data"] == {} and body["Message"]


async def test_timestamp_within_ten_minutes_is_accepted(api_server: RunningServer) -> None:
    for skew in (-600, 600):
        query = _resigned(APP_ID, "abcd", str(int(NOW) + skew))
        status, body = await get(api_server, urlencode(query))
        assert (status, body["Code"]) == (200, 1000), body["Message"]  # past authentication


async def test_more_than_20_calls_a_second_per_action_is_code_6(
    client: ZegoApiClient, monotonic: FakeMonotonic
) -> None:
    codes = [
        (await client.call("DescribeMediaTask", TaskId="t", Vendor="Tencent"))["Code"]
        for _ in range(21)
    ]
    assert codes == [1000] * 20 + [6]
    other = await client.call("TranscodeMedia", Vendor="Tencent", FileId="1", Resolution="360p")
    assert other["Code"] == 0  # the limit is per action
    monotonic.value += 0.5
    assert (await client.call("DescribeMediaTask", TaskId="t", Vendor="Tencent"))["Code"] == 6
    monotonic.value += 0.6  # the first 20 calls are now more than a second old
    assert (await client.call("DescribeMediaTask", TaskId="t", Vendor="Tencent"))["Code"] == 1000


def test_rate_limiter_is_a_sliding_window() -> None:
    now = FakeMonotonic()
    limiter = RateLimiter(limit=2, window=1.0, monotonic=now)
    assert [limiter.allow("a"), limiter.allow("a"), limiter.allow("a")] == [True, True, False]
    assert limiter.allow("b")
    now.value += 1.0
    assert limiter.allow("a")


@pytest.mark.parametrize(
    ("action", "params", "code"),
    [
        ("TranscodeMedia", {"Vendor": "Huawei", "FileId": "1", "Resolution": "360p"}, 4),
        ("TranscodeMedia", {"FileId": "1", "Resolution": "360p"}, 2),
        ("TranscodeMedia", {"Vendor": "Tencent", "Resolution": "360p"}, 2),
        ("TranscodeMedia", {"Vendor": "Tencent", "FileId": "1", "Resolution": "4k"}, 2),
        ("TranscodeMedia", {"Vendor": "Tencent", "FileId": "1"}, 2),
        ("TranscodeMedia", {"Vendor": "Tencent", "FileId": "../x", "Resolution": "360p"}, 1000),
        (
            "MergeMedia",
            {"Vendor": "Tencent", "InputFileId": ["1", "a b"], "OutputFileName": "o"},
            1000,
        ),
        ("DescribeMediaTask", {"TaskId": "x", "Vendor": "Huawei"}, 4),
        ("DescribeMediaTask", {"Vendor": "Tencent"}, 2),
        ("MergeMedia", {"Vendor": "Tencent", "OutputFileName": "out"}, 2),
        ("MergeMedia", {"Vendor": "Tencent", "InputFileId": ["1", "2"]}, 2),
        ("MergeMedia", {"Vendor": "Tencent", "InputFileId": ["1"], "OutputFileName": "a/b"}, 2),
        (
            "MergeMedia",
            {"Vendor": "Tencent", "InputFileId": ["1"], "OutputFileName": "o", "Format": "avi"},
            2,
        ),
        ("MergeMedia", {"Vendor": "Huawei", "InputFileId": ["1"], "OutputFileName": "o"}, 4),
    ],
)
async def test_bad_action_parameters_are_refused(
    client: ZegoApiClient, action: str, params: dict[str, Any], code: int
) -> None:
    body = await client.call(action, **params)
    assert body["Code"] == code, body["Message"]


async def test_transcode_media_returns_a_zego_shaped_task_id(client: ZegoApiClient) -> None:
    body = await client.call("TranscodeMedia", Vendor="Tencent", FileId="52858", Resolution="720p")
    assert body["Code"] == 0 and body["Message"] == "success"
    task_id = body["Data"]["Tencent"]["TaskId"]
    assert re.fullmatch(r"\d{10}-procedurev2-[0-9a-f]{32}tt0", task_id)
    assert body["Data"]["Tencent"]["RequestId"]


@pytest.mark.parametrize(
    "query",
    [
        urlencode(signed()) + "&Action=TranscodeMedia",  # repeated
        urlencode(signed()) + "&AppId=12345",
        urlencode(signed(TaskId="x" * 5000)),  # huge value
        urlencode(signed(Signature="a" * 20000)),  # beyond aiohttp's default line limit
        "%ff%fe=%00&Action=%zz",
        "Action",
        "&&&==&=",
        "",
    ],
)
async def test_garbage_queries_get_code_2_in_the_envelope(
    api_server: RunningServer, query: str
) -> None:
    status, body = await get(api_server, query)
    assert status == 200 and body["Code"] == 2, body


async def test_other_methods_and_paths_get_the_envelope_too(api_server: RunningServer) -> None:
    status, body = await get(api_server, urlencode(signed()), method="POST")
    assert (status, body["Code"]) == (405, 2) and "GET" in body["Message"]
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"{api_server.url}/v2/?{urlencode(signed())}") as response,
    ):
        assert response.status == 404
        assert (await response.json())["Code"] == 2


async def test_a_request_line_beyond_every_limit_is_refused_without_a_500(
    api_server: RunningServer,
) -> None:
    status, _ = await get(api_server, "Action=" + "x" * 100_000)
    assert 400 <= status < 500


# --- garbage from hypothesis, over raw sockets to a server in its own thread -----------


class ThreadedApi:
    """A MockApi serving from a background event loop, so sync hypothesis tests can hit it."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        api = MockApi(app_id=APP_ID, server_secret=SERVER_SECRET, clock=VirtualClock())
        self.server = asyncio.run_coroutine_threadsafe(api.start(), self.loop).result(30)

    def request(self, raw_query: bytes) -> tuple[int, bytes]:
        """Send ``GET /?<raw_query>`` as raw bytes; the status and body of the answer."""
        with socket.create_connection(("127.0.0.1", self.server.port), timeout=30) as sock:
            sock.sendall(
                b"GET /?" + raw_query + b" HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"
            )
            chunks = []
            while chunk := sock.recv(65536):
                chunks.append(chunk)
        head, _, body = b"".join(chunks).partition(b"\r\n\r\n")
        return int(head.split(b" ", 2)[1]), body

    def close(self) -> None:
        asyncio.run_coroutine_threadsafe(self.server.stop(), self.loop).result(30)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(30)
        self.loop.close()


@pytest.fixture(scope="module")
def threaded_api() -> Iterator[ThreadedApi]:
    api = ThreadedApi()
    try:
        yield api
    finally:
        api.close()


def _assert_envelope_or_client_error(status: int, body: bytes) -> None:
    assert status != 500 and status < 500, body
    if status == 200:
        envelope = json.loads(body)
        assert set(envelope) == {"Code", "Message", "RequestId", "Data"}
        assert isinstance(envelope["Code"], int) and envelope["Code"] != 0


NAMES = st.sampled_from(
    [
        "Action", "AppId", "SignatureNonce", "Timestamp", "Signature", "SignatureVersion",
        "IsTest", "TaskId", "Vendor", "FileId", "Resolution", "InputFileId[]", "OutputFileName",
    ]
)  # fmt: skip
VALUES = st.one_of(
    st.sampled_from(
        ["TranscodeMedia", "DescribeMediaTask", "MergeMedia", "Tencent", "2.0", "12345"]
    ),
    st.text(max_size=40),
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
    st.text(alphabet="0123456789abcdef", min_size=30, max_size=34),
)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(pairs=st.lists(st.tuples(st.one_of(NAMES, st.text(max_size=10)), VALUES), max_size=12))
def test_structured_garbage_never_produces_a_500(
    threaded_api: ThreadedApi, pairs: list[tuple[str, str]]
) -> None:
    query = urlencode(pairs).encode("ascii")
    _assert_envelope_or_client_error(*threaded_api.request(query))


RAW_BYTES = st.binary(max_size=300).map(
    lambda raw: raw.replace(b"\r", b"").replace(b"\n", b"").replace(b" ", b"")
)


@settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(raw=st.one_of(RAW_BYTES, RAW_BYTES.map(lambda raw: quote(raw, safe="=&%").encode())))
def test_raw_byte_garbage_never_produces_a_500(threaded_api: ThreadedApi, raw: bytes) -> None:
    _assert_envelope_or_client_error(*threaded_api.request(raw))
