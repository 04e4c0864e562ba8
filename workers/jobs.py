"""RQ job functions: thin. Each makes (once per process) the app, opens a context, calls
the domain, and returns a sentence for the worker's log."""
from __future__ import annotations

import os

_app = None
_app_pid = None


def app():
    """The POMS app for this process; a forked work horse gets fresh database connections."""
    global _app, _app_pid
    if _app is None:
        from app import create_app

        _app = create_app()
        _app_pid = os.getpid()
    elif _app_pid != os.getpid():
        from app.extensions import db

        with _app.app_context():
            db.engine.dispose(close=False)
        _app_pid = os.getpid()
    return _app


def use_app(flask_app) -> None:
    """Tests and the worker command hand in their own app."""
    global _app, _app_pid
    _app, _app_pid = flask_app, os.getpid()


def launch(submission_id: int) -> str:
    from app.launching.service import run_launch
    from app.tracking.tracker import track_submissions
    from workers.queues import enqueue_analysis

    flask_app = app()
    with flask_app.app_context():
        outcome = run_launch(submission_id, flask_app.config)
        # Show the jobs at once rather than at the next tracking pass.
        result = track_submissions([submission_id], flask_app.config)
        enqueue_analysis(flask_app.config["POMS_REDIS_URL"], result.finished_jobs)
        _chain(flask_app.config)
        return outcome


def _chain(config) -> str:
    """Completion, recoveries and dependent stages after tracking (app/chaining)."""
    from app.chaining.hooks import after_tracking, enqueue
    from app.ucondb.jobs import enqueue_uploads

    chained = after_tracking(config)
    enqueue(config, chained.launched)
    uploads = enqueue_uploads(config)  # FCL stages' files to UconDB (RQ queue `uploads`)
    return (f"; {chained.recorded_jobs} jobs' files recorded, {len(chained.located)} located, "
            f"{len(chained.launched)} launched by chaining" + uploads)


def track(submission_ids: list[int] | None = None) -> str:
    from app.tracking.tracker import track_pass, track_submissions
    from workers.queues import enqueue_analysis

    flask_app = app()
    with flask_app.app_context():
        if submission_ids is None:
            result = track_pass(flask_app.config)
        else:
            result = track_submissions(submission_ids, flask_app.config)
        enqueue_analysis(flask_app.config["POMS_REDIS_URL"], result.finished_jobs)
        chained = _chain(flask_app.config)
        return (f"tracked {result.submissions} submissions, {result.job_updates} job updates, "
                f"{len(result.transitions)} state changes, {len(result.errors)} errors"
                + chained)


def analyse(job_row_ids: list[int]) -> str:
    """Parse the logs of finished jobs (app/logs)."""
    from app.logs.jobs import analyse_jobs

    flask_app = app()
    with flask_app.app_context():
        return str(analyse_jobs(job_row_ids, config=flask_app.config))


def analyse_lost() -> str:
    """The scheduler's periodic catch-up of analyses whose queue entry was lost."""
    from app.logs.jobs import analyse_lost

    flask_app = app()
    with flask_app.app_context():
        return "catch-up: " + str(analyse_lost(flask_app.config))
