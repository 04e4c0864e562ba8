"""RQ job functions: thin. Each opens a context on the process's app, calls the domain, and
returns a sentence for the worker's log.

The app is handed in by whoever starts the worker (`poms worker`, workers/main.run_worker,
or a test's `use_app`): this package is below the app factory, never imports it.
"""
from __future__ import annotations

import os

from rq import get_current_job

from app import work
from app.batch.engines import engine_from_config
from app.chaining.hooks import after_tracking
from app.extensions import db
from app.launching.service import run_launch
from app.logs import jobs as log_analysis
from app.tracking.actions import run_requested_action
from app.tracking.events import changed_submissions, track_changes
from app.tracking.tracker import track_pass, track_submissions
from app.ucondb.jobs import enqueue_uploads, run_upload
from app.watching.delivery import deliver_once, retry_delays
from app.watching.scan import watch_pass as scan_watches
from workers.queues import chaining_started, enqueue_chaining, follow_started

_app = None
_app_pid = None


def app():
    """The POMS app of this process; a forked work horse gets fresh database connections."""
    global _app_pid
    if _app is None:
        raise RuntimeError("no POMS app in this worker: start workers with "
                           "`flask --app wsgi poms worker` (workers/main.run_worker)")
    if _app_pid != os.getpid():
        with _app.app_context():
            db.engine.dispose(close=False)
        _app_pid = os.getpid()
    return _app


def use_app(flask_app) -> None:
    """The app the jobs of this process run in (the worker command hands in its own)."""
    global _app, _app_pid
    _app, _app_pid = flask_app, os.getpid()


def launch(submission_id: int) -> str:
    flask_app = app()
    with flask_app.app_context():
        outcome = run_launch(submission_id, flask_app.config)
        # Show the jobs at once rather than at the next tracking pass.
        result = track_submissions([submission_id], flask_app.config)
        work.queue_analysis(flask_app.config, result.finished_jobs)
        _queue_chaining(flask_app.config)
        return outcome


def _queue_chaining(config) -> None:
    """Chaining after tracking, on its own queue (workers.jobs.chain): at most one waits."""
    current = get_current_job()
    enqueue_chaining(current.connection if current is not None else config["POMS_REDIS_URL"])


def track(submission_ids: list[int] | None = None, job_states: bool = True) -> str:
    """A tracking pass; chaining is queued after it (the pass the scheduler queues every
    tick is chaining's safety net too: whatever an earlier chaining job left is done)."""
    flask_app = app()
    with flask_app.app_context():
        if submission_ids is None:
            result = track_pass(flask_app.config, job_states=job_states)
        else:
            result = track_submissions(submission_ids, flask_app.config)
        work.queue_analysis(flask_app.config, result.finished_jobs)
        _queue_chaining(flask_app.config)
        return (f"tracked {result.submissions} submissions, {result.job_updates} job updates, "
                f"{len(result.transitions)} state changes, {len(result.errors)} errors")


def follow() -> str:
    """Read what the batch engine logged since the last look, for every submission whose
    log moved (app/tracking/events.py); chaining is queued when jobs ended or a submission
    moved."""
    current = get_current_job()
    if current is not None:
        follow_started(current.connection)  # events from now on: for the next job
    flask_app = app()
    with flask_app.app_context():
        engine = engine_from_config(flask_app.config)
        ids = changed_submissions(flask_app.config, engine)
        result = track_changes(ids, flask_app.config, engine)
        work.queue_analysis(flask_app.config, result.finished_jobs)
        if result.finished_jobs or result.transitions:
            _queue_chaining(flask_app.config)
        return (f"followed {result.submissions} submissions' events, {result.job_updates} job "
                f"updates, {len(result.transitions)} state changes")


# A chaining job records finished jobs' files for at most this long before it locates and
# settles the submissions that ended; it queues the next one for the rest, so a small
# submission's dependents never wait for a 100,000-job submission's recording to end.
CHAIN_RECORD_S = 10.0


def chain() -> str:
    """Completion, recoveries and dependent stages after tracking (app/chaining): the files
    of jobs that ended recorded, Completed submissions Located, ended ones settled. A crash
    loses nothing: what is not recorded or settled is found by the next chaining job (every
    tracking pass queues one)."""
    current = get_current_job()
    if current is not None:
        chaining_started(current.connection)  # what ends from now on: for the next job
    flask_app = app()
    with flask_app.app_context():
        config = flask_app.config
        chained = after_tracking(config, record_for_s=CHAIN_RECORD_S)
        work.queue_launches(config, chained.launched)
        uploads = enqueue_uploads(config)  # FCL stages' files to UconDB (RQ queue `uploads`)
        if chained.recording_left:
            _queue_chaining(config)
        return (f"chaining: {chained.recorded_jobs} jobs' files recorded"
                f"{' (more to record)' if chained.recording_left else ''}, "
                f"{len(chained.located)} located, {len(chained.launched)} launched" + uploads)


def analyse(job_row_ids: list[int]) -> str:
    """Parse the logs of finished jobs (app/logs)."""
    flask_app = app()
    with flask_app.app_context():
        return str(log_analysis.analyse_jobs(job_row_ids, config=flask_app.config))


def analyse_lost() -> str:
    """The scheduler's periodic catch-up of analyses whose queue entry was lost."""
    flask_app = app()
    with flask_app.app_context():
        return "catch-up: " + str(log_analysis.analyse_lost(flask_app.config))


def upload(job_row_id: int) -> str:
    """One finished job's FCL files into UconDB (app/ucondb/jobs.py); raises while it fails,
    so RQ tries again after the next delay."""
    current = get_current_job()
    final = current is None or not current.retries_left
    flask_app = app()
    with flask_app.app_context():
        outcome = run_upload(job_row_id, flask_app.config, final=final)
        if outcome.startswith("stored"):
            # Chaining waits for this upload: let it look again now, not at the next tick.
            _queue_chaining(flask_app.config)
        return outcome


def batch_action(action_id: int) -> str:
    """A requested kill, hold or release of a submission's jobs (app/tracking/actions.py)."""
    flask_app = app()
    with flask_app.app_context():
        return run_requested_action(action_id, flask_app.config)


def watch_pass() -> str:
    """What happened since the last pass, as events for the watchers; their messages queued
    (app/watching/scan.py)."""
    flask_app = app()
    with flask_app.app_context():
        ids = scan_watches(flask_app.config)
        queued = work.queue_deliveries(flask_app.config, ids, retry_delays(flask_app.config))
        return f"watch pass: {queued} deliveries queued"


def deliver(delivery_id: int) -> str:
    """One mail or webhook (app/watching/delivery.py); raises while it fails, so RQ tries
    again after the next delay."""
    current = get_current_job()
    final = current is None or not current.retries_left
    flask_app = app()
    with flask_app.app_context():
        return deliver_once(delivery_id, flask_app.config, final=final)
