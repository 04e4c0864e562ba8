"""Job types and login setups, shared by an experiment's campaigns: read them (each field
as the INI writes it), make one, change its fields, merge recoveries into a job type, and
remove one no stage uses (app/campaigns/shared.py, as the definitions pages)."""
from __future__ import annotations

from flask import jsonify
from sqlalchemy import select

from app.api.answers import invalid
from app.api.caller import access
from app.api.core import ApiError, iso, json_body, paginate, refuse
from app.api.edits import ini_text
from app.api.routes import PAGE_PARAMS, route
from app.api.schemas import json_of, page_of, ref
from app.auth import policy
from app.auth.session import Access
from app.campaigns import editing, shared, store
from app.campaigns import login_setups as login_rules
from app.campaigns.spec import InvalidCampaign
from app.extensions import db
from app.models import JobType, LoginSetup

KINDS = {
    "job_types": (JobType, editing.JOB_TYPE_FIELDS, store.job_type_spec,
                  editing.job_type_field_text, "job type"),
    "login_setups": (LoginSetup, editing.LOGIN_SETUP_FIELDS, store.login_setup_spec,
                     editing.login_setup_field_text, "login setup"),
}
EXAMPLES = {"experiment": "mu2e", "name": "mu2e_reco_srsoleti_jobtype"}


def definition_json(kind: str, row, detail: bool = False) -> dict:
    _model, fields, to_spec, read, _words = KINDS[kind]
    spec = to_spec(row)
    out = {"id": row.id, "name": row.name,
           "creator": row.creator.username if row.creator else None,
           "updated": iso(row.updated), "ini": {f: read(spec, f) for f in fields}}
    if kind == "login_setups":
        out["role"] = row.role  # whose campaigns may launch with it
    if detail:
        out["used_by"] = shared.stages_using(row, shared.KINDS[kind[:-1]])
    return out


def _list(experiment: str, kind: str):
    acc = access(experiment)
    model = KINDS[kind][0]
    query = select(model).where(model.experiment_id == acc.experiment.id).order_by(model.name)
    return jsonify(paginate(query, lambda row: definition_json(kind, row)))


def _show(experiment: str, kind: str, name: str):
    acc = access(experiment)
    model, *_rest, words = KINDS[kind]
    row = store._shared(model, acc.experiment, name)
    if row is None:
        raise ApiError(404, f"no {words} {name!r} in {acc.experiment.name}", "name")
    return jsonify(definition_json(kind, row, detail=True))


_PAGE = {200: ("a page of definitions", json_of(page_of("Definition")))}
_ONE = {200: ("the definition", json_of(ref("Definition")))}


@route("/experiments/<experiment>/job_types", "GET", tag="definitions", query=PAGE_PARAMS,
       summary="The experiment's job types", examples=EXAMPLES, responses=_PAGE)
def list_job_types(experiment):
    return _list(experiment, "job_types")


@route("/experiments/<experiment>/job_types/<name>", "GET", tag="definitions",
       summary="One job type, each field as the INI writes it", examples=EXAMPLES,
       responses=_ONE)
def show_job_type(experiment, name):
    return _show(experiment, "job_types", name)


@route("/experiments/<experiment>/login_setups", "GET", tag="definitions", query=PAGE_PARAMS,
       summary="The experiment's login setups", examples=EXAMPLES, responses=_PAGE)
def list_login_setups(experiment):
    return _list(experiment, "login_setups")


@route("/experiments/<experiment>/login_setups/<name>", "GET", tag="definitions",
       summary="One login setup, each field as the INI writes it",
       examples={"experiment": "mu2e", "name": "srsoleti_poms_login"}, responses=_ONE)
def show_login_setup(experiment, name):
    return _show(experiment, "login_setups", name)


# --- changing them ---------------------------------------------------------------------

_FIELDS_BODY = {"type": "object", "additionalProperties": {"type": "string"},
                "description": "each field as the INI writes it"}
_NEW = {201: ("made", json_of(ref("Definition")))}
_CHANGED = {200: ("as it is now", json_of(ref("Definition")))}
_REMOVED = {200: ("removed", json_of({"type": "object", "required": ["deleted"],
                                      "properties": {"deleted": {"type": "string"}}}))}


def _fields(body: dict, kind: str, required: bool) -> dict[str, str]:
    fields = body.get("fields", {})
    if not isinstance(fields, dict) or (required and not fields):
        raise ApiError(400, "give the fields: {\"fields\": {key: INI text}}", "fields")
    allowed = KINDS[kind][1]
    for key in fields:
        if key not in allowed:
            raise ApiError(422, f"{key!r} is not a field of a {KINDS[kind][4]}; these are: "
                           f"{', '.join(allowed)}", key)
    return {key: ini_text(key, value) for key, value in fields.items()}


