"""Live pages at scale: 500 open pages pushed over Server-Sent Events, on SQLite and PostgreSQL.

Real: gunicorn with the Procfile's web command (its worker class; POMS_BENCH_WORKER_CLASS
overrides it to compare, e.g. gevent), a real Redis, the database seeded as
benchmarks/concurrent_pages.py does (the tutorial campaign, 1,000 active submissions and one
10,000-job submission), the app's own commit hook publishing what changed, and, for the
update latency, Chromium (Playwright) showing real submission pages.
Synthesised: the viewers (benchmarks/support/viewers.py: each holds a page's event stream
and makes the fetches the page would on each event, saying back what the event covers as
app/static/live.js does; no browser renders them; 70 % submission pages (the summary, which
brings the jobs table and the results summary along; the history and the recovery panel on
a state change), 20 %
dashboards (the live section, which brings the other two along), 10 % campaign overviews),
and the job changes: this
process moves submissions' job counters (and now and then a state) through the ORM, as
tracking's recount does, committing every 0.1 s, so no batch engine runs.

Prints `BENCH <name> <value> <unit>` lines, per database (and `_<class>` when overridden):
  live_viewers_p99_ms_<db>  p99 of every request the viewers made (streams opened and the
                            fragment fetches) while 100 job changes/s ran (goal < 50 ms):
                            from the viewer sending it to the answer read whole, timed in
                            the viewers' process, so it includes the loopback network, any
                            wait for that process's own event loop, and every wait for a
                            CPU that the server, the viewers, Chromium, this process's
                            commits and whatever else runs on the machine share
  live_viewers_requests_per_s_<db>, live_viewers_events_per_s_<db>
  live_update_p99_s_<db>    a submission's state committed -> Chromium's page shows it, on
                            a sample of pages under that load (goal < 1 s)
  live_server_cpu_pct_<db>, live_viewers_cpu_pct_<db>: CPU of gunicorn (master and
                            workers) and of the viewers' process under that load, % of one
                            core (the machine has two): whose saturation the p99 shows
  idle_cpu_pct_<db>         the gunicorn processes' CPU with every page open and nothing
                            changing, % of one core (goal < 5)
Sizes: POMS_BENCH_VIEWERS (500), POMS_BENCH_ACTIVE (1000), POMS_BENCH_CHANGES_PER_S (100),
POMS_BENCH_SECONDS (30), POMS_BENCH_SAMPLE_PAGES (8); POMS_BENCH_LATENCIES=FILE writes every
request's (start, ms, path) to FILE.<db>.json. The machine is shared and has 2 cores:
the viewers' process and Chromium run on the same cores as the server. Chromium starts and
opens its pages before the idle figure and the load (its own start-up is no part of either),
and each kind of fetch is asked a few times first, so every worker has compiled its
templates and queries.
"""
from __future__ import annotations

import importlib.util
import json
import os
import random
import re
import shlex
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from benchmarks.support import each_database  # noqa: E402

VIEWERS = int(os.environ.get("POMS_BENCH_VIEWERS", "500"))
CHANGES = int(os.environ.get("POMS_BENCH_CHANGES_PER_S", "100"))
SECONDS = float(os.environ.get("POMS_BENCH_SECONDS", "30"))
SAMPLE = int(os.environ.get("POMS_BENCH_SAMPLE_PAGES", "8"))
WORKER_CLASS = os.environ.get("POMS_BENCH_WORKER_CLASS", "")
IDLE_SECONDS = float(os.environ.get("POMS_BENCH_IDLE_SECONDS", "20"))


