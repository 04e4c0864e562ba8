"""A campaign's stages: show, change fields and dependencies, add, remove, merge parameter
overrides, and a stage by id; every change checked by the importer (app/api/edits.py).
"""
from __future__ import annotations

from flask import jsonify

from app.api.answers import invalid, stage_json
from app.api.caller import access
from app.api.core import ApiError, json_body
from app.api.edits import (
    DEPENDS_SCHEMA,
    depends_body,
    edit_body,
    ini_text,
    refused_field,
    require_edit,
    save_edits,
)
from app.api.lookups import EXAMPLES, find_campaign, find_stage
from app.api.routes import route
from app.api.schemas import NULLABLE_STRING, STRING, array, json_of, obj, ref
from app.campaigns import editing, operations, store
from app.campaigns.spec import STAGE_KEYS, InvalidCampaign
from app.extensions import db


@route("/experiments/<experiment>/campaigns/<campaign>/stages/<stage>", "GET", tag="stages",
       summary="One stage: every field, typed and as INI text, and its dependencies",
       examples=EXAMPLES, responses={200: ("the stage", json_of(ref("Stage")))})
def show_stage(experiment, campaign, stage):
    acc = access(experiment)
    return jsonify(stage_json(find_stage(acc, campaign, stage), acc))


@route("/experiments/<experiment>/campaigns/<campaign>/stages/<stage>", "PATCH",
       scope="edit", tag="stages",
       summary="Change stage fields; each value is INI text, checked by the importer",
       description="Body: {\"fields\": {key: text}} with keys from the stage's `ini` "
                   "(vo_role, dataset_or_split_data, cs_split_type, completion_pct, "
                   "param_overrides, job_type, login_setup, ...). All or nothing: 422 names "
                   "the first field the importer refuses.",
       examples=EXAMPLES,
       body=json_of(obj({"fields": obj(additionalProperties=STRING,
                                       example={"completion_pct": "90"})})),
       responses={200: ("the stage as it is now", json_of(ref("Stage")))})
def edit_stage(experiment, campaign, stage):
    acc = access(experiment)
    row = find_stage(acc, campaign, stage)
    body = json_body()
    depends = depends_body(body) if "depends_on" in body else None
    edits = {} if depends is not None and "fields" not in body else edit_body(STAGE_KEYS)
    require_edit(acc, row.campaign)
    shared = store.shared_definitions(acc.experiment)
    name = row.name

    def new_dependencies(spec):
        try:
            return editing.set_stage_dependencies(spec, name, depends)
        except InvalidCampaign as err:
            raise refused_field("depends_on", err) from None

    save_edits(acc, row.campaign, edits,
                lambda spec, key, raw: editing.set_stage_field(spec, name, key, raw, *shared),
                then=new_dependencies if depends is not None else None)
    return jsonify(stage_json(find_stage(acc, campaign, name), acc))


@route("/experiments/<experiment>/campaigns/<campaign>/stages", "POST", scope="edit",
       tag="stages",
       summary="Add a stage to a campaign: its fields as INI text, and its dependencies",
       description="Body {\"name\": ..., \"fields\": {key: INI text}, \"depends_on\": "
                   "[{\"stage\": parent, \"file_pattern\": pattern}]}. What fields does "
                   "not give comes from the campaign's defaults. Checked by the importer "
                   "(422 names the field); 409 when the stage exists.",
       examples=EXAMPLES,
       body=json_of(obj({
           "name": {**STRING, "minLength": 1},
           "fields": obj(additionalProperties=STRING,
                         example={"job_type": "mu2e_reco_srsoleti_jobtype",
                                  "login_setup": "srsoleti_poms_login"}),
           "depends_on": DEPENDS_SCHEMA}, ["name"])),
       responses={201: ("the new stage", json_of(ref("Stage")))})
