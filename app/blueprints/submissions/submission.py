"""One submission's live page and its fragments (summary, jobs, launch output, history), a
job's log from the batch system, and the actions on it: kill, hold, release, approve, refuse
(app/tracking/actions.py) and FCL uploads queued again.
"""
from __future__ import annotations

from pathlib import Path

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import login_required
from sqlalchemy import select

from app import states, work
from app.auth.session import Access, experiment_access
from app.batch.base import BatchError
from app.batch.engines import engine_from_config
from app.blueprints.submissions.common import bp
from app.blueprints.views import go, job_in, pushed_fragment, submission_in
from app.campaigns.permissions import may_control, may_launch
from app.extensions import db, reads_only
from app.ids import page_number
from app.launching import service
from app.models import Job, Submission, SubmissionEvent
from app.models.base import utcnow
from app.overview.family import relatives
from app.results.aggregate import results_for
from app.tracking import actions
from app.ucondb.jobs import enqueue, retry_failed, upload_summary
from app.work import QueueUnavailable

JOBS_PER_PAGE = 50
OUTPUT_TAIL_BYTES = 64 * 1024


def _submission_context(access: Access, submission: Submission) -> dict:
    uploads = upload_summary([submission.id])  # an FCL stage's files to UconDB
    batch_actions = actions.actions_of(submission, limit=3)  # kill, hold, release
    return dict(access=access, submission=submission, stage=submission.stage,
                campaign=submission.stage.campaign, now=utcnow(),
                may_launch=may_launch(access, submission.stage.campaign),
                may_control=may_control(access, submission.stage.campaign),
                uploads=uploads, batch_actions=batch_actions, describe=actions.describe,
                live=submission.state in states.ACTIVE
                or (submission.state == states.NEW) or bool(uploads.pending)
                or any(a.state in actions.PENDING for a in batch_actions))


@bp.get("/submission/<int:submission_id>")
@login_required
def show(experiment, submission_id):
    access = experiment_access(experiment)
    submission = submission_in(access, submission_id)
    return render_template("submissions/show.html", **_submission_context(access, submission),
                           relatives=relatives(submission))


@bp.get("/submission/<int:submission_id>/summary")
@login_required
@reads_only
def summary(experiment, submission_id):
    access = experiment_access(experiment)
    submission = submission_in(access, submission_id)
    # Not cached (app/live/cache.py): it shows its relatives, other submissions' rows. Only
    # the summary shows them (parent, family, dependents, as made): 3 queries.
    context = _submission_context(access, submission) | {"relatives": relatives(submission)}
    html = render_template("submissions/_summary.html", **context)
    if request.args.get("along") == "1":
        # The submission page's: the jobs table, as the person left it (its filter and page
        # come with the request), and the results summary ride along, swapped in by id:
        # one fetch per change.
        html += _jobs_html(context, request.args.get("jobs_state", ""),
                           page_number(request.args.get("jobs_page")), along=True)
        html += render_template("results/_summary.html", access=access, submission=submission,
                                results=results_for(submission_ids=[submission.id],
                                                    plots=False), rides=True, oob=True)
    return html


@bp.get("/submission/<int:submission_id>/jobs")
@login_required
@reads_only
def jobs(experiment, submission_id):
    access = experiment_access(experiment)
    submission = submission_in(access, submission_id)
    return _jobs_html(_submission_context(access, submission), request.args.get("state", ""),
                      page_number(request.args.get("page")))


