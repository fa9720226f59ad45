"""``zego.session(...)``: room/user/stream lifecycles for a test, and the truth they describe.

    async def test_my_stream_list_survives_zegos_reordering(zego):
        session = zego.session(users=1, streams_per_user=1, republish=1,
                               order="zego-documented")
        await session.deliver(to=my_app)
        assert my_stream_ids() == {s["stream_id"] for s in session.streams}

The keys are a scenario's ``sessions:`` entry (or several entries, as mappings); the
callbacks are signed with the ``zego`` fixture's secret and delivered one after another
(``SESSION_GAP`` emulated seconds apart, each on ZEGO's retry schedule), so a refused one
is retried after the callbacks behind it — as ZEGO's retries reorder them too.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from emulator.sessions import Order, SessionEntry, SessionEvent, Truth, in_order, plan_sessions
from emulator.sessions import truth as truth_of
from emulator.wire import Encoding

if TYPE_CHECKING:
    from emulator.callback.model import Callback
    from emulator.delivery.results import Outcome
    from emulator.testing.plugin import Zego

SESSION_GAP = 0.1  # emulated seconds between two session callbacks' first requests


class ZegoSession:
    """Planned sessions: their callbacks in delivery order and the final state (``truth``)."""

    def __init__(
        self,
        zego: Zego,
        entries: Iterable[SessionEntry | Mapping[str, Any]],
        order: Order = "as_listed",
        encoding: Encoding = "json",
    ) -> None:
        from emulator.callback.sessions import session_callback

        self.zego = zego
        parsed = [
            entry if isinstance(entry, SessionEntry) else SessionEntry.model_validate(entry)
            for entry in entries
        ]
        clock = zego.clock
        start_ms = int(clock.epoch(clock.now()) * 1000)
        planned = plan_sessions(parsed, zego.factory.fake.random.getrandbits(64), start_ms)
        self.truth: Truth = truth_of(planned.world)
        signed = {
            id(event): session_callback(zego.factory, event, zego.secret, encoding)
            for event in planned.events
        }
        self.events: list[SessionEvent] = in_order(planned.events, order, zego.factory.fake.seed)
        self.callbacks: list[Callback] = [signed[id(event)] for event in self.events]
        self.outcomes: list[Outcome] = []

    @property
    def rooms(self) -> list[dict[str, Any]]:
        """The truth's open rooms."""
        return self.truth["rooms"]

    @property
    def users(self) -> list[dict[str, Any]]:
        """Every user of the truth's rooms (``user_account``, ``session_id``)."""
        return [user for room in self.rooms for user in room["users"]]

    @property
    def streams(self) -> list[dict[str, Any]]:
        """Every stream of the truth's rooms (``stream_id``, ``stream_sid``, ``stream_seq``)."""
        return [stream for room in self.rooms for stream in room["streams"]]

    async def deliver(
        self,
        *,
        to: object,
        path: str | None = None,
        intervals: Iterable[float] | None = None,
        timeout: float | None = None,
    ) -> list[Outcome]:
        """Deliver every callback to ``to`` (URL, Receiver or app) in order, each on ZEGO's
        retry schedule; the outcomes, in delivery order."""
        from emulator.delivery.dispatch import Delivery
        from emulator.retry import profile_policy

        zego = self.zego
        target = await (zego.target_url(to) if path is None else zego.target_url(to, path))
        policy = profile_policy(
            "rtc",
            intervals=None if intervals is None else tuple(intervals),
            timeout=zego.timeout if timeout is None else timeout,
        )
        deliveries = [
            Delivery(callback, target, index * SESSION_GAP)
            for index, callback in enumerate(self.callbacks)
        ]
        outcomes = await zego.deliver_planned(deliveries, policy)
        self.outcomes.extend(outcomes)
        return outcomes
