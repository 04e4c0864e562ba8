"""Grid credentials (X.509 proxies, bearer tokens): upload, list with expiry, remove.
The same domain functions as the Credentials page (app/credentials/store.py)."""
from __future__ import annotations

from flask import current_app, jsonify, request

from app.api.core import (
    PAGE_PARAMS,
    ApiError,
    access,
    iso,
    json_of,
    page_of,
    paginate_list,
    param,
    ref,
    route,
)
from app.credentials import parse
from app.credentials.store import (
    CredentialRefused,
    credentials_of,
    delete_credential,
    describe,
    save_credential,
)
from app.extensions import db
from app.models import Credential

EXAMPLES = {"experiment": "mu2e", "credential_id": 1}


def credential_json(row: Credential) -> dict:
    now = parse.now_utc()
    return {
        "id": row.id, "role": row.role, "kind": row.kind, "subject": row.subject,
        "issuer": row.issuer, "expires": iso(row.expires), "uploaded": iso(row.uploaded),
        "expired": row.expires <= now, "renew": parse.needs_renewal(row.expires, now),
        "time_left": parse.describe_time_left(row.expires, now),
    }


@route("/experiments/<experiment>/credentials", "GET", tag="credentials",
       summary="Your credentials in this experiment and when each expires", examples=EXAMPLES,
       query=PAGE_PARAMS,
       responses={200: ("a page of credentials", json_of(page_of("Credential")))})
def list_credentials(experiment):
    acc = access(experiment)
    return jsonify(paginate_list(credentials_of(acc.experiment, acc.user), credential_json))


@route("/experiments/<experiment>/credentials", "POST", scope="admin", tag="credentials",
       summary="Upload an X.509 proxy or a bearer token for analysis or production work",
       description="The body is the file itself (application/octet-stream or text/plain), "
                   "or a multipart form with the file in `credential` (and `role`). An "
                   "expired or unparseable file is refused (422) and nothing is kept.",
       examples=EXAMPLES,
       query=[param("role", {"type": "string", "enum": ["analysis", "production"]},
                    "the kind of work it is for (default: analysis)")],
       body={"application/octet-stream": {"type": "string", "format": "binary"},
             "text/plain": {"type": "string"},
             "multipart/form-data": {"type": "object", "properties": {
                 "credential": {"type": "string", "format": "binary"},
                 "role": {"type": "string"}}}},
       responses={201: ("kept", json_of({"type": "object", "properties": {
           "credential": ref("Credential"), "parsed": {"type": "object"},
           "warning": {"type": ["string", "null"]}}}))})
def upload_credential(experiment):
    acc = access(experiment)
    upload = request.files.get("credential") or request.files.get("file")
    data = upload.read() if upload is not None else (
        b"" if request.mimetype == "multipart/form-data" else request.get_data())
    role = request.args.get("role") or request.form.get("role") or "analysis"
    if not data.strip():
        raise ApiError(422, "no credential: send the proxy or token file as the body",
                       "credential")
    try:
        row, parsed = save_credential(
            acc.experiment, acc.user, role, data, acting_role=acc.role,
            directory=current_app.config["POMS_CREDENTIALS_DIR"],
        )
        db.session.commit()
    except parse.CredentialError as err:
        field = "role" if role not in ("analysis", "production") else "credential"
        raise ApiError(422, str(err), field) from None
    except CredentialRefused as err:
        raise ApiError(403, str(err), "role") from None
    warning = None
    if parse.needs_renewal(row.expires):
        warning = (f"it expires in under 7 days ({parse.describe_time_left(row.expires)}): "
                   "renew it soon")
    return jsonify({"credential": credential_json(row), "parsed": describe(parsed),
                    "warning": warning}), 201


@route("/experiments/<experiment>/credentials/<int:credential_id>", "DELETE", scope="admin",
       tag="credentials", summary="Remove one of your credentials", examples=EXAMPLES,
       responses={200: ("removed", json_of(ref("Credential")))})
def delete_credential_(experiment, credential_id):
    acc = access(experiment)
    row = db.session.get(Credential, credential_id)
    if row is None or row.experimenter_id != acc.user.id or \
            row.experiment_id != acc.experiment.id:
        raise ApiError(404, "no such credential of yours in this experiment", "credential_id")
    answer = credential_json(row)
    delete_credential(row, acc.user, directory=current_app.config["POMS_CREDENTIALS_DIR"])
    db.session.commit()
    return jsonify(answer)
