"""The ground truth: the rooms, users and streams the session callbacks describe at the end.

    {"rooms": [{"room_id": "rid_1242649", "room_session_id": 858012925204410400,
                "users": [{"user_account": "888120154", "session_id": 792148503087288320}],
                "streams": [{"stream_id": "...", "stream_sid": "s-...", "stream_seq": 3}]}]}

What a receiver that keeps ZEGO's three lists correctly holds once every callback arrived,
whatever order they arrived in. Rooms the callbacks closed are not listed; a room CloseRoom
cleared without ``RoomCloseCallback`` is, with no users and no streams — its room_close
was never sent, so no callback says it closed. Ids the docs tell receivers to
read as integers (``room_session_id``, ``session_id``, ``stream_seq``) are JSON numbers,
written exactly (``room_session_id`` is above 2^53); account, stream and room ids are text.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from emulator.errors import UsageError
from emulator.sessions.world import RoomWorld

Truth = dict[str, list[dict[str, Any]]]


def truth(world: RoomWorld) -> Truth:
    """The open rooms of ``world``: each with its users and the streams they publish."""
    rooms: list[dict[str, Any]] = []
    for room in world.rooms.values():
        life = room.life or room.unannounced
        if life is None:
            continue
        rooms.append(
            {
                "room_id": room.room_id,
                "room_session_id": life.room_session_id,
                "users": [
                    {"user_account": user.account, "session_id": int(user.session_id)}
                    for user in life.users.values()
                ],
                "streams": [
                    {
                        "stream_id": stream.stream_id,
                        "stream_sid": stream.stream_sid,
                        "stream_seq": stream.stream_seq,
                    }
                    for stream in life.streams.values()
                ],
            }
        )
    return {"rooms": rooms}


def truth_json(value: Truth) -> str:
    """The truth as the text ``run --truth PATH`` writes (indented, one trailing newline)."""
    return json.dumps(value, indent=2, ensure_ascii=False) + "\n"


def check_truth_path(path: str | Path) -> None:
    """UsageError unless ``path`` can be written (checked before a run starts)."""
    target = Path(path)
    if target.is_dir():
        raise UsageError(f"--truth {path}: is a directory; expected a file path")
    if not target.parent.is_dir():
        raise UsageError(f"--truth {path}: no directory {str(target.parent)!r}")


def write_truth(path: str | Path, value: Truth) -> None:
    """Write the truth to ``path`` (replacing it), via a temporary file beside it."""
    target = Path(path)
    temporary = target.with_name(f".{target.name}.tmp")
    try:
        temporary.write_text(truth_json(value), encoding="utf-8")
        temporary.replace(target)
    except OSError as exc:
        reason = (exc.strerror or str(exc)).lower()
        raise UsageError(f"--truth {path}: cannot write it: {reason}") from None
