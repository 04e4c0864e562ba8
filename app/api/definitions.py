"""Job types and login setups, shared by an experiment's campaigns, as the API reads them:
a page of them, one by name (each field as the INI writes it, and the stages using it), a
name from an id. Making and changing them is app/api/definition_changes.py's.
"""
from __future__ import annotations

from flask import jsonify
from sqlalchemy import select

from app.api.caller import access
from app.api.core import ApiError, iso, paginate
from app.api.routes import PAGE_PARAMS, route
from app.api.schemas import json_of, page_of, ref
from app.auth.session import Access
from app.campaigns import shared

EXAMPLES = {"experiment": "mu2e", "name": "mu2e_reco_srsoleti_jobtype"}


def kind_of(kind: str) -> shared.Kind:
    """The kind a URL names: "job_types" or "login_setups"."""
    return shared.KINDS[kind[:-1]]


def definition_json(kind: str, row, detail: bool = False) -> dict:
    what = kind_of(kind)
    spec = what.spec(row)
    out = {"id": row.id, "name": row.name,
           "creator": row.creator.username if row.creator else None,
           "updated": iso(row.updated), "ini": {f: what.field_text(spec, f) for f in what.fields}}
    if kind == "login_setups":
        out["role"] = row.role  # whose campaigns may launch with it
    if detail:
        out["used_by"] = shared.stages_using(row, what)
    return out


def find_definition(acc: Access, kind: str, name: str):
    row = shared.find(acc.experiment, kind_of(kind), name)
    if row is None:
        raise ApiError(404, f"no {kind_of(kind).words} {name!r} in {acc.experiment.name}", "name")
    return row


def _list(experiment: str, kind: str):
    acc = access(experiment)
    model = kind_of(kind).model
    query = select(model).where(model.experiment_id == acc.experiment.id).order_by(model.name)
    return jsonify(paginate(query, lambda row: definition_json(kind, row)))


def _show(experiment: str, kind: str, name: str):
    acc = access(experiment)
    return jsonify(definition_json(kind, find_definition(acc, kind, name), detail=True))


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


def _named(experiment: str, kind: str, item_id: int):
    acc = access(experiment)
    row = shared.by_id(acc.experiment, kind_of(kind), item_id)
    if row is None:
        raise ApiError(404, f"no {kind_of(kind).words} {item_id} in {acc.experiment.name}",
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
