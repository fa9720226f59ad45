"""``zego-emulator api``: its flags and its handler."""

from __future__ import annotations

import argparse

from emulator.cli.common import (
    ENCODING_CHOICES,
    ENCODING_HELP,
    Formatter,
    add_bind_flags,
    add_encoding_epilog,
    integer,
    non_negative_float,
    positive_float,
    speed,
)


def add_api(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "api",
        help="a mock of ZEGO's server API that fires the matching callbacks",
        formatter_class=Formatter,
        description="A mock of ZEGO's server API (GET /?Action=...): checks the md5 v2.0\n"
        "signature like rtc-api.zego.im, answers TranscodeMedia, MergeMedia and\n"
        "DescribeMediaTask, and when a task finishes fires its procedure/compose callback at\n"
        "--callback-url with ZEGO's retry schedule. With --sessions it runs a scenario's rooms\n"
        "and answers CloseRoom, KickoutUser and DeleteStream on them; StartMix/StopMix,\n"
        "StartCloudTranscode/StopCloudTranscode (POST) and StartCDNRecord/StopCDNRecord fire\n"
        "their callbacks. Prints its URL first; runs until Ctrl-C.\n"
        "Settings: flags > the --sessions scenario (secret_env:, retry:, encoding:, seed:,\n"
        "concurrency:) > the environment (ZEGO_CALLBACK_SECRET, ZEGO_SERVER_SECRET) > defaults.\n"
        "  ZEGO_SERVER_SECRET=... zego-emulator api --app-id 1234567890 \\\n"
        "      --callback-url http://127.0.0.1:8080/zego/callback --fail-file-ids 5285890",
    )
    add_bind_flags(parser, default_port=8090)
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
        "--callback-url",
        metavar="URL",
        help="where finished tasks' callbacks are POSTed",
    )
    parser.add_argument(
        "--callback-secret",
        metavar="S",
        help="callback secret (prefer env ZEGO_CALLBACK_SECRET; else the development secret)",
    )
    parser.add_argument(
        "--encoding",
        choices=ENCODING_CHOICES,
        metavar="{json,form,json-urlencoded}",
        help=f"callback {ENCODING_HELP}",
    )
    add_encoding_epilog(parser)
    parser.add_argument(
        "--processing-time",
        type=non_negative_float,
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
        type=speed,
        metavar="X",
        help="divide processing time and retry gaps by X (default 1)",
    )
    parser.add_argument(
        "--timeout",
        type=positive_float,
        metavar="SECONDS",
        help="per-request callback timeout in real seconds (default: the --sessions "
        "scenario's retry.timeout, else 5)",
    )
    parser.add_argument(
        "--ca-bundle", metavar="FILE", help="trust this CA file for an HTTPS --callback-url"
    )
    parser.add_argument(
        "--insecure", action="store_true", help="do not verify HTTPS certificates of callbacks"
    )
    parser.add_argument("--seed", type=integer, metavar="N", help="seed for fake data")
    parser.add_argument(
        "--sessions",
        metavar="SCENARIO",
        help="run this scenario file's sessions: (their callbacks go to --callback-url) and "
        "answer the room actions on them",
    )
    parser.add_argument(
        "--record", metavar="PATH", help="record every callback attempt here (JSON Lines)"
    )
    parser.set_defaults(handler=_cmd_api)


def _cmd_api(args: argparse.Namespace) -> int:
    from emulator import settings as config
    from emulator.run.api import api_settings, run_api

    scenario = None
    if args.sessions:
        from emulator.scenario.reader import load_scenario

        scenario = load_scenario(args.sessions)
    callback_secret = None
    if args.callback_secret:
        callback_secret = config.resolve_secret(
            args.callback_secret, flag_name="--callback-secret", quiet=args.callback_url is None
        )
    options = config.RunOptions(
        target=args.callback_url,
        secret=callback_secret,
        app_id=args.app_id,
        encoding=args.encoding,
        seed=args.seed,
        speed=args.speed,
        timeout=args.timeout,
        record=args.record,
        ca_bundle=args.ca_bundle,
        insecure=args.insecure,
    )
    settings = api_settings(options, scenario, args.sessions)  # a bad flag: exit 2 first
    server_secret = config.resolve_secret(
        args.server_secret, config.SERVER_SECRET_ENV, config.DEV_SERVER_SECRET, "--server-secret"
    )
    return run_api(
        settings,
        host=args.host,
        port=args.port,
        server_secret=server_secret,
        processing_time=args.processing_time,
        fail_file_ids=[f for f in (part.strip() for part in args.fail_file_ids.split(",")) if f],
        sessions=scenario.sessions if scenario is not None else [],
        out=_print_flushed,
    )


def _print_flushed(line: str) -> None:
    from emulator.term.safe import say

    say(line)  # task ids, FileIds and the like come from the network