def _find(acc: Access, kind: str, name: str):
    row = shared.find(acc.experiment, shared.KINDS[kind[:-1]], name)
    if row is None:
        raise ApiError(404, f"no {KINDS[kind][4]} {name!r} in {acc.experiment.name}", "name")
    return row


def _require_edit(acc: Access, kind: str, row) -> None:
    if not policy.may_edit_shared(acc.role, is_creator=acc.owns(row)):
        raise refuse(f"acting as {acc.role}, you may not change {KINDS[kind][4]} {row.name}: "
                     "the experiment's campaigns share it and someone else made it")


def _setup_role(acc: Access, body: dict) -> str:
    """Whose campaigns may launch with a new login setup: as asked, else the role one acts
    in (the original's creator_role). Production's account is production's to give."""
    role = body.get("role")
    if role is None:
        return "production" if policy.at_least(acc.role, "production") else "analysis"
    if role not in login_rules.ROLES:
        raise ApiError(422, f"role: {' or '.join(login_rules.ROLES)}", "role")
    if role == "production" and not policy.at_least(acc.role, "production"):
        raise refuse(f"acting as {acc.role}, you may not make a production login setup")
    return role


def _create(experiment: str, kind: str):
    acc = access(experiment)
    if not policy.may_create_shared(acc.role):
        raise refuse(f"acting as {acc.role}, you may not make a {KINDS[kind][4]}")
    body = json_body()
    name = body.get("name")
    if not isinstance(name, str):
        raise ApiError(422, "name: give it a name", "name")
    fields = _fields(body, kind, required=False)
    role = _setup_role(acc, body) if kind == "login_setups" else None
    try:
        row = shared.create(acc.experiment, shared.KINDS[kind[:-1]], name, fields, acc.user,
                            role=role)
        db.session.commit()
    except InvalidCampaign as err:
        raise invalid(err) from None
    except shared.DefinitionExists as err:
        raise ApiError(409, str(err), "name") from None
    return jsonify(definition_json(kind, row, detail=True)), 201


def _edit(experiment: str, kind: str, name: str):
    acc = access(experiment)
    row = _find(acc, kind, name)
    fields = _fields(json_body(), kind, required=True)
    _require_edit(acc, kind, row)
    try:
        shared.edit(row, shared.KINDS[kind[:-1]], fields, acc.user)
        db.session.commit()
    except InvalidCampaign as err:
        raise invalid(err) from None
    return jsonify(definition_json(kind, row, detail=True))


def _remove(experiment: str, kind: str, name: str):
    acc = access(experiment)
    row = _find(acc, kind, name)
    _require_edit(acc, kind, row)
    name = row.name
    try:
        shared.remove(row, shared.KINDS[kind[:-1]], acc.user)
        db.session.commit()
    except shared.DefinitionInUse as err:
        raise ApiError(409, str(err), "name", stages=err.stages) from None
    return jsonify({"deleted": name})


def _body_schema(kind: str, create: bool) -> dict:
    props = {"fields": {**_FIELDS_BODY, "example": _EXAMPLE_FIELDS[kind]}}
    if create:
        props["name"] = {"type": "string", "minLength": 1, "maxLength": 255}
    if create and kind == "login_setups":
        props["role"] = {"type": "string", "enum": list(login_rules.ROLES),
                         "description": "whose campaigns may launch with it (default: "
                                        "production when you act as production or above)"}
    return json_of({"type": "object", "required": ["name"] if create else ["fields"],
                    "properties": props})


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
       body=json_of({"type": "object", "required": ["recoveries"], "properties": {
           "recoveries": {"type": "array", "example": [["added_files", [["-Oa=", "1"]]]]}}}),
       responses=_CHANGED)
def merge_job_type_recoveries(experiment, name):
    acc = access(experiment)
    row = _find(acc, "job_types", name)
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


def _named(experiment: str, kind: str, item_id: int):
    acc = access(experiment)
    row = shared.by_id(acc.experiment, shared.KINDS[kind[:-1]], item_id)
    if row is None:
        raise ApiError(404, f"no {KINDS[kind][4]} {item_id} in {acc.experiment.name}",
                       f"{kind[:-1]}_id")
    return jsonify({"id": row.id, "name": row.name, "campaign": None})


@route("/experiments/<experiment>/job_types_by_id/<int:job_type_id>", "GET",
       tag="definitions", summary="A job type's name from its id",
       examples={"experiment": "mu2e", "job_type_id": 1},
       responses={200: ("its name", json_of(ref("Named")))})
def job_type_by_id(experiment, job_type_id):
    return _named(experiment, "job_types", job_type_id)


@route("/experiments/<experiment>/login_setups_by_id/<int:login_setup_id>", "GET",
       tag="definitions", summary="A login setup's name from its id",
       examples={"experiment": "mu2e", "login_setup_id": 1},
       responses={200: ("its name", json_of(ref("Named")))})
def login_setup_by_id(experiment, login_setup_id):
    return _named(experiment, "login_setups", login_setup_id)
