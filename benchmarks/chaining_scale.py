"""Chaining latency after a 100,000-job local-engine submission, with real workers.

Prints `BENCH <name> <value> <unit>` lines; `<db>` is `sqlite` or `postgresql`, each
database in turn:
  chaining_scale_latency_s_<db>   from the end of the parent submission's last job (the
                                  local engine's recorded end time, Job.ended_at) to the start
                                  of the dependent stage's launch (its launch command starting,
                                  Submission.launch_started_at), as benchmarks/chaining.py
                                  defines it; the parent has POMS_BENCH_CHAIN_JOBS jobs (100,000)
  chaining_scale_record_s_<db>    the time the workers spent recording the parent's jobs'
                                  files (app.chaining.delivery.record_finished_jobs, summed
                                  over every tracking pass that recorded some)
  chaining_scale_decision_s_<db>  the chaining decision: from the start of the chain.settle
                                  call that launched the dependent stage (the files of 100,000
                                  jobs matched, their definition made, the submission row
                                  written) to the commit of its transaction
`#` lines say how fast the jobs ended, how many jobs were still unrecorded when the last
one ended, the passes that recorded them and the longest, when the decision was taken and
how long the dependent launch took from its row to its command (input list preparation).

The campaign is the demo tutorial (examples/mu2e/tutorial.ini): the parent is a submission
of its `reco_fcl` stage (job type output_file_patterns `%.fcl`, completion `complete` at
100%), and `reco` depends on it with file_pattern_1 `%.fcl`, one job per file.

What is real:
  - the service side: a redis-server and the Procfile's `flask --app wsgi poms worker`
    lines, read from it and run as written (launches+uploads, tracking, chaining,
    analysis+notifications), each forking its scheduler, which queues the reading of new
    job events every 250 ms and ticks every POMS_BENCH_CHAIN_INTERVAL seconds (10,
    POMS_TRACKING_INTERVAL's default). Tracking (event readings and full passes), the
    chaining jobs they queue on the chaining worker (workers.jobs.chain,
    app/chaining/hooks.py after_tracking: record_finished_jobs, check_located, settle), the
    log analysis of the jobs that ended, and the dependent stage's launch job (run_launch:
    snapshots, its 100,000-file input list and catalogue project, then the launch script)
    all run unchanged. This file only wraps record_finished_jobs and chain.settle in the
    worker processes to note when they start and end (the wrapped functions run as is).
  - the engine side up to the jobs: the parent's cluster is made by LocalEngine.submit
    (cluster.json, status.json, by_submission) and its runner is the engine's own Runner
    loop in its own process (starting jobs as slots free up, stamping each end with the
    engine's clock, appending each change to events.log and checkpointing status.json at
    its own cadence); the workers follow the events (app/tracking/events.py, the
    scheduler looking every 250 ms) and run the full pass as its safety net.
  - the jobs' file reports: each job's FCL output file (named and written as
    examples/mu2e/reco_fcl.sh writes it) in the spool's outputs/reco_fcl/, as fife_wrap's
    --addoutput/--dest copies it, and its report poms_job.json in the job's work directory
    (clusters/C/P/work/), written with app/batch/job_files.py's own write_json_atomic and
    describe_outputs (real size and adler32 of the real file) in the format fife_wrap
    writes at a job's end (job, inputs, status 0, error, outputs). POMS reads them with its
    own code (delivery.record_job) and declares the outputs in the embedded catalogue.
What is synthesised:
  - the jobs' processes: 100,000 processes do not fit on a 2-core machine next to the
    service, so the runner (a subclass of the real one, as in benchmarks/tracking_lag.py)
    starts for each job a stand-in that, once a random run time is over, writes the job's
    output file and report (above) and exits 0; its slot cap is a counter instead of lock
    files. POMS_BENCH_CHAIN_SLOTS (5,000) jobs run at once, for run times drawn uniformly
    between half and 1.5 times SLOTS / POMS_BENCH_CHAIN_RATE (2,000/s). The jobs write no
    stdout/stderr logs: log analysis finds none, and records that.
  - the parent's launch: its submission row is claimed and given its batch id by this
    script, as a launch records them, instead of by fife_launch calling jobsub_submit.
  - after the measurement: the dependent launch's script (which would submit 100,000 real
    jobs) is killed as soon as its start is on record, with any cluster it submitted.

Measured 2026-12-05 (2-core machine shared with other engineers' tests, load 3 to 7):
1.6 s on SQLite, 4.2 s on PostgreSQL (17.4 s and 90.9 s when chaining ran inside the
tracking jobs and the dependent's input list looked up each file's first location per
500 names); docs/live.md says where the time goes.

Each database gets a fresh database, spool and Redis database. PostgreSQL is started by
benchmarks/support's each_database (tests/fixtures/postgres.py); when it cannot be, a line
on stderr says so and the script exits 1 after the SQLite figures.
Sizes: POMS_BENCH_CHAIN_JOBS, POMS_BENCH_CHAIN_RATE, POMS_BENCH_CHAIN_SLOTS,
POMS_BENCH_CHAIN_INTERVAL; POMS_BENCH_DATABASES (sqlite,postgresql) picks the databases.
POMS_BENCH_PROFILE=DIR runs the workers' launch and chaining jobs under cProfile (their
statistics in DIR, one file per job; the figures are then slower than without).
"""
from __future__ import annotations

