"""``zego-emulator receive``: the receiver served until Ctrl-C, each callback printed.

The receiver itself (:class:`~emulator.servers.receiver.Receiver`) judges and answers; this
module says where it listens (first, flushed) and shows every request as it arrives.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from pathlib import Path

from emulator.events.base import printable
from emulator.run.interrupt import stop_on_signals
from emulator.servers.receiver import (
    DEFAULT_MAX_AGE,
    DEFAULT_PATH,
    Received,
    Receiver,
    answer_content,
    received_json,
)
from emulator.servers.start import DEFAULT_HOST
from emulator.term.display import callback_lines
from emulator.term.safe import json_safe, json_text, say


def answer_text(item: Received) -> str:
    """One line saying how a request was answered (and why, when it was refused)."""
    if item.answer == "hung":
        return "-> no answer (--hang: the connection stays open until the sender gives up)"
    if item.answer == "reset":
        return "-> connection reset (--reset)"
    if item.rejection is not None:
        return f"-> {item.status} rejected: {item.problem}"
    if item.duplicate:
        return f"-> {item.status} duplicate of an accepted callback (acknowledged, not processed)"
    return f"-> {item.status} {'accepted' if item.accepted else 'scripted failure'}"


def received_lines(item: Received) -> list[str]:
    """The readable block ``receive`` prints for one request."""
    stamp = time.strftime("%H:%M:%S", time.localtime(item.time))
    head = f"[{stamp}] POST {printable(item.path)}"
    if item.verdict is None:
        return [head, f"  {answer_text(item)}"]
    return [head, *callback_lines(item.fields, item.verdict), f"  {answer_text(item)}"]


async def serve_until_interrupted(receiver: Receiver, host: str, port: int, as_json: bool) -> None:
    """Start ``receiver``, print where it listens (first, flushed), then serve until Ctrl-C
    or SIGTERM (then stop cleanly: connections closed, the record flushed and closed)."""
    stop = asyncio.Event()
    with stop_on_signals(stop):  # before the URL is printed: a signal from then on is seen
        receiver.on_record_error = lambda exc: stop.set()  # a full disk stops it
        await receiver.start(host, port)
        try:
            if as_json:
                say(json_text({"type": "listening", "url": receiver.url}))
            else:
                say(f"listening on {receiver.url}  (Ctrl-C to stop)")
            await stop.wait()
        finally:
            await receiver.stop()
    receiver.check_record()  # one line and exit 2 when --record could not be written


def run_receiver(
    callback_secret: str,
    *,
    host: str = DEFAULT_HOST,
    port: int = 8080,
    path: str = DEFAULT_PATH,
    max_age: float | None = DEFAULT_MAX_AGE,
    responses: Sequence[int] = (200,),
    per_task: bool = False,
    delay: float = 0.0,
    hang: bool = False,
    reset: bool = False,
    record: str | Path | None = None,
    as_json: bool = False,
    replay_status: int | None = 200,
    answer: str | None = None,
) -> None:
    """The ``receive`` command: serve until Ctrl-C, printing every callback as it arrives.

    ``answer`` is the body of every 2xx (JSON object text is sent as JSON: a hook's answer).
    ``per_task``: ``responses`` is each task id's own script from its start
    (``--respond-per-task``), not one script shared by every callback (``--respond``).
    """

    def show(item: Received) -> None:
        if as_json:
            say(json_safe(received_json(item)))
        else:
            say("\n".join(received_lines(item)))  # each line escaped: it is all from the network

    receiver = Receiver(
        callback_secret,
        responses=responses,
        delay=delay,
        hang=hang,
        reset=reset,
        max_age=max_age,
        path=path,
        record=record,
        on_received=show,
        replay_status=replay_status,
    )
    if answer is not None:
        receiver.answer_with(answer_content(answer))
    if per_task:
        receiver.respond_per_task(*responses)
    asyncio.run(serve_until_interrupted(receiver, host, port, as_json))
