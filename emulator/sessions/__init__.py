"""Room, user and stream lifecycles (the scenario key ``sessions:``), pure and seeded.

* :mod:`~emulator.sessions.world` — rooms as ZEGO's servers keep them; every change
  (login, publish, CloseRoom, KickoutUser, ...) makes its callbacks with consistent ids,
  counters, times and close codes. The mock API runs its room actions on one too.
* :mod:`~emulator.sessions.plan` — ``sessions:`` entries played on a world.
* :mod:`~emulator.sessions.order` — delivery orders, ZEGO's documented reorderings among them.
* :mod:`~emulator.sessions.truth` — the final state the callbacks describe (``--truth``).

Nothing here does I/O (except :func:`write_truth`) or knows about signing or HTTP: the
scenario and run layers turn :class:`SessionEvent` values into callbacks.
"""

from __future__ import annotations

from emulator.sessions.order import ORDERS, Order, in_order, zego_documented
from emulator.sessions.plan import End, SessionEntry, SessionPlan, plan_sessions, play_entry
from emulator.sessions.truth import Truth, truth, truth_json, write_truth
from emulator.sessions.world import (
    LEAVE_CODES,
    Leave,
    RoomWorld,
    SessionEvent,
    SessionStateError,
)

__all__ = [
    "LEAVE_CODES",
    "ORDERS",
    "End",
    "Leave",
    "Order",
    "RoomWorld",
    "SessionEntry",
    "SessionEvent",
    "SessionPlan",
    "SessionStateError",
    "Truth",
    "in_order",
    "plan_sessions",
    "play_entry",
    "truth",
    "truth_json",
    "write_truth",
    "zego_documented",
]
