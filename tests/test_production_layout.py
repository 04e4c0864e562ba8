"""The production layout of the Procfile, started for real: PostgreSQL migrated by
`flask db upgrade`, one Redis, gunicorn with several (gthread) workers, `poms worker` processes
split by queue; one tutorial campaign driven through it (import, sign-in over HTTP, launch,
tracking, chaining), each FCL file processed once. Tracking is event-driven here: the full
pass runs only as the workers start, so every job's end after that reaches POMS by the
local engine's event log (app/tracking/events.py), while a live page's event stream
hears it."""
from __future__ import annotations

import json
import os
import re
import shlex
import signal
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest

from tests.fixtures import require
from tests.fixtures.launching import wait_for
from tests.fixtures.redis_server import free_port

pytestmark = [pytest.mark.postgres, pytest.mark.e2e]

ROOT = Path(__file__).resolve().parents[1]
FLASK = [sys.executable, "-m", "flask", "--app", "wsgi"]


def procfile() -> dict[str, list[str]]:
    """The Procfile's processes as argv lists (`${VAR:-default}` left for the caller)."""
    lines = [line for line in (ROOT / "Procfile").read_text().splitlines()
             if line.strip() and not line.startswith("#")]
    return {name.strip(): shlex.split(command) for name, command in
            (line.split(":", 1) for line in lines)}


def test_procfile_serves_every_queue_with_workers_split_by_queue():
    from workers.queues import QUEUES

    kinds = procfile()
    assert kinds["web"][0] == "gunicorn" and "wsgi:app" in kinds["web"]
    workers = {name: argv for name, argv in kinds.items()
               if argv[:6] == ["scripts/supervise", "flask", "--app", "wsgi", "poms", "worker"]}
    assert len(workers) >= 2, kinds  # each supervised: started again when it exits
    served = [argv[i + 1] for argv in workers.values() for i, arg in enumerate(argv)
              if arg == "--queue"]
    assert sorted(served) == sorted(QUEUES), "each queue served by exactly one kind of worker"


