"""``zego-emulator run``: its flags and its handler."""

from __future__ import annotations

import argparse

from emulator.cli.common import (
    Formatter,
    add_delivery_flags,
    add_payload_flags,
    add_secret_flag,
    non_negative_int,
    positive_float,
    positive_int,
)


def add_run(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "run",
        help="deliver the callbacks of scenario files with ZEGO's retry schedule",
        formatter_class=Formatter,
        description="Load scenario files, generate, sign and encode their callbacks, deliver\n"
        "them to the target with ZEGO's retry schedule (2, 4, 8, 16, 32 s), record every\n"
        "attempt and check the scenario's expectations. Exit 0 when every expectation held,\n"
        "1 when one failed, 2 on bad input. Settings: flags > the scenario > the environment\n"
        "(ZEGO_CALLBACK_SECRET, or the variable secret_env: names) > defaults.",
    )
    parser.add_argument("scenarios", nargs="*", metavar="SCENARIO", help="scenario files")
    add_secret_flag(parser)
    add_payload_flags(parser)
    add_delivery_flags(parser)
    parser.add_argument(
        "--builtin-receiver",
        action="store_true",
        help="start the scenario's own receiver (its receiver: section) and target it",
    )
    parser.add_argument(
        "--truth",
        metavar="PATH",
        help="write the final room/user/stream state the sessions' callbacks describe "
        '(JSON: {"rooms": [{room_id, room_session_id, users, streams}]})',
    )
    parser.add_argument(
        "--replay",
        action="append",
        default=[],
        metavar="RECORD",
        help="re-send exactly the callbacks of a recorded run (same bodies) to --target; "
        "repeatable; no scenario files with it. Settings: flags > the recorded runs (retry "
        "policy and timeout, concurrency) > ZEGO_CALLBACK_SECRET (with --resign) > defaults",
    )
    parser.add_argument(
        "--resign",
        action="store_true",
        help="with --replay: fresh timestamp, nonce and signature instead of the recorded ones",
    )
    parser.add_argument(
        "--junit", metavar="FILE", help="also write the run's JUnit XML (a testcase per callback)"
    )
    parser.add_argument(
        "--rate",
        type=positive_float,
        metavar="R",
        help="load mode: R new callbacks a second (emulated) for --duration, each retried on "
        "ZEGO's schedule; reports the achieved rate and receiver latency p50/p95/p99",
    )
    parser.add_argument(
        "--duration",
        type=positive_float,
        metavar="SECONDS",
        help="load mode: how long to send (default 10)",
    )
    parser.add_argument(
        "--window", type=positive_int, metavar="N", help="load mode: requests in flight at most"
    )
    parser.add_argument(
        "--max-lost",
        type=non_negative_int,
        metavar="N",
        help="load mode: fail (exit 1) when more than N callbacks are lost",
    )
    parser.add_argument(
        "--max-p99-ms",
        type=positive_float,
        metavar="MS",
        help="load mode: fail (exit 1) when the receiver's p99 latency is above MS",
    )
    parser.set_defaults(handler=_cmd_run)


def _cmd_run(args: argparse.Namespace) -> int:
    from emulator.errors import UsageError

    if args.truth is not None and (args.rate is not None or args.replay):
        raise UsageError("--truth goes with scenario files (not --rate or --replay)")
    if args.builtin_receiver and (args.rate is not None or args.replay):
        mode = "--rate (load mode)" if args.rate is not None else "--replay"
        raise UsageError(
            f"--builtin-receiver goes with scenario files, not {mode}: give --target URL "
            "(e.g. of `zego-emulator receive`)"
        )
    if args.rate is not None:
        if args.replay:
            raise UsageError("--rate (load mode) does not go with --replay")
        from emulator.settings import RunOptions
        from emulator.term.commands import load_command

        return load_command(
            RunOptions.from_args(args),
            rate=args.rate,
            duration=args.duration or 10.0,
            window=args.window,
            scenario_paths=args.scenarios,
            max_lost=args.max_lost,
            max_p99_ms=args.max_p99_ms,
        )
    if args.duration is not None or args.window is not None:
        raise UsageError("--duration and --window go with --rate R (load mode)")
    if args.max_lost is not None or args.max_p99_ms is not None:
        raise UsageError("--max-lost and --max-p99-ms go with --rate R (load mode)")
    if args.replay:
        if args.scenarios:
            raise UsageError("give either scenario files or --replay RECORD, not both")
        if args.junit:
            raise UsageError(
                "--junit goes with scenario runs and --rate; for a replay use "
                "`zego-emulator report RECORD --junit FILE`"
            )
        if args.secret and not args.resign:
            raise UsageError("--secret with --replay is used only with --resign")
        from emulator.settings import RunOptions
        from emulator.term.commands import replay_command

        return replay_command(args.replay, RunOptions.from_args(args), resign=args.resign)
    if args.resign:
        raise UsageError("--resign goes with --replay RECORD")
    from emulator.settings import RunOptions
    from emulator.term.commands import run_command

    return run_command(args.scenarios, RunOptions.from_args(args))
