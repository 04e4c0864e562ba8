"""Pages for completion and recoveries: a stage's ledger, a submission's recovery preview
and the operator's actions (force Located, recover now, mark files to process again).

Thin views over app/chaining: check who may act, call the domain, commit once, enqueue
after the commit, redirect back to the submission page.
"""
from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    render_template,
    request,
    url_for,
)
from flask_login import login_required

from app import states
from app.auth.session import experiment_access
from app.blueprints.views import (
    go,
    may_control,
    may_launch,
    queue_launches,
    stage_in,
    submission_in,
)
from app.chaining import chain, completion, operator
from app.chaining.ledger import stage_ledger
from app.extensions import db

bp = Blueprint("chaining", __name__, url_prefix="/e/<experiment>")


@bp.get("/stage/<int:stage_id>/ledger")
@login_required
def ledger(experiment, stage_id):
    access = experiment_access(experiment)
    stage = stage_in(access, stage_id)
    return render_template("chaining/_ledger.html", access=access, stage=stage,
                           ledger=stage_ledger(stage))


@bp.get("/submission/<int:submission_id>/recovery")
@login_required
def recovery(experiment, submission_id):
    access = experiment_access(experiment)
    submission = submission_in(access, submission_id)
    campaign = submission.stage.campaign
    return render_template(
        "chaining/_recovery.html", access=access, submission=submission,
        preview=operator.recovery_preview(submission, current_app.config),
        steps=chain.steps_of(submission.id), marks=operator.marks_of(submission),
        may_control=may_control(access, campaign), may_launch=may_launch(access, campaign),
        completed=submission.state == states.COMPLETED)


def _back(experiment, submission_id):
    return go(url_for("submissions.show", experiment=experiment, submission_id=submission_id))


@bp.post("/submission/<int:submission_id>/force-located")
@login_required
def force_located(experiment, submission_id):
    access = experiment_access(experiment)
    submission = submission_in(access, submission_id)
    if not may_control(access, submission.stage.campaign):
        abort(403, f"acting as {access.role}, you may not force submission {submission.id}")
    try:
        completion.force_located(submission, access.user)
        db.session.commit()
    except completion.NotCompleted as err:
        db.session.rollback()
        flash(f"Not done: {err}.", "error")
        return _back(experiment, submission_id)
    settled = chain.settle(submission, current_app.config)
    db.session.commit()
    queue_launches(settled.launched)
    flash(f"Submission {submission.id} is Located. " + "; ".join(settled.notes), "ok")
    return _back(experiment, submission_id)


@bp.post("/submission/<int:submission_id>/recover")
@login_required
def recover(experiment, submission_id):
    access = experiment_access(experiment)
    submission = submission_in(access, submission_id)
    if not may_launch(access, submission.stage.campaign):
        abort(403, f"acting as {access.role}, you may not launch a recovery")
    try:
        launched = operator.recover_now(submission, access.user, current_app.config)
        db.session.commit()
    except operator.RecoveryRefused as err:
        db.session.rollback()
        flash(f"No recovery: {err}.", "error")
        return _back(experiment, submission_id)
    queue_launches([launched.id])
    flash(f"Recovery {launched.id} launched on {launched.dataset}.", "ok")
    return _back(experiment, launched.id)


@bp.post("/submission/<int:submission_id>/reprocess")
@login_required
def reprocess(experiment, submission_id):
    access = experiment_access(experiment)
    submission = submission_in(access, submission_id)
    if not may_launch(access, submission.stage.campaign):
        abort(403, f"acting as {access.role}, you may not mark files to process again")
    files = request.form.get("files", "").replace(",", " ").split()
    try:
        marks, launched = operator.reprocess(submission, files, access.user,
                                             current_app.config,
                                             request.form.get("reason", "").strip())
        db.session.commit()
    except operator.RecoveryRefused as err:
        db.session.rollback()
        flash(f"Not marked: {err}.", "error")
        return _back(experiment, submission_id)
    if launched is not None:
        queue_launches([launched.id])
        flash(f"{len(marks)} files marked; recovery {launched.id} launched.", "ok")
    else:
        flash(f"{len(marks)} files marked: they run with the next recovery.", "ok")
    return _back(experiment, submission_id)
