"""Tracking lag of a 100,000-job local-engine submission: job end to POMS state; and how
many job ends a second the local engine holds at 100,000 jobs.

Prints `BENCH <name> <value> <unit>` lines; `<db>` is `sqlite` or `postgresql`, each
database in turn:
  local_engine_job_ends_per_s   the local engine alone (no POMS running): a 100,000-job
                                cluster of stand-in jobs that end as soon as they start,
                                POMS_BENCH_LAG_SLOTS at once; job ends over the time from
                                the first end to the last, as its events.log records them
  tracking_lag_interval_s       the tracking interval of the runs (POMS_TRACKING_INTERVAL):
                                with the local engine only unfinished launches are looked
                                at so often; job states come by events (the scheduler looks
                                every POMS_TRACKING_EVENTS_MS, 250) and the full pass, the
                                safety net, runs every POMS_TRACKING_FULL_INTERVAL (60)
  tracking_lag_s_<db>           median lag over all POMS_BENCH_JOBS jobs (100,000): from a
                                job's end, as the local engine recorded it, to the commit of
                                the tracking pass that recorded that end in POMS
  tracking_lag_p95_s_<db>       95th percentile
  tracking_lag_max_s_<db>       the worst job
`#` lines give the worker layout and, per database, how fast the jobs ended, how many
commits the tracking jobs (full passes and event readings) made, the longest time
between two of them, and how many 'database is locked' errors and RQ job timeouts the
worker logs hold (on SQLite a tracking commit can overtake an analysis transaction;
analysis retries the batch, and what still fails is left to its periodic catch-up).

What is real:
  - the service side: a redis-server and real `flask --app wsgi poms worker` processes,
    each forking its scheduler, which looks at the clusters' event logs every 250 ms and
    queues the reading of what is new (app/tracking/events.py through workers.jobs.follow),
    and ticks every POMS_BENCH_LAG_INTERVAL seconds (10, POMS_TRACKING_INTERVAL's default).
    The readings, the full passes, the chaining jobs they queue and the log analysis of
    the jobs that ended all run. The workers are the Procfile's production lines, read
    from it and run as written: tracking has a worker of its own there because, sharing
    one with log analysis, it was held back for minutes at this rate of job ends
    (analysis runs at tens of logs a second per worker); chaining has its own too, since
    a reading that chained in the same job kept the next reading waiting up to 11 s.
  - the engine side up to the jobs: the submission's cluster is made by
    LocalEngine.submit (cluster.json, status.json with 100,000 Idle jobs, by_submission),
    and the cluster's runner is the engine's own Runner loop in its own process: it starts
    jobs as slots free up, reaps them, stamps each end with the engine's clock, appends
    each change to events.log and checkpoints status.json at its own cadence. The workers
    read them with LocalEngine.changes and LocalEngine.query.
What is synthesised:
  - the jobs' processes. 100,000 processes do not fit on a 2-core machine next to the
    service, so the runner (a subclass of the real one) starts, for each job, a stand-in
    that exits 0 once a random run time is over, and keeps its slot cap as a counter
    instead of lock files. POMS_BENCH_LAG_SLOTS (5,000) jobs run at once, for run times
    drawn uniformly between half and 1.5 times SLOTS / POMS_BENCH_LAG_RATE (5,000/s), i.e.
    1 s, so about 5,000 jobs end per second and the 100,000 ends stream in over about
    20 s, far faster than a grid ends jobs. The jobs write no logs and no file reports:
    analysis and chaining find none, and record that.
  - the launch: the submission row is claimed and given its batch id by this script, as
    a launch records them, instead of by a launch script calling jobsub_submit.
How it is measured: a job's end is the `ended` time the runner wrote (POMS stores it as
Job.ended_at); the pass that recorded it is the one that set the row's updated_at; that
pass's commit time is taken inside the worker by a SQLAlchemy after_commit hook, which
this file installs before running the worker command in the same process, and which notes
the commits of RQ `workers.jobs.track` and `workers.jobs.follow` jobs only. So the lag
holds the runner's append, the scheduler's next look, any wait in the queue and the
reading itself.

Measured 2026-12-05 (2-core machine shared with other engineers' tests, load 6 to 10):
p95 0.34 s on SQLite (4,601 ends/s), 1.43 s on PostgreSQL (4,439 ends/s); 25 s on both
when event readings chained in the same job and, on PostgreSQL, looked job rows up by
500 IN parameters (docs/live.md).

Each database gets a fresh database, spool and Redis database. PostgreSQL is started as
benchmarks/concurrent_pages.py does (tests/fixtures/postgres.py); when it cannot be, a line
on stderr says so and the script exits 1 after the SQLite figures.
Sizes: POMS_BENCH_JOBS, POMS_BENCH_LAG_RATE, POMS_BENCH_LAG_SLOTS, POMS_BENCH_LAG_INTERVAL;
POMS_BENCH_DATABASES (sqlite,postgresql) picks the databases.
"""
from __future__ import annotations

