"""Tracking lag on a real HTCondor personal pool: job end to POMS state, over 1,000 jobs.

Starts the test pool of tests/fixtures/htcondor_pool.py (needs root and debootstrap, as the
`htcondor` tests do; the image is built once and cached), makes a POMS database with the
tutorial campaign, submits POMS_BENCH_CONDOR_JOBS jobs (1,000 by default) in clusters of
100 for one submission, and tracks it as the scheduler does (app/tracking/events.py): every
POMS_BENCH_EVENTS_MS (250, POMS_TRACKING_EVENTS_MS's default) it looks at the clusters' job
event logs and, when one grew, reads the new events (htcondor2's JobEventLog) and records
them; a full pass (schedd queue and history) runs every POMS_BENCH_TRACKING_INTERVAL seconds
(60, POMS_TRACKING_FULL_INTERVAL's default) as the safety net. Each job prints the time it
ends; the lag of a job is the time the reading (or pass) that recorded its end committed,
minus that.

What is real: the pool (collector, negotiator, schedd, startd with 8 slots, shadows writing
the event logs), the jobs (shell scripts that sleep 1 s), the engine, the event reading and
the tracking code, and the database (SQLite). What is not: the RQ worker and scheduler
processes; their loop runs here, in one process, without the queue's hop (a few ms).

Prints `BENCH <name> <value> <unit>` lines:
  condor_tracking_lag_s        median lag, job end to POMS state
  condor_tracking_lag_p95_s    95th percentile
  condor_tracking_lag_max_s    worst job
  condor_tracking_pass_s       median time of one reading of new events (or full pass)
  condor_jobs_per_s            jobs finished per second by the pool (for context)
"""
from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

JOBS = int(os.environ.get("POMS_BENCH_CONDOR_JOBS", "1000"))
PER_CLUSTER = 100
INTERVAL = float(os.environ.get("POMS_BENCH_TRACKING_INTERVAL", "60"))
EVENTS_S = float(os.environ.get("POMS_BENCH_EVENTS_MS", "250")) / 1000

JOB_SCRIPT = """#!/bin/sh
sleep 1
date +END%s.%N
"""


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def main() -> int:
    if os.geteuid() != 0:
        print("htcondor_tracking: needs root (chroot and mounts for the test pool); skipped")
        return 0
    import flask_migrate

    from app.batch.base import JobRequest
    from app.extensions import db
    from app.models import Job, Submission
    from app.tracking.events import changed_submissions, track_changes
    from app.tracking.tracker import track_submissions
    from tests.fixtures.app import _app
    from tests.fixtures.htcondor_pool import CondorPool, ensure_image
    from tests.fixtures.launching import import_tutorial

    image, built = ensure_image()
    if built:
        print(f"htcondor image built in {built:.1f} s")
    base = Path(tempfile.mkdtemp(prefix="poms-condor-", dir="/tmp"))
    (base / "owner.pid").write_text(str(os.getpid()))
    work = Path(tempfile.mkdtemp(prefix="poms-bench-condor-"))
    pool = CondorPool(image, base)
    try:
        pool.start()
        print(f"pool up in {pool.start_s:.1f} s")
        app = _app(f"sqlite:///{work / 'poms.db'}", **pool.engine_config())
        with app.app_context():
            flask_migrate.upgrade()
            campaign = import_tutorial()
            engine = pool.engine()
            script = work / "job.sh"
            script.write_text(JOB_SCRIPT)
            script.chmod(0o755)
            submission = Submission(campaign_stage_id=campaign.stages[0].id,
                                    experiment_id=campaign.experiment_id, state="Idle",
                                    engine="htcondor")
            db.session.add(submission)
            db.session.commit()
            started = time.time()
            batch_ids = []
            for first in range(0, JOBS, PER_CLUSTER):
                count = min(PER_CLUSTER, JOBS - first)
                batch_ids.append(engine.submit(JobRequest(
                    executable=str(script), count=count, submission_id=submission.id)))
            submission.batch_ids = batch_ids
            submission.batch_id = batch_ids[0]
            db.session.commit()
            print(f"submitted {JOBS} jobs in {len(batch_ids)} clusters in "
                  f"{time.time() - started:.1f} s")
            seen_at: dict[int, float] = {}
            pass_times = []
            config = dict(app.config)
            deadline = time.time() + 1800
            full_at = time.time() + INTERVAL
            while time.time() < deadline:
                began = time.time()
                if began >= full_at:  # the safety net
                    result = track_submissions([submission.id], config, engine)
                    full_at = began + INTERVAL
                elif submission.id in changed_submissions(config, engine):
                    result = track_changes([submission.id], config, engine)
                else:
                    time.sleep(EVENTS_S)
                    continue
                now = time.time()
                pass_times.append(now - began)
                if result.errors:
                    print("tracking error:", result.errors)
                for row_id in result.finished_jobs:
                    seen_at.setdefault(row_id, now)
                db.session.expire_all()
                current = db.session.get(Submission, submission.id)
                if current.state in ("Completed", "Failed"):
                    break
                time.sleep(max(0.0, EVENTS_S - (time.time() - began)))
            finished = time.time()
            rows = db.session.query(Job.id, Job.batch_job_id).filter_by(
                submission_id=submission.id).all()
            # Jobs already finished when first seen were inserted, not updated: their rows
            # were first seen finished by the pass that inserted them.
            lags = []
            for row_id, job_id in rows:
                cluster, proc = job_id.split("@")[0].split(".")
                ended = None
                for path in pool.jobs.glob(f"*/*/job.{cluster}.{proc}.out"):
                    for line in path.read_text().splitlines():
                        if line.startswith("END"):
                            ended = float(line[3:])
                if ended is None or row_id not in seen_at:
                    continue
                lags.append(seen_at[row_id] - ended)
            print(f"state {current.state}: {current.jobs_done} done, {current.jobs_failed} "
                  f"failed of {current.jobs_total}; {len(lags)} lags measured; "
                  f"{finished - started:.1f} s in all")
            if not lags:
                print("htcondor_tracking: no lag measured")
                return 1
            print(f"BENCH condor_tracking_lag_s {statistics.median(lags):.2f} s")
            print(f"BENCH condor_tracking_lag_p95_s {percentile(lags, 0.95):.2f} s")
            print(f"BENCH condor_tracking_lag_max_s {max(lags):.2f} s")
            print(f"BENCH condor_tracking_pass_s {statistics.median(pass_times):.3f} s")
            print(f"BENCH condor_jobs_per_s {JOBS / (finished - started):.1f} jobs/s")
            db.session.remove()
            db.engine.dispose()
    finally:
        pool.stop()
        import shutil

        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
