"""Log analysis failure signatures of an experiment: list, add, change, delete (the same
domain calls as the signatures page, app/logs/store.py). Production and superusers edit."""
from __future__ import annotations

from flask import jsonify

from app.api.caller import access
from app.api.core import ApiError, iso, json_body, paginate_list, refuse
from app.api.routes import PAGE_PARAMS, route
from app.api.schemas import STRING, json_of, obj, page_of, ref
from app.auth import policy
from app.auth.session import Access
from app.extensions import db
from app.logs import store
from app.logs.signatures import InvalidSignature

EXAMPLES = {"experiment": "mu2e", "signature_id": 1}
FIELDS_SCHEMA = obj({
    "name": STRING, "pattern": STRING, "category": STRING, "action": STRING,
    "exit_codes": {**STRING, "description": "comma-separated, e.g. \"137, 124\""}})


def signature_json(row) -> dict:
    return {"id": row.id, "name": row.name, "pattern": row.pattern, "category": row.category,
            "action": row.action, "exit_codes": row.exit_codes, "position": row.position,
            "hits": row.hits, "last_hit": iso(row.last_hit),
            "starting": row.starting_key is not None}


def _editor(experiment: str) -> Access:
    acc = access(experiment)
    if not policy.at_least(acc.role, "production"):
        raise refuse(f"acting as {acc.role}, you may not change failure signatures "
                     "(production or superuser may)")
    return acc


def _form() -> dict:
    body = json_body()
    form = {}
    for key in store.FIELDS:
        if key in body:
            if not isinstance(body[key], str):
                raise ApiError(422, f"{key}: give it as text", key)
            form[key] = body[key]
    return form


def _invalid(err: InvalidSignature) -> ApiError:
    text = str(err)
    field = next((f for f in ("pattern", "exit_codes", "category", "name", "action")
                  if f.replace("_", " ") in text.lower() or f in text.lower()), None)
    return ApiError(422, text, field)


def _find(acc: Access, signature_id: int):
    row = store.find_signature(acc.experiment, signature_id)
    if row is None:
        raise ApiError(404, f"no failure signature {signature_id} in {acc.experiment.name}",
                       "signature_id")
    return row


@route("/experiments/<experiment>/signatures", "GET", tag="log analysis",
       summary="The experiment's failure signatures, in matching order", examples=EXAMPLES,
       query=PAGE_PARAMS,
       responses={200: ("a page of signatures", json_of(page_of("Signature")))})
def list_signatures(experiment):
    acc = access(experiment)
    if store.ensure_starting_signatures(acc.experiment):
        db.session.commit()
    return jsonify(paginate_list(store.experiment_signatures(acc.experiment), signature_json))


@route("/experiments/<experiment>/signatures", "POST", scope="edit", tag="log analysis",
       summary="Add a failure signature (its pattern is checked before it is kept)",
       examples=EXAMPLES, body=json_of(FIELDS_SCHEMA),
       responses={201: ("the signature", json_of(ref("Signature")))})
def add_signature(experiment):
    acc = _editor(experiment)
    form = {key: "" for key in store.FIELDS} | _form()
    try:
        row = store.create_signature(acc.experiment, acc.user, form)
        db.session.commit()
    except InvalidSignature as err:
        raise _invalid(err) from None
    return jsonify(signature_json(row)), 201


@route("/experiments/<experiment>/signatures/<int:signature_id>", "PATCH", scope="edit",
       tag="log analysis", summary="Change fields of a failure signature", examples=EXAMPLES,
       body=json_of(FIELDS_SCHEMA),
       responses={200: ("the signature", json_of(ref("Signature")))})
def edit_signature(experiment, signature_id):
    acc = _editor(experiment)
    row = _find(acc, signature_id)
    try:
        store.update_signature(row, acc.user, _form())
        db.session.commit()
    except InvalidSignature as err:
        raise _invalid(err) from None
    return jsonify(signature_json(row))


@route("/experiments/<experiment>/signatures/<int:signature_id>", "DELETE", scope="edit",
       tag="log analysis", summary="Delete a failure signature", examples=EXAMPLES,
       responses={200: ("deleted", json_of(obj({"deleted": STRING})))})
def delete_signature(experiment, signature_id):
    acc = _editor(experiment)
    row = _find(acc, signature_id)
    name = row.name
    store.delete_signature(row, acc.user)
    db.session.commit()
    return jsonify({"deleted": name})
