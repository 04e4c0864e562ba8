"""Making and changing the job types and login setups an experiment's campaigns share: make
one, change its fields, merge recoveries into a job type, remove one no stage uses; every
value INI text checked by the importer (app/campaigns/shared.py, as the definitions pages).
"""
from __future__ import annotations

from flask import jsonify

from app.api.answers import invalid
from app.api.caller import access
from app.api.core import ApiError, json_body, refuse
from app.api.definitions import EXAMPLES, definition_json, find_definition, kind_of
from app.api.edits import ini_text
from app.api.routes import route
from app.api.schemas import STRING, json_of, obj, ref
from app.auth import policy
from app.auth.session import Access
from app.campaigns import login_setups as login_rules
from app.campaigns import permissions, shared
from app.campaigns.spec import InvalidCampaign
from app.extensions import db

_FIELDS_BODY = obj(additionalProperties=STRING, description="each field as the INI writes it")


_NEW = {201: ("made", json_of(ref("Definition")))}


_CHANGED = {200: ("as it is now", json_of(ref("Definition")))}


_REMOVED = {200: ("removed", json_of(obj({"deleted": STRING}, ["deleted"])))}


def _fields(body: dict, kind: str, required: bool) -> dict[str, str]:
    fields = body.get("fields", {})
    if not isinstance(fields, dict) or (required and not fields):
        raise ApiError(400, "give the fields: {\"fields\": {key: INI text}}", "fields")
    allowed = kind_of(kind).fields
    for key in fields:
        if key not in allowed:
            raise ApiError(422, f"{key!r} is not a field of a {kind_of(kind).words}; these are: "
                           f"{', '.join(allowed)}", key)
    return {key: ini_text(key, value) for key, value in fields.items()}


def _require_edit(acc: Access, kind: str, row) -> None:
    if not permissions.may_edit_shared(acc, row):
        raise refuse(f"acting as {acc.role}, you may not change {kind_of(kind).words} {row.name}: "
                     "the experiment's campaigns share it and someone else made it")


def _setup_role(acc: Access, body: dict) -> str:
    """Whose campaigns may launch with a new login setup: as asked, else the role one acts
    in (the original's creator_role). Production's account is production's to give."""
    try:
        return permissions.login_setup_role(acc, body.get("role"))
    except ValueError as err:
        raise ApiError(422, str(err), "role") from None
    except permissions.Refused as err:
        raise refuse(str(err)) from None


def _create(experiment: str, kind: str):
    acc = access(experiment)
    if not policy.may_create_shared(acc.role):
        raise refuse(f"acting as {acc.role}, you may not make a {kind_of(kind).words}")
    body = json_body()
    name = body.get("name")
    if not isinstance(name, str):
        raise ApiError(422, "name: give it a name", "name")
    fields = _fields(body, kind, required=False)
    role = _setup_role(acc, body) if kind == "login_setups" else None
    try:
        row = shared.create(acc.experiment, kind_of(kind), name, fields, acc.user, role=role)
        db.session.commit()
    except InvalidCampaign as err:
        raise invalid(err) from None
    except shared.DefinitionExists as err:
        raise ApiError(409, str(err), "name") from None
    return jsonify(definition_json(kind, row, detail=True)), 201


def _edit(experiment: str, kind: str, name: str):
    acc = access(experiment)
    row = find_definition(acc, kind, name)
    fields = _fields(json_body(), kind, required=True)
    _require_edit(acc, kind, row)
    try:
        shared.edit(row, kind_of(kind), fields, acc.user)
        db.session.commit()
    except InvalidCampaign as err:
        raise invalid(err) from None
    return jsonify(definition_json(kind, row, detail=True))


def _remove(experiment: str, kind: str, name: str):
    acc = access(experiment)
    row = find_definition(acc, kind, name)
    _require_edit(acc, kind, row)
    name = row.name
    try:
        shared.remove(row, kind_of(kind), acc.user)
        db.session.commit()
    except shared.DefinitionInUse as err:
        raise ApiError(409, str(err), "name", stages=err.stages) from None
    return jsonify({"deleted": name})


def _body_schema(kind: str, create: bool) -> dict:
    props = {"fields": {**_FIELDS_BODY, "example": _EXAMPLE_FIELDS[kind]}}
    if create:
        props["name"] = {**STRING, "minLength": 1, "maxLength": 255}
    if create and kind == "login_setups":
        props["role"] = {**STRING, "enum": list(login_rules.ROLES),
                         "description": "whose campaigns may launch with it (default: "
                                        "production when you act as production or above)"}
    return json_of(obj(props, ["name"] if create else ["fields"]))


