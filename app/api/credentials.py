"""Grid credentials (X.509 proxies, bearer tokens): the uploaded files that are proxies or
tokens, seen as credentials. Upload one without a name (it gets the name the original POMS
gave it, replacing the last one of its kind for that work), list them with expiry, remove
one. The same store as /uploads (app/uploads/store.py)."""
from __future__ import annotations

from flask import current_app, jsonify, request

from app.api.caller import access
from app.api.core import ApiError, paginate_list
from app.api.routes import PAGE_PARAMS, param, route
from app.api.schemas import BINARY, NULLABLE_STRING, ROLE, STRING, json_of, obj, page_of, ref
from app.api.uploads import credential_json
from app.credentials import parse
from app.extensions import db
from app.models import UploadedFile
from app.uploads import store

EXAMPLES = {"experiment": "mu2e", "credential_id": 1}


def _directory() -> str:
    return current_app.config["POMS_UPLOADS_DIR"]


@route("/experiments/<experiment>/credentials", "GET", tag="credentials",
       summary="Your credentials in this experiment and when each expires", examples=EXAMPLES,
       description="The uploaded files that are proxies or tokens; `in_use` marks the one "
                   "launches use for each kind of work.",
       query=PAGE_PARAMS,
       responses={200: ("a page of credentials", json_of(page_of("Credential")))})
def list_credentials(experiment):
    acc = access(experiment)
    in_use = store.credentials_in_use(acc.experiment, acc.user, directory=_directory())
    rows = sorted(store.credentials_of(acc.experiment, acc.user),
                  key=lambda row: (row.credential_role, row.credential_kind, row.name))
    return jsonify(paginate_list(rows, lambda row: credential_json(row, in_use)))


@route("/experiments/<experiment>/credentials", "POST", scope="admin", tag="credentials",
       summary="Upload an X.509 proxy or a bearer token for analysis or production work",
       description="The body is the file itself (application/octet-stream or text/plain), "
                   "or a multipart form with the file in `credential` (and `role`). It is "
                   "kept as the uploaded file x509up_voms_<experiment>_<Role>_<user> (a "
                   "proxy) or bt_<experiment>_<role>_<user> (a token), replacing the last "
                   "one. An expired or unparseable file is refused (422) and nothing is kept.",
       examples=EXAMPLES,
       query=[param("role", ROLE,
                    "the kind of work it is for (default: analysis)")],
       body={"application/octet-stream": BINARY, "text/plain": STRING,
             "multipart/form-data": obj({"credential": BINARY, "role": STRING})},
       responses={201: ("kept", json_of(obj({
           "credential": ref("Credential"), "parsed": {"type": "object"},
           "warning": NULLABLE_STRING})))})
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
        saved = store.save_credential(
            acc.experiment, acc.user, role, data, acting_role=acc.role,
            directory=_directory(), quota=current_app.config["POMS_UPLOADS_QUOTA_BYTES"],
        )
        db.session.commit()
    except parse.CredentialError as err:
        field = "role" if role not in ("analysis", "production") else "credential"
        raise ApiError(422, str(err), field) from None
    except store.CredentialRefused as err:
        raise ApiError(403, str(err), "role") from None
    except store.OverQuota as err:
        raise ApiError(413, f"not kept: {err}", "credential", used=err.used,
                       quota=err.quota) from None
    row = saved.row
    warning = None
    if parse.needs_renewal(row.expires):
        warning = (f"it expires in under 7 days ({parse.describe_time_left(row.expires)}): "
                   "renew it soon")
    in_use = store.credentials_in_use(acc.experiment, acc.user, directory=_directory())
    return jsonify({"credential": credential_json(row, in_use),
                    "parsed": store.describe(saved.credential), "warning": warning}), 201


@route("/experiments/<experiment>/credentials/<int:credential_id>", "DELETE", scope="admin",
       tag="credentials", summary="Remove one of your credentials (its uploaded file)",
       examples=EXAMPLES, responses={200: ("removed", json_of(ref("Credential")))})
def delete_credential_(experiment, credential_id):
    acc = access(experiment)
    row = db.session.get(UploadedFile, credential_id)
    if row is None or row.experimenter_id != acc.user.id or \
            row.experiment_id != acc.experiment.id or not row.is_credential:
        raise ApiError(404, "no such credential of yours in this experiment", "credential_id")
    answer = credential_json(row)
    store.remove_upload(row, acc.user, directory=_directory())
    db.session.commit()
    return jsonify(answer)
