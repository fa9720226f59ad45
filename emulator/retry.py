"""ZEGO's retry policy (spec §1).

After a failed request ZEGO retries at most 5 times, each retry 2, 4, 8, 16, 32 s after the
*start* of the request before it, never overlapping it (if that request is still waiting
when the gap ends, the retry waits for it). Lost after the 5th retry fails: at most 6
requests, at t = 0, 2, 6, 14, 30, 62 s against an instant failure. The clocks the schedule
runs on are in :mod:`emulator.clock`.
"""

from __future__ import annotations

from dataclasses import dataclass

ZEGO_INTERVALS: tuple[float, ...] = (2.0, 4.0, 8.0, 16.0, 32.0)


DEFAULT_TIMEOUT = 5.0


@dataclass(frozen=True)
class RetryPolicy:
    """How often, how far apart, and how long each request may take."""

    intervals: tuple[float, ...] = ZEGO_INTERVALS
    timeout: float = DEFAULT_TIMEOUT  # per request, real seconds
    resign_each_attempt: bool = False

    @property
    def max_attempts(self) -> int:
        return len(self.intervals) + 1

    def retry_gap(self, attempt: int) -> float | None:
        """Emulated seconds between request ``attempt`` (1-based) and the next; None = give up."""
        if attempt < 1 or attempt > len(self.intervals):
            return None
        return self.intervals[attempt - 1]

    def offsets(self) -> list[float]:
        """Start offsets of every request against an instant failure: 0, 2, 6, 14, 30, 62."""
        starts = [0.0]
        for gap in self.intervals:
            starts.append(starts[-1] + gap)
        return starts
