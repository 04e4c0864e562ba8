"""Dashboard and fragment latency under 50 concurrent users, on SQLite and PostgreSQL.

The service runs as in production (gunicorn, 4 workers, `wsgi:app`) on a database holding
1,000 active submissions and one 10,000-job submission; 50 signed-in users on loopback each
load the dashboard and the fragments its pages poll, as fast as answers come.

Prints `BENCH <name> <value> <unit>` lines:
  concurrent50_dashboard_p50_ms_<db> / _p99_ms_<db>
  concurrent50_fragment_p50_ms_<db> / _p99_ms_<db>
  concurrent50_requests_per_s_<db>
Sizes: POMS_BENCH_USERS (50), POMS_BENCH_REQUESTS_PER_USER (20), POMS_BENCH_ACTIVE (1000).
"""
from __future__ import annotations

import importlib.util
import os
import re
import signal
import socket
import statistics
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

USERS = int(os.environ.get("POMS_BENCH_USERS", "50"))
PER_USER = int(os.environ.get("POMS_BENCH_REQUESTS_PER_USER", "20"))


def _launching_bench():
    """benchmarks/launching.py: its app set-up and its page-latency data are reused."""
    spec = importlib.util.spec_from_file_location("bench_launching", ROOT / "benchmarks" /
                                                  "launching.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def bench(name: str, value: float, unit: str) -> None:
    print(f"BENCH {name} {value:.4g} {unit}", flush=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def seed(database_url: str, tmp: Path) -> int:
    """Migrate, load the tutorial and the page data; the 10,000-job submission's id."""
    import flask_migrate
    from sqlalchemy import select

    from app import create_app
    from app.extensions import db
    from app.models import Submission

    lb = _launching_bench()
    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "SECRET_KEY": "bench",
                      "POMS_BATCH_DIR": str(tmp / "batch"),
                      "POMS_LAUNCH_DIR": str(tmp / "launches"), "WTF_CSRF_ENABLED": False})
    with app.app_context():
        flask_migrate.upgrade(directory=str(ROOT / "migrations"))
        campaign = lb.tutorial()
        lb.REQUESTS = 1  # only its data: the timing here is this file's
        lb.bench = lambda *args: None
        lb.page_latency(app, campaign)
        big = db.session.scalar(select(Submission.id).where(Submission.jobs_total == 10000))
        db.session.remove()
        db.engine.dispose()
    return big


def serve(database_url: str, tmp: Path, port: int) -> subprocess.Popen:
    env = {**os.environ, "POMS_DATABASE_URL": database_url, "POMS_SECRET_KEY": "bench",
           "POMS_BATCH_DIR": str(tmp / "batch"), "POMS_LAUNCH_DIR": str(tmp / "launches")}
    process = subprocess.Popen(
        [str(Path(sys.executable).parent / "gunicorn"), "--workers", "4", "--bind",
         f"127.0.0.1:{port}", "--log-level", "warning", "wsgi:app"],
        cwd=ROOT, env=env, start_new_session=True,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            requests.get(f"http://127.0.0.1:{port}/login", timeout=10)
            return process
        except requests.RequestException:  # not listening yet, or workers still starting
            time.sleep(0.5)
    os.killpg(process.pid, signal.SIGKILL)
    raise SystemExit("gunicorn did not answer within 60 s")


def load(base: str, big: int) -> tuple[list[float], list[float], float]:
    dashboard: list[float] = []
    fragments: list[float] = []
    lock = threading.Lock()
    sub = f"/e/mu2e/submission/{big}"
    urls = ["/e/mu2e/dashboard", "/e/mu2e/dashboard/live", f"{sub}/summary", f"{sub}/jobs",
            f"{sub}/jobs?state=Running&page=50", f"{sub}/history"]

    def user(n: int) -> None:
        session = requests.Session()
        form = session.get(f"{base}/login", timeout=30).text
        token = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)
        session.post(f"{base}/login", data={"username": "alice", "csrf_token": token},
                     timeout=30)
        for i in range(PER_USER):
            url = urls[(n + i) % len(urls)]
            started = time.perf_counter()
            response = session.get(base + url, headers={"HX-Request": "true"}, timeout=60)
            elapsed = (time.perf_counter() - started) * 1000
            if response.status_code != 200:
                raise SystemExit(f"{url}: HTTP {response.status_code}")
            with lock:
                (dashboard if url == "/e/mu2e/dashboard" else fragments).append(elapsed)

    threads = [threading.Thread(target=user, args=(n,)) for n in range(USERS)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return dashboard, fragments, (len(dashboard) + len(fragments)) / (time.perf_counter() - started)


def run(kind: str, database_url: str, tmp: Path) -> None:
    tmp.mkdir(parents=True)
    lb = _launching_bench()
    big = seed(database_url, tmp)
    port = free_port()
    server = serve(database_url, tmp, port)
    try:
        dashboard, fragments, rate = load(f"http://127.0.0.1:{port}", big)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
    bench(f"concurrent{USERS}_dashboard_p50_ms_{kind}", statistics.median(dashboard), "ms")
    bench(f"concurrent{USERS}_dashboard_p99_ms_{kind}", lb.percentile(dashboard, 99), "ms")
    bench(f"concurrent{USERS}_fragment_p50_ms_{kind}", statistics.median(fragments), "ms")
    bench(f"concurrent{USERS}_fragment_p99_ms_{kind}", lb.percentile(fragments, 99), "ms")
    bench(f"concurrent{USERS}_requests_per_s_{kind}", rate, "requests/s")


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="poms-bench-") as tmpdir:
        return each_database("concurrent_pages", Path(tmpdir), run)


if __name__ == "__main__":
    sys.exit(main())
