"""The swarm benchmark's gevent baseline: a bare geventhttpclient loop, in its own process.

    python -m bench.gevent_loop URL REQUESTS    # prints "<requests/s> <CPU µs a request>"

One pre-built callback body POSTed ``REQUESTS`` times, 100 greenlets at a time over one
keep-alive pool: what the stack a swarm worker sends on (gevent + geventhttpclient, as in
Locust's FastHttpUser) does here with nothing else to do — no generating, signing,
recording or statistics. A process of its own: gevent patches the standard library first.
"""

from gevent import monkey

monkey.patch_all()

import sys  # noqa: E402
import time  # noqa: E402

import gevent.pool  # noqa: E402
from geventhttpclient import HTTPClient  # noqa: E402
from geventhttpclient.url import URL  # noqa: E402

CONCURRENCY = 100


def main() -> None:
    url, requests = URL(sys.argv[1]), int(sys.argv[2])
    from emulator.callback.factory import CallbackFactory

    factory = CallbackFactory(seed=1, app_id="1234567890")
    content_type, body = factory.callback(factory.procedure(), "s", encoding="json").body()
    client = HTTPClient.from_url(url, concurrency=CONCURRENCY)
    headers = {"Content-Type": content_type}

    def post() -> None:
        response = client.request("POST", url.request_uri, body, headers)
        response.read()
        response.release()

    pool = gevent.pool.Pool(CONCURRENCY)
    for _ in range(2 * CONCURRENCY):  # warm the connections
        pool.spawn(post)
    pool.join()
    started, cpu = time.perf_counter(), time.process_time()
    for _ in range(requests):
        pool.spawn(post)
    pool.join()
    wall, cpu = time.perf_counter() - started, time.process_time() - cpu
    print(f"{requests / wall:.1f} {cpu / requests * 1e6:.1f}", flush=True)


if __name__ == "__main__":
    main()
