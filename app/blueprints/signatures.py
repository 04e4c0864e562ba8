"""An experiment's failure signatures: the table, edited in place (HTMX), and a trial run of
a new pattern over the experiment's past job logs.

Members see the table; production and superusers change it. The starting set is installed
the first time anyone opens the page (app/logs/store.py).
"""
from __future__ import annotations

from pathlib import Path

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import login_required

from app.auth import policy
from app.auth.session import Access, experiment_access
from app.blueprints.views import is_htmx
from app.extensions import db
from app.logs import store
from app.logs.analysis import try_signature
from app.logs.signatures import CATEGORIES, InvalidSignature, Signature, validate_pattern

bp = Blueprint("signatures", __name__, url_prefix="/e/<experiment>")

FORM_FIELDS = ("name", "pattern", "category", "action", "exit_codes")


def _may_edit(access: Access) -> bool:
    return policy.at_least(access.role, "production")


def _editor(experiment: str) -> Access:
    access = experiment_access(experiment)
    if not _may_edit(access):
        abort(403, f"acting as {access.role}, you may not change failure signatures "
                   "(production or superuser may)")
    return access


def _row(access: Access, signature_id: int):
    row = store.find_signature(access.experiment, signature_id)
    if row is None:
        abort(404, "no such failure signature in this experiment")
    return row


@bp.app_template_filter("pattern_problem")
def _pattern_problem(pattern: str) -> str | None:
    """Why a stored pattern is not used by the analysis (saved before today's rules)."""
    return store.pattern_problem(pattern)


def _form() -> dict:
    return {key: request.form.get(key, "") for key in FORM_FIELDS}


def _table(access: Access, **context) -> str:
    return render_template(
        "signatures/_table.html", access=access, rows=store.experiment_signatures(
            access.experiment), may_edit=_may_edit(access), categories=CATEGORIES,
        form=context.pop("form", {}), **context,
    )


@bp.get("/signatures")
@login_required
def index(experiment):
    access = experiment_access(experiment)
    if store.ensure_starting_signatures(access.experiment):
        db.session.commit()
    return render_template(
        "signatures/list.html", access=access, may_edit=_may_edit(access),
        rows=store.experiment_signatures(access.experiment), categories=CATEGORIES, form={},
    )


@bp.post("/signatures")
@login_required
def add(experiment):
    access = _editor(experiment)
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
        return _table(access, message=f"Added {row.name}.")
    flash(f"Added {row.name}.", "ok")
    return redirect(url_for("signatures.index", experiment=experiment), 303)


@bp.get("/signature/<int:signature_id>")
@login_required
def row(experiment, signature_id):
    access = experiment_access(experiment)
    found = _row(access, signature_id)
    if request.args.get("edit") == "1" and _may_edit(access):
        return render_template("signatures/_row_edit.html", access=access, row=found,
                               form=None, error=None, categories=CATEGORIES)
    return render_template("signatures/_row.html", access=access, row=found,
                           may_edit=_may_edit(access))


@bp.post("/signature/<int:signature_id>")
@login_required
def save(experiment, signature_id):
    access = _editor(experiment)
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
    return render_template("signatures/_row.html", access=access, row=found, may_edit=True)


@bp.post("/signature/<int:signature_id>/delete")
@login_required
def delete(experiment, signature_id):
    access = _editor(experiment)
    found = _row(access, signature_id)
    name = found.name
    store.delete_signature(found, access.user)
    db.session.commit()
    if is_htmx():
        return Response("", 200)
    flash(f"Deleted {name}.", "ok")
    return redirect(url_for("signatures.index", experiment=experiment), 303)


@bp.post("/signature/<int:signature_id>/move")
@login_required
def move(experiment, signature_id):
    access = _editor(experiment)
    direction = request.form.get("direction", "")
    if direction not in ("up", "down"):
        abort(400, "move a signature up or down")
    store.move_signature(_row(access, signature_id), direction)
    db.session.commit()
    if is_htmx():
        return _table(access)
    return redirect(url_for("signatures.index", experiment=experiment), 303)


def _log_dir(access: Access) -> Path:
    """Where this experiment's job logs are kept (POMS_LOG_DIR/<experiment>)."""
    root = current_app.config.get("POMS_LOG_DIR") or Path(current_app.instance_path) / "logs"
    return Path(root) / access.experiment.name


@bp.post("/signatures/try")
@login_required
def trial(experiment):
    access = _editor(experiment)
    pattern = request.form.get("pattern", "").strip("\r\n")
    context = dict(access=access, pattern=pattern, report=None, error=None, root=None)
    if not pattern:
        context["error"] = "type a regular expression to try"
    else:
        try:
            validate_pattern(pattern)
        except InvalidSignature as err:
            context["error"] = str(err)
    if context["error"] is None:
        root = _log_dir(access)
        context["root"] = root
        context["report"] = try_signature(Signature.build("trial", pattern, "software"),
                                          [root] if root.is_dir() else [])
    return render_template("signatures/_trial.html", **context)
