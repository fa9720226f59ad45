"""Shared test fixtures: the scripted receiver many tests deliver to.

    async def test_x(scripted_receiver: ReceiverFactory) -> None:
        receiver = await scripted_receiver(statuses=(500, 200), per_task=True)
        ... deliver to receiver.url ...
        assert receiver.count("task-1") == 2

The receiver itself is :class:`scripted.ScriptedReceiver`. This directory is on
``sys.path`` (pytest's rootdir conftest), so helper modules (``scripted``, ``raw_server``)
import by name from any test directory.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable
from typing import Any, Protocol

import pytest
from scripted import CALLBACK_PATH, ScriptedReceiver


class ReceiverFactory(Protocol):
    """The ``scripted_receiver`` fixture: start a receiver with these settings."""

    def __call__(self, **settings: Any) -> Awaitable[ScriptedReceiver]: ...


@pytest.fixture
async def scripted_receiver() -> AsyncIterator[ReceiverFactory]:
    """Start scripted receivers (keyword arguments of :class:`ScriptedReceiver`); all stop
    when the test ends."""
    started: list[ScriptedReceiver] = []

    async def make(**settings: Any) -> ScriptedReceiver:
        path = settings.pop("path", CALLBACK_PATH)
        receiver = await ScriptedReceiver(**settings).start(path)
        started.append(receiver)
        return receiver

    yield make
    for receiver in started:
        await receiver.stop()
