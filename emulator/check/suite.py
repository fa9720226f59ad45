"""The suite: every case in a stable order, selected by id, run against one target.

    options = CheckOptions(target="http://127.0.0.1:8080/zego/callback", callback_secret="...")
    result = await run_check(options)
    result.passed, [case.case.id for case in result.failed]

All probes go through one :class:`~emulator.dispatch.Dispatcher` on virtual time, cases
side by side: a retry gap or a duplicate a minute later costs nothing, so against a fast
receiver the whole suite takes well under a second. Each probe is one request (ZEGO's
retries would only repeat its answer); a case that tests a retry sends it itself.
"""

from __future__ import annotations

import ssl
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from emulator.callback.factory import CallbackFactory
from emulator.check import acknowledge, latency, redelivery, signatures, vectors, zim
from emulator.check.context import CaseContext, derived_server_secret
from emulator.check.events import event_cases
from emulator.check.model import (
    Case,
    CaseResult,
    Chain,
    CheckResult,
    ProbeResult,
    judge_case,
    judge_probe,
)
from emulator.clock import VirtualClock
from emulator.delivery.dispatch import Delivery, Dispatcher
from emulator.errors import UsageError
from emulator.events import answer_reader
from emulator.retry import DEFAULT_TIMEOUT, RetryPolicy
from emulator.wire import ENCODINGS, Encoding

DEFAULT_ENCODINGS: tuple[Encoding, ...] = ("json",)  # ZEGO's default
PRODUCTS = ("rtc", "zim")


def all_cases(product: str = "rtc") -> list[Case]:
    """Every case of ``product``'s suite, in the order they are reported."""
    if product not in PRODUCTS:
        raise UsageError(f"check --product {product!r}: expected one of {', '.join(PRODUCTS)}")
    if product == "zim":
        return [*zim.CASES, *event_cases(product)]
    return [
        *acknowledge.CASES,
        *redelivery.CASES,
        *signatures.CASES,
        *vectors.CASES,
        *latency.CASES,
        *event_cases(product),
    ]


def select_cases(
    cases: Sequence[Case], only: Iterable[str] = (), skip: Iterable[str] = ()
) -> list[Case]:
    """``cases`` filtered by ``--case`` (only these) and ``--skip``; UsageError naming an
    id no case has."""
    only, skip = list(only), list(skip)
    known = {case.id for case in cases}
    for flag, ids in (("--case", only), ("--skip", skip)):
        unknown = [case_id for case_id in ids if case_id not in known]
        if unknown:
            raise UsageError(
                f"check {flag} {unknown[0]}: no such case; `zego-emulator check --list` lists them"
            )
    wanted = set(only) if only else known
    return [case for case in cases if case.id in wanted and case.id not in set(skip)]


@dataclass
class CheckOptions:
    """What to check and how (flags of ``zego-emulator check``)."""

    target: str
    callback_secret: str
    server_secret: str | None = None  # None: one derived from the callback secret
    encodings: tuple[Encoding, ...] = DEFAULT_ENCODINGS
    only: tuple[str, ...] = ()
    skip: tuple[str, ...] = ()
    timeout: float = DEFAULT_TIMEOUT  # per request, real seconds
    seed: int | None = None
    app_id: str | None = None
    product: str = "rtc"
    tls: ssl.SSLContext | bool = True
    concurrency: int = 16

    def validated(self) -> CheckOptions:
        """These options, or UsageError for values that cannot run."""
        for encoding in self.encodings:
            if encoding not in ENCODINGS:
                raise UsageError(
                    f"check --encoding {encoding!r}: expected one of {', '.join(ENCODINGS)}"
                )
        if not self.encodings:
            raise UsageError("check --encoding: give at least one encoding")
        if self.server_secret is not None and self.server_secret == self.callback_secret:
            raise UsageError(
                "check --server-secret: it is the callback secret; the case "
                "signature.server-secret needs the other one"
            )
        if self.timeout <= 0:
            raise UsageError(f"check --timeout {self.timeout:g}: expected more than 0 seconds")
        return self


def build_chains(cases: Sequence[Case], context: CaseContext) -> list[tuple[Case, list[Chain]]]:
    """Every case's probe chains (each callback generated and signed now)."""
    return [(case, list(case.probes(context))) for case in cases]


async def run_check(options: CheckOptions) -> CheckResult:
    """Run the selected cases against ``options.target``; never raises for what the
    receiver does (a refused connection is every probe's answer, and fails the cases)."""
    options = options.validated()
    unique_encodings = tuple(dict.fromkeys(options.encodings))
    cases = select_cases(all_cases(options.product), options.only, options.skip)
    context = CaseContext(
        factory=CallbackFactory(seed=options.seed, app_id=options.app_id),
        callback_secret=options.callback_secret,
        server_secret=options.server_secret or derived_server_secret(options.callback_secret),
        encodings=unique_encodings,
        timeout=options.timeout,
    )
    planned = build_chains(cases, context)
    flat = [(case, chain) for case, chains in planned for chain in chains]
    deliveries = [
        [
            Delivery(
                probe.callback,
                options.target,
                probe.delay,
                policy=probe.policy,
                read_answer=answer_reader(probe.callback.event),
            )
            for probe in chain
        ]
        for _, chain in flat
    ]
    policy = RetryPolicy(intervals=(), timeout=options.timeout)
    async with Dispatcher(
        policy=policy, clock=VirtualClock(), concurrency=options.concurrency, ssl=options.tls
    ) as dispatcher:
        outcomes = await dispatcher.deliver_chains(deliveries)
    probes: dict[str, list[ProbeResult]] = {case.id: [] for case in cases}
    for (case, chain), chain_outcomes in zip(flat, outcomes, strict=True):
        for probe, outcome in zip(chain, chain_outcomes, strict=True):
            probes[case.id].append(judge_probe(probe, outcome))
    judged: list[CaseResult] = [judge_case(case, probes[case.id]) for case in cases]
    return CheckResult(options.target, judged)
