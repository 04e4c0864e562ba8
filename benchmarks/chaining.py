"""Stage chaining latency, with a real Redis and a real worker, on SQLite and PostgreSQL.

Prints `BENCH <name> <value> <unit>` lines, each once per database (`<db>` is `sqlite` or
`postgresql`):
  chaining_latency_s_<db>      from the end of the last job of the tutorial's reco_fcl
                               submission (the local engine's recorded end time) to the
                               start of the launch of the dependent reco stage (its launch
                               command starting), median over POMS_BENCH_CHAINS runs (3)
  chaining_latency_max_s_<db>  the slowest of those runs
  chaining_decision_s_<db>     the part of it until the reco submission row was written

For each database: a real redis-server on a free port and one `flask --app wsgi poms worker`
process (every queue; its scheduler ticking every POMS_BENCH_TRACKING_INTERVAL seconds, 1 by
default; production uses POMS_TRACKING_INTERVAL, 10 s by default, which bounds this latency
from above), and real local-engine jobs. PostgreSQL is started as
benchmarks/concurrent_pages.py does (tests/fixtures/postgres.py); when it cannot be, a line
on stderr says so and the script exits 1 after the SQLite figures.
POMS_BENCH_DATABASES (sqlite,postgresql) picks the databases. Everything lives in a
temporary directory.
"""
from __future__ import annotations

import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from benchmarks.support import each_database  # noqa: E402

RUNS = int(os.environ.get("POMS_BENCH_CHAINS", "3"))
INTERVAL = os.environ.get("POMS_BENCH_TRACKING_INTERVAL", "1")


def bench(name: str, value: float, unit: str) -> None:
    print(f"BENCH {name} {value:.4g} {unit}", flush=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run(kind: str, database_url: str, tmp: Path) -> None:
    import flask_migrate
    from sqlalchemy import func, select

    from app import create_app
    from app.extensions import db
    from app.launching import service
    from app.models import Job, Submission
    from tests.fixtures.launching import import_tutorial
    from workers.queues import enqueue_launch

    tmp.mkdir(parents=True)
    port = free_port()
    redis = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
         "--appendonly", "no", "--dir", str(tmp)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    env = dict(os.environ)
    env.update(
        POMS_DATABASE_URL=database_url,
        POMS_REDIS_URL=f"redis://127.0.0.1:{port}/0",
        POMS_BATCH_DIR=str(tmp / "batch"), POMS_LAUNCH_DIR=str(tmp / "launches"),
        POMS_TRACKING_INTERVAL=INTERVAL, POMS_SECRET_KEY="bench", POMS_LOCAL_SLOTS="4",
        # No POMS web process serves the embedded UconDB here: FCL files stay local.
        POMS_UCONDB_FCL_UPLOADS="no",
    )
    os.environ.update(env)
    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url,
                      "TESTING": True, "POMS_REDIS_URL": env["POMS_REDIS_URL"]})
    worker = None
    try:
        with app.app_context():
            flask_migrate.upgrade(directory=str(ROOT / "migrations"))
        worker = subprocess.Popen(
            [sys.executable, "-m", "flask", "--app", "wsgi", "poms", "worker"],
            cwd=ROOT, env=env, stdout=open(tmp / "worker.log", "wb"),
            stderr=subprocess.STDOUT)
        latencies, decisions = [], []
        with app.app_context():
            for run in range(RUNS):
                campaign = import_tutorial(f"bench{run}", quick=True)
                campaign.name = f"bench_{run}"
                db.session.commit()
                fcl = next(s for s in campaign.stages if s.name == "reco_fcl")
                reco = next(s for s in campaign.stages if s.name == "reco")
                first = service.request_launch(fcl, campaign.owner, test=False,
                                               origin="bench", config=app.config)
                db.session.commit()
                enqueue_launch(env["POMS_REDIS_URL"], first.id)
                deadline = time.monotonic() + 120
                while True:
                    db.session.expire_all()
                    child = db.session.scalar(select(Submission).where(
                        Submission.campaign_stage_id == reco.id))
                    if child is not None and child.launch_started_at is not None:
                        break
                    if time.monotonic() > deadline:
                        raise SystemExit(f"chaining ({kind}): the dependent stage did not "
                                         f"launch in 120 s; see {tmp / 'worker.log'}")
                    time.sleep(0.05)
                last_end = db.session.scalar(select(func.max(Job.ended_at)).where(
                    Job.submission_id == first.id))
                latencies.append((child.launch_started_at - last_end).total_seconds())
                decisions.append((child.created - last_end).total_seconds())
            db.session.remove()
            db.engine.dispose()
        bench(f"chaining_latency_s_{kind}", statistics.median(latencies), "s")
        bench(f"chaining_latency_max_s_{kind}", max(latencies), "s")
        bench(f"chaining_decision_s_{kind}", statistics.median(decisions), "s")
    finally:
        if worker is not None:
            worker.terminate()
            worker.wait(timeout=30)
        redis.terminate()
        redis.wait(timeout=10)


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="poms-bench-chain-") as tmpdir:
        return each_database("chaining", Path(tmpdir), run)


if __name__ == "__main__":
    sys.exit(main())
