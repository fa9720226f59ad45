"""What every mock server-API action shares: return codes, the refusal, parameter readers,
the per-action rate limiter.

Query parameters (GET actions, and the common parameters of POST ones) are read with
:func:`param`/:func:`required`; a POST action's JSON body with :func:`body_text`,
:func:`body_int` and :func:`body_list`. Each problem is an :class:`ApiRefusal` with the
code ZEGO answers it with.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Mapping
from typing import Any

from multidict import MultiDictProxy

# return codes (spec §5; the room and stream-mixing pages for their own)
OK = 0
BAD_PARAMETERS = 2
VENDOR_MISMATCH = 4
TOO_FREQUENT = 6
AUTH_FAILED = 7
REQUEST_FAILED = 1000
SIGNATURE_EXPIRED = 100000004
SIGNATURE_WRONG = 100000005

RATE_LIMIT = 20  # calls per second of an Action whose page states no other limit
MAX_VALUE_LENGTH = 1024  # characters of one query value we accept
UINT32_MAX = 4_294_967_295

Query = MultiDictProxy[str]
Body = Mapping[str, Any]


class ApiRefusal(Exception):
    """A request the API answers with a non-zero ``Code`` (raised inside the handler only)."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class RateLimiter:
    """At most ``limit`` calls per ``window`` seconds for each key (a sliding window)."""

    def __init__(
        self,
        limit: int = RATE_LIMIT,
        window: float = 1.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.limit = limit
        self.window = window
        self.monotonic = monotonic
        self._calls: dict[str, deque[float]] = {}

    def allow(self, key: str, limit: int | None = None) -> bool:
        """True (and the call counted) when ``key`` is under its limit (``limit``, else the
        limiter's) right now."""
        now = self.monotonic()
        calls = self._calls.setdefault(key, deque())
        while calls and calls[0] <= now - self.window:
            calls.popleft()
        if len(calls) >= (self.limit if limit is None else limit):
            return False
        calls.append(now)
        return True


def quoted(value: str, limit: int = 64) -> str:
    """``repr(value)``, cut at ``limit`` characters (messages quote what a client sent)."""
    return repr(value if len(value) <= limit else value[:limit] + "...")


def param(query: Query, name: str, required: bool = True) -> str | None:
    """The one value of ``name``; code 2 when missing (if required), repeated or too long."""
    values = query.getall(name, [])
    if len(values) > 1:
        raise ApiRefusal(BAD_PARAMETERS, f"parameter {name} is given {len(values)} times")
    if not values or values[0] == "":
        if required:
            raise ApiRefusal(BAD_PARAMETERS, f"missing parameter {name}")
        return None
    return _bounded(name, values[0])


def required(query: Query, name: str) -> str:
    """The one value of a required parameter (code 2 when missing)."""
    value = param(query, name)
    assert value is not None
    return value


def values(query: Query, name: str, most: int) -> list[str]:
    """Every value of a repeatable parameter (``UserId=a&UserId=b``, also ``UserId[]=``);
    code 2 when there is none, one is empty or too long, or there are more than ``most``."""
    given = [*query.getall(name, []), *query.getall(f"{name}[]", [])]
    if not given or any(value == "" for value in given):
        raise ApiRefusal(BAD_PARAMETERS, f"missing parameter {name}")
    if len(given) > most:
        raise ApiRefusal(BAD_PARAMETERS, f"parameter {name} takes at most {most} values")
    return [_bounded(name, value) for value in given]


def flag(query: Query, name: str, default: bool = False) -> bool:
    """A boolean parameter (``true``/``false``, any case); code 2 otherwise."""
    value = param(query, name, required=False)
    if value is None:
        return default
    if value.lower() not in ("true", "false"):
        raise ApiRefusal(BAD_PARAMETERS, f"{name} must be true or false, not {quoted(value)}")
    return value.lower() == "true"


def is_uint32(text: str) -> bool:
    """Whether ``text`` is a decimal uint32 above 0 (an AppId)."""
    return text.isascii() and text.isdigit() and 0 < int(text) <= UINT32_MAX


def body_text(body: Body, name: str, code: int, required: bool = True) -> str | None:
    """A text member of a JSON body; ``code`` when missing (if required) or not text."""
    value = body.get(name)
    if value is None or value == "":
        if required:
            raise ApiRefusal(code, f"missing parameter {name}")
        return None
    if not isinstance(value, str):
        raise ApiRefusal(code, f"parameter {name} must be a string")
    return _bounded(name, value, code)


def body_int(body: Body, name: str, code: int, default: int | None = None) -> int | None:
    """An integer member of a JSON body (``default`` when absent); ``code`` when not one."""
    value = body.get(name)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int):
        raise ApiRefusal(code, f"parameter {name} must be an integer")
    return value


def body_list(body: Body, name: str, code: int, most: int) -> list[Mapping[str, Any]]:
    """A non-empty array of objects in a JSON body, at most ``most`` long; ``code`` otherwise."""
    value = body.get(name)
    if not isinstance(value, list) or not value:
        raise ApiRefusal(code, f"parameter {name} must be a non-empty array")
    if len(value) > most:
        raise ApiRefusal(code, f"parameter {name} takes at most {most} items")
    if not all(isinstance(item, dict) for item in value):
        raise ApiRefusal(code, f"every item of {name} must be an object")
    return value


def _bounded(name: str, value: str, code: int = BAD_PARAMETERS) -> str:
    if len(value) > MAX_VALUE_LENGTH:
        raise ApiRefusal(
            code, f"parameter {name} is {len(value)} characters long; at most {MAX_VALUE_LENGTH}"
        )
    return value
