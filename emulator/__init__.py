"""zego-callback-emulator: plays ZEGO's servers on your machine.

The public API, re-exported from the modules that implement it. Names load on first use
(PEP 562) so that ``zego-emulator --help`` does not pay for aiohttp, pydantic or faker.

    from emulator import CallbackFactory, Dispatcher, Delivery, VirtualClock

    factory = CallbackFactory(seed=7)
    callback = factory.callback(factory.procedure(status="SUCCESS"), callback_secret="s")
    async with Dispatcher(clock=VirtualClock()) as dispatcher:
        outcome = await dispatcher.deliver(Delivery(callback, "http://127.0.0.1:8080/cb"))
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

# public name -> module that defines it
_EXPORTS: dict[str, str] = {
    "Attempt": "emulator.results",
    "Callback": "emulator.callback",
    "CallbackFactory": "emulator.factory",
    "DecodeError": "emulator.errors",
    "Delivery": "emulator.dispatch",
    "DispatchListener": "emulator.dispatch",
    "Dispatcher": "emulator.dispatch",
    "EmulatorError": "emulator.errors",
    "MockApi": "emulator.api",
    "Received": "emulator.receiver",
    "Receiver": "emulator.receiver",
    "RunOptions": "emulator.runner",
    "RunResult": "emulator.runner",
    "ZegoApiClient": "emulator.api_client",
    "Outcome": "emulator.results",
    "Recorder": "emulator.record",
    "RetryPolicy": "emulator.retry",
    "RunningServer": "emulator.servers",
    "ScaledClock": "emulator.retry",
    "Scenario": "emulator.scenario",
    "ScenarioError": "emulator.errors",
    "UsageError": "emulator.errors",
    "Verdict": "emulator.verify",
    "VirtualClock": "emulator.retry",
    "api_signature": "emulator.signing",
    "callback_signature": "emulator.signing",
    "decode": "emulator.wire",
    "encode": "emulator.wire",
    "execute": "emulator.runner",
    "load_scenario": "emulator.scenario",
    "read_record": "emulator.record",
    "start_server": "emulator.servers",
    "verify_api_signature": "emulator.signing",
    "verify_callback": "emulator.verify",
    "verify_callback_signature": "emulator.signing",
}

__all__ = [
    "Attempt",
    "Callback",
    "CallbackFactory",
    "DecodeError",
    "Delivery",
    "DispatchListener",
    "Dispatcher",
    "EmulatorError",
    "MockApi",
    "Outcome",
    "Received",
    "Receiver",
    "Recorder",
    "RetryPolicy",
    "RunOptions",
    "RunResult",
    "RunningServer",
    "ScaledClock",
    "Scenario",
    "ScenarioError",
    "UsageError",
    "Verdict",
    "VirtualClock",
    "ZegoApiClient",
    "__version__",
    "api_signature",
    "callback_signature",
    "decode",
    "encode",
    "execute",
    "load_scenario",
    "read_record",
    "start_server",
    "verify_api_signature",
    "verify_callback",
    "verify_callback_signature",
]

if TYPE_CHECKING:
    from emulator.api import MockApi
    from emulator.api_client import ZegoApiClient
    from emulator.callback import Callback
    from emulator.dispatch import Delivery, Dispatcher, DispatchListener
    from emulator.errors import DecodeError, EmulatorError, ScenarioError, UsageError
    from emulator.factory import CallbackFactory
    from emulator.receiver import Received, Receiver
    from emulator.record import Recorder, read_record
    from emulator.results import Attempt, Outcome
    from emulator.retry import RetryPolicy, ScaledClock, VirtualClock
    from emulator.runner import RunOptions, RunResult, execute
    from emulator.scenario import Scenario, load_scenario
    from emulator.servers import RunningServer, start_server
    from emulator.signing import (
        api_signature,
        callback_signature,
        verify_api_signature,
        verify_callback_signature,
    )
    from emulator.verify import Verdict, verify_callback
    from emulator.wire import decode, encode


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'emulator' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
