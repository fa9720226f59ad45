"""``python -m emulator.swarm master|worker``: one swarm process, gevent-patched first.

Started by ``zego-emulator swarm`` (see :mod:`emulator.swarm.launch`), never by hand:
the master reads its plan and options as JSON on stdin; a worker takes
``--master-host HOST --master-port P --record-dir DIR``.
"""

from gevent import monkey

monkey.patch_all()  # before anything else imports socket, ssl, threading, ...

import argparse  # noqa: E402
import sys  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    """Run the master or a worker; the exit code."""
    parser = argparse.ArgumentParser(prog="python -m emulator.swarm")
    roles = parser.add_subparsers(dest="role", required=True)
    roles.add_parser("master", help="read the plan and options on stdin")
    worker = roles.add_parser("worker", help="connect to a master")
    worker.add_argument("--master-host", required=True)
    worker.add_argument("--master-port", type=int, required=True)
    worker.add_argument("--record-dir", required=True)
    args = parser.parse_args(argv)
    if args.role == "master":
        from emulator.swarm.launch import read_master_input
        from emulator.swarm.master import run_master

        try:
            plan, options = read_master_input(sys.stdin.read())
        except ValueError as exc:
            from emulator.term.safe import safe, say

            say(f"zego-emulator swarm: error: {safe(exc)}", file=sys.stderr)
            return 2
        return run_master(plan, options)
    from emulator.swarm.worker import run_worker

    return run_worker(args.master_host, args.master_port, args.record_dir)


if __name__ == "__main__":
    sys.exit(main())
