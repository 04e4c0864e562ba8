"""The signature table against the past: try a pattern on the experiment's stored job logs,
and re-label past failures after the table changed (a preview of what changes, then the
change in one transaction, audited). Both are for those who may change the table; both
are bounded (app/logs/trial.py, app/logs/relabel.py) and say so on the page.
"""
from __future__ import annotations

from flask import current_app, render_template, request
from flask_login import login_required

from app.blueprints.signatures.common import bp, editor
from app.extensions import db
from app.logs.relabel import StaleRelabel, apply_relabel, plan_relabel
from app.logs.signatures import InvalidSignature, Signature, validate_pattern
from app.logs.trial import try_on_stored_logs


@bp.post("/signatures/try")
@login_required
def trial(experiment):
    """What a pattern would match in the experiment's newest failed jobs' logs."""
    access = editor(experiment)
    pattern = request.form.get("pattern", "").strip("\r\n")
    context = dict(access=access, pattern=pattern, report=None, error=None)
    if not pattern:
        context["error"] = "type a regular expression to try"
    else:
        try:
            validate_pattern(pattern)
        except InvalidSignature as err:
            context["error"] = str(err)
    if context["error"] is None:
        context["report"] = try_on_stored_logs(
            access.experiment, Signature.build("trial", pattern, "software"),
            current_app.config)
    return render_template("signatures/_trial.html", **context)


@bp.get("/signatures/relabel")
@login_required
def relabel_offer(experiment):
    """The offer shown after the table changed: preview how past failures would change."""
    access = editor(experiment)
    return render_template("signatures/_relabel.html", access=access, plan=None,
                           changed=request.args.get("changed") == "1", done=None, error=None)


@bp.post("/signatures/relabel/preview")
@login_required
def relabel_preview(experiment):
    access = editor(experiment)
    plan = plan_relabel(access.experiment, current_app.config)
    db.session.rollback()  # a preview writes nothing (not even the starting set)
    return render_template("signatures/_relabel.html", access=access, plan=plan,
                           changed=False, done=None, error=None)


@bp.post("/signatures/relabel")
@login_required
def relabel(experiment):
    access = editor(experiment)
    try:
        done = apply_relabel(access.experiment, access.user, current_app.config,
                             request.form.get("fingerprint", ""))
        db.session.commit()
    except StaleRelabel as err:
        db.session.rollback()
        plan = plan_relabel(access.experiment, current_app.config)
        db.session.rollback()
        return render_template("signatures/_relabel.html", access=access, plan=plan,
                               changed=False, done=None, error=str(err))
    return render_template("signatures/_relabel.html", access=access, plan=None,
                           changed=False, done=done, error=None)
