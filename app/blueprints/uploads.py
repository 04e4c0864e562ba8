"""The Uploaded files page: upload several files at once (CFG files, scripts, proxies,
tokens), see each one's size, date and, for a credential, its expiry; download or remove
them. Launches find them as $UPLOADS/<name>. One's own files only (app/uploads/store.py)."""
from __future__ import annotations

import io

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_login import login_required
from werkzeug.exceptions import RequestEntityTooLarge

from app.auth import policy
from app.auth.session import Access, experiment_access
from app.blueprints.views import is_htmx
from app.credentials import parse
from app.extensions import db
from app.uploads import store

bp = Blueprint("uploads", __name__, url_prefix="/e/<experiment>")

# Room for the multipart framing around files that fill a whole quota.
FORM_OVERHEAD_BYTES = 1024 * 1024


@bp.url_value_preprocessor
def _room_for_a_quota(endpoint, _values):
    # Runs before the CSRF check reads the form: an upload may be as large as the quota,
    # larger than POMS_MAX_UPLOAD_BYTES (the INI upload limit every other form has).
    if endpoint == "uploads.upload":
        request.max_content_length = (
            current_app.config["POMS_UPLOADS_QUOTA_BYTES"] + FORM_OVERHEAD_BYTES)


@bp.errorhandler(RequestEntityTooLarge)
def _too_large(_err):
    quota = store.human_size(current_app.config["POMS_UPLOADS_QUOTA_BYTES"])
    message = f"Nothing was kept: the upload is larger than your whole quota ({quota})."
    if is_htmx():
        return f'<p class="flash error" role="alert">{message}</p>', 413
    return render_template("error.html", code=413, name="Too large", description=message), 413


def _directory() -> str:
    return current_app.config["POMS_UPLOADS_DIR"]


def _context(access: Access, **extra) -> dict:
    now = parse.now_utc()
    in_use = store.credentials_in_use(access.experiment, access.user, directory=_directory())
    files = []
    for row in store.uploads_of(access.experiment, access.user):
        entry = {"row": row, "size": store.human_size(row.size), "in_use": in_use.get(row.id)}
        if row.is_credential:
            entry.update(kind=parse.KINDS[row.credential_kind],
                         left=parse.describe_time_left(row.expires, now),
                         expired=row.expires <= now, renew=parse.needs_renewal(row.expires, now))
        files.append(entry)
    quota = current_app.config["POMS_UPLOADS_QUOTA_BYTES"]
    used = sum(entry["row"].size for entry in files)
    return {
        "access": access, "files": files, "used": used, "quota": quota,
        "used_words": store.human_size(used), "quota_words": store.human_size(quota),
        "may_choose_role": policy.may_hold_credential(access.role, "production"),
        "problems": [], **extra,
    }


def _answer(access: Access, message: str, ok: bool, problems: list[str] | None = None):
    if is_htmx():
        return render_template("uploads/_list.html", **_context(
            access, message=message, ok=ok, problems=problems or []))
    flash(" ".join([message, *(problems or [])]), "ok" if ok else "error")
    return redirect(url_for("uploads.index", experiment=access.experiment.name))


def _own(access: Access, name: str):
    """One's own file of that name; anyone else's does not exist here (404)."""
    row = store.find_upload(access.experiment, access.user, name)
    if row is None:
        abort(404, f"you have no uploaded file {name!r} in {access.experiment.name}")
    return row


def _kept_words(saved: store.Saved) -> str:
    row = saved.row
    words = f"{'Replaced' if saved.replaced else 'Kept'} {row.name} ({store.human_size(row.size)})"
    if saved.credential:
        words += (f": your {saved.credential.kind_words} for {row.credential_role} work, "
                  f"expires {row.expires:%Y-%m-%d %H:%M} UTC "
                  f"({parse.describe_time_left(row.expires)})")
        if parse.needs_renewal(row.expires):
            words += ", under 7 days: renew it soon"
    return words + "."


@bp.get("/uploads")
@login_required
def index(experiment):
    access = experiment_access(experiment)
    return render_template("uploads/index.html", **_context(access))


@bp.get("/credentials")
@login_required
def credentials(experiment):
    """Credentials are uploaded files now: the old page's address leads to them."""
    access = experiment_access(experiment)
    return redirect(url_for("uploads.index", experiment=access.experiment.name), 301)


@bp.post("/uploads")
@login_required
def upload(experiment):
    access = experiment_access(experiment)
    files = [f for f in request.files.getlist("files") if f.filename]
    role = request.form.get("role") or None
    try:
        saved = store.save_uploads(
            access.experiment, access.user, [(f.filename, f.read()) for f in files],
            acting_role=access.role, directory=_directory(),
            quota=current_app.config["POMS_UPLOADS_QUOTA_BYTES"], role=role,
        )
        db.session.commit()
    except store.UploadRefused as err:
        db.session.rollback()
        return _answer(access, "Nothing was kept:", False, [f"{r}." for r in err.refusals])
    except (store.OverQuota, store.CredentialRefused, parse.CredentialError) as err:
        db.session.rollback()
        return _answer(access, f"Nothing was kept: {err}.", False)
    return _answer(access, " ".join(_kept_words(s) for s in saved), True)


@bp.get("/uploads/<name>")
@login_required
def download(experiment, name: str):
    access = experiment_access(experiment)
    row = _own(access, name)
    try:
        data = store.read_upload(row, directory=_directory())
    except store.UploadError as err:
        abort(409, str(err))
    response = send_file(io.BytesIO(data), mimetype="application/octet-stream",
                         as_attachment=True, download_name=row.name)
    response.headers["Cache-Control"] = "no-store"  # it may be a credential
    return response


@bp.post("/uploads/<name>/remove")
@login_required
def remove(experiment, name: str):
    access = experiment_access(experiment)
    row = _own(access, name)
    store.remove_upload(row, access.user, directory=_directory())
    db.session.commit()
    return _answer(access, f"Removed {name}.", True)