import bisect
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from benchmarks.support import (  # noqa: E402
    each_database,
    procfile_workers,
    start_workers,
    stop_processes,
)

JOBS = int(os.environ.get("POMS_BENCH_JOBS", "100000"))
INTERVAL = int(os.environ.get("POMS_BENCH_LAG_INTERVAL", "10"))
RATE = float(os.environ.get("POMS_BENCH_LAG_RATE", "5000"))
SLOTS = int(os.environ.get("POMS_BENCH_LAG_SLOTS", "5000"))
PREFIX = "tracking_lag"
THIS = Path(__file__).resolve()


def bench(name: str, value: float, unit: str) -> None:
    print(f"BENCH {name} {value:.4g} {unit}", flush=True)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# --- the stand-in runner: `tracking_lag.py --runner CLUSTER_DIR SLOTS MEAN_S` ----------


def stream_runner(directory: Path, slots: int, mean_s: float) -> None:
    """The local engine's cluster runner, with stand-in processes for the jobs."""
    # As the engine starts its runner: the batch modules as the top-level package `batch`.
    sys.path.insert(0, str(ROOT / "app"))
    from batch import local_runner
    from batch.base import RUNNING
    from batch.local_events import now_text
    from batch.usage import Reaped

    class StandIn:
        """In place of a job's subprocess.Popen: exits 0 once its run time is over."""

        pid = 0

        def __init__(self, seconds: float):
            self.ends = time.monotonic() + seconds

        def poll(self) -> int | None:
            return 0 if time.monotonic() >= self.ends else None

    class Slot:
        def __init__(self, runner):
            self.runner = runner

        def close(self) -> None:
            self.runner.busy -= 1

    class StreamRunner(local_runner.Runner):
        def __init__(self):
            super().__init__(directory)
            self.busy = 0
            self.rng = random.Random(self.cluster)

        def _take_slot(self):
            if self.busy >= slots:
                return None
            self.busy += 1
            return Slot(self)

        def _start(self, proc: int, slot) -> None:
            # The real _start makes the job's work directory and starts its process; what
            # it records in the job's status is the same.
            self.procs[proc] = StandIn(self.rng.uniform(0.5, 1.5) * mean_s)
            self.slot_files[proc] = slot
            self.jobs[proc].update(state=RUNNING, started=now_text(), host=self.host,
                                   pid=0)
            self.mark(proc)

        def _reaped(self, proc: int, process):
            # In place of os.wait4 on the job's process: its stand-in's end, no usage.
            if process.poll() is None:
                return None
            return Reaped(exit_code=0, cpu_time_s=None, peak_memory_mb=None)

    StreamRunner().run()


# --- a Procfile worker: `tracking_lag.py --worker PROBE_FILE flask ... poms worker ...` ---


def probed_worker(probe: str, argv: list[str]) -> None:
    """Run the Procfile's worker command in this process, noting when the transactions of
    the tracking job commit."""
    from rq import get_current_job
    from sqlalchemy import event
    from sqlalchemy.orm import Session

    @event.listens_for(Session, "after_commit")
    def _committed(_session) -> None:
        job = get_current_job()
        if job is not None and job.func_name in ("workers.jobs.track",
                                                 "workers.jobs.follow"):
            with open(probe, "a") as fh:
                fh.write(f"{time.time():.6f}\n")

    from flask.cli import main as flask_main

    sys.argv = argv
    flask_main()


