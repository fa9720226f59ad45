"""The answer contract of ZIM's synchronous ``before_send_msg`` hook (§11.8), read strictly.

    decision = read_hook_answer(200, None, b'{"result": 3, "reason": "spam"}')
    decision.meaning, decision.message   # "refuse", "not_sent"

ZIM waits for the receiver's answer: a JSON object whose ``result`` (Int) decides the
message — ``0`` neutral (ZIM's own handling: sent, subject to its moderation), ``1`` send,
``2`` silent (the sender sees it sent, nobody receives it), ``3`` do not send (the sender's
client gets error 111101) — with an optional ``reason`` (String, for 3) and optional
``new_msg_body`` / ``new_payload`` (String) replacing the message's body / payload. Any
other ``result`` value "is treated as neutral" (the page's words): we record it so.

What is not that JSON — not JSON, not an object, no ``result``, a ``result`` that is not
an integer, a non-string ``reason``/``new_*`` — is ``invalid``: a named failure of the run.
A non-2xx answer or none within the deadline is the business side failing; ZIM then does
not send the message by default (support can change that), and we record ``not_sent``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

Answer = Literal["decision", "invalid", "error_status", "no_answer"]
Meaning = Literal["neutral", "send", "silent", "refuse"]
Message = Literal["sent", "silent", "not_sent"]
RESULTS: dict[int, Meaning] = {0: "neutral", 1: "send", 2: "silent", 3: "refuse"}
MESSAGE_BY_MEANING: dict[Meaning, Message] = {
    "neutral": "sent",
    "send": "sent",
    "silent": "silent",
    "refuse": "not_sent",
}
TEXT_FIELDS = ("reason", "new_msg_body", "new_payload")
SHOWN = 80  # characters of a garbage answer quoted in the problem


@dataclass(frozen=True)
class HookDecision:
    """What one answer to the hook decided (or why it decided nothing)."""

    answer: Answer
    message: Message  # what ZIM does with the message
    result: int | None = None  # the answer's result, as sent
    meaning: Meaning | None = None  # how ZIM reads it (an undocumented value: neutral)
    reason: str | None = None
    new_msg_body: str | None = None
    new_payload: str | None = None
    problem: str | None = None  # invalid: why the answer is not the documented JSON
    note: str | None = None  # e.g. an undocumented result read as neutral

    @property
    def invalid(self) -> bool:
        return self.answer == "invalid"

    def to_record(self) -> dict[str, Any]:
        """The attempt line's ``decision`` object (every key, null where it does not apply)."""
        return {
            "answer": self.answer,
            "result": self.result,
            "meaning": self.meaning,
            "message": self.message,
            "reason": self.reason,
            "new_msg_body": self.new_msg_body,
            "new_payload": self.new_payload,
            "problem": self.problem,
            "note": self.note,
        }

    def summary(self) -> str:
        """One line: ``result 3 (refuse): not sent, reason 'spam'``."""
        return decision_summary(self.to_record())


def decision_summary(decision: Mapping[str, Any]) -> str:
    """One line for a recorded decision: ``result 3 (refuse): not sent, reason 'spam'``."""
    answer = decision.get("answer")
    if answer == "invalid":
        return f"invalid answer ({decision.get('problem')}): not sent"
    if answer == "error_status":
        return "the hook failed (a non-2xx answer): not sent"
    if answer == "no_answer":
        return "no answer in time: not sent"
    message = str(decision.get("message", "")).replace("_", " ")
    text = f"result {decision.get('result')} ({decision.get('meaning')}): {message}"
    if decision.get("reason") is not None:
        text += f", reason {decision['reason']!r}"
    replaced = [name for name in ("new_msg_body", "new_payload") if decision.get(name)]
    if replaced:
        text += f", replaces {' and '.join(name.removeprefix('new_') for name in replaced)}"
    if decision.get("note"):
        text += f" ({decision['note']})"
    return text


def read_hook_answer(status: int | None, error: str | None, body: bytes) -> HookDecision:
    """The decision of one answer to ``before_send_msg`` (see the module docstring)."""
    if error is not None or status is None:
        return HookDecision("no_answer", "not_sent")
    if not 200 <= status <= 299:
        return HookDecision("error_status", "not_sent")
    problem, value = _parse(body)
    if problem is not None:
        return HookDecision("invalid", "not_sent", problem=problem)
    result = value["result"]
    meaning = RESULTS.get(result)
    note = None
    if meaning is None:
        meaning = "neutral"
        note = f"result {result} is not documented: ZIM treats it as neutral"
    texts = {name: value.get(name) for name in TEXT_FIELDS}
    return HookDecision(
        "decision",
        MESSAGE_BY_MEANING[meaning],
        result=result,
        meaning=meaning,
        reason=texts["reason"],
        new_msg_body=texts["new_msg_body"],
        new_payload=texts["new_payload"],
        note=note,
    )


def _parse(body: bytes) -> tuple[str | None, dict[str, Any]]:
    """``(problem, answer)``: the answer object, or why it is not the documented JSON."""
    text = body.decode("utf-8", errors="replace").strip()
    if not text:
        return "an empty body; expected a JSON object with an integer result", {}
    try:
        value = json.loads(text)
    except (ValueError, RecursionError):
        return f"not JSON: {_quoted(text)}; expected an object with an integer result", {}
    if not isinstance(value, dict):
        return f"JSON {type(value).__name__}, expected an object with an integer result", {}
    if "result" not in value:
        return f"no result in {_quoted(text)}; expected an integer result (0, 1, 2 or 3)", {}
    result = value["result"]
    if type(result) is not int:
        return f"result {json.dumps(result)} is not an integer (0, 1, 2 or 3)", {}
    for name in TEXT_FIELDS:
        if name in value and not isinstance(value[name], str):
            return f"{name} {json.dumps(value[name])[:SHOWN]} is not a string", {}
    return None, value


def _quoted(text: str) -> str:
    shown = text if len(text) <= SHOWN else text[:SHOWN] + "…"
    return repr(shown)
