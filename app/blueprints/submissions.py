"""Launching and following work: the dashboard, a stage's submissions and launch buttons
(behind the dry-run preview), a submission's live page, and the actions on them.

Thin views: they check who may act (app/auth/policy.py), call app/launching and
app/tracking, commit once, enqueue after the commit, and render. Fragments (`_name.html`)
poll cheap aggregates: counters on the submission row, one page of jobs.
"""
from __future__ import annotations

from pathlib import Path

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import login_required
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from app import states, work
from app.auth.session import Access, experiment_access
from app.batch.base import BatchError
from app.batch.engines import engine_from_config
from app.blueprints.views import (
    go,
    may_control,
    may_launch,
    queue_launches,
    stage_in,
    submission_in,
)
from app.extensions import db
from app.ids import page_number
from app.launching import schedule, service
from app.launching.command import LaunchError
from app.models import (
    CampaignStage,
    Job,
    Submission,
    SubmissionEvent,
)
from app.tracking import actions
from app.ucondb.jobs import enqueue, retry_failed, upload_summary
from app.work import QueueUnavailable

bp = Blueprint("submissions", __name__, url_prefix="/e/<experiment>")

JOB_STATES = ("Idle", "Running", "Held", "Completed", "Failed", "Removed")
JOBS_PER_PAGE = 50
OUTPUT_TAIL_BYTES = 64 * 1024


# --- dashboard ---------------------------------------------------------------------------


def _state_counts(experiment_id: int) -> dict[str, int]:
    rows = db.session.execute(
        select(Submission.state, func.count()).where(Submission.experiment_id == experiment_id)
        .group_by(Submission.state)
    ).all()
    counts = {state: 0 for state in states.STATES}
    counts.update(dict(rows))
    return counts


def _dashboard_context(access: Access) -> dict:
    active = db.session.scalars(
        select(Submission)
        .where(Submission.experiment_id == access.experiment.id,
               Submission.state.in_(states.ACTIVE))
        .options(joinedload(Submission.stage).joinedload(CampaignStage.campaign))
        .order_by(Submission.id.desc()).limit(50)
    ).all()
    counts = _state_counts(access.experiment.id)
    return dict(access=access, counts=counts, active=active,
                active_total=sum(counts[s] for s in states.ACTIVE), active_states=states.ACTIVE)


@bp.get("/dashboard")
@login_required
def dashboard(experiment):
    access = experiment_access(experiment)
    return render_template("submissions/dashboard.html", **_dashboard_context(access))


@bp.get("/dashboard/live")
@login_required
def dashboard_live(experiment):
    access = experiment_access(experiment)
    return render_template("submissions/_dashboard_live.html", **_dashboard_context(access))


# --- a stage's submissions and launch buttons ------------------------------------------------


def _stage_context(access: Access, stage: CampaignStage) -> dict:
    rows = db.session.scalars(
        select(Submission).where(Submission.campaign_stage_id == stage.id)
        .options(joinedload(Submission.launcher))
        .order_by(Submission.id.desc()).limit(25)
    ).all()
    settings = service.stage_settings(stage)
    return dict(access=access, stage=stage, campaign=stage.campaign, submissions=rows,
                settings=settings, may_launch=may_launch(access, stage.campaign),
                live=any(s.state in states.ACTIVE for s in rows))


@bp.get("/stage/<int:stage_id>/submissions")
@login_required
def stage_section(experiment, stage_id):
    access = experiment_access(experiment)
    stage = stage_in(access, stage_id)
    return render_template("submissions/_stage_section.html", **_stage_context(access, stage))


@bp.get("/stage/<int:stage_id>/launch")
@login_required
def launch_preview(experiment, stage_id):
    """The dry run: exactly what would run, before anyone confirms. Writes nothing."""
    access = experiment_access(experiment)
    stage = stage_in(access, stage_id)
    test = request.args.get("test") == "1"
    if not may_launch(access, stage.campaign):
        abort(403, f"acting as {access.role}, you may not launch {stage.campaign.name}")
    error, shown = None, None
    try:
        shown = service.preview(stage, access.user, test=test, config=current_app.config)
    except LaunchError as err:
        error = str(err)
    return render_template(
        "submissions/launch.html", access=access, stage=stage, campaign=stage.campaign,
        test=test, preview=shown, error=error, held=service.stage_held(stage),
    ), (422 if error else 200)


