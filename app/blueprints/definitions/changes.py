"""Making a job type or login setup from scratch, and removing one no stage uses (the
original's job_type_rm and login_setup_rm): the domain's app/campaigns/shared.py, as the
API's, each value checked by the importer, each change audited."""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import login_required
from sqlalchemy import select

from app.auth import policy
from app.auth.session import experiment_access
from app.blueprints.definitions.common import bp, definition_in, kind_of
from app.blueprints.definitions.pages import list_context
from app.blueprints.views import go
from app.campaigns import permissions, shared
from app.campaigns.spec import InvalidCampaign, Problem
from app.extensions import db


@bp.post("/<kind>s/new")
@login_required
def create(experiment, kind):
    access = experiment_access(experiment)
    what = kind_of(kind)
    if not policy.may_create_shared(access.role):
        abort(403, f"acting as {access.role}, you may not make a {what.words}")
    name = request.form.get("name", "")
    # A field left empty takes the importer's default (no parameters, no recoveries).
    fields = {key: request.form.get(key, "") for key in what.fields
              if request.form.get(key, "").strip()}
    try:
        role = (permissions.login_setup_role(access, request.form.get("role"))
                if what is shared.LOGIN_SETUP else None)
        row = shared.create(access.experiment, what, name, fields, access.user, role=role)
        db.session.commit()
    except permissions.Refused as err:
        abort(403, str(err))
    except (InvalidCampaign, shared.DefinitionExists, ValueError) as err:
        db.session.rollback()
        problems = (err.problems if isinstance(err, InvalidCampaign)
                    else [Problem(f"{what.words} {name.strip()}", None, "name", str(err))])
        rows = db.session.scalars(select(what.model).where(
            what.model.experiment_id == access.experiment.id).order_by(what.model.name)).all()
        context = list_context(access, kind, rows)
        context.update(form=request.form, problems=problems)
        return render_template("definitions/list.html", **context), 422
    flash(f"Made {what.words} {row.name}.", "ok")
    return redirect(url_for("definitions.show", experiment=experiment, kind=kind,
                            item_id=row.id))


@bp.post("/<kind>/<int:item_id>/remove")
@login_required
def remove(experiment, kind, item_id):
    access = experiment_access(experiment)
    row = definition_in(access, kind, item_id)
    what = kind_of(kind)
    if not permissions.may_edit_shared(access, row):
        abort(403, f"acting as {access.role}, you may not remove {what.words} {row.name}")
    name = row.name
    try:
        shared.remove(row, what, access.user)
        db.session.commit()
    except shared.DefinitionInUse as err:
        db.session.rollback()
        flash(f"Not removed: {err}.", "error")
        return go(url_for("definitions.show", experiment=experiment, kind=kind,
                          item_id=item_id))
    flash(f"Removed {what.words} {name}.", "ok")
    return go(url_for("definitions.index", experiment=experiment, kind=kind))