def add_stage(experiment, campaign):
    acc = access(experiment)
    row = find_campaign(acc, campaign)
    body = json_body()
    name = body.get("name")
    if not isinstance(name, str) or not name.strip():
        raise ApiError(422, "name: give the stage a name", "name")
    fields = body.get("fields", {})
    if not isinstance(fields, dict):
        raise ApiError(422, "fields: {key: INI text}", "fields")
    for key in fields:
        if key not in STAGE_KEYS:
            raise ApiError(422, f"{key!r} is not a stage field; these are: "
                           f"{', '.join(STAGE_KEYS)}", key)
    fields = {key: ini_text(key, value) for key, value in fields.items()}
    depends = depends_body(body)
    require_edit(acc, row)
    if any(s.name == name.strip() for s in row.stages):
        raise ApiError(409, f"campaign {row.name} already has a stage {name.strip()!r}", "name")
    try:
        added = operations.add_stage(row, name, fields, depends, acc.user)
        db.session.commit()
    except InvalidCampaign as err:
        raise invalid(err) from None
    return jsonify(stage_json(added, acc)), 201


@route("/experiments/<experiment>/campaigns/<campaign>/stages/<stage>", "DELETE",
       scope="edit", tag="stages",
       summary="Remove a stage that never launched and no stage depends on",
       description="409 when it has submissions (make the campaign Inactive instead) or "
                   "another stage depends on it.",
       examples=EXAMPLES,
       responses={200: ("removed", json_of(obj({"deleted": STRING}, ["deleted"])))})
def delete_stage(experiment, campaign, stage):
    acc = access(experiment)
    row = find_stage(acc, campaign, stage)
    require_edit(acc, row.campaign)
    name = row.name
    try:
        operations.remove_stage(row, acc.user)
        db.session.commit()
    except InvalidCampaign as err:
        raise ApiError(409, "; ".join(p.reason for p in err.problems), "stage") from None
    except store.CampaignInUse as err:
        raise ApiError(409, str(err), "stage") from None
    return jsonify({"deleted": name})


_PAIRS_SCHEMA = {"type": ["array", "null"],
                 "items": array(NULLABLE_STRING, minItems=2, maxItems=2)}


def _pairs_body(body: dict, key: str) -> list | None:
    value = body.get(key)
    if value is None:
        return None
    if not isinstance(value, list) or not all(
        isinstance(p, list) and len(p) == 2 and isinstance(p[0], str)
        and (p[1] is None or isinstance(p[1], str)) for p in value
    ):
        raise ApiError(422, f"{key}: a list of [key, value] pairs of text (an empty value "
                       "takes the key out)", key)
    return value


@route("/experiments/<experiment>/campaigns/<campaign>/stages/<stage>/param_overrides",
       "POST", scope="edit", tag="stages",
       summary="Merge parameter overrides into a stage (the original's "
               "update_stage_param_overrides)",
       description="Body {\"param_overrides\": [[key, value], ...], "
                   "\"test_param_overrides\": [...]}: a key given replaces that key's "
                   "value or is added; an empty value takes the key out; other pairs stay. "
                   "A list left out (or null) is not changed.",
       examples=EXAMPLES,
       body=json_of(obj({
           "param_overrides": {**_PAIRS_SCHEMA, "example": [["-Oglobal.release=", "v2"]]},
           "test_param_overrides": _PAIRS_SCHEMA})),
       responses={200: ("the stage as it is now", json_of(ref("Stage")))})
def merge_stage_param_overrides(experiment, campaign, stage):
    acc = access(experiment)
    row = find_stage(acc, campaign, stage)
    body = json_body()
    changes = {key: _pairs_body(body, key) for key in ("param_overrides",
                                                        "test_param_overrides")}
    require_edit(acc, row.campaign)
    name = row.name
    try:
        operations.merge_param_overrides(row, acc.user, **changes)
        db.session.commit()
    except InvalidCampaign as err:
        first = err.problems[0].key if err.problems else None
        raise refused_field(first or "param_overrides", err) from None
    except store.CampaignInUse as err:
        raise ApiError(409, str(err)) from None
    return jsonify(stage_json(find_stage(acc, campaign, name), acc))


@route("/experiments/<experiment>/stages_by_id/<int:stage_id>", "GET", tag="stages",
       summary="A stage's name and campaign from its id",
       examples={"experiment": "mu2e", "stage_id": 1},
       responses={200: ("its name", json_of(ref("Named")))})
def stage_by_id(experiment, stage_id):
    acc = access(experiment)
    row = operations.stage_by_id(acc.experiment, stage_id)
    if row is None:
        raise ApiError(404, f"no stage {stage_id} in {acc.experiment.name}", "stage_id")
    return jsonify({"id": row.id, "name": row.name, "campaign": row.campaign.name,
                    "campaign_id": row.campaign_id})
