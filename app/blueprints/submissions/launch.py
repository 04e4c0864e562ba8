"""A stage's submissions and launch buttons: the section on the stage page, the dry-run
preview, the launch itself (queued after the commit), holding and releasing the stage, its
cron schedule.
"""
from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import login_required
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from app import states
from app.auth.redirects import safe_next
from app.auth.session import Access, experiment_access
from app.blueprints.submissions.common import bp
from app.blueprints.views import queue_launches, stage_in
from app.campaigns.permissions import may_control, may_launch
from app.extensions import db
from app.launching import schedule, service
from app.launching.command import LaunchError
from app.models import CampaignStage, Submission
from app.models.base import utcnow
from app.tracking import actions


def _stage_context(access: Access, stage: CampaignStage) -> dict:
    rows = db.session.scalars(
        select(Submission).where(Submission.campaign_stage_id == stage.id)
        .options(joinedload(Submission.launcher))
        .order_by(Submission.id.desc()).limit(25)
    ).all()
    settings = service.stage_settings(stage)
    return dict(access=access, stage=stage, campaign=stage.campaign, submissions=rows,
                settings=settings, may_launch=may_launch(access, stage.campaign), now=utcnow(),
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
        test=test, preview=shown, error=error, held=service.held_why(stage),
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
    if why := service.held_why(stage):
        flash(f"{why[0].upper()}{why[1:]}: submission {submission.id} waits until it is "
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
    return redirect(safe_next(request.form.get("next"),
                              url_for("campaigns.stage", experiment=experiment,
                                      stage_id=stage_id)))


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
