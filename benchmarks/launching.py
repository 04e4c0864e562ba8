"""Launching and page latency, on the embedded defaults (SQLite, local batch engine).

Prints `BENCH <name> <value> <unit>` lines:
  dashboard_p50_ms / dashboard_p99_ms     the dashboard page with 1,000 active submissions
  fragment_p50_ms / fragment_p99_ms       the fragments pages poll (dashboard counts, a
                           submission's summary, and a page of its 10,000-job table, filtered
                           and not), same database
  launch_to_first_job_s    from asking for a launch of the tutorial's first stage to its first
                           job running on the local engine (launch script, fife_launch,
                           jobsub_submit, the engine's runner)

Request timings go through Flask's test client in this process (no network), so they
measure the application and the database. Everything lives in a temporary directory.
Tracking at scale is benchmarks/tracking.py (pass throughput) and benchmarks/tracking_lag.py
(job end to POMS state), both on SQLite and PostgreSQL; concurrent_pages.py reuses this
file's page data.
"""
from __future__ import annotations

import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
# bench and percentile are also read from this module by the benchmarks that reuse it.
from benchmarks.support import bench, percentile  # noqa: E402

ACTIVE = int(os.environ.get("POMS_BENCH_ACTIVE", "1000"))
REQUESTS = int(os.environ.get("POMS_BENCH_REQUESTS", "300"))


def make_app(tmp: Path):
    import flask_migrate

    from app import create_app

    app = create_app({
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp / 'poms.db'}",
        "SECRET_KEY": "bench", "TESTING": True, "POMS_AUTH": "dev",
        "POMS_BATCH_DIR": str(tmp / "batch"), "POMS_LAUNCH_DIR": str(tmp / "launches"),
        "POMS_LOCAL_SLOTS": 4, "WTF_CSRF_ENABLED": False,
    })
    with app.app_context():
        flask_migrate.upgrade(directory=str(ROOT / "migrations"))
    return app


def tutorial():
    from tests.fixtures.launching import import_tutorial

    return import_tutorial("alice", quick=True)


def page_latency(app, campaign) -> None:
    from sqlalchemy import insert

    from app.extensions import db
    from app.models import Job, Submission

    stage = campaign.stages[0]
    rows = [dict(campaign_stage_id=stage.id, experiment_id=campaign.experiment_id,
                 state=("Running", "Idle", "Held")[i % 3], jobs_total=100, jobs_done=i % 100,
                 jobs_running=100 - i % 100, batch_ids=[], param_overrides=[], launch_env={},
                 launcher_id=campaign.owner_id, origin="bench")
            for i in range(ACTIVE)]
    db.session.execute(insert(Submission), rows)
    big = Submission(campaign_stage_id=stage.id, experiment_id=campaign.experiment_id,
                     state="Running", jobs_total=10000, jobs_running=5000, jobs_done=5000,
                     launcher_id=campaign.owner_id)
    db.session.add(big)
    db.session.flush()
    db.session.execute(insert(Job), [
        dict(submission_id=big.id, batch_job_id=f"9.{p}@local",
             state="Running" if p % 2 else "Completed", exit_code=None if p % 2 else 0)
        for p in range(10000)
    ])
    db.session.commit()
    client = app.test_client()
    client.post("/login", data={"username": "alice"})
    from app.auth.members import ensure_member, find_or_create_experiment
    from app.auth.session import find_or_create_experimenter

    ensure_member(find_or_create_experiment("mu2e"), find_or_create_experimenter("alice"),
                  "analysis")
    db.session.commit()

    def timed(urls: list[str]) -> list[float]:
        times = []
        for i in range(REQUESTS):
            url = urls[i % len(urls)]
            started = time.perf_counter()
            response = client.get(url, headers={"HX-Request": "true"})
            times.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200, (url, response.status_code)
        return times

    base = f"/e/mu2e/submission/{big.id}"
    dashboard = timed(["/e/mu2e/dashboard"])
    fragments = timed(["/e/mu2e/dashboard/live", f"{base}/summary", f"{base}/jobs",
                       f"{base}/jobs?state=Running&page=50", f"{base}/history"])
    bench("dashboard_p50_ms", statistics.median(dashboard), "ms")
    bench("dashboard_p99_ms", percentile(dashboard, 99), "ms")
    bench("fragment_p50_ms", statistics.median(fragments), "ms")
    bench("fragment_p99_ms", percentile(fragments, 99), "ms")


def launch_to_first_job(app, campaign) -> None:
    from app.batch.local import LocalEngine
    from app.extensions import db
    from app.launching import service

    stage = next(s for s in campaign.stages if s.name == "reco_fcl")
    engine = LocalEngine(app.config["POMS_BATCH_DIR"])
    started = time.perf_counter()
    submission = service.request_launch(stage, campaign.owner, test=False, origin="bench",
                                        config=app.config)
    db.session.commit()
    submission_id = submission.id

    def run():
        with app.app_context():
            service.run_launch(submission_id, app.config)

    thread = threading.Thread(target=run)
    thread.start()
    first = None
    while first is None and time.perf_counter() - started < 120:
        clusters = engine.clusters_of_submission(submission_id)
        if clusters and any(j.state in ("Running", "Completed") for j in engine.query(clusters)):
            first = time.perf_counter() - started
            break
        time.sleep(0.01)
    thread.join()
    if first is None:
        raise SystemExit("launch_to_first_job: no job ran within 120 s")
    bench("launch_to_first_job_s", first, "s")


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="poms-bench-") as tmp:
        app = make_app(Path(tmp))
        with app.app_context():
            campaign = tutorial()
            launch_to_first_job(app, campaign)
            page_latency(app, campaign)


if __name__ == "__main__":
    main()