class Layout:
    def __init__(self, tmp_path: Path, env: dict):
        self.tmp = tmp_path
        self.env = env
        self.processes: list[subprocess.Popen] = []

    def run(self, *args: str, timeout: int = 120) -> subprocess.CompletedProcess:
        done = subprocess.run([*FLASK, *args], cwd=ROOT, env=self.env, capture_output=True,
                              text=True, timeout=timeout)
        assert done.returncode == 0, f"flask {' '.join(args)}: {done.stdout}{done.stderr}"
        return done

    def start(self, name: str, command: list[str]) -> subprocess.Popen:
        log = open(self.tmp / f"{name}.log", "wb")
        process = subprocess.Popen(command, cwd=ROOT, env=self.env, stdout=log,
                                   stderr=subprocess.STDOUT, start_new_session=True)
        log.close()
        self.processes.append(process)
        return process

    def logs(self) -> str:
        return "\n".join(f"== {p.name}\n{p.read_text()[-3000:]}"
                         for p in sorted(self.tmp.glob("*.log")))

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + 15
        for process in self.processes:
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                pass
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
            # The worker's forked children (scheduler, work horse) share its group.
            try:
                os.killpg(process.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass


@pytest.fixture
def layout(tmp_path, postgres_server, redis_server):
    gunicorn = require(str(Path(sys.executable).parent / "gunicorn"),
                       "gunicorn is pinned in requirements.txt: make venv")
    name = f"poms_layout_{uuid.uuid4().hex[:8]}"
    url = postgres_server.create_database(name)
    port = free_port()
    # The session's Redis, empty (as redis_conn leaves it): no other test's queued jobs.
    redis_server.client().flushall()
    env = {
        **os.environ,
        "POMS_DATABASE_URL": url,
        "POMS_REDIS_URL": redis_server.url,
        "POMS_SECRET_KEY": "production-layout-test",
        "POMS_AUTH": "dev",
        "POMS_BATCH_DIR": str(tmp_path / "batch"),
        "POMS_LAUNCH_DIR": str(tmp_path / "launches"),
        "POMS_TRACKING_INTERVAL": "1",
        # The safety net only when the workers start: job ends come by events alone.
        "POMS_TRACKING_FULL_INTERVAL": "3600",
        "POMS_LAUNCH_GRACE": "3",
        "POMS_LOCAL_SLOTS": "4",
        "POMS_UCONDB_FCL_UPLOADS": "no",
        "POMS_URL": f"http://127.0.0.1:{port}",
    }
    env.pop("POMS_INSTANCE_PATH", None)
    running = Layout(tmp_path, env)
    running.port = port
    running.url = url
    running.run("db", "upgrade", timeout=180)
    # Every process of the Procfile, as it is written there (the web on a free port).
    for kind, argv in procfile().items():
        if argv[0] == "gunicorn":
            argv = [gunicorn, *[f"127.0.0.1:{port}" if "POMS_BIND" in arg else arg
                                for arg in argv[1:]], "--timeout", "120"]
        else:
            supervisor = []
            if argv[0] == "scripts/supervise":
                supervisor, argv = [str(ROOT / "scripts" / "supervise")], argv[1:]
            assert argv[:3] == ["flask", "--app", "wsgi"], argv
            argv = [*supervisor, *FLASK, *argv[3:]]
        running.start(kind, argv)
    try:
        yield running
    finally:
        running.stop()
        redis_server.client().flushall()  # our workers' registrations and queues
        postgres_server.drop_database(name)


def _status(layout: Layout) -> dict:
    return json.loads(layout.run("poms", "status", "mu2e", "srsoleti_tutorial", "--json").stdout)


def test_one_campaign_through_gunicorn_postgresql_redis_and_queue_workers(layout):
    import requests

    layout.run("poms", "import-ini", "examples/mu2e/tutorial.ini", "--user", "alice")

    base = f"http://127.0.0.1:{layout.port}"

    def up():
        try:
            return requests.get(f"{base}/login", timeout=5).status_code == 200
        except (requests.ConnectionError, requests.Timeout):
            return False  # not listening yet, or its workers still booting (a loaded machine)

    try:
        wait_for(up, timeout=60, interval=0.3, what="gunicorn to answer")
    except AssertionError:
        pytest.fail(f"gunicorn did not start:\n{layout.logs()}")
    # Sign in over HTTP; the session cookie is good on every gunicorn worker.
    http = requests.Session()
    html = http.get(f"{base}/login", timeout=30).text
    token = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
    signed = http.post(f"{base}/login", data={"username": "alice", "csrf_token": token},
                       allow_redirects=False, timeout=30)
    assert signed.status_code == 302, signed.text
    for _ in range(6):  # several requests: they land on different gunicorn workers
        page = http.get(f"{base}/", timeout=30)
        assert page.status_code == 200 and "alice" in page.text

    # A live page's event stream, held open on gunicorn's threads while the workers publish.
    heard: list[str] = []
    live = http.get(f"{base}/e/mu2e/live", params={"topic": "experiment"}, stream=True,
                    timeout=(10, 300))
    assert live.status_code == 200 and live.headers["Content-Type"].startswith(
        "text/event-stream"), live.text[:300]

    def listen():
        try:
            for line in live.iter_lines(chunk_size=1):
                if line.startswith(b"event: "):
                    heard.append(line[7:].decode())
        except Exception:  # noqa: BLE001  (closed at the end of the test)
            pass

    threading.Thread(target=listen, daemon=True).start()

    launched = layout.run("poms", "launch", "mu2e", "srsoleti_tutorial", "reco_fcl")
    fcl_id = int(launched.stdout.strip().splitlines()[-1])

    def reco_finished():
        document = _status(layout)
        fcl, reco = document["stages"]
        return (fcl["submissions"] and fcl["submissions"][0]["state"] == "Located"
                and reco["submissions"]
                and all(s["state"] in ("Completed", "Located") for s in reco["submissions"])
                and document)

    try:
        document = wait_for(reco_finished, timeout=240, interval=1.5,
                            what="reco_fcl Located and reco finished")
    except AssertionError:
        pytest.fail(f"campaign did not finish: {_status(layout)}\n{layout.logs()}")
    fcl, reco = document["stages"]
    assert [s["id"] for s in fcl["submissions"]] == [fcl_id]
    assert fcl["submissions"][0]["jobs"]["failed"] == 0
    # reco launched by itself, once, and processed every FCL file exactly once.
    assert len(reco["submissions"]) == 1, reco
    jobs = reco["submissions"][0]["jobs"]
    assert jobs["failed"] == 0 and jobs["done"] == jobs["total"] > 0, jobs
    # The catalogue: every FCL file reco_fcl declared was delivered to reco and consumed
    # exactly once, in reco's project alone.
    from sqlalchemy import create_engine, text

    engine = create_engine(layout.url)
    try:
        with engine.connect() as conn:
            fcl_files = conn.execute(text(
                "SELECT name FROM catalog_file WHERE experiment = 'mu2e' AND name LIKE '%.fcl'"
            )).scalars().all()
            consumed = conn.execute(text(
                "SELECT f.name, p.name FROM catalog_delivery d"
                " JOIN catalog_file f ON f.id = d.file_id"
                " JOIN catalog_project p ON p.id = d.project_id"
                " WHERE f.name LIKE '%.fcl' AND d.status = 'consumed'"
            )).all()
    finally:
        engine.dispose()
    assert fcl_files, "reco_fcl declared no FCL files"
    assert sorted(name for name, _ in consumed) == sorted(fcl_files)
    assert {project for _, project in consumed} == {f"poms_{reco['submissions'][0]['id']}"}
    assert layout.processes[0].poll() is None, layout.logs()
    # The tracking worker read the engine's events (workers.jobs.follow); its full pass ran
    # once, as it started, before anything was launched.
    tracking_log = (layout.tmp / "tracking.log").read_text()
    assert "workers.jobs.follow()" in tracking_log, layout.logs()
    # The workers' commits (launch, tracking, chaining) reached the open page as they happened.
    assert "experiment" in heard, f"no live event reached the page: {heard}"
    live.close()
    print("status:", json.dumps(document))
