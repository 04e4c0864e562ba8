"""An experiment's failure signatures: the page and the table, edited in place (HTMX).

Members see the table; production and superusers change it. The starting set is installed
the first time anyone opens the page (app/logs/store.py). A change answers with the
`signatures-changed` event, which brings up the offer to re-label past failures (past.py).
"""
from __future__ import annotations

from flask import (
    Response,
    abort,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import login_required

from app.auth.session import Access, experiment_access
from app.blueprints.signatures.common import CHANGED, bp, editor, may_edit
from app.blueprints.views import is_htmx
from app.extensions import db
from app.logs import store
from app.logs.relabel import MAX_JOBS
from app.logs.signatures import CATEGORIES, InvalidSignature
from app.logs.trial import MAX_BYTES, MAX_LOGS, MIB

FORM_FIELDS = ("name", "pattern", "category", "action", "exit_codes")


def _row(access: Access, signature_id: int):
    row = store.find_signature(access.experiment, signature_id)
    if row is None:
        abort(404, "no such failure signature in this experiment")
    return row


@bp.app_template_filter("pattern_problem")
def _pattern_problem(pattern: str) -> str | None:
    """Why a stored pattern is not used by the analysis (saved before today's rules)."""
    return store.pattern_problem(pattern)


def _changed(body: str) -> Response:
    """A change of the table: the page hears it and offers to re-label past failures."""
    return Response(body, 200, headers={"HX-Trigger": CHANGED})


def _form() -> dict:
    return {key: request.form.get(key, "") for key in FORM_FIELDS}


def _table(access: Access, **context) -> str:
    return render_template(
        "signatures/_table.html", access=access, rows=store.experiment_signatures(
            access.experiment), may_edit=may_edit(access), categories=CATEGORIES,
        form=context.pop("form", {}), **context,
    )


@bp.get("/signatures")
@login_required
def index(experiment):
    access = experiment_access(experiment)
    if store.ensure_starting_signatures(access.experiment):
        db.session.commit()
    return render_template(
        "signatures/list.html", access=access, may_edit=may_edit(access),
        rows=store.experiment_signatures(access.experiment), categories=CATEGORIES, form={},
        trial_logs=MAX_LOGS, trial_mb=MAX_BYTES // MIB, relabel_jobs=MAX_JOBS,
        plan=None, done=None, error=None, changed=False,
    )


@bp.post("/signatures")
@login_required
def add(experiment):
    access = editor(experiment)
    form = _form()
    try:
        row = store.create_signature(access.experiment, access.user, form)
        db.session.commit()
    except InvalidSignature as err:
        db.session.rollback()
        if is_htmx():
            return _table(access, form=form, error=str(err))
        flash(f"Not added: {err}", "error")
        return redirect(url_for("signatures.index", experiment=experiment), 303)
    if is_htmx():
        return _changed(_table(access, message=f"Added {row.name}."))
    flash(f"Added {row.name}.", "ok")
    return redirect(url_for("signatures.index", experiment=experiment), 303)


@bp.get("/signature/<int:signature_id>")
@login_required
def row(experiment, signature_id):
    access = experiment_access(experiment)
    found = _row(access, signature_id)
    if request.args.get("edit") == "1" and may_edit(access):
        return render_template("signatures/_row_edit.html", access=access, row=found,
                               form=None, error=None, categories=CATEGORIES)
    return render_template("signatures/_row.html", access=access, row=found,
                           may_edit=may_edit(access))


@bp.post("/signature/<int:signature_id>")
@login_required
def save(experiment, signature_id):
    access = editor(experiment)
    found = _row(access, signature_id)
    form = _form()
    try:
        store.update_signature(found, access.user, form)
        db.session.commit()
    except InvalidSignature as err:
        db.session.rollback()
        page = render_template("signatures/_row_edit.html", access=access,
                               row=store.find_signature(access.experiment, signature_id),
                               form=form, error=str(err), categories=CATEGORIES)
        # htmx swaps only 2xx answers: the form comes back, with the reason, as a 200.
        return page, 200 if is_htmx() else 422
    return _changed(render_template("signatures/_row.html", access=access, row=found,
                                    may_edit=True))


@bp.post("/signature/<int:signature_id>/delete")
@login_required
def delete(experiment, signature_id):
    access = editor(experiment)
    found = _row(access, signature_id)
    name = found.name
    store.delete_signature(found, access.user)
    db.session.commit()
    if is_htmx():
        return _changed("")
    flash(f"Deleted {name}.", "ok")
    return redirect(url_for("signatures.index", experiment=experiment), 303)


@bp.post("/signature/<int:signature_id>/move")
@login_required
def move(experiment, signature_id):
    access = editor(experiment)
    direction = request.form.get("direction", "")
    if direction not in ("up", "down"):
        abort(400, "move a signature up or down")
    store.move_signature(_row(access, signature_id), direction)
    db.session.commit()
    if is_htmx():
        return _changed(_table(access))
    return redirect(url_for("signatures.index", experiment=experiment), 303)
