"""A stage's circuit breaker: the fragment its pages load (a banner saying why, with the
failures by signature, and the release button; otherwise the policy in force), releasing
it, and setting its job type's policy or the experiment's default."""
from __future__ import annotations

from flask import abort, current_app, flash, render_template, request, url_for
from flask_login import login_required

from app.audit import audit
from app.auth import policy as roles
from app.auth.session import experiment_access
from app.blueprints.views import go, queue_launches, stage_in
from app.blueprints.watching.common import bp
from app.campaigns import permissions
from app.extensions import db
from app.watching import breaker, policy


@bp.get("/stage/<int:stage_id>/breaker")
@login_required
def banner(experiment, stage_id):
    access = experiment_access(experiment)
    stage = stage_in(access, stage_id)
    row = breaker.breaker_of(stage)
    return render_template(
        "watching/_breaker.html", access=access, stage=stage, row=row,
        by_signature=breaker.failures_by_signature(row) if row and row.tripped else [],
        policy=policy.policy_for(stage, current_app.config),
        may_release=permissions.may_control(access, stage.campaign),
        may_edit=permissions.may_edit_shared(access, stage.job_type),
        may_edit_default=roles.at_least(access.role, "production"),
        least=current_app.config.get("POMS_BREAKER_MIN_JOBS", 10))


@bp.post("/stage/<int:stage_id>/breaker/release")
@login_required
def release(experiment, stage_id):
    access = experiment_access(experiment)
    stage = stage_in(access, stage_id)
    if not permissions.may_control(access, stage.campaign):
        abort(403, f"acting as {access.role}, you may not release stage {stage.name}")
    try:
        waiting = breaker.release(stage, access.user)
    except ValueError as err:
        db.session.rollback()
        abort(409, str(err))
    db.session.commit()
    if waiting:
        queue_launches(waiting)
    flash(f"Circuit breaker of {stage.name} released"
          + (f"; {len(waiting)} waiting launches queued." if waiting else "."), "ok")
    return go(request.form.get("next") or url_for("campaigns.stage", experiment=experiment,
                                                  stage_id=stage.id))


def _whole(text: str, name: str) -> int:
    try:
        return int(text.strip())
    except ValueError:
        raise ValueError(f"{name}: give a whole number, not {text!r}") from None


@bp.post("/stage/<int:stage_id>/breaker/policy")
@login_required
def set_policy(experiment, stage_id):
    """The stage's job type's policy (scope=job_type) or the experiment's default."""
    access = experiment_access(experiment)
    stage = stage_in(access, stage_id)
    default = request.form.get("scope") == "experiment"
    if default and not roles.at_least(access.role, "production"):
        abort(403, f"acting as {access.role}, you may not change the experiment's default")
    if not default and not permissions.may_edit_shared(access, stage.job_type):
        abort(403, f"acting as {access.role}, you may not change job type "
                   f"{stage.job_type.name}")
    try:
        row = policy.set_policy(
            access.experiment.id, None if default else stage.job_type_id,
            window=_whole(request.form.get("window", ""), "window"),
            percent=_whole(request.form.get("percent", ""), "percent"),
            enabled=request.form.get("enabled") == "on", config=current_app.config)
        audit(access.experiment, access.user, "circuit breaker policy set",
              "experiment default" if default else stage.job_type.name, None,
              {"window": row.window, "percent": row.percent, "enabled": row.enabled})
        db.session.commit()
        flash(f"Circuit breaker of {'the experiment' if default else stage.job_type.name}: "
              f"trips above {row.percent}% failed of the last {row.window} finished jobs"
              + ("" if row.enabled else " (off)") + ".", "ok")
    except ValueError as err:
        db.session.rollback()
        flash(f"Not saved: {err}", "error")
    return go(url_for("campaigns.stage", experiment=experiment, stage_id=stage.id))
