"""``report`` in one pass and bounded memory: each callback is counted when it completes,
then dropped.

    streamed = StreamedReport(html=True)
    reader = RecordReader(lines=False, on_view=streamed.add)
    read_into(reader, paths)
    runs = reported(reader.runs())
    data = streamed.report_data(runs)        # what report_data(load(paths)) gives

Kept per run: its run and summary lines and a :class:`~emulator.report.stats.Tally`
(counters, and two floats an attempt for exact percentiles); kept in all: the failed
callbacks ``--json`` lists, and for ``--html`` an offset and a flag per attempt (the
offset histogram), every callback while there are at most ``AGGREGATE_OVER`` (the detail
view) and then only the ``DETAIL_LIMIT`` first that the aggregate view draws. ``--junit``
has a testcase per callback, so it reads the record with every callback kept.
"""

from __future__ import annotations

import bisect
from array import array
from collections.abc import Sequence
from typing import Any

from emulator.record.reader import CallbackView, RunRecord
from emulator.report.html import AGGREGATE_OVER, DETAIL_LIMIT, HtmlFacts
from emulator.report.model import as_number
from emulator.report.stats import Tally, assemble, attempt_kind, failed_item

Key = tuple[int, int]  # (the run's index, the view's seq): the order a report lists them in


class StreamedReport:
    """Takes each complete callback view (``RecordReader(on_view=...)``) and keeps only
    what the terminal, ``--json`` and ``--html`` outputs need."""

    def __init__(self, *, html: bool = False) -> None:
        self.html = html
        self.tallies: dict[str, Tally] = {}
        self.failed: dict[str, list[tuple[int, dict[str, Any]]]] = {}
        self.count = 0
        self.retried = 0
        self.broken = 0
        self.offsets = array("d")
        self.accepted = bytearray()
        self.every: list[tuple[Key, CallbackView]] | None = []  # while count <= AGGREGATE_OVER
        self.first_broken: list[tuple[Key, CallbackView]] = []
        self.first_retried: list[tuple[Key, CallbackView]] = []
        self.first_other: list[tuple[Key, CallbackView]] = []

    def add(self, run: RunRecord, view: CallbackView) -> None:
        """Count one complete view (its outcome seen, or its record ended)."""
        tally = self.tallies.get(run.run_id)
        if tally is None:
            tally = self.tallies[run.run_id] = Tally()
        tally.add(view)
        if view.broken:
            self.broken += 1
            self.failed.setdefault(run.run_id, []).append((view.seq, failed_item(view)))
        if not self.html:
            return
        self.count += 1
        if view.retried:
            self.retried += 1
        for attempt in view.attempts:
            self.offsets.append(as_number(attempt.get("offset_s")) or 0.0)
            self.accepted.append(attempt_kind(attempt) == "ok")
        key = (run.index, view.seq)
        if self.every is not None:
            self.every.append((key, view))
            if len(self.every) > AGGREGATE_OVER:
                self.every = None
        if view.broken:
            _keep_first(self.first_broken, key, view)
        elif view.retried:
            _keep_first(self.first_retried, key, view)
        else:
            _keep_first(self.first_other, key, view)

    def report_data(self, runs: Sequence[RunRecord]) -> dict[str, Any]:
        """What :func:`~emulator.report.stats.report_data` gives for the same runs."""
        tallies = [self.tallies.get(run.run_id) or Tally() for run in runs]
        failed = [
            [item for _, item in sorted(self.failed.get(run.run_id, []), key=lambda p: p[0])]
            for run in runs
        ]
        return assemble(runs, tallies, failed)

    def html_facts(self, runs: Sequence[RunRecord]) -> HtmlFacts:
        """What :func:`~emulator.report.html.html_facts` gives for the same runs."""
        wanted = {run.run_id for run in runs}
        total = Tally.combined([self.tallies[r.run_id] for r in runs if r.run_id in self.tallies])
        if self.every is not None:
            chosen = sorted(self.every, key=lambda pair: pair[0])
        else:
            rest = self.first_retried if self.retried else self.first_other
            chosen = self.first_broken + rest[: DETAIL_LIMIT - len(self.first_broken)]
        shown: dict[str, list[CallbackView]] = {}
        for _, view in chosen:
            if view.run_id in wanted:
                shown.setdefault(view.run_id, []).append(view)
        return HtmlFacts(
            total=total.result(),
            callbacks=self.count,
            retried=self.retried,
            broken=self.broken,
            offsets=self.offsets,
            accepted=self.accepted,
            shown=shown,
        )


def _keep_first(kept: list[tuple[Key, CallbackView]], key: Key, view: CallbackView) -> None:
    """Keep the ``DETAIL_LIMIT`` views with the lowest keys."""
    if len(kept) >= DETAIL_LIMIT and key >= kept[-1][0]:
        return
    bisect.insort(kept, (key, view), key=lambda pair: pair[0])
    del kept[DETAIL_LIMIT:]
