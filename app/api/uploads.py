"""Uploaded files (CFG files, scripts, proxies, tokens): list, upload several at once,
download, remove. One's own files in the experiment only; the same store as the Uploaded
files page (app/uploads/store.py)."""
from __future__ import annotations

import io

from flask import current_app, jsonify, request, send_file

from app.api.caller import access, require_token_scope
from app.api.core import ApiError, bp, iso, paginate_list
from app.api.routes import PAGE_PARAMS, param, route
from app.api.schemas import BINARY, ROLE, array, json_of, obj, page_of, ref
from app.credentials import parse
from app.extensions import db
from app.models import UploadedFile
from app.uploads import store

EXAMPLES = {"experiment": "mu2e", "name": "reco.cfg"}
# Room for the multipart framing around files that fill a whole quota.
FORM_OVERHEAD_BYTES = 1024 * 1024


@bp.url_value_preprocessor
def _room_for_a_quota(endpoint, _values):
    # An upload may be as large as the quota, more than POMS_MAX_UPLOAD_BYTES allows.
    if endpoint == "api.upload_files":
        request.max_content_length = (
            current_app.config["POMS_UPLOADS_QUOTA_BYTES"] + FORM_OVERHEAD_BYTES)


def _directory() -> str:
    return current_app.config["POMS_UPLOADS_DIR"]


def credential_json(row: UploadedFile, in_use: dict[int, str] | None = None) -> dict:
    """What the credential an uploaded file holds is, for what work, until when."""
    now = parse.now_utc()
    return {
        "id": row.id, "name": row.name, "role": row.credential_role,
        "kind": row.credential_kind, "subject": row.subject, "issuer": row.issuer,
        "expires": iso(row.expires), "uploaded": iso(row.uploaded),
        "expired": row.expires <= now, "renew": parse.needs_renewal(row.expires, now),
        "time_left": parse.describe_time_left(row.expires, now),
        "in_use": in_use is not None and row.id in in_use,
    }


def upload_json(row: UploadedFile, in_use: dict[int, str] | None = None) -> dict:
    return {
        "id": row.id, "name": row.name, "size": row.size, "sha256": row.sha256,
        "uploaded": iso(row.uploaded),
        "credential": credential_json(row, in_use) if row.is_credential else None,
    }


def _usage(acc) -> dict:
    return {"used": store.usage(acc.experiment, acc.user),
            "quota": current_app.config["POMS_UPLOADS_QUOTA_BYTES"]}


def _own(acc, name: str) -> UploadedFile:
    row = store.find_upload(acc.experiment, acc.user, name)
    if row is None:
        raise ApiError(404, f"you have no uploaded file {name!r} in {acc.experiment.name}",
                       "name")
    return row


@route("/experiments/<experiment>/uploads", "GET", tag="uploads",
       summary="Your uploaded files in this experiment, and your quota",
       description="Launches find these files as $UPLOADS/<name>. A proxy or token has "
                   "`credential` set (what it is for, when it expires, whether launches "
                   "use it). `used` and `quota` are bytes.",
       examples=EXAMPLES, query=PAGE_PARAMS,
       responses={200: ("a page of uploaded files", json_of({"allOf": [
           page_of("UploadedFile"), ref("Usage")]}))})
def list_uploads(experiment):
    acc = access(experiment)
    in_use = store.credentials_in_use(acc.experiment, acc.user, directory=_directory())
    return jsonify(paginate_list(store.uploads_of(acc.experiment, acc.user),
                                 lambda row: upload_json(row, in_use), **_usage(acc)))


