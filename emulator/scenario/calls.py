"""ZIM call lifecycles (``calls:``): one invitation's coherent callback sequence (§11.6).

    script = CallScript(callees=3, answers=["accept", "reject", "silent"], timeout=30)
    for event in plan_call(script, fake, epoch=1796000000):  # call_create at 0, accept at 5...
        ...

Every event of one call shares its ``call_id``, caller and callee ids; ``offset`` is
seconds after the run starts (the call's ``start`` plus the moment in the call) and
``timestamp`` the Unix second it is stamped with (``epoch`` is the run's start), which
``create_time`` and ``invite_time`` (ms) agree with. The rules,
as ZEGO's pages state them (what is concluded rather than read says **[inference]**):

1. ``call_create`` lists the callees online when it was sent: a callee whose answer is
   ``offline`` is left out. If every callee is offline there is no callback at all.
2. ``call_cancel`` lists every callee, offline ones included.
3. Each online callee answering ``accept``/``reject`` sends ``call_accept``/``call_reject``
   at its answer time, if the invitation is still open then; a later answer is silence.
4. The caller cancels (``caller_cancels: t``) -> ``call_cancel`` reason ``caller_cancel``
   at t; nothing more. Cancelling after someone accepted is refused: the pages know no
   cancel of an established call **[inference]**.
5. The caller goes offline (``caller_offline: t``, logout or heartbeat timeout) before
   anyone accepted -> ``call_cancel`` at t (reason ``caller_cancel``: the pages give no
   third reason **[inference]**); no answer counts after it. At the timeout, "the caller is
   offline and nobody answered" -> ``call_timeout`` with every online callee.
6. At the timeout with the caller online: if **every** online callee is silent ->
   ``call_cancel`` reason ``timeout_cancel`` (not ``call_timeout``); if **some** are silent
   -> ``call_timeout`` listing them; if none is, nothing.
7. ``invite`` users during the call -> ``call_invite`` from the caller ``invite_after``
   seconds after the first accept (``invite_time`` in ms); it needs an accepted call.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from emulator.events.base import Fake

# seconds an invitation waits, as in ZEGO's call_create example (the ZIM call events'
# default too); the events' module is imported when a call is planned, not with the model
DEFAULT_TIMEOUT = 90

Answer = Literal["accept", "reject", "silent", "offline"]
MAX_CALLEES = 100


class CallScript(BaseModel):
    """``calls:`` — one call invitation and how everyone in it behaves."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    caller: str | None = Field(default=None, min_length=1, max_length=64, description="faked")
    callees: int | list[str] = Field(
        default=1, description="how many callees (ids faked), or their ids"
    )
    answers: list[Answer] | None = Field(
        default=None,
        max_length=MAX_CALLEES,
        description="per callee, in order: accept | reject | silent | offline (logged out "
        "when invited); the last one repeats; default accept",
    )
    answer_after: float | list[float] = Field(
        default=5.0,
        description="seconds after the invitation each callee answers: one value for all "
        "(the n-th answers n-1 seconds later), or one per callee",
    )
    timeout: int = Field(
        default=DEFAULT_TIMEOUT, ge=1, le=3600, description="seconds the invitation waits"
    )
    caller_cancels: float | None = Field(
        default=None, ge=0, description="seconds after the invitation the caller cancels it"
    )
    caller_offline: float | None = Field(
        default=None,
        ge=0,
        description="seconds after the invitation the caller logs out or its heartbeat times out",
    )
    invite: int | list[str] | None = Field(
        default=None, description="users invited during the call (count or ids): call_invite"
    )
    invite_after: float = Field(
        default=2.0, ge=0, description="seconds after the first accept the invite goes out"
    )
    start: float = Field(default=0.0, ge=0, le=86400, description="seconds into the run")
    payload: str | None = Field(default=None, max_length=4096)
    call_id: str | None = Field(default=None, min_length=1, max_length=64)

    @model_validator(mode="after")
    def _consistent(self) -> CallScript:
        count = self.callees if isinstance(self.callees, int) else len(self.callees)
        if not 1 <= count <= MAX_CALLEES:
            raise ValueError(f"callees: expected 1 to {MAX_CALLEES} callees, got {count}")
        if isinstance(self.answer_after, list) and len(self.answer_after) != count:
            raise ValueError(
                f"answer_after: expected one time per callee ({count}), "
                f"got {len(self.answer_after)}"
            )
        times = self.answer_after if isinstance(self.answer_after, list) else [self.answer_after]
        if any(value < 0 for value in times):
            raise ValueError("answer_after: expected seconds of 0 or more")
        if isinstance(self.invite, int) and not 1 <= self.invite <= MAX_CALLEES:
            raise ValueError(f"invite: expected 1 to {MAX_CALLEES} users")
        try:  # the rules depend on the times and answers alone, not on the ids
            plan_call(self, Fake(0), 0.0)
        except CallPlanError as exc:
            raise ValueError(str(exc)) from None
        return self

    @property
    def callee_count(self) -> int:
        return self.callees if isinstance(self.callees, int) else len(self.callees)

    def answer_of(self, index: int) -> Answer:
        """Callee ``index``'s answer (the last listed repeats; accept by default)."""
        if not self.answers:
            return "accept"
        return self.answers[min(index, len(self.answers) - 1)]

    def answer_time(self, index: int) -> float:
        """Seconds after the invitation callee ``index`` answers."""
        if isinstance(self.answer_after, list):
            return self.answer_after[index]
        return self.answer_after + index


