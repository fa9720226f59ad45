"""The ``zego-emulator`` command line: argument parsing only.

Each command has an ``_add_<name>`` that declares its flags and a ``_cmd_<name>`` that
packs them into keyword arguments for a plain function in the module that does the work.
Heavy modules are imported inside the handlers so ``--help`` stays fast.

Exit codes (CONTRACT.md): 0 ran and every expectation held; 1 an expectation failed (or,
for ``verify``, the signature is wrong); 2 bad input — one line on stderr, no traceback.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from typing import NoReturn, cast

from emulator import __version__
from emulator.errors import EmulatorError

EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT, EXIT_INTERRUPTED = 0, 1, 2, 130
ENCODING_CHOICES = ("form", "json", "json-urlencoded")
Handler = Callable[[argparse.Namespace], int]


class _Formatter(argparse.RawDescriptionHelpFormatter):
    """Keeps the hand-wrapped descriptions."""


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser whose usage errors are one line on stderr (exit 2), not a usage dump."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_BAD_INPUT, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"expected a number greater than 0, got {text!r}")
    return value


def _non_negative_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not value >= 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"expected a number of 0 or more, got {text!r}")
    return value


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number of 1 or more, got {text!r}")
    return value


def _int(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None


# --- flag groups shared by several commands -------------------------------------------


def _add_secret_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--secret",
        metavar="S",
        help="callback secret (prefer env ZEGO_CALLBACK_SECRET; without either the "
        "documented development secret is used)",
    )


def _add_payload_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--app-id", metavar="ID", help="appid field (default: faked)")
    parser.add_argument(
        "--encoding", choices=ENCODING_CHOICES, help="body encoding (default: form)"
    )
    parser.add_argument("--seed", type=_int, metavar="N", help="seed for fake data")


def _add_delivery_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--target", metavar="URL", help="the receiver URL to POST to")
    parser.add_argument(
        "--speed",
        type=_positive_float,
        metavar="X",
        help="divide every wait by X (10 runs the 62 s schedule in 6.2 s)",
    )
    parser.add_argument(
        "--virtual",
        action="store_true",
        help="virtual time: no waiting at all, schedules complete instantly",
    )
    parser.add_argument(
        "--timeout",
        type=_positive_float,
        metavar="SECONDS",
        help="per-request timeout in real seconds (default 5)",
    )
    parser.add_argument(
        "--concurrency", type=_positive_int, metavar="N", help="requests in flight at most"
    )
    parser.add_argument(
        "--record", metavar="PATH", help="record file (default runs/<UTC time>-<name>.jsonl)"
    )
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")
    parser.add_argument("--ca-bundle", metavar="FILE", help="trust this CA file for HTTPS")
    parser.add_argument("--insecure", action="store_true", help="do not verify HTTPS certificates")
    parser.add_argument(
        "--no-live", action="store_true", help="no live view while running (plain lines)"
    )


def _port(text: str) -> int:
    port = _int(text)
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"expected a port from 0 to 65535, got {text!r}")
    return port


def _add_bind_flags(parser: argparse.ArgumentParser, default_port: int) -> None:
    """``--host``/``--port`` of a server we start (127.0.0.1 unless told otherwise)."""
    parser.add_argument("--host", default="127.0.0.1", help="address to bind")
    parser.add_argument(
        "--port",
        type=_port,
        default=default_port,
        metavar="N",
        help=f"port to bind (default {default_port}; 0: any free port)",
    )


# --- commands ---------------------------------------------------------------------------


def _add_run(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "run",
        help="deliver the callbacks of scenario files with ZEGO's retry schedule",
        formatter_class=_Formatter,
        description="Load scenario files, generate, sign and encode their callbacks, deliver\n"
        "them to the target with ZEGO's retry schedule (2, 4, 8, 16, 32 s), record every\n"
        "attempt and check the scenario's expectations. Exit 0 when every expectation held,\n"
        "1 when one failed, 2 on bad input.",
    )
    parser.add_argument("scenarios", nargs="*", metavar="SCENARIO", help="scenario files")
    _add_secret_flag(parser)
    _add_payload_flags(parser)
    _add_delivery_flags(parser)
    parser.add_argument(
        "--builtin-receiver",
        action="store_true",
        help="start the scenario's own receiver (its receiver: section) and target it",
    )
    parser.add_argument(
        "--replay",
        action="append",
        default=[],
        metavar="RECORD",
        help="re-send exactly the callbacks of a recorded run (same bodies) to --target; "
        "repeatable; no scenario files with it",
    )
    parser.add_argument(
        "--resign",
        action="store_true",
        help="with --replay: fresh timestamp, nonce and signature instead of the recorded ones",
    )
    parser.add_argument(
        "--rate",
        type=_positive_float,
        metavar="R",
        help="load mode: R new callbacks a second (emulated) for --duration, each retried on "
        "ZEGO's schedule; reports the achieved rate and receiver latency p50/p95/p99",
    )
    parser.add_argument(
        "--duration",
        type=_positive_float,
        metavar="SECONDS",
        help="load mode: how long to send (default 10)",
    )
    parser.add_argument(
        "--window", type=_positive_int, metavar="N", help="load mode: requests in flight at most"
    )
    parser.set_defaults(handler=_cmd_run)


def _cmd_run(args: argparse.Namespace) -> int:
    from emulator.errors import UsageError

    if args.rate is not None:
        if args.replay:
            raise UsageError("--rate (load mode) does not go with --replay")
        from emulator.load import load_command
        from emulator.runner import RunOptions

        return load_command(
            RunOptions.from_args(args),
            rate=args.rate,
            duration=args.duration or 10.0,
            window=args.window,
            scenario_paths=args.scenarios,
        )
    if args.duration is not None or args.window is not None:
        raise UsageError("--duration and --window go with --rate R (load mode)")
    if args.replay:
        if args.scenarios:
            raise UsageError("give either scenario files or --replay RECORD, not both")
        from emulator.replay import replay_command

        return replay_command(
            args.replay,
            args.target,
            resign=args.resign,
            secret=args.secret,
            speed=args.speed,
            virtual=args.virtual,
            timeout=args.timeout,
            concurrency=args.concurrency,
            record=args.record,
            as_json=args.json,
            ca_bundle=args.ca_bundle,
            insecure=args.insecure,
        )
    if args.resign:
        raise UsageError("--resign goes with --replay RECORD")
    from emulator.runner import RunOptions, run_command

    return run_command(args.scenarios, RunOptions.from_args(args))


def _add_send(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "send",
        help="deliver one callback built from flags (no scenario file)",
        formatter_class=_Formatter,
        description="Build one callback from flags, like `stripe trigger`, and deliver it with\n"
        "the same retry schedule and recording as `run`. Exit 0 when it was delivered,\n"
        "1 when it was lost.\n"
        "  zego-emulator send --target http://127.0.0.1:8080/zego/callback \\\n"
        "      --status SUCCESS --resolution 540p --resolution 720p",
    )
    parser.add_argument(
        "--event",
        default="procedure",
        metavar="EVENT",
        help="callback event: procedure (default), compose, snapshot, or any other event "
        "module in emulator/events",
    )
    parser.add_argument("--status", metavar="S", help="procedure status: SUCCESS or FAILED")
    parser.add_argument(
        "--resolution",
        action="append",
        default=[],
        choices=("360p", "540p", "720p"),
        help="a transcoded output (repeat for several)",
    )
    parser.add_argument("--task-id", metavar="ID", help="task_id (default: faked)")
    parser.add_argument(
        "--file-id", metavar="ID", help="file_id (snapshot: field_id; default: faked)"
    )
    parser.add_argument(
        "--tamper",
        default="none",
        choices=("none", "bad_signature", "stale_timestamp", "missing_signature"),
        help="deliberate defect",
    )
    parser.add_argument(
        "--field",
        action="append",
        default=[],
        metavar="K=V",
        help="add or replace a top-level wire field after signing (repeatable)",
    )
    _add_secret_flag(parser)
    _add_payload_flags(parser)
    _add_delivery_flags(parser)
    parser.set_defaults(handler=_cmd_send)


def _cmd_send(args: argparse.Namespace) -> int:
    from emulator.errors import UsageError
    from emulator.runner import RunOptions, SendSpec, send_command

    fields: dict[str, str] = {}
    for item in args.field:
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise UsageError(f"--field {item!r}: expected KEY=VALUE")
        fields[name] = value
    spec = SendSpec(
        event=args.event,
        status=args.status,
        resolutions=list(args.resolution),
        task_id=args.task_id,
        file_id=args.file_id,
        tamper=args.tamper,
        fields=fields,
    )
    return send_command(spec, RunOptions.from_args(args))


def _add_show(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "show",
        help="dry run: print the exact requests `run` would send, with curl lines",
        formatter_class=_Formatter,
        description="Dry run, no network: print each request `run` would send (method, URL,\n"
        "headers, body as sent, decoded fields) and a ready curl line for it. The secret is\n"
        "only used to sign; it is never printed.",
    )
    parser.add_argument("scenario", metavar="SCENARIO", help="scenario file")
    parser.add_argument("--target", metavar="URL", help="the receiver URL to show")
    _add_secret_flag(parser)
    _add_payload_flags(parser)
    parser.add_argument("--json", action="store_true", help="print the requests as JSON")
    parser.set_defaults(handler=_cmd_show)


def _cmd_show(args: argparse.Namespace) -> int:
    from emulator.runner import RunOptions, show_command

    return show_command(args.scenario, RunOptions.from_args(args))


def _add_receive(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "receive",
        help="a local receiver that verifies, decodes and prints callbacks",
        formatter_class=_Formatter,
        description="A local ZEGO callback receiver. Decodes all three encodings, verifies the\n"
        "signature, rejects stale timestamps (401), replays of an accepted callback (409),\n"
        "undecodable bodies (400) and bodies over 1 MiB (413); prints each callback and\n"
        "answers from a script. Runs until Ctrl-C.\n"
        "  zego-emulator receive --port 8080 --respond 500,500,200",
    )
    _add_bind_flags(parser, default_port=8080)
    parser.add_argument(
        "--path", default="/zego/callback", help="callback path shown (POST on any path works)"
    )
    _add_secret_flag(parser)
    parser.add_argument(
        "--max-age",
        type=_non_negative_float,
        default=300.0,
        metavar="SECONDS",
        help="reject timestamps older than this (0: no freshness check)",
    )
    parser.add_argument(
        "--respond",
        default="200",
        metavar="CODES",
        help="statuses to answer in order, the last one repeating (e.g. 500,500,200)",
    )
    parser.add_argument(
        "--delay", type=_non_negative_float, default=0.0, metavar="S", help="wait S s to answer"
    )
    parser.add_argument(
        "--replay-status",
        type=_int,
        default=409,
        metavar="CODE",
        help="answer to a second delivery of an accepted callback (200: acknowledge it, "
        "as an idempotent receiver does)",
    )
    answer = parser.add_mutually_exclusive_group()
    answer.add_argument("--hang", action="store_true", help="never answer")
    answer.add_argument("--reset", action="store_true", help="close the connection, no answer")
    parser.add_argument("--record", metavar="PATH", help="append what is received (JSON Lines)")
    parser.add_argument("--json", action="store_true", help="one JSON object per callback")
    parser.set_defaults(handler=_cmd_receive)


def _cmd_receive(args: argparse.Namespace) -> int:
    from emulator import config
    from emulator.errors import UsageError
    from emulator.receiver import parse_responses, run_receiver

    if not 100 <= args.replay_status <= 599:
        raise UsageError(f"--replay-status must be from 100 to 599, got {args.replay_status}")
    try:
        responses = parse_responses(args.respond)
    except ValueError as exc:
        raise UsageError(f"--respond: {exc}") from None
    secret = config.resolve_secret(args.secret)
    try:
        run_receiver(
            secret.value,
            host=args.host,
            port=args.port,
            path=args.path,
            max_age=args.max_age or None,
            responses=responses,
            delay=args.delay,
            hang=args.hang,
            reset=args.reset,
            record=args.record,
            as_json=args.json,
            replay_status=args.replay_status,
        )
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise UsageError(f"cannot listen on {args.host}:{args.port}: {reason}") from None
    return EXIT_OK


def _add_demo(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "demo",
        help="the whole flow offline: receiver + scenario + retry timeline",
        formatter_class=_Formatter,
        description="Start a receiver on a free port of 127.0.0.1 and deliver three callbacks\n"
        "to it with ZEGO's retry schedule: one accepted at once, one refused twice then\n"
        "accepted, one refused until it is lost (62 s). Shows the live retry timeline and\n"
        "the summary, and writes a record. Takes about 10 s (--real-time: 62 s).",
    )
    pace = parser.add_mutually_exclusive_group()
    pace.add_argument(
        "--speed",
        type=_positive_float,
        default=6.2,
        metavar="X",
        help="divide every wait by X (6.2: the 62 s schedule in 10 s)",
    )
    pace.add_argument("--real-time", action="store_true", help="the true schedule (speed 1, 62 s)")
    parser.add_argument(
        "--record", metavar="PATH", help="record file (default runs/<UTC time>-demo.jsonl)"
    )
    parser.add_argument(
        "--no-live", action="store_true", help="plain lines instead of the live timeline"
    )
    parser.set_defaults(handler=_cmd_demo)


def _cmd_demo(args: argparse.Namespace) -> int:
    from emulator.demo import run_demo

    return run_demo(
        speed=1.0 if args.real_time else args.speed,
        record=args.record,
        live=False if args.no_live else None,
    )


def _add_api(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "api",
        help="a mock of ZEGO's server API that fires the matching callbacks",
        formatter_class=_Formatter,
        description="A mock of ZEGO's server API (GET /?Action=...): checks the md5 v2.0\n"
        "signature like rtc-api.zego.im, answers TranscodeMedia, MergeMedia and\n"
        "DescribeMediaTask, and when a task finishes fires its procedure/compose callback at\n"
        "--callback-url with ZEGO's retry schedule. Prints its URL first; runs until Ctrl-C.\n"
        "  ZEGO_SERVER_SECRET=... zego-emulator api --app-id 1234567890 \\\n"
        "      --callback-url http://127.0.0.1:8080/zego/callback --fail-file-ids 5285890",
    )
    _add_bind_flags(parser, default_port=8090)
    parser.add_argument(
        "--app-id", metavar="ID", help="the only AppId accepted (default: any uint32 AppId)"
    )
    parser.add_argument(
        "--server-secret",
        metavar="S",
        help="ServerSecret the md5 signature uses (prefer env ZEGO_SERVER_SECRET; without "
        "either the documented development secret is used)",
    )
    parser.add_argument(
        "--callback-url", metavar="URL", help="where finished tasks' callbacks are POSTed"
    )
    parser.add_argument(
        "--callback-secret",
        metavar="S",
        help="callback secret (prefer env ZEGO_CALLBACK_SECRET; else the development secret)",
    )
    parser.add_argument(
        "--encoding", choices=ENCODING_CHOICES, default="form", help="callback body encoding"
    )
    parser.add_argument(
        "--processing-time",
        type=_non_negative_float,
        default=5.0,
        metavar="SECONDS",
        help="emulated seconds from the API call to the task's callback",
    )
    parser.add_argument(
        "--fail-file-ids",
        default="",
        metavar="A,B",
        help="source FileIds whose tasks fail (procedure FAILED, compose code 60000)",
    )
    parser.add_argument(
        "--speed",
        type=_positive_float,
        default=1.0,
        metavar="X",
        help="divide processing time and retry gaps by X",
    )
    parser.add_argument(
        "--timeout",
        type=_positive_float,
        metavar="SECONDS",
        help="per-request callback timeout in real seconds (default 5)",
    )
    parser.add_argument("--seed", type=_int, metavar="N", help="seed for fake data")
    parser.add_argument(
        "--record", metavar="PATH", help="record every callback attempt here (JSON Lines)"
    )
    parser.set_defaults(handler=_cmd_api)


def _cmd_api(args: argparse.Namespace) -> int:
    from emulator import config
    from emulator.api import run_api

    server_secret = config.resolve_secret(
        args.server_secret, config.SERVER_SECRET_ENV, config.DEV_SERVER_SECRET, "--server-secret"
    )
    callback_secret = config.resolve_secret(
        args.callback_secret,
        config.CALLBACK_SECRET_ENV,
        config.DEV_CALLBACK_SECRET,
        "--callback-secret",
        quiet=args.callback_url is None,
    )
    return run_api(
        host=args.host,
        port=args.port,
        app_id=args.app_id,
        server_secret=server_secret,
        callback_url=args.callback_url,
        callback_secret=callback_secret,
        speed=args.speed,
        record=args.record,
        processing_time=args.processing_time,
        fail_file_ids=[f for f in (part.strip() for part in args.fail_file_ids.split(",")) if f],
        encoding=args.encoding,
        seed=args.seed,
        timeout=args.timeout,
    )


def _add_report(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "report",
        help="summarise record files; HTML timeline, JUnit XML",
        formatter_class=_Formatter,
        description="Summarise one or more record files (merged, kept apart per run):\n"
        "callbacks, delivered, lost, attempts per callback, answers seen, latency and\n"
        "schedule lateness, the recorded expectations. --html writes one self-contained\n"
        "page with a retry timeline per callback; --junit one testcase per expectation and\n"
        "per callback. Exit 0 (with --check: 1 when a recorded expectation failed).",
    )
    parser.add_argument("records", nargs="+", metavar="RECORD", help="record files (JSONL)")
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")
    parser.add_argument("--html", metavar="FILE", help="write the HTML timeline report here")
    parser.add_argument("--junit", metavar="FILE", help="write JUnit XML here")
    parser.add_argument(
        "--check", action="store_true", help="exit 1 when a recorded expectation failed"
    )
    parser.set_defaults(handler=_cmd_report)


def _cmd_report(args: argparse.Namespace) -> int:
    from emulator.report import report_command

    return report_command(
        args.records,
        as_json=args.json,
        html_path=args.html,
        junit_path=args.junit,
        check=args.check,
    )


def _add_resume(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "resume",
        help="continue the pending schedules of an interrupted run's record",
        formatter_class=_Formatter,
        description="Pick up a run that was killed or stopped mid-schedule: every callback of\n"
        "RECORD without an outcome gets its next attempt when it falls due (last request +\n"
        "the retry gap, at the run's speed), then the rest of its schedule. New attempt,\n"
        "outcome and summary lines are appended to the same record (same run id). The\n"
        "recorded bodies are re-sent as they are: no secret is needed, except for a run\n"
        "that re-signed each attempt (its secret: ZEGO_CALLBACK_SECRET or --secret).\n"
        "  zego-emulator resume runs/20240501T120000Z-retry-then-success.jsonl",
    )
    parser.add_argument("record", metavar="RECORD", help="the record file of the run")
    parser.add_argument("--target", metavar="URL", help="send here instead of the recorded target")
    parser.add_argument(
        "--speed",
        type=_positive_float,
        metavar="X",
        help="divide every wait by X (default: the run's)",
    )
    parser.add_argument("--virtual", action="store_true", help="virtual time: no waiting at all")
    parser.add_argument(
        "--timeout",
        type=_positive_float,
        metavar="SECONDS",
        help="per-request timeout in real seconds (default: the run's)",
    )
    parser.add_argument(
        "--concurrency", type=_positive_int, metavar="N", help="requests in flight at most"
    )
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")
    parser.add_argument("--ca-bundle", metavar="FILE", help="trust this CA file for HTTPS")
    parser.add_argument("--insecure", action="store_true", help="do not verify HTTPS certificates")
    parser.add_argument(
        "--secret",
        metavar="SECRET",
        help="the callback secret, only for a run that re-signed each attempt "
        "(prefer the environment variable ZEGO_CALLBACK_SECRET)",
    )
    parser.set_defaults(handler=_cmd_resume)


def _cmd_resume(args: argparse.Namespace) -> int:
    from emulator.resume import ResumeOptions, resume_command

    options = ResumeOptions(
        target=args.target,
        speed=args.speed,
        virtual=args.virtual,
        timeout=args.timeout,
        concurrency=args.concurrency,
        json=args.json,
        ca_bundle=args.ca_bundle,
        insecure=args.insecure,
        secret=args.secret,
    )
    return resume_command(args.record, options)


def _add_sign(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "sign",
        help="compute a callback signature (or, with --api, a server-API signature)",
        formatter_class=_Formatter,
        description="Callback signature (spec §2):\n"
        "  sha1_hex(join(sorted([secret, timestamp, nonce])))\n"
        "  zego-emulator sign --secret secret --timestamp 1470820198 --nonce 123412\n"
        "Server-API signature, version 2.0 (spec §5), with --api:\n"
        "  md5_hex(AppId + SignatureNonce + ServerSecret + Timestamp)\n"
        "  zego-emulator sign --api --app-id 12345 --nonce 4fd24687296dd9f3 \\\n"
        "      --secret 9193cc662a4c0ec135ec71fb57194b38 --timestamp 1615186943\n"
        "The secret may come from env ZEGO_CALLBACK_SECRET (ZEGO_SERVER_SECRET with --api).",
    )
    parser.add_argument("--secret", metavar="S", help="callback secret (server secret with --api)")
    parser.add_argument("--timestamp", required=True, metavar="T", help="Unix seconds")
    parser.add_argument(
        "--nonce", required=True, metavar="N", help="nonce (SignatureNonce with --api)"
    )
    parser.add_argument("--api", action="store_true", help="server-API signature (md5, v2.0)")
    parser.add_argument("--app-id", metavar="ID", help="AppId (with --api)")
    parser.set_defaults(handler=_cmd_sign)


def _cmd_sign(args: argparse.Namespace) -> int:
    from emulator import config, signing
    from emulator.errors import UsageError

    if args.api:
        if not args.app_id:
            raise UsageError("sign --api needs --app-id")
        secret = config.resolve_secret(
            args.secret, config.SERVER_SECRET_ENV, config.DEV_SERVER_SECRET
        )
        print(signing.api_signature(args.app_id, args.nonce, secret.value, args.timestamp))
        return EXIT_OK
    secret = config.resolve_secret(args.secret)
    print(signing.callback_signature(secret.value, args.timestamp, args.nonce))
    return EXIT_OK


def _add_verify(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "verify",
        help="decode a captured callback body and check its signature",
        formatter_class=_Formatter,
        description="Decode a captured callback body (form, json or json-urlencoded), check its\n"
        "signature and print the callback. Exit 0 when the signature is valid, 1 when it\n"
        "is wrong or missing, 2 when the body cannot be decoded.",
    )
    parser.add_argument(
        "body", nargs="?", default="-", metavar="FILE", help="the body file, or - for stdin"
    )
    _add_secret_flag(parser)
    parser.add_argument(
        "--content-type",
        metavar="CT",
        help="the request's Content-Type (default: judged from the body)",
    )
    parser.add_argument(
        "--max-age",
        type=_positive_float,
        metavar="SECONDS",
        help="also fail (exit 1) when the timestamp is more than this far from now",
    )
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    parser.set_defaults(handler=_cmd_verify)


def _cmd_verify(args: argparse.Namespace) -> int:
    from emulator import config
    from emulator.capture import verify_body_file

    secret = config.resolve_secret(args.secret, quiet=True)
    valid = verify_body_file(
        args.body, secret.value, args.content_type, as_json=args.json, max_age=args.max_age
    )
    config.resolve_secret(args.secret)  # the secret hint/note only once the body decoded
    return EXIT_OK if valid else EXIT_FAILED


def _add_schema(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser("schema", help="print the JSON Schema of scenario files")
    parser.set_defaults(handler=_cmd_schema)


def _cmd_schema(args: argparse.Namespace) -> int:
    import json

    from emulator.scenario import Scenario

    print(json.dumps(Scenario.model_json_schema(), indent=2))
    return EXIT_OK


COMMANDS = (
    _add_run,
    _add_send,
    _add_show,
    _add_receive,
    _add_demo,
    _add_api,
    _add_report,
    _add_resume,
    _add_sign,
    _add_verify,
    _add_schema,
)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="zego-emulator",
        formatter_class=_Formatter,
        description="Plays ZEGO's servers on your machine: signed, URL-encoded server callbacks\n"
        "delivered with ZEGO's exact retry schedule (2, 4, 8, 16, 32 s), every attempt\n"
        "recorded. Start with `zego-emulator demo`.",
        epilog="Exit codes: 0 ok, 1 an expectation failed, 2 bad input, 130 interrupted.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    # subcommand parsers are _Parser too (argparse makes them of the parent's class)
    sub = cast(
        "argparse._SubParsersAction[argparse.ArgumentParser]",
        parser.add_subparsers(dest="command", metavar="COMMAND"),
    )
    for add in COMMANDS:
        add(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code (the console script exits with it)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    handler: Handler | None = getattr(args, "handler", None)
    if handler is None:
        parser.print_help()
        return EXIT_BAD_INPUT
    try:
        return handler(args)
    except EmulatorError as exc:
        print(f"zego-emulator {args.command}: error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print(f"zego-emulator {args.command}: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # stdout went away (e.g. piped into `head`): not an error worth a traceback
        _silence_stdout()
        return EXIT_OK


def _silence_stdout() -> None:
    """Point stdout at /dev/null so the interpreter's final flush cannot fail again."""
    import os

    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)


def console_main() -> None:
    """Entry point of the ``zego-emulator`` console script."""
    sys.exit(main())