def stream_engine(mean_s: float):
    """The local engine, whose cluster runner is this file's stand-in runner."""
    from app.batch.local import LocalEngine

    class StreamEngine(LocalEngine):
        runner: subprocess.Popen | None = None

        def _start_runner(self, directory: Path) -> None:
            with open(directory / "runner.log", "ab") as log:
                self.runner = subprocess.Popen(
                    [sys.executable, str(THIS), "--runner", str(directory), str(SLOTS),
                     repr(mean_s)],
                    stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True,
                    close_fds=True)
            (directory / "runner.pid").write_text(str(self.runner.pid))

    return StreamEngine


# --- the benchmark --------------------------------------------------------------------


def engine_rate(tmp: Path) -> None:
    """The local engine alone: JOBS stand-in jobs that end as soon as they start."""
    from app.batch.base import JobRequest

    script = tmp / "job.sh"
    script.write_text("#!/bin/sh\nexit 0\n")  # copied by submit; never run here
    engine = stream_engine(0.0)(tmp / "alone")
    batch_id = engine.submit(JobRequest(executable=str(script), count=JOBS))
    if engine.runner.wait(timeout=600) != 0:
        raise SystemExit(f"the stand-in runner failed: see {tmp}/alone")
    ends = sorted(json.loads(line)["ended"] for line in
                  (tmp / "alone/clusters" / batch_id.split(".")[0] / "events.log").open()
                  if '"Completed"' in line)
    span = (datetime.fromisoformat(ends[-1]) - datetime.fromisoformat(ends[0])).total_seconds()
    print(f"# the local engine alone: {len(ends)} jobs ended over {span:.1f} s, up to {SLOTS} "
          "at once", flush=True)
    bench("local_engine_job_ends_per_s", len(ends) / max(span, 1e-9), "/s")