@dataclass(frozen=True)
class CallEvent:
    """One callback of a call: its event, when (seconds into the run), its parameters."""

    event: str
    offset: float
    params: dict[str, Any] = field(default_factory=dict)
    timestamp: int = 0  # Unix seconds it is stamped with


class CallPlanError(ValueError):
    """A call script whose events the documented rules cannot produce."""


def plan_call(script: CallScript, fake: Fake, epoch: float) -> list[CallEvent]:
    """The callbacks of one call, in time order (the rules in the module docstring);
    ``epoch`` is the Unix time the run starts."""
    from emulator.events.zim._common import user_ids as fake_user_ids
    from emulator.events.zim.call import call_id, payload

    caller = script.caller or fake_user_ids(fake, 1)[0]
    if isinstance(script.callees, list):
        callees = list(script.callees)
    else:
        callees = fake_user_ids(fake, script.callee_count, taken=[caller])
    the_call_id = script.call_id or call_id(fake)
    the_payload = script.payload if script.payload is not None else payload(fake)
    answers = [script.answer_of(index) for index in range(len(callees))]
    online = [user for user, answer in zip(callees, answers, strict=True) if answer != "offline"]
    if not online:  # rule 1: nobody to ring, no callback at all
        return []
    base = {"call_id": the_call_id}
    events = [
        CallEvent(
            "zim.call_create",
            0.0,
            {
                **base,
                "caller": caller,
                "user_ids": online,
                "payload": the_payload,
                "timeout": script.timeout,
            },
        )
    ]
    # the moment the invitation closes early, and why (rules 4 and 5)
    closes_at, closed_by = _early_close(script)
    answered: list[tuple[float, str, Answer]] = sorted(
        (script.answer_time(index), user, answer)
        for index, (user, answer) in enumerate(zip(callees, answers, strict=True))
        if answer in ("accept", "reject") and script.answer_time(index) < script.timeout
    )
    first_accept: float | None = None
    replied: set[str] = set()
    for moment, user, answer in answered:
        if closes_at is not None and moment >= closes_at:
            continue  # rule 3: the invitation was already gone
        if answer == "accept" and first_accept is None:
            first_accept = moment
        replied.add(user)
        extend = "" if answer == "accept" else '{"reason":"busy"}'
        events.append(
            CallEvent(
                f"zim.call_{answer}", moment, {**base, "user_id": user, "extend_data": extend}
            )
        )
    cancelled = {**base, "user_ids": list(callees), "payload": the_payload}
    silent = [user for user in online if user not in replied]
    if closed_by == "cancel" and closes_at is not None:
        if first_accept is not None:
            raise CallPlanError(
                f"caller_cancels at {closes_at:g} s, but a callee accepted at {first_accept:g} s: "
                "an accepted call cannot be cancelled"
            )
        events.append(
            CallEvent("zim.call_cancel", closes_at, {**cancelled, "reason": "caller_cancel"})
        )
    elif closed_by == "offline" and closes_at is not None:
        if first_accept is None:
            events.append(
                CallEvent("zim.call_cancel", closes_at, {**cancelled, "reason": "caller_cancel"})
            )
            if not replied:  # rule 5: offline at the timeout and nobody answered
                events.append(
                    CallEvent(
                        "zim.call_timeout", float(script.timeout), {**base, "user_ids": silent}
                    )
                )
    elif silent:
        if len(silent) == len(online):  # rule 6: all silent, caller online
            events.append(
                CallEvent(
                    "zim.call_cancel",
                    float(script.timeout),
                    {**cancelled, "reason": "timeout_cancel"},
                )
            )
        else:
            events.append(
                CallEvent("zim.call_timeout", float(script.timeout), {**base, "user_ids": silent})
            )
    if script.invite is not None:
        events.append(_invite(script, fake, base, caller, [caller, *callees], first_accept))
    events.sort(key=lambda event: event.offset)
    return [_stamped(event, script.start + event.offset, epoch) for event in events]


def _stamped(event: CallEvent, offset: float, epoch: float) -> CallEvent:
    """``event`` at ``offset`` into the run, its timestamp and in-body times agreeing."""
    moment = epoch + offset
    params = dict(event.params)
    if event.event == "zim.call_create":
        params["create_time"] = int(moment)
    elif event.event == "zim.call_invite":
        params["invite_time"] = int(moment * 1000)
    return CallEvent(event.event, offset, params, int(moment))


def _early_close(script: CallScript) -> tuple[float | None, str | None]:
    """When the caller ends the invitation before its timeout (cancel or going offline)."""
    candidates = [
        (moment, why)
        for moment, why in ((script.caller_cancels, "cancel"), (script.caller_offline, "offline"))
        if moment is not None and moment < script.timeout
    ]
    if not candidates:
        return None, None
    moment, why = min(candidates)
    return moment, why


def _invite(
    script: CallScript,
    fake: Fake,
    base: dict[str, Any],
    caller: str,
    taken: Sequence[str],
    first_accept: float | None,
) -> CallEvent:
    """Rule 7: ``call_invite`` after the first accept."""
    from emulator.events.zim._common import user_ids as fake_user_ids

    if first_accept is None:
        raise CallPlanError("invite: users are invited during a call; no callee accepts it")
    invited = (
        list(script.invite)
        if isinstance(script.invite, list)
        else fake_user_ids(fake, int(script.invite or 1), taken=taken)
    )
    return CallEvent(
        "zim.call_invite",
        first_accept + script.invite_after,
        {**base, "inviter": caller, "user_ids": invited},
    )