@route("/experiments/<experiment>/uploads", "POST", scope="edit", tag="uploads",
       summary="Upload one or more files (a file of the same name is replaced)",
       description="A multipart form with the files in `files` (repeat it for several), each "
                   "under its own name: no / or \\, no leading dot, printable, at most 128 "
                   "characters. All or nothing: 422 lists every refused file and why "
                   "(`problems`), 413 says the upload would pass your quota (`used`, "
                   "`quota`), 403 a credential your role may not keep. A proxy or token "
                   "among them is recognised as a credential for `role` work (by default "
                   "production when its name says so, else analysis); an expired one is "
                   "refused. With an API token: `edit`, and `admin` for a proxy or token.",
       examples=EXAMPLES,
       query=[param("role", ROLE, "what work a proxy or token among the files is for")],
       body={"multipart/form-data": obj({"files": array(BINARY), "role": ROLE}, ["files"])},
       responses={201: ("kept", json_of(ref("UploadResult")))})
def upload_files(experiment):
    acc = access(experiment)
    files = [f for f in request.files.getlist("files") if f.filename]
    role = request.args.get("role") or request.form.get("role") or None
    try:
        saved = store.save_uploads(
            acc.experiment, acc.user, [(f.filename, f.read()) for f in files],
            acting_role=acc.role, directory=_directory(),
            quota=current_app.config["POMS_UPLOADS_QUOTA_BYTES"], role=role,
        )
        if any(s.credential for s in saved):
            try:
                require_token_scope("admin", "keeping a proxy or token")
            except ApiError:
                db.session.rollback()  # the new files go with it (app/uploads/store.py)
                raise
        db.session.commit()
    except store.UploadRefused as err:
        problems = [{"file": r.name, "reason": r.reason, "text": str(r)} for r in err.refusals]
        more = len(problems) - 1
        # The first reason in `error`, every one in `problems` (as INI refusals are).
        raise ApiError(422, f"nothing was kept: {err.refusals[0]}"
                       + (f" (and {more} more: see problems)" if more else ""),
                       "files", problems=problems) from None
    except store.OverQuota as err:
        raise ApiError(413, f"nothing was kept: {err}", "files", used=err.used,
                       quota=err.quota) from None
    except store.CredentialRefused as err:
        raise ApiError(403, f"nothing was kept: {err}", "files") from None
    except parse.CredentialError as err:
        raise ApiError(422, str(err), "role") from None
    in_use = store.credentials_in_use(acc.experiment, acc.user, directory=_directory())
    warnings = [
        f"{s.row.name}: the {s.credential.kind_words} expires in under 7 days "
        f"({parse.describe_time_left(s.row.expires)}): renew it soon"
        for s in saved if s.credential and parse.needs_renewal(s.row.expires)
    ]
    return jsonify({
        "files": [{**upload_json(s.row, in_use), "replaced": s.replaced} for s in saved],
        "warnings": warnings, **_usage(acc),
    }), 201


@route("/experiments/<experiment>/uploads/<name>", "GET", tag="uploads",
       summary="Download one of your uploaded files (with an API token: `admin` for a "
               "proxy or token)", examples=EXAMPLES,
       responses={200: ("the file as it was uploaded",
                        {"application/octet-stream": BINARY})})
def download_file(experiment, name):
    acc = access(experiment)
    row = _own(acc, name)
    if row.is_credential:
        require_token_scope("admin", "reading a proxy or token")
    try:
        data = store.read_upload(row, directory=_directory())
    except store.UploadError as err:
        raise ApiError(409, str(err), "name") from None
    response = send_file(io.BytesIO(data), mimetype="application/octet-stream",
                         as_attachment=True, download_name=row.name)
    response.headers["Cache-Control"] = "no-store"  # it may be a credential
    return response


@route("/experiments/<experiment>/uploads/<name>", "DELETE", scope="edit", tag="uploads",
       summary="Remove one of your uploaded files (with an API token: `admin` for a proxy "
               "or token)", examples=EXAMPLES,
       responses={200: ("removed", json_of(ref("UploadedFile")))})
def remove_file(experiment, name):
    acc = access(experiment)
    row = _own(acc, name)
    if row.is_credential:
        require_token_scope("admin", "removing a proxy or token")
    answer = upload_json(row)
    store.remove_upload(row, acc.user, directory=_directory())
    db.session.commit()
    return jsonify(answer)
