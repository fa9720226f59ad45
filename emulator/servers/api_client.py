"""The reference request signer: what a backend does to call ZEGO's server API (spec §5).

    client = ZegoApiClient("https://rtc-api.zego.im", app_id=1234567890, server_secret="...")
    params = client.signed_params("TranscodeMedia", Vendor="Tencent", FileId="5285...")
    async with client:
        answer = await client.call("DescribeMediaTask", TaskId="...", Vendor="Tencent")

``signed_params`` adds ZEGO's common parameters: ``AppId``, ``SignatureNonce`` (16 random
hex characters), ``Timestamp`` (Unix seconds, now), ``SignatureVersion=2.0`` and
``Signature = md5_hex(AppId + SignatureNonce + ServerSecret + Timestamp)``. A list value
becomes ZEGO's array form: ``InputFileId=["a", "b"]`` is sent as
``InputFileId[]=a&InputFileId[]=b``. Point ``base_url`` at ``zego-emulator api`` in tests
and at ``https://rtc-api.zego.im`` in production; nothing else changes.
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Callable, Mapping, Sequence
from types import TracebackType
from typing import Any
from urllib.parse import urlencode

import aiohttp

from emulator.errors import EmulatorError
from emulator.signing import api_signature

ParamValue = str | int | float | bool | Sequence[str | int]


def _text(value: str | int | float | bool) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


class ZegoApiClient:
    """Signs and sends server-API calls (see the module docstring)."""

    def __init__(
        self,
        base_url: str,
        app_id: str | int,
        server_secret: str,
        *,
        timeout: float = 10.0,
        session: aiohttp.ClientSession | None = None,
        now: Callable[[], float] = time.time,
    ) -> None:
        self.base_url = base_url.rstrip("/") + "/"
        self.app_id = str(app_id)
        self._server_secret = server_secret
        self.timeout = timeout
        self.now = now
        self._session = session
        self._owns_session = session is None

    def __repr__(self) -> str:  # never show the secret
        return f"ZegoApiClient({self.base_url!r}, app_id={self.app_id!r})"

    def signed_params(self, action: str, **params: ParamValue) -> dict[str, str | list[str]]:
        """``Action``, the common parameters (signed now) and ``params``, ready for a query."""
        nonce = secrets.token_hex(8)
        timestamp = str(int(self.now()))
        signed: dict[str, str | list[str]] = {
            "Action": action,
            "AppId": self.app_id,
            "SignatureNonce": nonce,
            "Timestamp": timestamp,
            "Signature": api_signature(self.app_id, nonce, self._server_secret, timestamp),
            "SignatureVersion": "2.0",
        }
        for name, value in params.items():
            if isinstance(value, str | int | float | bool):
                signed[name] = _text(value)
            else:
                signed[f"{name}[]"] = [_text(item) for item in value]
        return signed

    def query_pairs(self, action: str, **params: ParamValue) -> list[tuple[str, str]]:
        """The signed parameters as ``(name, value)`` pairs, arrays repeated."""
        pairs: list[tuple[str, str]] = []
        for name, value in self.signed_params(action, **params).items():
            values = value if isinstance(value, list) else [value]
            pairs.extend((name, item) for item in values)
        return pairs

    def url(self, action: str, **params: ParamValue) -> str:
        """The full signed request URL (e.g. for ``curl``); valid for 10 minutes."""
        return f"{self.base_url}?{urlencode(self.query_pairs(action, **params))}"

    async def call(
        self, action: str, body: Mapping[str, Any] | None = None, **params: ParamValue
    ) -> dict[str, Any]:
        """GET the signed call (POST ``body`` as JSON when given, as StartMix & co. take
        it) and return ZEGO's envelope ``{Code, Message, RequestId, Data}``."""
        session = self._open()
        pairs = self.query_pairs(action, **params)
        try:
            async with session.request(
                "GET" if body is None else "POST",
                self.base_url,
                params=pairs,
                json=body,
                timeout=aiohttp.ClientTimeout(total=self.timeout),
            ) as response:
                text = await response.text(errors="replace")
                status = response.status
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise EmulatorError(f"{action}: cannot reach {self.base_url}: {exc!r}") from exc
        try:
            body = json.loads(text)
        except ValueError:
            body = None
        if not isinstance(body, dict) or "Code" not in body:
            raise EmulatorError(
                f"{action}: {self.base_url} answered HTTP {status} without a ZEGO envelope: "
                f"{text[:200]!r}"
            )
        return body

    def _open(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._session = aiohttp.ClientSession()
            self._owns_session = True
        return self._session

    async def close(self) -> None:
        """Close the session this client opened (a session passed in is left open)."""
        if self._session is not None and self._owns_session:
            await self._session.close()
            self._session = None

    async def __aenter__(self) -> ZegoApiClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()


__all__ = ["ZegoApiClient"]
