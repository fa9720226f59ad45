"""``zego-emulator sign``: its flags and its handler."""

from __future__ import annotations

import argparse

from emulator.cli.common import Formatter
from emulator.errors import EXIT_OK


def add_sign(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "sign",
        help="compute a callback signature (or, with --api, a server-API signature)",
        formatter_class=Formatter,
        description="Callback signature (ZEGO's 'Signature verification' page):\n"
        "  sha1_hex(join(sorted([secret, timestamp, nonce])))\n"
        "  zego-emulator sign --secret secret --timestamp 1470820198 --nonce 123412\n"
        "Server-API signature, version 2.0 (ZEGO's 'Accessing server APIs' page), with --api:\n"
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
    from emulator import settings as config
    from emulator import signing
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