import json
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import time
from datetime import UTC
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from benchmarks.support import (  # noqa: E402
    each_database,
    kill_session,
    procfile_workers,
    start_workers,
    stop_processes,
)

JOBS = int(os.environ.get("POMS_BENCH_CHAIN_JOBS", "100000"))
INTERVAL = int(os.environ.get("POMS_BENCH_CHAIN_INTERVAL", "10"))
RATE = float(os.environ.get("POMS_BENCH_CHAIN_RATE", "2000"))
SLOTS = int(os.environ.get("POMS_BENCH_CHAIN_SLOTS", "5000"))
PREFIX = "chaining_scale"
THIS = Path(__file__).resolve()
FCL = """# generated by POMS demo job {jobid} for submission {task}
#include "Production/JobConfig/reco/Reco.fcl"
source.firstRun : 1202
source.firstSubRun : {proc}
services.SeedService.baseSeed : {seed}
"""


def bench(name: str, value: float, unit: str) -> None:
    print(f"BENCH {name} {value:.4g} {unit}", flush=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# --- the stand-in runner: `chaining_scale.py --runner CLUSTER_DIR SLOTS MEAN_S` ----------


def stream_runner(directory: Path, slots: int, mean_s: float) -> None:
    """The local engine's cluster runner, with stand-in processes that leave the files a
    reco_fcl job leaves: its FCL file and its report."""
    # As the engine starts its runner: the batch modules as the top-level package `batch`.
    sys.path.insert(0, str(ROOT / "app"))
    from batch import job_files, local_runner
    from batch.base import RUNNING, job_identity
    from batch.local import SCHEDD
    from batch.local_events import now_text
    from batch.usage import Reaped

    class StandIn:
        """In place of a job's subprocess.Popen: once its run time is over, writes what
        the job would (as reco_fcl.sh and fife_wrap do) and exits 0."""

        pid = 0

        def __init__(self, runner, proc: int, seconds: float):
            self.runner, self.proc = runner, proc
            self.ends = time.monotonic() + seconds
            self.code: int | None = None

        def poll(self) -> int | None:
            if self.code is None and time.monotonic() >= self.ends:
                self.runner.leave_files(self.proc)
                self.code = 0
            return self.code

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
            self.dest = Path(self.spec["outputs_dir"]) / "reco_fcl"  # reco.cfg's dest
            self.dest.mkdir(parents=True, exist_ok=True)
            self.task = self.spec["env"].get("POMS_TASK_ID", "none")

        def _take_slot(self):
            if self.busy >= slots:
                return None
            self.busy += 1
            return Slot(self)

        def _start(self, proc: int, slot) -> None:
            # The real _start makes the job's work directory and starts its process; what
            # it records in the job's status is the same.
            (self.dir / str(proc) / "work").mkdir(parents=True, exist_ok=True)
            self.procs[proc] = StandIn(self, proc, self.rng.uniform(0.5, 1.5) * mean_s)
            self.slot_files[proc] = slot
            self.jobs[proc].update(state=RUNNING, started=now_text(), host=self.host,
                                   pid=0)
            self.mark(proc)

        def _reaped(self, proc: int, process):
            # In place of os.wait4 on the job's process: its stand-in's end, no usage.
            if process.poll() is None:
                return None
            return Reaped(exit_code=0, cpu_time_s=None, peak_memory_mb=None)

        def leave_files(self, proc: int) -> None:
            ident = job_identity(str(proc), str(self.cluster), SCHEDD)
            name = f"mu2e_reco.{self.cluster}_{proc}.fcl"
            output = self.dest / name
            output.write_text(FCL.format(jobid=ident["JOBSUBJOBID"], task=self.task,
                                         proc=proc, seed=1000 + proc))
            work = self.dir / str(proc) / "work"
            job_files.write_json_atomic(job_files.manifest_path(work), {
                "job": ident["JOBSUBJOBID"], "inputs": [], "status": 0, "error": "",
                "outputs": job_files.describe_outputs([str(output)]),
            })

    StreamRunner().run()


# --- a Procfile worker: `chaining_scale.py --worker PROBE_FILE flask ... poms worker ...` ---


def probed_worker(probe: str, argv: list[str]) -> None:
    """Run the Procfile's worker command in this process, noting when record_finished_jobs
    and the settle calls that launch something start and end (and when the latter's
    transaction commits). RQ's work horses are forks of this process: they inherit it."""
    from sqlalchemy import event
    from sqlalchemy.orm import Session

    import app.chaining.chain as chain
    import app.chaining.hooks as hooks

    def note(*fields) -> None:
        with open(probe, "a") as fh:
            fh.write(" ".join(str(f) for f in fields) + "\n")

    record = hooks.record_finished_jobs

    def timed_record(config, submission_ids=None, **options):
        start = time.time()
        count = record(config, submission_ids, **options)
        if count:
            note("record", f"{start:.6f}", f"{time.time():.6f}", count)
        return count

    hooks.record_finished_jobs = timed_record

    settle = chain.settle
    pending: list = []

    def timed_settle(submission, config):
        start = time.time()
        got = settle(submission, config)
        if got.launched:
            pending[:] = [start, time.time(), submission.id, got.launched]
        return got

    chain.settle = timed_settle
    _profiled(os.environ.get("POMS_BENCH_PROFILE"))

    @event.listens_for(Session, "after_commit")
    def _committed(_session) -> None:
        if pending:
            start, ended, parent, launched = pending
            pending.clear()
            note("decided", f"{start:.6f}", f"{ended:.6f}", f"{time.time():.6f}", parent,
                 ",".join(map(str, launched)))

    @event.listens_for(Session, "after_rollback")
    def _rolled_back(_session) -> None:
        pending.clear()

    from flask.cli import main as flask_main

    sys.argv = argv
    flask_main()


def _profiled(directory: str | None) -> None:
    """POMS_BENCH_PROFILE=DIR: each chaining job of the workers, and each launch up to its
    script's start (the dependent's script is killed at once), under cProfile; the
    statistics in DIR/<what>-<pid>-<time>.prof (read with python -m pstats)."""
    if not directory:
        return
    import cProfile
    import functools

    import app.launching.service as service
    import workers.jobs as jobs

    running: list = []

    def dump(name: str) -> None:
        if running:
            profile = running.pop()
            profile.disable()
            profile.dump_stats(f"{directory}/{name}-{os.getpid()}-{time.time():.3f}.prof")

    def wrap(module, name: str, before=None) -> None:
        function = getattr(module, name)

        @functools.wraps(function)
        def profiled(*args, **kwargs):
            if before is not None:
                dump(before)
            else:
                running.append(cProfile.Profile())
                running[-1].enable()
            try:
                return function(*args, **kwargs)
            finally:
                if before is None:
                    dump(name)

        setattr(module, name, profiled)

    wrap(jobs, "chain")
    wrap(jobs, "launch")
    wrap(service, "_private_stdin", before="launch-prepared")


# --- processes ----------------------------------------------------------------------


def _stop_dependent(launch_pid: int | None, spool: Path, parent_cluster: int) -> None:
    """Kill the dependent launch (its own session) and whatever it submitted: the runners of
    the spool's other clusters and their jobs (each job is a session of its own)."""
    if launch_pid:
        kill_session(launch_pid, signal.SIGKILL)
    for pid_file in (spool / "clusters").glob("*/runner.pid"):
        if pid_file.parent.name == str(parent_cluster):
            continue
        try:
            kill_session(int(pid_file.read_text()), signal.SIGKILL)
            jobs = list(json.loads((pid_file.parent / "status.json").read_text())["jobs"]
                        .values())
            events = pid_file.parent / "events.log"
            if events.exists():  # the jobs started since the runner's last checkpoint
                jobs += [json.loads(line) for line in events.read_text().splitlines()]
        except (OSError, ValueError):
            continue
        for job in jobs:
            if job.get("pid"):
                kill_session(int(job["pid"]), signal.SIGKILL)


# --- the benchmark --------------------------------------------------------------------


def chaining_scale(database_url: str, tmp: Path, kind: str, redis_url: str) -> None:
    import flask_migrate
    from sqlalchemy import func, select
    from sqlalchemy.exc import OperationalError

    from app import create_app, states
    from app.batch.base import JobRequest
    from app.batch.local import LocalEngine
    from app.extensions import db
    from app.launching import service
    from app.models import Job, Submission
    from app.models.base import utcnow
    from app.models.chaining import ChainJobRecord, ChainStep
    from tests.fixtures.launching import import_tutorial

    mean_s = SLOTS / RATE  # in steady state, SLOTS jobs end every mean_s seconds

    class StreamEngine(LocalEngine):
        """The local engine, whose cluster runner is this file's stand-in runner."""

        runner: subprocess.Popen | None = None

        def _start_runner(self, directory: Path) -> None:
            with open(directory / "runner.log", "ab") as log:
                self.runner = subprocess.Popen(
                    [sys.executable, str(THIS), "--runner", str(directory), str(SLOTS),
                     repr(mean_s)],
                    stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True,
                    close_fds=True)
            (directory / "runner.pid").write_text(str(self.runner.pid))

    tmp.mkdir(parents=True)
    spool, launches = tmp / "batch", tmp / "launches"
    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "SECRET_KEY": "bench",
                      "TESTING": True, "POMS_BATCH_DIR": str(spool),
                      "POMS_LAUNCH_DIR": str(launches), "POMS_REDIS_URL": redis_url})
    probe = tmp / "probe.txt"
    probe.touch()
    env = {**os.environ, "POMS_DATABASE_URL": database_url, "POMS_REDIS_URL": redis_url,
           "POMS_BATCH_ENGINE": "local", "POMS_BATCH_DIR": str(spool),
           "POMS_LAUNCH_DIR": str(launches), "POMS_TRACKING_INTERVAL": str(INTERVAL),
           "POMS_SECRET_KEY": "bench", "POMS_UCONDB_FCL_UPLOADS": "no",
           "PYTHONPATH": str(ROOT)}
    processes: list[subprocess.Popen] = []
    launch_pid = None
    parent_cluster = 0
    try:
        with app.app_context():
            flask_migrate.upgrade(directory=str(ROOT / "migrations"))
            campaign = import_tutorial("alice", quick=True)
            stage = next(s for s in campaign.stages if s.name == "reco_fcl")
            child_stage = next(s for s in campaign.stages if s.name == "reco")
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
            batch_id = engine.submit(JobRequest(
                executable=str(script), count=JOBS, submission_id=submission.id,
                env={"POMS_TASK_ID": str(submission.id)}))
            processes.append(engine.runner)
            parent_cluster = int(batch_id.split(".")[0])
            submission.launch_finished_at = utcnow()
            submission.launch_exit_code = 0
            service.remember_batch_ids(submission, [batch_id])
            states.transition(submission, states.IDLE, f"launched: batch id {batch_id}")
            db.session.commit()
            parent_id = submission.id

            # Wait for the dependent stage's launch to start.
            deadline = started + JOBS / RATE * 3 + 600
            child = None
            while True:
                time.sleep(0.05)
                try:
                    child = db.session.execute(
                        select(Submission.id, Submission.created, Submission.launch_started_at,
                               Submission.launch_pid)
                        .where(Submission.campaign_stage_id == child_stage.id)).first()
                except OperationalError:  # SQLite: a worker's write held the lock too long
                    child = None
                db.session.rollback()  # hold no read lock while waiting
                if child is not None and child.launch_started_at is not None:
                    launch_pid = child.launch_pid
                    _stop_dependent(launch_pid, spool, parent_cluster)
                    break
                if time.monotonic() > deadline:
                    raise SystemExit(
                        f"chaining_scale ({kind}): the dependent stage did not launch in "
                        f"{deadline - started:.0f} s; see {tmp}/worker-*.log")
            elapsed = time.monotonic() - started
            first_end, last_end, ended = db.session.execute(
                select(func.min(Job.ended_at), func.max(Job.ended_at), func.count(Job.id))
                .where(Job.submission_id == parent_id)).one()
            recorded, outputs = db.session.execute(
                select(func.count(ChainJobRecord.job_id), func.sum(ChainJobRecord.outputs))
                .where(ChainJobRecord.submission_id == parent_id)).one()
            step = db.session.scalar(select(ChainStep).where(
                ChainStep.parent_submission_id == parent_id, ChainStep.kind == "dependent"))
            file_count, step_note = step.file_count, step.note
            db.session.remove()
            db.engine.dispose()
    finally:
        stop_processes(processes)
        _stop_dependent(launch_pid, spool, parent_cluster)

    if ended != JOBS or recorded != JOBS or outputs != JOBS or file_count != JOBS:
        raise SystemExit(f"chaining_scale ({kind}): {ended} jobs ended, {recorded} recorded "
                         f"with {outputs} outputs, the dependent launched on {file_count} "
                         f"files ({step_note}); {JOBS} expected")
    last = last_end.replace(tzinfo=UTC).timestamp()
    records, decided = [], None
    for line in probe.read_text().splitlines():
        fields = line.split()
        if fields[0] == "record":
            records.append((float(fields[1]), float(fields[2]), int(fields[3])))
        elif fields[0] == "decided" and fields[5] == str(child.id):
            decided = (float(fields[1]), float(fields[2]), float(fields[3]))
    if decided is None:
        raise SystemExit(f"chaining_scale ({kind}): no settle call noted launching "
                         f"{child.id}; see {probe}")
    record_total = sum(end - start for start, end, _n in records)
    after_last = sum(n for start, _end, n in records if start >= last)
    longest = max(records, key=lambda r: r[1] - r[0])
    all_recorded = max(end for _start, end, _n in records)
    span = (last_end - first_end).total_seconds()
    latency = (child.launch_started_at - last_end).total_seconds()
    print(f"# {kind}: {JOBS} jobs ended over {span:.0f} s ({JOBS / max(span, 1e-9):.0f}/s, up "
          f"to {SLOTS} at once); their files recorded by {len(records)} passes, the longest "
          f"{longest[1] - longest[0]:.1f} s for {longest[2]} jobs; {after_last} jobs' files "
          f"recorded after the last end, all {all_recorded - last:.1f} s after it; the "
          f"decision started {decided[0] - last:.1f} s after it, its row "
          f"{(child.created.replace(tzinfo=UTC).timestamp()) - last:.1f} s; the dependent "
          f"launch's command started "
          f"{(child.launch_started_at - child.created).total_seconds():.1f} s after its row; "
          f"{elapsed:.0f} s from submit to launch", flush=True)
    bench(f"{PREFIX}_latency_s_{kind}", latency, "s")
    bench(f"{PREFIX}_record_s_{kind}", record_total, "s")
    bench(f"{PREFIX}_decision_s_{kind}", decided[2] - decided[0], "s")


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="poms-bench-chain100k-") as tmpdir:
        tmp = Path(tmpdir)
        port = free_port()
        redis = subprocess.Popen(
            ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(tmp)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            print("# workers: " + "; ".join(f"{name}: {' '.join(argv)}"
                                            for name, argv in procfile_workers()), flush=True)
            print(f"# {JOBS} jobs, tracking interval {INTERVAL} s", flush=True)
            redis_db = {"sqlite": 0, "postgresql": 1}
            return each_database(PREFIX, tmp, lambda kind, url, directory: chaining_scale(
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
