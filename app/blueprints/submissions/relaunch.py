"""A LaunchFailed submission launched again: the dry run first, then the launch (a new
submission with the same stage, test flag, dataset and overrides; app/launching/relaunch.py).
"""
from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, url_for
from flask_login import login_required

from app.auth.session import experiment_access
from app.blueprints.submissions.common import bp
from app.blueprints.views import queue_launches, submission_in
from app.campaigns.permissions import may_launch
from app.extensions import db
from app.launching import relaunch, service
from app.launching.command import LaunchError


def _submission(experiment, submission_id):
    access = experiment_access(experiment)
    submission = submission_in(access, submission_id)
    if not may_launch(access, submission.stage.campaign):
        abort(403, f"acting as {access.role}, you may not launch "
                   f"{submission.stage.campaign.name}")
    return access, submission


@bp.get("/submission/<int:submission_id>/relaunch")
@login_required
def relaunch_preview(experiment, submission_id):
    access, submission = _submission(experiment, submission_id)
    error, shown = None, None
    try:
        shown = relaunch.preview(submission, access.user, current_app.config)
    except LaunchError as err:
        error = str(err)
    return render_template(
        "submissions/launch.html", access=access, stage=submission.stage,
        campaign=submission.stage.campaign, test=submission.test, preview=shown, error=error,
        held=service.held_why(submission.stage), again=submission,
        confirm_url=url_for("submissions.relaunch_submission", experiment=experiment,
                            submission_id=submission.id),
    ), (422 if error else 200)


@bp.post("/submission/<int:submission_id>/relaunch")
@login_required
def relaunch_submission(experiment, submission_id):
    access, submission = _submission(experiment, submission_id)
    try:
        again = relaunch.relaunch(submission, access.user, current_app.config)
        db.session.commit()
    except LaunchError as err:
        db.session.rollback()
        flash(f"Not launched again: {err}", "error")
        return redirect(url_for("submissions.show", experiment=experiment,
                                submission_id=submission_id))
    if why := service.held_why(submission.stage):
        flash(f"{why[0].upper()}{why[1:]}: submission {again.id} waits until released.", "ok")
    elif queue_launches([again.id]):
        flash(f"Submission {submission.id} launched again as {again.id}.", "ok")
    return redirect(url_for("submissions.show", experiment=experiment, submission_id=again.id))
