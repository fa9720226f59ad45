"""The mock API's room actions — CloseRoom, KickoutUser, DeleteStream — on the sessions it runs.

Each action changes the :class:`~emulator.sessions.world.RoomWorld` the mock holds and
answers the callbacks the change makes, in the order they happen (digest §9, §10):

* ``CloseRoom`` (``RoomId``, ``CustomReason``, ``RoomCloseCallback`` default false):
  stream_close for every stream, room_logout for every user, room_close only when
  ``RoomCloseCallback=true``; a room that does not exist (or is closed) is code 5018.
* ``KickoutUser`` (``RoomId``, ``UserId`` 1–5 times, ``CustomReason``): each user's streams
  close (type 3) and it logs out (reason 3); when the last user goes, room_close with
  close_reason 3. More than 5 users is code 50011; a user not in the room changes nothing.
* ``DeleteStream`` (``RoomId``, ``UserId``, ``UserName``, ``StreamId``): stream_close type
  100, the user stays; a stream that is not there (or not that user's) is code 138.

Rate limits are the pages' (per AppID): CloseRoom 1/s, KickoutUser 50/s, DeleteStream 10/s.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from emulator.servers.api_params import ApiRefusal, Query, flag, param, quoted, required, values
from emulator.sessions.world import RoomWorld, SessionEvent, SessionStateError

ROOM_NOT_FOUND = 5018  # CloseRoom: "Room has been destroyed or does not exist."
USER_LIST_TOO_LONG = 50011  # KickoutUser: "User list length is too long."
STREAM_NOT_FOUND = 138  # DeleteStream: "Stream information does not exist."
CUSTOM_REASON_BYTES = 256
KICKOUT_MOST_USERS = 5

ROOM_RATE_LIMITS = {"CloseRoom": 1, "KickoutUser": 50, "DeleteStream": 10}

RoomAction = Callable[[Query], tuple[dict[str, Any], list[SessionEvent]]]


class RoomActions:
    """CloseRoom, KickoutUser and DeleteStream on ``world``; ``now_ms()`` is the API's clock."""

    def __init__(self, world: RoomWorld, now_ms: Callable[[], int]) -> None:
        self.world = world
        self.now_ms = now_ms

    def actions(self) -> dict[str, RoomAction]:
        """Each action's name and handler: query -> (``Data``, the callbacks it makes)."""
        return {
            "CloseRoom": self.close_room,
            "KickoutUser": self.kickout_user,
            "DeleteStream": self.delete_stream,
        }

    def _start(self) -> int:
        """Bring the world's clock up to now; the index its new events start at."""
        self.world.now_ms = max(self.world.now_ms, self.now_ms())
        return len(self.world.events)

    def close_room(self, query: Query) -> tuple[dict[str, Any], list[SessionEvent]]:
        """CloseRoom: everyone out, every stream closed; room_close only when asked."""
        room_id = required(query, "RoomId")
        _custom_reason(query)
        with_callback = flag(query, "RoomCloseCallback")
        first = self._start()
        try:
            self.world.close_room(room_id, with_callback)
        except SessionStateError:
            raise ApiRefusal(
                ROOM_NOT_FOUND,
                f"room {quoted(room_id)} has been destroyed or does not exist",
            ) from None
        return {}, self.world.events[first:]

    def kickout_user(self, query: Query) -> tuple[dict[str, Any], list[SessionEvent]]:
        """KickoutUser: up to 5 users out (codes 3); room_close (3) after the last one."""
        room_id = required(query, "RoomId")
        accounts = values(query, "UserId", most=100)
        if len(accounts) > KICKOUT_MOST_USERS:
            raise ApiRefusal(
                USER_LIST_TOO_LONG,
                f"user list too long: {len(accounts)} UserId values, at most {KICKOUT_MOST_USERS}",
            )
        _custom_reason(query)
        first = self._start()
        room = self.world.rooms.get(room_id)
        present = room.life.users if room is not None and room.life is not None else {}
        self.world.kickout(room_id, [a for a in dict.fromkeys(accounts) if a in present])
        return {}, self.world.events[first:]

    def delete_stream(self, query: Query) -> tuple[dict[str, Any], list[SessionEvent]]:
        """DeleteStream: stream_close type 100; the publisher stays in the room."""
        room_id = required(query, "RoomId")
        account = required(query, "UserId")
        param(query, "UserName", required=False)
        stream_id = required(query, "StreamId")
        room = self.world.rooms.get(room_id)
        stream = room.life.streams.get(stream_id) if room and room.life else None
        if stream is None or stream.account != account:
            raise ApiRefusal(
                STREAM_NOT_FOUND,
                f"stream information does not exist: no stream {quoted(stream_id)} of user "
                f"{quoted(account)} in room {quoted(room_id)}",
            )
        first = self._start()
        self.world.delete_stream(room_id, stream_id)
        return {}, self.world.events[first:]


def _custom_reason(query: Query) -> None:
    reason = param(query, "CustomReason", required=False)
    if reason is not None and len(reason.encode()) > CUSTOM_REASON_BYTES:
        raise ApiRefusal(2, f"CustomReason is longer than {CUSTOM_REASON_BYTES} bytes")
