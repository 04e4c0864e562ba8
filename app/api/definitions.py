"""Job types and login setups, shared by an experiment's campaigns: read them (each field
as the INI writes it). Changing them from the API waits on the pages' save and clone moving
out of app/blueprints/definitions.py into a domain function (not duplicated here)."""
from __future__ import annotations

from flask import jsonify
from sqlalchemy import select

from app.api.core import (
    PAGE_PARAMS,
    ApiError,
    access,
    iso,
    json_of,
    page_of,
    paginate,
    ref,
    route,
)
from app.campaigns import editing, store
from app.models import JobType, LoginSetup

KINDS = {
    "job_types": (JobType, editing.JOB_TYPE_FIELDS, store.job_type_spec,
                  editing.job_type_field_text, "job type"),
    "login_setups": (LoginSetup, editing.LOGIN_SETUP_FIELDS, store.login_setup_spec,
                     editing.login_setup_field_text, "login setup"),
}
EXAMPLES = {"experiment": "mu2e", "name": "mu2e_reco_srsoleti_jobtype"}


def definition_json(kind: str, row) -> dict:
    _model, fields, to_spec, read, _words = KINDS[kind]
    spec = to_spec(row)
    out = {"id": row.id, "name": row.name,
           "creator": row.creator.username if row.creator else None,
           "updated": iso(row.updated), "ini": {f: read(spec, f) for f in fields}}
    if kind == "login_setups":
        out["role"] = row.role  # whose campaigns may launch with it
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
    return jsonify(definition_json(kind, row))


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
