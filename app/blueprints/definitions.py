"""Job types and login setups: shared by an experiment's campaigns; view, edit, clone."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import login_required
from sqlalchemy import select

from app.auth import policy
from app.auth.session import Access, experiment_access
from app.blueprints.inline import inline_edit
from app.campaigns import editing, shared, store
from app.extensions import db
from app.models import CampaignStage, JobType, LoginSetup

bp = Blueprint("definitions", __name__, url_prefix="/e/<experiment>")

# kind in the URL -> (model, editable fields, spec reader, field reader, words); changes go
# through app/campaigns/shared.py
KINDS = {
    "job_type": (
        JobType, editing.JOB_TYPE_FIELDS, store.job_type_spec,
        editing.job_type_field_text, "job type",
    ),
    "login_setup": (
        LoginSetup, editing.LOGIN_SETUP_FIELDS, store.login_setup_spec,
        editing.login_setup_field_text, "login setup",
    ),
}


def _kind(kind: str):
    if kind not in KINDS:
        abort(404)
    return KINDS[kind]


def _definition(access: Access, kind: str, item_id: int):
    model = _kind(kind)[0]
    row = db.session.get(model, item_id)
    if row is None or row.experiment_id != access.experiment.id:
        abort(404, f"no such {_kind(kind)[4]} in this experiment")
    return row


def _may_edit(access: Access, row) -> bool:
    return policy.may_edit_shared(access.role, is_creator=access.owns(row))


@bp.get("/<kind>s")
@login_required
def index(experiment, kind):
    access = experiment_access(experiment)
    model, *_rest, words = _kind(kind)
    rows = db.session.scalars(
        select(model).where(model.experiment_id == access.experiment.id).order_by(model.name)
    ).all()
    return render_template(
        "definitions/list.html", access=access, kind=kind, words=words, rows=rows
    )


@bp.get("/<kind>/<int:item_id>")
@login_required
def show(experiment, kind, item_id):
    access = experiment_access(experiment)
    row = _definition(access, kind, item_id)
    _model, fields, to_spec, read, words = _kind(kind)
    column = CampaignStage.job_type_id if kind == "job_type" else CampaignStage.login_setup_id
    users = db.session.scalars(select(CampaignStage).where(column == row.id)).all()
    spec = to_spec(row)
    return render_template(
        "definitions/show.html", access=access, kind=kind, words=words, row=row,
        fields=[(f, read(spec, f)) for f in fields], stages=users,
        may_edit=_may_edit(access, row),
    )


@bp.route("/<kind>/<int:item_id>/field/<key>", methods=["GET", "POST"])
@login_required
def field(experiment, kind, item_id, key):
    access = experiment_access(experiment)
    row = _definition(access, kind, item_id)
    _model, fields, to_spec, read, words = _kind(kind)
    if key not in fields:
        abort(404, f"a {words} has no field {key!r}")

    def save(raw: str) -> None:
        shared.edit(row, shared.KINDS[kind], {key: raw}, access.user)

    return inline_edit(
        key,
        read=lambda: read(to_spec(row), key),
        save=save,
        endpoint=url_for("definitions.field", experiment=experiment, kind=kind,
                         item_id=item_id, key=key),
        may_edit=_may_edit(access, row),
        refusal=f"acting as {access.role}, you may not change {words} {row.name}",
    )


@bp.post("/<kind>/<int:item_id>/clone")
@login_required
def clone(experiment, kind, item_id):
    access = experiment_access(experiment)
    row = _definition(access, kind, item_id)
    model, fields, _to_spec, _read, words = _kind(kind)
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
    kept = fields + (("role",) if kind == "login_setup" else ())
    copy = model(experiment=access.experiment, name=new_name, creator=access.user,
                 **{f: getattr(row, f) for f in kept})
    db.session.add(copy)
    store.audit(access.experiment, access.user, f"{words} cloned", new_name,
                {"from": row.name}, None)
    db.session.commit()
    flash(f"Cloned {words} {row.name} as {new_name}.", "ok")
    return redirect(url_for("definitions.show", experiment=experiment, kind=kind, item_id=copy.id))
