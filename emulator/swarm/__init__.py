"""Load past one machine: our callbacks on Locust's distributed runner (extra ``[locust]``).

    zego-emulator swarm --target URL --rate 2000 --duration 60 --workers 2

One master and N worker processes, over Locust's ZeroMQ protocol (``--master`` /
``--worker`` put them on different machines). The master sends every worker its share of
the work (:mod:`emulator.swarm.plan`); each worker runs one Locust user that starts
callbacks at its share of the rate — an open model: each callback's schedule (ZEGO's
retries, divided by ``--speed``) runs in a greenlet of its own, so retries never slow the
arrivals. Every attempt goes to Locust's statistics (UI, ``--csv``, ``--html``) and to the
worker's own record shard, a record file like any other (``report``, ``resume``).

Locust runs on gevent, which must not meet our asyncio delivery stack: the worker side
reuses only the pure core (factory, signing, wire encoding, the retry policy's gaps, the
record lines) and sends with geventhttpclient. Which modules need what:

* ``plan``, ``shard``, ``tally`` — pure; imported by the command line too.
* ``sender``, ``schedule`` — gevent, no Locust.
* ``user``, ``worker``, ``master`` — Locust; only ever imported by ``python -m emulator.swarm``
  (a fresh process, so gevent patches the standard library before anything else loads).
"""

from __future__ import annotations

import importlib.util

EXTRA_MISSING = (
    "swarm needs Locust, which is not installed: pip install 'zego-callback-emulator[locust]'"
)


def locust_installed() -> bool:
    """True when Locust (and so gevent and geventhttpclient) can be imported."""
    return all(
        importlib.util.find_spec(name) is not None
        for name in ("locust", "gevent", "geventhttpclient")
    )
