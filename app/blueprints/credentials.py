"""The Credentials page: upload an X.509 proxy or a bearer token, see when each expires."""
from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import login_required

from app.auth import policy
from app.auth.session import Access, experiment_access, is_htmx
from app.credentials import parse
from app.credentials.store import (
    CredentialRefused,
    credentials_of,
    delete_credential,
    save_credential,
)
from app.extensions import db
from app.models import Credential

bp = Blueprint("credentials", __name__, url_prefix="/e/<experiment>")


def _context(access: Access, **extra) -> dict:
    now = parse.now_utc()
    rows = [
        {
            "row": row,
            "kind": parse.KINDS[row.kind],
            "left": parse.describe_time_left(row.expires, now),
            "expired": row.expires <= now,
            "renew": parse.needs_renewal(row.expires, now),
        }
        for row in credentials_of(access.experiment, access.user)
    ]
    roles = [r for r in policy.CREDENTIAL_ROLES if policy.may_hold_credential(access.role, r)]
    return {"access": access, "credentials": rows, "roles": roles, **extra}


def _answer(access: Access, message: str, ok: bool, status: int = 200):
    if is_htmx():
        return render_template(
            "credentials/_list.html", **_context(access, message=message, ok=ok)
        ), status
    flash(message, "ok" if ok else "error")
    return redirect(url_for("credentials.index", experiment=access.experiment.name))


@bp.get("/credentials")
@login_required
def index(experiment):
    access = experiment_access(experiment)
    return render_template("credentials/index.html", **_context(access))


@bp.post("/credentials")
@login_required
def upload(experiment):
    access = experiment_access(experiment)
    upload = request.files.get("credential")
    role = request.form.get("role", "")
    if upload is None or not upload.filename:
        return _answer(access, "Not kept: pick a proxy or token file first.", False)
    try:
        row, parsed = save_credential(
            access.experiment, access.user, role, upload.read(),
            acting_role=access.role,
            directory=current_app.config["POMS_CREDENTIALS_DIR"],
        )
        db.session.commit()
    except parse.CredentialError as err:
        db.session.rollback()
        return _answer(access, f"Not kept: {err}.", False)
    except CredentialRefused as err:
        db.session.rollback()
        abort(403, str(err))
    message = (
        f"Kept your {parsed.kind_words} for {role} work: it expires "
        f"{row.expires:%Y-%m-%d %H:%M} UTC ({parse.describe_time_left(row.expires)})."
    )
    if parse.needs_renewal(row.expires):
        message += " That is under 7 days: renew it soon."
    return _answer(access, message, True)


@bp.post("/credentials/<int:credential_id>/delete")
@login_required
def delete(experiment, credential_id: int):
    access = experiment_access(experiment)
    row = db.session.get(Credential, credential_id)
    # One's own credentials only, in this experiment: anything else does not exist here.
    mine = row is not None and row.experimenter_id == access.user.id
    if not mine or row.experiment_id != access.experiment.id:
        abort(404, "no such credential of yours in this experiment")
    words = f"{row.role} {parse.KINDS[row.kind]}"
    delete_credential(row, access.user, directory=current_app.config["POMS_CREDENTIALS_DIR"])
    db.session.commit()
    return _answer(access, f"Removed your {words}.", True)
