"""Live pages at scale: 500 open pages pushed over Server-Sent Events, on SQLite and PostgreSQL.

Real: gunicorn with the Procfile's web command (its worker class; POMS_BENCH_WORKER_CLASS
overrides it to compare, e.g. gevent), a real Redis, the database seeded as
benchmarks/concurrent_pages.py does (the tutorial campaign, 1,000 active submissions and one
10,000-job submission), the app's own commit hook publishing what changed, and, for the
update latency, Chromium (Playwright) showing real submission pages.
Synthesised: the viewers (benchmarks/support/viewers.py: each holds a page's event stream
and makes the fragment fetches htmx would on each event; no browser renders them; 70 %
submission pages, 20 % dashboards, 10 % campaign overviews), and the job changes: this
process moves submissions' job counters (and now and then a state) through the ORM, as
tracking's recount does, committing every 0.1 s, so no batch engine runs.

Prints `BENCH <name> <value> <unit>` lines, per database (and `_<class>` when overridden):
  live_viewers_p99_ms_<db>  p99 of every request the viewers made (streams opened and the
                            fragment fetches) while 100 job changes/s ran (goal < 50 ms)
  live_viewers_requests_per_s_<db>, live_viewers_events_per_s_<db>
  live_update_p99_s_<db>    a submission's state committed -> Chromium's page shows it, on
                            a sample of pages under that load (goal < 1 s)
  idle_cpu_pct_<db>         the gunicorn processes' CPU with every page open and nothing
                            changing, % of one core (goal < 5)
Sizes: POMS_BENCH_VIEWERS (500), POMS_BENCH_ACTIVE (1000), POMS_BENCH_CHANGES_PER_S (100),
POMS_BENCH_SECONDS (30), POMS_BENCH_SAMPLE_PAGES (8). The machine is shared and has 2 cores:
the viewers' process and Chromium run on the same cores as the server.
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
            pages.append({"topics": [f"submission-{sid}", f"submission-{sid}-state"], "fetch": {
                f"submission-{sid}": [f"{sub}/summary", f"{sub}/jobs",
                                      f"/e/mu2e/results/submission/{sid}/summary"],
                f"submission-{sid}-state": [f"{sub}/history"]}})
        elif kind < 9:
            pages.append({"topics": ["experiment"], "fetch": {"experiment": [
                "/e/mu2e/dashboard/live", "/e/mu2e/attention", "/e/mu2e/campaigns/at-a-glance"]}})
        else:
            pages.append({"topics": [f"campaign-{campaign_id}"], "fetch": {
                f"campaign-{campaign_id}": [f"/e/mu2e/campaign/{campaign_id}/overview/live"]}})
    return {"base": base, "cookies": cookies, "pages": pages}


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


def update_latencies(app, base: str, cookies: dict, samples: list[int]) -> list[float]:
    """Chromium on SAMPLE submission pages: state committed -> the page shows it (s)."""
    from playwright.sync_api import sync_playwright

    from app import states
    from app.extensions import db
    from app.models import Submission
    from tests.fixtures.browser import CHROMIUM_ARGS, find_chromium

    found = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=find_chromium(), headless=True,
                                             args=CHROMIUM_ARGS)
        pages = []
        for sid in samples:
            # A context each: over HTTP/1.1 a browser holds at most 6 connections per host,
            # and every live page keeps one (docs/live.md).
            context = browser.new_context()
            context.add_cookies([{"name": k, "value": v, "url": base}
                                 for k, v in cookies.items()])
            page = context.new_page()
            page.goto(f"{base}/e/mu2e/submission/{sid}", wait_until="domcontentloaded",
                      timeout=120_000)
            page.wait_for_selector("body[data-live-mode=push]", timeout=120_000)
            pages.append((sid, page))
        with app.app_context():
            for _ in range(3):
                for sid, page in pages:
                    submission = db.session.get(Submission, sid)
                    target = states.HELD if submission.state != states.HELD else states.RUNNING
                    states.transition(submission, target, "benchmark")
                    db.session.commit()
                    committed = time.time()
                    page.wait_for_function(
                        "s => document.querySelector('#submission-state')"
                        "?.textContent.includes(s)", arg=target, polling=20, timeout=30_000)
                    found.append(time.time() - committed)
            db.session.remove()
        browser.close()
    return found


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
    viewers = None
    try:
        cookies = sign_in(base)
        plan_file = tmp / "plan.json"
        plan_file.write_text(json.dumps(plan(base, cookies, campaign_id, active)))
        viewers = subprocess.Popen(
            [sys.executable, str(ROOT / "benchmarks" / "support" / "viewers.py"), str(plan_file)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=ROOT)
        ready = viewers.stdout.readline().split()
        if ready[:1] != ["READY"] or int(ready[1]) < VIEWERS:
            raise SystemExit(f"the viewers did not all connect: {ready}")
        time.sleep(2)
        before = cpu_seconds(server.pid)
        time.sleep(IDLE_SECONDS)
        idle = (cpu_seconds(server.pid) - before) / IDLE_SECONDS * 100
        changes = Changes(app, active)
        load_started = time.time()
        changes.start()
        time.sleep(SECONDS / 2)
        updates = update_latencies(app, base, cookies, samples)
        time.sleep(max(0.0, SECONDS - (time.time() - load_started)))
        load_ended = time.time()
        changes.stop.set()
        changes.join()
        viewers.stdin.write("STOP\n")
        viewers.stdin.flush()
        result = json.loads(viewers.stdout.readline())
    finally:
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
    bench(f"live_update_p99_s{suffix}_{kind}", lb.percentile(updates, 99), "s")
    bench(f"idle_cpu_pct{suffix}_{kind}", idle, "%")


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="poms-bench-") as tmpdir:
        return each_database("live_pages", Path(tmpdir), run)


if __name__ == "__main__":
    sys.exit(main())