@bp.post("/stage/<int:stage_id>/launch")
@login_required
def launch(experiment, stage_id):
    access = experiment_access(experiment)
    stage = stage_in(access, stage_id)
    if not may_launch(access, stage.campaign):
        abort(403, f"acting as {access.role}, you may not launch {stage.campaign.name}")
    test = request.form.get("test") == "1"
    try:
        submission = service.request_launch(stage, access.user, test=test, origin="web",
                                            config=current_app.config)
        db.session.commit()
    except LaunchError as err:
        db.session.rollback()
        flash(f"Not launched: {err}", "error")
        return redirect(url_for("submissions.launch_preview", experiment=experiment,
                                stage_id=stage_id, test=int(test)))
    if service.stage_held(stage):
        flash(f"Stage {stage.name} is held: submission {submission.id} waits until it is "
              "released.", "ok")
    elif queue_launches([submission.id]):
        flash(f"{'Test launch' if test else 'Launch'} of {stage.name} queued as submission "
              f"{submission.id}.", "ok")
    return redirect(url_for("submissions.show", experiment=experiment,
                            submission_id=submission.id))


@bp.post("/stage/<int:stage_id>/<any(hold, release):action>")
@login_required
def stage_hold(experiment, stage_id, action):
    access = experiment_access(experiment)
    stage = stage_in(access, stage_id)
    if not may_control(access, stage.campaign):
        abort(403, f"acting as {access.role}, you may not hold or release {stage.name}")
    waiting = []
    if action == "hold":
        actions.hold_stage(stage, access.user)
    else:
        waiting = actions.release_stage(stage, access.user)
    db.session.commit()
    if waiting:
        queue_launches(waiting)
    flash(f"Stage {stage.name} {'held: launches wait' if action == 'hold' else 'released'}"
          + (f"; {len(waiting)} waiting launch(es) queued." if waiting else "."), "ok")
    return redirect(url_for("campaigns.stage", experiment=experiment, stage_id=stage_id))


@bp.post("/stage/<int:stage_id>/schedule")
@login_required
def stage_schedule(experiment, stage_id):
    access = experiment_access(experiment)
    stage = stage_in(access, stage_id)
    if not may_launch(access, stage.campaign):
        abort(403, f"acting as {access.role}, you may not schedule {stage.name}")
    try:
        schedule.set_schedule(stage, request.form.get("schedule", ""), access.user,
                              test=request.form.get("test") == "1")
        db.session.commit()
        flash("Schedule saved.", "ok")
    except schedule.ScheduleError as err:
        db.session.rollback()
        flash(f"Schedule not saved: {err}", "error")
    return redirect(url_for("campaigns.stage", experiment=experiment, stage_id=stage_id))


# --- one submission ------------------------------------------------------------------------


def _submission_context(access: Access, submission: Submission) -> dict:
    uploads = upload_summary([submission.id])  # an FCL stage's files to UconDB
    batch_actions = actions.actions_of(submission, limit=3)  # kill, hold, release
    return dict(access=access, submission=submission, stage=submission.stage,
                campaign=submission.stage.campaign,
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
    return render_template("submissions/show.html", **_submission_context(access, submission))


@bp.get("/submission/<int:submission_id>/summary")
@login_required
def summary(experiment, submission_id):
    access = experiment_access(experiment)
    submission = submission_in(access, submission_id)
    return render_template("submissions/_summary.html",
                           **_submission_context(access, submission))


@bp.get("/submission/<int:submission_id>/jobs")
@login_required
def jobs(experiment, submission_id):
    access = experiment_access(experiment)
    submission = submission_in(access, submission_id)
    state = request.args.get("state", "")
    page = page_number(request.args.get("page"))
    query = select(Job).where(Job.submission_id == submission.id)
    total = submission.jobs_total
    if state in JOB_STATES:
        query = query.where(Job.state == state)
        total = {
            "Idle": submission.jobs_idle, "Running": submission.jobs_running,
            "Held": submission.jobs_held, "Completed": submission.jobs_done,
            "Failed": submission.jobs_failed, "Removed": submission.jobs_removed,
        }[state]
    else:
        state = ""
    rows = db.session.scalars(
        query.order_by(Job.id).limit(JOBS_PER_PAGE).offset((page - 1) * JOBS_PER_PAGE)
    ).all()
    pages = max(1, -(-total // JOBS_PER_PAGE))
    return render_template(
        "submissions/_jobs.html", **_submission_context(access, submission), jobs=rows,
        state=state, page=page, pages=pages, total=total, job_states=JOB_STATES,
    )


@bp.get("/submission/<int:submission_id>/output")
@login_required
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
def history(experiment, submission_id):
    access = experiment_access(experiment)
    submission = submission_in(access, submission_id)
    events = db.session.scalars(
        select(SubmissionEvent).where(SubmissionEvent.submission_id == submission.id)
        .order_by(SubmissionEvent.id)
    ).all()
    return render_template("submissions/_history.html",
                           **_submission_context(access, submission), events=events)


@bp.get("/submission/<int:submission_id>/job/<int:job_id>/log")
@login_required
def job_log(experiment, submission_id, job_id):
    access = experiment_access(experiment)
    submission = submission_in(access, submission_id)
    job = db.session.get(Job, job_id)
    if job is None or job.submission_id != submission.id:
        abort(404, "no such job in this submission")
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
