"""ZEGO's retry policies (zego-callbacks.md §1, zego-events.md §1.4), by family.

After a failed request ZEGO's RTC servers retry at most 5 times, each retry 2, 4, 8, 16,
32 s after the *start* of the request before it, never overlapping it (if that request is
still waiting when the gap ends, the retry waits for it). Lost after the 5th retry fails:
at most 6 requests, at t = 0, 2, 6, 14, 30, 62 s against an instant failure. Other
families document other schedules; each is a named profile (:data:`PROFILES`):

* ``rtc``             5 retries at 2/4/8/16/32 s on no answer or a non-2xx answer (default)
* ``legacy-2``        the 2022-2023 EN pages: two retries (2 s, 4 s), same triggers
* ``cloud-recording`` 2 retries 5 s apart, on no answer only: a non-2xx answer is final
* ``zim-before-send`` ZIM's before_send_msg hook: 2.5 s timeout, one immediate retry on
  no answer only

"No answer" is a request that got no HTTP response (timeout, refused or reset
connection, ...). Explicit ``intervals:``/``timeout:`` win over a profile's. The clocks
the schedule runs on are in :mod:`emulator.clock`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal, get_args

ZEGO_INTERVALS: tuple[float, ...] = (2.0, 4.0, 8.0, 16.0, 32.0)
DEFAULT_TIMEOUT = 5.0

RetryOn = Literal["failure", "no_answer"]  # failure: no answer or non-2xx; no_answer: only none
RETRY_ONS: tuple[RetryOn, ...] = get_args(RetryOn)
ProfileName = Literal["rtc", "legacy-2", "cloud-recording", "zim-before-send"]
PROFILE_NAMES: tuple[ProfileName, ...] = get_args(ProfileName)
DEFAULT_PROFILE: ProfileName = "rtc"


@dataclass(frozen=True)
class RetryProfile:
    """A family's documented schedule: gaps, what triggers a retry, its own timeout."""

    name: ProfileName
    intervals: tuple[float, ...]
    retry_on: RetryOn
    timeout: float | None = None  # None: the default per-request timeout
    source: str = ""


PROFILES: dict[str, RetryProfile] = {
    profile.name: profile
    for profile in (
        RetryProfile("rtc", ZEGO_INTERVALS, "failure", source="RTC callback pages"),
        RetryProfile("legacy-2", (2.0, 4.0), "failure", source="legacy EN pages (2022-2023)"),
        RetryProfile("cloud-recording", (5.0, 5.0), "no_answer", source="Cloud Recording (ZH)"),
        RetryProfile("zim-before-send", (0.0,), "no_answer", 2.5, "ZIM before_send_msg (ZH)"),
    )
}


@dataclass(frozen=True)
class RetryPolicy:
    """How often, how far apart, on what, and how long each request may take."""

    intervals: tuple[float, ...] = ZEGO_INTERVALS
    timeout: float = DEFAULT_TIMEOUT  # per request, real seconds
    resign_each_attempt: bool = False
    retry_on: RetryOn = "failure"
    profile: str = DEFAULT_PROFILE  # the profile it came from (intervals may be overridden)

    @property
    def max_attempts(self) -> int:
        return len(self.intervals) + 1

    def retry_gap(self, attempt: int) -> float | None:
        """Emulated seconds between request ``attempt`` (1-based) and the next; None = give up."""
        if attempt < 1 or attempt > len(self.intervals):
            return None
        return self.intervals[attempt - 1]

    def retries_after(self, status: int | None) -> bool:
        """Whether a failed request (``status`` None: no answer) is retried at all."""
        return status is None or self.retry_on == "failure"

    def offsets(self) -> list[float]:
        """Start offsets of every request against an instant failure: 0, 2, 6, 14, 30, 62."""
        starts = [0.0]
        for gap in self.intervals:
            starts.append(starts[-1] + gap)
        return starts

    def record(self) -> dict[str, Any]:
        """The policy as a record writes it (a ``callback`` line's ``retry``)."""
        return {
            "profile": self.profile,
            "intervals": list(self.intervals),
            "timeout": self.timeout,
            "retry_on": self.retry_on,
        }


def profile_policy(
    name: str = DEFAULT_PROFILE,
    *,
    intervals: tuple[float, ...] | None = None,
    timeout: float | None = None,
    resign_each_attempt: bool = False,
) -> RetryPolicy:
    """The policy of profile ``name``; given ``intervals``/``timeout`` win over its own.

    KeyError naming the profiles for an unknown name.
    """
    try:
        profile = PROFILES[name]
    except KeyError:
        raise KeyError(
            f"unknown retry profile {name!r}; expected one of {', '.join(PROFILE_NAMES)}"
        ) from None
    return RetryPolicy(
        intervals=profile.intervals if intervals is None else tuple(intervals),
        timeout=timeout if timeout is not None else (profile.timeout or DEFAULT_TIMEOUT),
        resign_each_attempt=resign_each_attempt,
        retry_on=profile.retry_on,
        profile=profile.name,
    )


def recorded_policy(line: Mapping[str, Any], default: RetryPolicy) -> RetryPolicy:
    """The policy a record line names (a run line, or a callback line's ``retry``);
    ``default`` for what it leaves out (records older than profiles name none)."""
    intervals = line.get("intervals")
    gaps = default.intervals
    if isinstance(intervals, list) and all(
        isinstance(gap, int | float) and not isinstance(gap, bool) and gap >= 0 for gap in intervals
    ):
        gaps = tuple(float(gap) for gap in intervals)
    timeout = line.get("timeout")
    retry_on = line.get("retry_on")
    profile = line.get("retry_profile", line.get("profile"))
    return RetryPolicy(
        intervals=gaps,
        timeout=float(timeout)
        if isinstance(timeout, int | float) and timeout > 0
        else default.timeout,
        resign_each_attempt=default.resign_each_attempt,
        retry_on=retry_on if retry_on in RETRY_ONS else default.retry_on,
        profile=profile if isinstance(profile, str) and profile else default.profile,
    )
