"""Job types and login setups: the list, one with its fields edited inline, a clone."""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import login_required
from sqlalchemy import func, select

from app.auth import policy
from app.auth.session import experiment_access
from app.blueprints.definitions.common import bp, definition_in, kind_of
from app.blueprints.inline import inline_edit
from app.campaigns import permissions, shared, store
from app.extensions import db
from app.models import CampaignStage


@bp.get("/<kind>s")
@login_required
def index(experiment, kind):
    access = experiment_access(experiment)
    model = kind_of(kind).model
    rows = db.session.scalars(
        select(model).where(model.experiment_id == access.experiment.id).order_by(model.name)
    ).all()
    return render_template(
        "definitions/list.html", **list_context(access, kind, rows)
    )


def list_context(access, kind: str, rows) -> dict:
    """What the list page shows: each row with the number of stages using it, and the form
    that makes a new one (with its fields and, for a login setup, the roles one may give)."""
    what = kind_of(kind)
    used = dict(db.session.execute(
        select(what.stage_column, func.count()).where(what.stage_column.in_([r.id for r in rows]))
        .group_by(what.stage_column)).all())
    roles = [r for r in ("analysis", "production")
             if r == "analysis" or policy.at_least(access.role, "production")]
    return dict(access=access, kind=kind, words=what.words, rows=rows, used=used,
                fields=what.fields, roles=roles, may_create=policy.may_create_shared(access.role),
                form={}, problems=[])


@bp.get("/<kind>/<int:item_id>")
@login_required
def show(experiment, kind, item_id):
    access = experiment_access(experiment)
    row = definition_in(access, kind, item_id)
    what = kind_of(kind)
    users = db.session.scalars(select(CampaignStage).where(what.stage_column == row.id)).all()
    spec = what.spec(row)
    return render_template(
        "definitions/show.html", access=access, kind=kind, words=what.words, row=row,
        fields=[(f, what.field_text(spec, f)) for f in what.fields], stages=users,
        may_edit=permissions.may_edit_shared(access, row),
    )


@bp.route("/<kind>/<int:item_id>/field/<key>", methods=["GET", "POST"])
@login_required
def field(experiment, kind, item_id, key):
    access = experiment_access(experiment)
    row = definition_in(access, kind, item_id)
    what = kind_of(kind)
    if key not in what.fields:
        abort(404, f"a {what.words} has no field {key!r}")

    def save(raw: str) -> None:
        shared.edit(row, what, {key: raw}, access.user)

    return inline_edit(
        key,
        read=lambda: what.field_text(what.spec(row), key),
        save=save,
        endpoint=url_for("definitions.field", experiment=experiment, kind=kind,
                         item_id=item_id, key=key),
        may_edit=permissions.may_edit_shared(access, row),
        refusal=f"acting as {access.role}, you may not change {what.words} {row.name}",
    )


@bp.post("/<kind>/<int:item_id>/clone")
@login_required
def clone(experiment, kind, item_id):
    access = experiment_access(experiment)
    row = definition_in(access, kind, item_id)
    what = kind_of(kind)
    model, words = what.model, what.words
    new_name = request.form.get("new_name", "").strip()
    taken = db.session.scalar(
        select(model.id).where(model.experiment_id == access.experiment.id, model.name == new_name)
    )
    if not new_name or taken:
        flash(f"Not cloned: {'give the copy a name' if not new_name else new_name + ' exists'}.",
              "error")
        return redirect(url_for("definitions.show", experiment=experiment, kind=kind,
                                item_id=item_id))
    # A login setup's copy keeps its role: the same account, the same campaigns.
    kept = what.fields + (("role",) if kind == "login_setup" else ())
    copy = model(experiment=access.experiment, name=new_name, creator=access.user,
                 **{f: getattr(row, f) for f in kept})
    db.session.add(copy)
    store.audit(access.experiment, access.user, f"{words} cloned", new_name,
                {"from": row.name}, None)
    db.session.commit()
    flash(f"Cloned {words} {row.name} as {new_name}.", "ok")
    return redirect(url_for("definitions.show", experiment=experiment, kind=kind, item_id=copy.id))
