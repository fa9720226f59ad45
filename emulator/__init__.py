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

from emulator._version import __version__

# public name -> module that defines it
_EXPORTS: dict[str, str] = {
    "Attempt": "emulator.delivery.results",
    "Callback": "emulator.callback.model",
    "CallbackFactory": "emulator.callback.factory",
    "DecodeError": "emulator.errors",
    "Delivery": "emulator.delivery.dispatch",
    "DispatchListener": "emulator.delivery.dispatch",
    "Dispatcher": "emulator.delivery.dispatch",
    "EmulatorError": "emulator.errors",
    "MockApi": "emulator.servers.mockapi",
    "Received": "emulator.servers.receiver",
    "Receiver": "emulator.servers.receiver",
    "RunOptions": "emulator.settings",
    "RunResult": "emulator.run.runner",
    "ZegoApiClient": "emulator.servers.api_client",
    "Outcome": "emulator.delivery.results",
    "Recorder": "emulator.record.writer",
    "RetryPolicy": "emulator.retry",
    "RunningServer": "emulator.servers.start",
    "ScaledClock": "emulator.clock",
    "Scenario": "emulator.scenario.model",
    "ScenarioError": "emulator.errors",
    "UsageError": "emulator.errors",
    "Verdict": "emulator.verify",
    "VirtualClock": "emulator.clock",
    "api_signature": "emulator.signing",
    "callback_signature": "emulator.signing",
    "decode": "emulator.wire",
    "encode": "emulator.wire",
    "execute": "emulator.run.runner",
    "load_scenario": "emulator.scenario.reader",
    "read_record": "emulator.record.reader",
    "start_server": "emulator.servers.start",
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
    from emulator.callback.factory import CallbackFactory
    from emulator.callback.model import Callback
    from emulator.clock import ScaledClock, VirtualClock
    from emulator.delivery.dispatch import Delivery, Dispatcher, DispatchListener
    from emulator.delivery.results import Attempt, Outcome
    from emulator.errors import DecodeError, EmulatorError, ScenarioError, UsageError
    from emulator.record.reader import read_record
    from emulator.record.writer import Recorder
    from emulator.retry import RetryPolicy
    from emulator.run.runner import RunResult, execute
    from emulator.scenario.model import Scenario
    from emulator.scenario.reader import load_scenario
    from emulator.servers.api_client import ZegoApiClient
    from emulator.servers.mockapi import MockApi
    from emulator.servers.receiver import Received, Receiver
    from emulator.servers.start import RunningServer, start_server
    from emulator.settings import RunOptions
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