def _jobs_html(context: dict, state: str, page: int, along: bool = False) -> str:
    submission = context["submission"]
    query = select(Job).where(Job.submission_id == submission.id)
    total = submission.jobs_total
    if state in states.JOB_STATES:
        query = query.where(Job.state == state)
        total = getattr(submission, states.JOB_COUNTERS[state])
    else:
        state = ""
    rows = db.session.scalars(
        query.order_by(Job.id).limit(JOBS_PER_PAGE).offset((page - 1) * JOBS_PER_PAGE)
    ).all()
    pages = max(1, -(-total // JOBS_PER_PAGE))
    return render_template(
        "submissions/_jobs.html", **context, jobs=rows, state=state, page=page, pages=pages,
        total=total, job_states=states.JOB_STATES, along=along,
    )


@bp.get("/submission/<int:submission_id>/output")
@login_required
@reads_only
def output(experiment, submission_id):
    access = experiment_access(experiment)
    submission = submission_in(access, submission_id)
    text, size = "", 0
    if submission.launch_output:
        path = Path(submission.launch_output)
        size = path.stat().st_size if path.exists() else 0
        text = service.read_output(submission, offset=max(0, size - OUTPUT_TAIL_BYTES))
    return render_template("submissions/_output.html",
                           **_submission_context(access, submission), text=text,
                           truncated=size > OUTPUT_TAIL_BYTES,
                           running=submission.launch_finished_at is None
                           and submission.state == states.NEW)


@bp.get("/submission/<int:submission_id>/history")
@login_required
@reads_only
def history(experiment, submission_id):
    access = experiment_access(experiment)
    submission = submission_in(access, submission_id)

    def render():
        events = db.session.scalars(
            select(SubmissionEvent).where(SubmissionEvent.submission_id == submission.id)
            .order_by(SubmissionEvent.id)
        ).all()
        return render_template("submissions/_history.html",
                               **_submission_context(access, submission), events=events)

    return pushed_fragment(access, f"submission-{submission.id}-state", render)


@bp.get("/submission/<int:submission_id>/job/<int:job_id>/log")
@login_required
def job_log(experiment, submission_id, job_id):
    access = experiment_access(experiment)
    submission = submission_in(access, submission_id)
    job = job_in(submission, job_id)
    try:
        text = engine_from_config(current_app.config).fetch_log(job.batch_job_id)
    except (BatchError, ValueError) as err:
        text = f"(no log: {err})"
    return render_template("submissions/job_log.html", access=access, submission=submission,
                           job=job, text=text)


@bp.post("/submission/<int:submission_id>/retry-uploads")
@login_required
def retry_uploads(experiment, submission_id):
    """An FCL stage's failed uploads to UconDB, queued again (app/ucondb/jobs.py)."""
    access = experiment_access(experiment)
    submission = submission_in(access, submission_id)
    if not may_control(access, submission.stage.campaign):
        abort(403, f"acting as {access.role}, you may not upload the FCL files of "
                   f"submission {submission.id} again")
    ids = retry_failed(submission.id)
    db.session.commit()
    try:
        enqueue(current_app.config, ids)
        flash(f"Submission {submission.id}: {len(ids)} failed FCL uploads queued again.", "ok")
    except QueueUnavailable:  # the rows say queued: the next tracking pass queues them
        flash("The queue is not answering: the uploads will start when the workers are "
              "back.", "error")
    return redirect(url_for("submissions.show", experiment=experiment,
                            submission_id=submission_id))


@bp.post(f"/submission/<int:submission_id>/<any({', '.join(actions.SUBMISSION_ACTIONS)}):action>")
@login_required
def act(experiment, submission_id, action):
    """Approve and refuse are done at once; a kill, hold or release is requested, and a
    worker asks the batch system (the page shows the request until it is done)."""
    access = experiment_access(experiment)
    submission = submission_in(access, submission_id)
    if not may_control(access, submission.stage.campaign):
        abort(403, f"acting as {access.role}, you may not {action} submission {submission.id}")
    try:
        got = actions.request_action(action, submission, access.user, origin="web")
        db.session.commit()
    except actions.ActionRefused as err:
        db.session.rollback()
        flash(f"Not done: {err}.", "error")
        got = None
    if isinstance(got, str):
        flash(f"Submission {submission.id}: {got}.", "ok")
    elif got is not None:
        try:
            work.queue_batch_action(current_app.config, got.id)
            flash(f"Submission {submission.id}: {actions.describe(got)}; a worker asks the "
                  "batch system now.", "ok")
        except QueueUnavailable:  # the row says requested: the scheduler queues it again
            flash(f"Submission {submission.id}: {actions.describe(got)}. The queue is not "
                  "answering: it is done when the workers are back.", "error")
    target = url_for("submissions.show", experiment=experiment, submission_id=submission_id)
    return go(target)
