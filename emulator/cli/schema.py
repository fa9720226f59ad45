"""``zego-emulator schema``: its flags and its handler."""

from __future__ import annotations

import argparse

from emulator.errors import EXIT_OK


def add_schema(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser("schema", help="print the JSON Schema of scenario files")
    parser.set_defaults(handler=_cmd_schema)


def _cmd_schema(args: argparse.Namespace) -> int:
    import json

    from emulator.scenario.schema import scenario_json_schema

    print(json.dumps(scenario_json_schema(), indent=2))
    return EXIT_OK
