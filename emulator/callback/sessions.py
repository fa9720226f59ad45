"""Session events (:mod:`emulator.sessions`) as callbacks: the event's generator fills the
fields the session does not decide (play URLs, ``stream_attr``, ...), the session's ids,
counters, times and codes win, and ``timestamp`` is the second the change happened in."""

from __future__ import annotations

from emulator.callback.factory import CallbackFactory
from emulator.callback.model import Callback
from emulator.events.base import CallbackModel
from emulator.sessions.world import SessionEvent
from emulator.wire import Encoding


def session_model(factory: CallbackFactory, event: SessionEvent) -> CallbackModel:
    """The typed callback of one session event (signed later, by :func:`session_callback`)."""
    return factory.build(event.event, dict(event.fields), timestamp=event.timestamp)


def session_callback(
    factory: CallbackFactory,
    event: SessionEvent,
    callback_secret: str,
    encoding: Encoding,
    model: CallbackModel | None = None,
) -> Callback:
    """One session event signed and shaped for the wire (``model``: one already built)."""
    return factory.callback(model or session_model(factory, event), callback_secret, encoding)