_EXAMPLE_FIELDS = {
    "job_types": {"launch_script": "fife_launch -c $UPLOADS/x.cfg",
                  "parameters": '[["-Oglobal.release=", "v1"]]'},
    "login_setups": {"host": "mu2egpvm01.fnal.gov", "account": "mu2epro",
                     "setup": "source /cvmfs/mu2e.opensciencegrid.org/setupmu2e-art.sh"},
}


@route("/experiments/<experiment>/job_types", "POST", scope="edit", tag="definitions",
       summary="Make a job type; its fields as INI text, checked by the importer",
       description="Body {\"name\": ..., \"fields\": {launch_script, parameters, "
                   "output_file_patterns, recoveries}}. 409 when the name is taken, 422 with "
                   "the importer's reason for a bad value.",
       examples=EXAMPLES, body=_body_schema("job_types", True), responses=_NEW)
def create_job_type(experiment):
    return _create(experiment, "job_types")


@route("/experiments/<experiment>/job_types/<name>", "PATCH", scope="edit", tag="definitions",
       summary="Change a job type's fields (every campaign using it sees the change)",
       examples=EXAMPLES, body=_body_schema("job_types", False), responses=_CHANGED)
def edit_job_type(experiment, name):
    return _edit(experiment, "job_types", name)


@route("/experiments/<experiment>/job_types/<name>", "DELETE", scope="edit",
       tag="definitions",
       summary="Remove a job type no stage uses (409 names the stages that do)",
       examples=EXAMPLES, responses=_REMOVED)
def delete_job_type(experiment, name):
    return _remove(experiment, "job_types", name)


@route("/experiments/<experiment>/job_types/<name>/recoveries", "POST", scope="edit",
       tag="definitions",
       summary="Merge recoveries into a job type (the original's modify_job_type_recoveries)",
       description="Body {\"recoveries\": [[type, [[key, value], ...]], ...]}: each type "
                   "given updates that recovery's parameters by key, or is added after the "
                   "job type's others; the rest stay as they are.",
       examples=EXAMPLES,
       body=json_of(obj({"recoveries": {"type": "array",
                                         "example": [["added_files", [["-Oa=", "1"]]]]}},
                        ["recoveries"])),
       responses=_CHANGED)
def merge_job_type_recoveries(experiment, name):
    acc = access(experiment)
    row = find_definition(acc, "job_types", name)
    recoveries = json_body().get("recoveries")
    if not isinstance(recoveries, list):
        raise ApiError(422, "recoveries: a list of [recovery_type, [[key, value], ...]]",
                       "recoveries")
    _require_edit(acc, "job_types", row)
    try:
        shared.merge_recoveries(row, recoveries, acc.user)
        db.session.commit()
    except InvalidCampaign as err:
        raise invalid(err) from None
    return jsonify(definition_json("job_types", row, detail=True))


@route("/experiments/<experiment>/login_setups", "POST", scope="edit", tag="definitions",
       summary="Make a login setup (host, account, setup) as INI text, for a role's work",
       description="Body {\"name\": ..., \"fields\": {host, account, setup}, \"role\": "
                   "\"analysis\"|\"production\"}: the role whose campaigns may launch "
                   "with it (a production one needs production or above).",
       examples={"experiment": "mu2e", "name": "srsoleti_poms_login"},
       body=_body_schema("login_setups", True), responses=_NEW)
def create_login_setup(experiment):
    return _create(experiment, "login_setups")


@route("/experiments/<experiment>/login_setups/<name>", "PATCH", scope="edit",
       tag="definitions",
       summary="Change a login setup's fields (every campaign using it sees the change)",
       examples={"experiment": "mu2e", "name": "srsoleti_poms_login"},
       body=_body_schema("login_setups", False), responses=_CHANGED)
def edit_login_setup(experiment, name):
    return _edit(experiment, "login_setups", name)


@route("/experiments/<experiment>/login_setups/<name>", "DELETE", scope="edit",
       tag="definitions",
       summary="Remove a login setup no stage uses (409 names the stages that do)",
       examples={"experiment": "mu2e", "name": "srsoleti_poms_login"}, responses=_REMOVED)
def delete_login_setup(experiment, name):
    return _remove(experiment, "login_setups", name)