def _bench_module(name: str):
    spec = importlib.util.spec_from_file_location(f"bench_{name}", ROOT / "benchmarks" /
                                                  f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def bench(name: str, value: float, unit: str) -> None:
    print(f"BENCH {name} {value:.4g} {unit}", flush=True)


def web_argv(port: int) -> list[str]:
    line = next(line for line in (ROOT / "Procfile").read_text().splitlines()
                if line.startswith("web:"))
    argv = [f"127.0.0.1:{port}" if "POMS_BIND" in arg else arg
            for arg in shlex.split(line.split(":", 1)[1])[1:]]
    if WORKER_CLASS:
        at = argv.index("--worker-class")
        argv[at + 1] = WORKER_CLASS
        if WORKER_CLASS == "gevent":  # a greenlet per open page: bounded by connections
            argv += ["--worker-connections", "2000"]
    return [str(Path(sys.executable).parent / "gunicorn"), *argv, "--log-level", "warning"]


def serve(env: dict, port: int) -> subprocess.Popen:
    process = subprocess.Popen(web_argv(port), cwd=ROOT, env=env, start_new_session=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            requests.get(f"http://127.0.0.1:{port}/login", timeout=10)
            return process
        except requests.RequestException:
            time.sleep(0.3)
    os.killpg(process.pid, signal.SIGKILL)
    raise SystemExit("gunicorn did not answer within 60 s")


def cpu_seconds(root_pid: int) -> float:
    """utime + stime of gunicorn's master and its workers."""
    total = 0.0
    tick = os.sysconf("SC_CLK_TCK")
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        pid, ppid = int(entry.name), int(fields[1])
        if pid == root_pid or ppid == root_pid:
            total += (int(fields[11]) + int(fields[12])) / tick
    return total


def sign_in(base: str) -> dict:
    session = requests.Session()
    form = session.get(f"{base}/login", timeout=30).text
    token = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)
    session.post(f"{base}/login", data={"username": "alice", "csrf_token": token}, timeout=30)
    return session.cookies.get_dict()


def plan(base: str, cookies: dict, campaign_id: int, active: list[int]) -> dict:
    pages = []
    for n in range(VIEWERS):
        kind = n % 10
        if kind < 7:
            sid = active[n % len(active)]
            sub = f"/e/mu2e/submission/{sid}"
            # The summary brings the jobs table (as the page left it: all, page 1) and the
            # results summary along.
            pages.append({"topics": [f"submission-{sid}", f"submission-{sid}-state"], "fetch": {
                f"submission-{sid}": [f"{sub}/summary?along=1&jobs_state=&jobs_page=1"],
                f"submission-{sid}-state": [f"{sub}/history",
                                            f"/e/mu2e/submission/{sid}/recovery"]}})
        elif kind < 9:
            # The dashboard's live section brings needs attention and the campaigns along.
            pages.append({"topics": ["experiment"], "fetch": {"experiment": [
                "/e/mu2e/dashboard/live?along=1"]}})
        else:
            pages.append({"topics": [f"campaign-{campaign_id}"], "fetch": {
                f"campaign-{campaign_id}": [f"/e/mu2e/campaign/{campaign_id}/overview/live"]}})
    return {"base": base, "cookies": cookies, "pages": pages}


def warm(base: str, cookies: dict, planned: dict) -> None:
    """Each kind of fetch asked a few times over fresh connections, so that every worker
    has compiled its templates and queries before anything is timed (a server answers many
    requests per start; benchmarks/pages.py does the same)."""
    kinds = {}
    for page in planned["pages"]:
        for paths in page["fetch"].values():
            for path in paths:
                kinds.setdefault(re.sub(r"/\d+", "/N", path), path)
    for path in kinds.values():
        for _ in range(12):  # a new connection each: gunicorn spreads them over its workers
            requests.get(base + path, cookies=cookies, headers={"HX-Request": "true",
                                                                 "Connection": "close"},
                         timeout=60)


class Changes(threading.Thread):
    """CHANGES job changes a second: a job of a random active submission moves from running
    to done (and its submission between Running and Held now and then), one commit per
    0.1 s, through the ORM as tracking's recount does."""

    def __init__(self, app, active: list[int]):
        super().__init__(daemon=True)
        self.app, self.active, self.stop = app, active, threading.Event()

    def run(self) -> None:
        from app.extensions import db
        from app.models import Submission

        per_tick = max(1, CHANGES // 10)
        with self.app.app_context():
            while not self.stop.is_set():
                started = time.monotonic()
                for sid in random.sample(self.active, per_tick):
                    submission = db.session.get(Submission, sid)
                    if submission.jobs_running == 0:
                        submission.jobs_running, submission.jobs_done = 100, 0
                    submission.jobs_running -= 1
                    submission.jobs_done += 1
                db.session.commit()
                self.stop.wait(max(0.0, 0.1 - (time.monotonic() - started)))
            db.session.remove()


class SamplePages:
    """Chromium on SAMPLE submission pages, opened before the load starts (a browser's own
    start-up is not what the viewers' figure is about), then: state committed -> the page
    shows it (s)."""

    def __init__(self, base: str, cookies: dict, samples: list[int]):
        from playwright.sync_api import sync_playwright

        from tests.fixtures.browser import CHROMIUM_ARGS, find_chromium

        self.playwright = sync_playwright().start()
        self.browser = self.playwright.chromium.launch(
            executable_path=find_chromium(), headless=True, args=CHROMIUM_ARGS)
        self.pages = []
        for sid in samples:
            # A context each: over HTTP/1.1 a browser holds at most 6 connections per host,
            # and every live page keeps one (docs/live.md).
            context = self.browser.new_context()
            context.add_cookies([{"name": k, "value": v, "url": base}
                                 for k, v in cookies.items()])
            page = context.new_page()
            page.goto(f"{base}/e/mu2e/submission/{sid}", wait_until="domcontentloaded",
                      timeout=120_000)
            page.wait_for_selector("body[data-live-mode=push]", timeout=120_000)
            self.pages.append((sid, page))

    # Each page notes (its own clock: the machine's) when its state shows a new word: the
    # measuring asks the browser 5 times a second instead of running a check in every page
    # every few milliseconds, which took CPU from the server it measures.
    WATCH = """() => {
      window.poms_shown = {};
      new MutationObserver(() => {
        const text = document.querySelector('#submission-state')?.textContent || '';
        for (const word of ['Held', 'Running']) {
          if (text.includes(word) && !(word in window.poms_shown)) {
            window.poms_shown[word] = Date.now() / 1000;
          }
        }
      }).observe(document.body, {childList: true, subtree: true, characterData: true});
    }"""

    def update_latencies(self, app) -> list[float]:
        from app import states
        from app.extensions import db
        from app.models import Submission

        found = []
        with app.app_context():
            for _ in range(3):
                for sid, page in self.pages:
                    submission = db.session.get(Submission, sid)
                    target = states.HELD if submission.state != states.HELD else states.RUNNING
                    page.evaluate(self.WATCH)
                    states.transition(submission, target, "benchmark")
                    db.session.commit()
                    committed = time.time()
                    deadline = committed + 30
                    while True:
                        shown = page.evaluate("s => window.poms_shown[s]", target)
                        if shown is not None:
                            found.append(shown - committed)
                            break
                        if time.time() > deadline:
                            raise SystemExit(f"submission {sid}'s page never showed {target}")
                        time.sleep(0.2)
            db.session.remove()
        return found

    def close(self) -> None:
        self.browser.close()
        self.playwright.stop()


def run(kind: str, database_url: str, tmp: Path) -> None:
    from sqlalchemy import select

    from app import create_app
    from app.extensions import db
    from app.models import Campaign, Submission
    from tests.fixtures.redis_server import start_redis_server

    tmp.mkdir(parents=True)
    lb = _bench_module("launching")
    os.environ["POMS_LIVE_PUSH"] = "0"  # the seed's commits tell nobody: no Redis yet
    try:
        _bench_module("concurrent_pages").seed(database_url, tmp)
    finally:
        del os.environ["POMS_LIVE_PUSH"]
    redis = start_redis_server("redis-server", tmp)
    env = {**os.environ, "POMS_DATABASE_URL": database_url, "POMS_SECRET_KEY": "bench",
           "POMS_REDIS_URL": redis.url, "POMS_BATCH_DIR": str(tmp / "batch"),
           "POMS_LAUNCH_DIR": str(tmp / "launches")}
    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "SECRET_KEY": "bench",
                      "POMS_REDIS_URL": redis.url, "POMS_BATCH_DIR": str(tmp / "batch"),
                      "POMS_LAUNCH_DIR": str(tmp / "launches")})
    with app.app_context():
        campaign_id = db.session.scalar(select(Campaign.id))
        active = list(db.session.scalars(select(Submission.id).where(
            Submission.state.in_(("Running", "Idle", "Held")), Submission.jobs_total == 100)))
        db.session.remove()
    samples, active = active[:SAMPLE], active[SAMPLE:]
    port = _bench_module("concurrent_pages").free_port()
    server = serve(env, port)
    base = f"http://127.0.0.1:{port}"
    suffix = f"_{WORKER_CLASS}" if WORKER_CLASS else ""
    viewers = browsers = None
    try:
        cookies = sign_in(base)
        planned = plan(base, cookies, campaign_id, active)
        warm(base, cookies, planned)
        plan_file = tmp / "plan.json"
        plan_file.write_text(json.dumps(planned))
        viewers = subprocess.Popen(
            [sys.executable, str(ROOT / "benchmarks" / "support" / "viewers.py"), str(plan_file)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=ROOT)
        ready = viewers.stdout.readline().split()
        if ready[:1] != ["READY"] or int(ready[1]) < VIEWERS:
            raise SystemExit(f"the viewers did not all connect: {ready}")
        browsers = SamplePages(base, cookies, samples)
        time.sleep(2)
        before = cpu_seconds(server.pid)
        time.sleep(IDLE_SECONDS)
        idle = (cpu_seconds(server.pid) - before) / IDLE_SECONDS * 100
        changes = Changes(app, active)
        load_started = time.time()
        server_cpu, viewers_cpu = cpu_seconds(server.pid), cpu_seconds(viewers.pid)
        changes.start()
        time.sleep(SECONDS / 2)
        updates = browsers.update_latencies(app)
        time.sleep(max(0.0, SECONDS - (time.time() - load_started)))
        load_ended = time.time()
        server_cpu = cpu_seconds(server.pid) - server_cpu
        viewers_cpu = cpu_seconds(viewers.pid) - viewers_cpu
        changes.stop.set()
        changes.join()
        viewers.stdin.write("STOP\n")
        viewers.stdin.flush()
        result = json.loads(viewers.stdout.readline())
    finally:
        if browsers is not None:
            browsers.close()
        if viewers is not None and viewers.poll() is None:
            viewers.kill()
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
        redis.stop()
        with app.app_context():
            db.engine.dispose()
    during = [ms for started, ms, _ in result["latencies"]
              if load_started <= started <= load_ended]
    if result["error_count"]:
        print(f"live_pages: {result['error_count']} failed requests, e.g. {result['errors'][:3]}",
              file=sys.stderr)
    bench(f"live_viewers_p99_ms{suffix}_{kind}", lb.percentile(during, 99), "ms")
    seconds = load_ended - load_started
    bench(f"live_viewers_requests_per_s{suffix}_{kind}", len(during) / seconds, "requests/s")
    bench(f"live_viewers_events_per_s{suffix}_{kind}", result["events"] / seconds, "events/s")
    bench(f"live_server_cpu_pct{suffix}_{kind}", server_cpu / seconds * 100, "%")
    bench(f"live_viewers_cpu_pct{suffix}_{kind}", viewers_cpu / seconds * 100, "%")
    if os.environ.get("POMS_BENCH_LATENCIES"):  # every request, to see when the slow ones were
        Path(os.environ["POMS_BENCH_LATENCIES"]).with_suffix(f".{kind}.json").write_text(
            json.dumps({"load": [load_started, load_ended], "latencies": result["latencies"]}))
    by_path: dict[str, list[float]] = {}
    for started, ms, path in result["latencies"]:
        if load_started <= started <= load_ended:
            by_path.setdefault(re.sub(r"/\d+", "/N", path), []).append(ms)
    for path, times in sorted(by_path.items()):
        print(f"live_pages: {path}: {len(times)} requests, p50 {lb.percentile(times, 50):.0f} "
              f"ms, p99 {lb.percentile(times, 99):.0f} ms", file=sys.stderr)
    bench(f"live_update_p99_s{suffix}_{kind}", lb.percentile(updates, 99), "s")
    bench(f"idle_cpu_pct{suffix}_{kind}", idle, "%")


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="poms-bench-") as tmpdir:
        return each_database("live_pages", Path(tmpdir), run)


if __name__ == "__main__":
    sys.exit(main())