def tracking_lag(database_url: str, tmp: Path, kind: str, redis_url: str) -> None:
    import flask_migrate
    from sqlalchemy import select
    from sqlalchemy.exc import OperationalError

    from app import create_app, states
    from app.batch.base import JobRequest
    from app.extensions import db
    from app.launching import service
    from app.models import Job, Submission
    from app.models.base import utcnow
    from tests.fixtures.launching import import_tutorial

    StreamEngine = stream_engine(SLOTS / RATE)  # SLOTS jobs end every SLOTS / RATE s

    tmp.mkdir(parents=True)
    spool, launches = tmp / "batch", tmp / "launches"
    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "SECRET_KEY": "bench",
                      "TESTING": True, "POMS_BATCH_DIR": str(spool),
                      "POMS_LAUNCH_DIR": str(launches), "POMS_REDIS_URL": redis_url})
    probe = tmp / "commits.txt"
    env = {**os.environ, "POMS_DATABASE_URL": database_url, "POMS_REDIS_URL": redis_url,
           "POMS_BATCH_ENGINE": "local", "POMS_BATCH_DIR": str(spool),
           "POMS_LAUNCH_DIR": str(launches), "POMS_TRACKING_INTERVAL": str(INTERVAL),
           "POMS_SECRET_KEY": "bench", "POMS_UCONDB_FCL_UPLOADS": "no",
           "PYTHONPATH": str(ROOT)}
    processes: list[subprocess.Popen] = []
    try:
        with app.app_context():
            flask_migrate.upgrade(directory=str(ROOT / "migrations"))
            campaign = import_tutorial("alice", quick=True)
            # The tutorial's last stage: nothing depends on it, so its completion launches
            # nothing; and it completes only when every job has ended (completion_pct 100).
            stage = next(s for s in campaign.stages if s.name == "reco")
            assert stage.completion_pct in (None, 100), stage.completion_pct
            submission = Submission(campaign_stage_id=stage.id,
                                    experiment_id=campaign.experiment_id, state=states.NEW,
                                    launcher_id=campaign.owner_id, origin="bench")
            db.session.add(submission)
            db.session.commit()
            processes += start_workers(THIS, env, tmp, probe, redis_url)
            script = tmp / "job.sh"
            script.write_text("#!/bin/sh\nexit 0\n")  # copied by submit; never run here
            # What a launch records around jobsub_submit: the claim, then the batch id.
            submission.launch_claimed_at = utcnow()
            submission.engine = "local"
            db.session.commit()
            engine = StreamEngine(spool)
            started = time.monotonic()
            batch_id = engine.submit(JobRequest(executable=str(script), count=JOBS,
                                                submission_id=submission.id))
            processes.append(engine.runner)
            submission.launch_finished_at = utcnow()
            submission.launch_exit_code = 0
            service.remember_batch_ids(submission, [batch_id])
            states.transition(submission, states.IDLE, f"launched: batch id {batch_id}")
            db.session.commit()
            submission_id = submission.id

            deadline = started + JOBS / RATE * 3 + 300
            while True:
                time.sleep(1)
                try:
                    ended, state = db.session.execute(
                        select(Submission.jobs_done + Submission.jobs_failed, Submission.state)
                        .where(Submission.id == submission_id)).one()
                except OperationalError:  # SQLite: a worker's write held the lock too long
                    ended, state = 0, "(database locked)"
                db.session.rollback()  # hold no read lock while waiting
                if ended >= JOBS and state not in states.ACTIVE:
                    break
                if time.monotonic() > deadline:
                    raise SystemExit(
                        f"tracking_lag ({kind}): not all {JOBS} jobs recorded in "
                        f"{deadline - started:.0f} s ({ended} ended, state {state}); "
                        f"see {tmp}/worker-*.log")
            elapsed = time.monotonic() - started
            rows = db.session.execute(select(Job.ended_at, Job.updated_at).where(
                Job.submission_id == submission_id)).all()
            db.session.remove()
            db.engine.dispose()
    finally:
        stop_processes(processes)

    commits = sorted(float(line) for line in probe.read_text().split())
    lags, unmatched = [], 0
    for ended_at, updated_at in rows:
        # The first tracking commit after the pass stamped the row is that pass's commit.
        i = bisect.bisect_left(commits, updated_at.replace(tzinfo=UTC).timestamp())
        if ended_at is None or i == len(commits):
            unmatched += 1
            continue
        lags.append(commits[i] - ended_at.replace(tzinfo=UTC).timestamp())
    if unmatched or len(rows) != JOBS or min(lags) < 0:
        raise SystemExit(f"tracking_lag ({kind}): {len(rows)} job rows, {unmatched} of them "
                         "without an end or a tracking commit after it; shortest lag "
                         f"{min(lags, default=0):.3f} s")
    ends = [e for e, _u in rows]
    span = (max(ends) - min(ends)).total_seconds()
    gap = max((b - a for a, b in zip(commits, commits[1:], strict=False)), default=0.0)
    logs = "".join(path.read_text(errors="replace") for path in tmp.glob("worker-*.log"))
    print(f"# {kind}: {JOBS} jobs ended over {span:.0f} s ({JOBS / span:.0f}/s, up to {SLOTS} "
          f"at once); {len(commits)} commits by tracking jobs, at most {gap:.0f} s apart; all "
          f"recorded {elapsed:.0f} s after the submit; in the worker logs: "
          f"{logs.count('OperationalError) database is locked')} 'database is locked' errors, "
          f"{logs.count('JobTimeoutException:')} RQ job timeouts", flush=True)
    bench(f"{PREFIX}_s_{kind}", statistics.median(lags), "s")
    bench(f"{PREFIX}_p95_s_{kind}", percentile(lags, 95), "s")
    bench(f"{PREFIX}_max_s_{kind}", max(lags), "s")


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="poms-bench-lag-") as tmpdir:
        tmp = Path(tmpdir)
        port = free_port()
        redis = subprocess.Popen(
            ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(tmp)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            print("# workers: " + "; ".join(f"{name}: {' '.join(argv)}"
                                            for name, argv in procfile_workers()), flush=True)
            engine_rate(tmp)
            bench(f"{PREFIX}_interval_s", INTERVAL, "s")
            redis_db = {"sqlite": 0, "postgresql": 1}
            return each_database("tracking_lag", tmp, lambda kind, url, directory: tracking_lag(
                url, directory, kind, f"redis://127.0.0.1:{port}/{redis_db[kind]}"))
        finally:
            redis.terminate()
            redis.wait(timeout=10)


if __name__ == "__main__":
    if sys.argv[1:2] == ["--runner"]:
        stream_runner(Path(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4]))
    elif sys.argv[1:2] == ["--worker"]:
        probed_worker(sys.argv[2], sys.argv[3:])
    else:
        sys.exit(main())
