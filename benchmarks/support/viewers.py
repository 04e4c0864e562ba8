"""Synthesised viewers of live pages, for benchmarks/live_pages.py (run as a process).

Each viewer is what a browser's live page does on the wire: one Server-Sent Events stream
for its page's topics, and on each event the fragment fetches htmx would make for it
(`hx-trigger="sse:<topic>"`), with the header app/static/live.js adds. No browser renders
anything. gevent greenlets, so 500 viewers cost this process little: a stream's chunks are
read as they come (not byte by byte) and each fetch is one requests call; what the timings
include is said in benchmarks/live_pages.py.

    python benchmarks/support/viewers.py PLAN.json
PLAN: {"base": url, "cookies": {...}, "pages": [{"topics": [...], "fetch": {topic: [path]}}]}
Prints READY once every stream is open; on a line `STOP` on stdin prints one JSON line:
{"latencies": [[started_epoch, ms, path], ...], "events": n, "errors": [...]}
"""
from gevent import monkey

monkey.patch_all()

import json  # noqa: E402
import os  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

import gevent  # noqa: E402
import requests  # noqa: E402
from requests.adapters import HTTPAdapter  # noqa: E402
from urllib3.util.retry import Retry  # noqa: E402


def main() -> None:
    plan = json.loads(open(sys.argv[1]).read())
    base, cookies = plan["base"], plan["cookies"]
    latencies, errors = [], []
    events = [0]
    opened = []

    def timed(session, path, stream=False, cover=None):
        headers = {"HX-Request": "true"}
        if cover:  # what the event covers, said back as app/static/live.js does
            headers["X-POMS-Live-Cover"] = cover
        started = time.time()
        t0 = time.perf_counter()
        response = session.get(base + path, headers=headers, stream=stream, timeout=120)
        latencies.append((started, (time.perf_counter() - t0) * 1000, path.split("?")[0]))
        if response.status_code != 200:
            errors.append(f"{path}: HTTP {response.status_code}")
        elif not stream:
            response.close()  # the body was read: stream=False reads it before returning
        return response

    def viewer(page):
        session = requests.Session()
        # A kept-alive connection the server has just closed is tried again, as browsers do.
        retry = Retry(total=2, connect=2, read=2, status=0, allowed_methods=["GET"])
        session.mount("http://", HTTPAdapter(pool_connections=2, pool_maxsize=4,
                                             max_retries=retry))
        session.cookies.update(cookies)
        url = "/e/mu2e/live?" + "&".join(f"topic={t}" for t in page["topics"])
        try:
            response = timed(session, url, stream=True)
            opened.append(1)
            name = cover = None
            for line in response.iter_lines(chunk_size=None):  # each chunk as it comes
                if line.startswith(b"event: "):
                    name = line[7:].decode()
                elif line.startswith(b"data: "):
                    said = line[6:].decode().split()
                    cover = said[1] if len(said) == 2 else None
                elif not line and name:
                    events[0] += 1
                    for path in page["fetch"].get(name, []):
                        gevent.spawn(timed, session, path, cover=cover)
                    name = cover = None
        except Exception as err:  # a benchmark says what broke and goes on
            errors.append(f"{url}: {err!r}")

    greenlets = []
    for page in plan["pages"]:
        greenlets.append(gevent.spawn(viewer, page))
        gevent.sleep(0.005)  # a ramp, not a stampede
    deadline = time.time() + 120
    while len(opened) < len(plan["pages"]) and time.time() < deadline:
        gevent.sleep(0.1)
    print("READY", len(opened), flush=True)
    gevent.get_hub().threadpool.spawn(sys.stdin.readline).get()
    print(json.dumps({"latencies": latencies, "events": events[0], "errors": errors[:20],
                      "error_count": len(errors)}), flush=True)
    sys.stdout.flush()
    os._exit(0)  # the streams' greenlets would otherwise keep the process


if __name__ == "__main__":
    main()
