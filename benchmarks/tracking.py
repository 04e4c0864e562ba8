"""Tracking passes over one 100,000-job local-engine submission, on SQLite and PostgreSQL.

Prints `BENCH <name> <value> <unit>` lines, each once per database (`<db>` is `sqlite` or
`postgresql`):
  tracking_updates_per_s_<db>   job state updates ingested per second by the tracking pass
                                (app/tracking/tracker.py, called in this process) over one
                                POMS_BENCH_JOBS-job submission (100,000), read through the
                                real local engine's status file: the jobs inserted Idle, then
                                all Running, then all Completed (3 x 100,000 updates)
  tracking_pass_s_<db>          the slowest of those three passes

The status file is written whole for each phase with the engine's own writer
(write_json_atomic), as the cluster's runner writes it; no job process runs. The lag from
a job's end to POMS's state, with real workers, is benchmarks/tracking_lag.py.
PostgreSQL is started as benchmarks/concurrent_pages.py does (tests/fixtures/postgres.py);
when it cannot be, a line on stderr says so and the script exits 1 after the SQLite figures.
Everything lives in a temporary directory.
"""
from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from benchmarks.support import each_database  # noqa: E402

JOBS = int(os.environ.get("POMS_BENCH_JOBS", "100000"))


def bench(name: str, value: float, unit: str) -> None:
    print(f"BENCH {name} {value:.4g} {unit}", flush=True)


def make_app(database_url: str, tmp: Path):
    import flask_migrate

    from app import create_app

    tmp.mkdir(parents=True, exist_ok=True)
    app = create_app({
        "SQLALCHEMY_DATABASE_URI": database_url, "SECRET_KEY": "bench", "TESTING": True,
        "POMS_BATCH_DIR": str(tmp / "batch"), "POMS_LAUNCH_DIR": str(tmp / "launches"),
    })
    with app.app_context():
        flask_migrate.upgrade(directory=str(ROOT / "migrations"))
    return app


def tracking_updates(database_url: str, tmp: Path, kind: str) -> None:
    from app.batch.job_files import write_json_atomic
    from app.batch.local import LocalEngine
    from app.extensions import db
    from app.models import Submission
    from app.tracking.tracker import track_submissions
    from tests.fixtures.launching import import_tutorial

    app = make_app(database_url, tmp)
    with app.app_context():
        campaign = import_tutorial("alice", quick=True)
        submission = Submission(campaign_stage_id=campaign.stages[0].id,
                                experiment_id=campaign.experiment_id, state="Idle",
                                batch_id="999999.0@local", batch_ids=["999999.0@local"],
                                launch_claimed_at=db.func.now())
        db.session.add(submission)
        db.session.commit()
        engine = LocalEngine(app.config["POMS_BATCH_DIR"])
        cluster = engine.cluster_dir(999999)
        cluster.mkdir(parents=True)
        now = "2026-11-26T06:00:00.000000"
        phases = [
            {str(p): {"state": "Idle"} for p in range(JOBS)},
            {str(p): {"state": "Running", "started": now, "host": "bench"} for p in range(JOBS)},
            {str(p): {"state": "Completed", "exit_code": 0, "started": now, "ended": now,
                      "host": "bench"} for p in range(JOBS)},
        ]
        total_updates, total_time, slowest = 0, 0.0, 0.0
        for jobs in phases:
            # What the engine's runner writes; the pass reads it through the real engine.
            write_json_atomic(cluster / "status.json", {"jobs": jobs, "done": False}, indent=None)
            started = time.perf_counter()
            result = track_submissions([submission.id], app.config, engine)
            elapsed = time.perf_counter() - started
            assert not result.errors, result.errors
            total_updates += result.job_updates
            total_time += elapsed
            slowest = max(slowest, elapsed)
        db.session.expire_all()
        done = db.session.get(Submission, submission.id)
        assert done.state == "Completed" and done.jobs_done == JOBS, (done.state, done.jobs_done)
        db.session.remove()
        db.engine.dispose()
    bench(f"tracking_updates_per_s_{kind}", total_updates / total_time, "updates/s")
    bench(f"tracking_pass_s_{kind}", slowest, "s")


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="poms-bench-tracking-") as tmpdir:
        return each_database("tracking", Path(tmpdir),
                             lambda kind, url, tmp: tracking_updates(url, tmp, kind))


if __name__ == "__main__":
    sys.exit(main())
