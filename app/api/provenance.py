"""A file's provenance and a campaign's data flow: the same domain calls as the provenance
pages (app/provenance)."""
from __future__ import annotations

from flask import jsonify, request

from app.api.caller import access
from app.api.core import ApiError
from app.api.lookups import EXAMPLES, find_campaign
from app.api.routes import param, route
from app.api.schemas import (
    BOOLEAN,
    INTEGER,
    NULLABLE_STRING,
    STRING,
    STRINGS,
    TIME,
    array,
    json_of,
    obj,
)
from app.provenance import flow, lineage

RELATIVES = array(obj({"generation": INTEGER, "more": INTEGER, "files": array(obj({
    "name": STRING, "stage": STRING, "submission_id": {"type": ["integer", "null"]},
    "via": STRINGS}))}))
PROVENANCE = obj({
    "experiment": STRING, "name": STRING, "size": INTEGER, "checksum": STRING,
    "created": TIME, "version": NULLABLE_STRING, "data_tier": NULLABLE_STRING,
    "metadata": obj(), "locations": STRINGS,
    "made_by": {**obj({"job_id": INTEGER, "batch_job_id": STRING, "submission_id": INTEGER,
                       "stage": STRING, "campaign": STRING, "job_type": STRING,
                       "login_setup": STRING, "launched": TIME, "command": STRING,
                       "job_type_as_launched": obj(), "login_setup_as_launched": obj(),
                       "stage_as_launched": obj(),
                       "parameters_as_launched": array(STRINGS)}),
                "type": ["object", "null"]},
    "ucondb": {**obj({"folder": STRING, "version": {"type": ["integer", "null"]},
                      "location": STRING, "database": STRING}), "type": ["object", "null"]},
    "inputs": RELATIVES, "outputs": RELATIVES, "inputs_cut": BOOLEAN,
    "outputs_cut": BOOLEAN, "limit": INTEGER, "depth": INTEGER})
FLOW = obj({"campaign": STRING, "stages": array(obj({
    "stage": STRING, "files_in": INTEGER, "processed": INTEGER, "files_out": INTEGER,
    "to_process": INTEGER, "note": STRING, "sources": array(obj({
        "stage": STRING, "pattern": STRING, "matching": {"type": ["integer", "null"]}}))}))})


@route("/experiments/<experiment>/files/<file_name>/provenance", "GET", tag="provenance",
       summary="A file's provenance: the job that made it as launched, its inputs back to "
               "the first stage, the files made from it, an FCL file's place in UconDB",
       description="Inputs and outputs come generation by generation, each at most `limit` "
                   "files (with how many more), `depth` generations deep.",
       examples={**EXAMPLES, "file_name": "mu2e_reco.12_0.art"},
       query=[param("limit", INTEGER, f"files per generation (default "
                                      f"{lineage.DEFAULT_LIMIT}, at most {lineage.MAX_LIMIT})"),
              param("depth", INTEGER, f"generations (default {lineage.DEFAULT_DEPTH}, at "
                                      f"most {lineage.MAX_DEPTH})")],
       responses={200: ("the provenance", json_of(PROVENANCE))})
def file_provenance(experiment, file_name):
    acc = access(experiment)
    trace = lineage.requested_provenance(acc.experiment.name, file_name,
                                         request.args.get("limit"), request.args.get("depth"))
    if isinstance(trace, lineage.Unanswered):
        raise ApiError(trace.status, trace.message, trace.field)
    return jsonify(lineage.as_dict(trace))


@route("/experiments/<experiment>/campaigns/<campaign>/data_flow", "GET", tag="provenance",
       summary="A campaign's data flow: per stage, files in, processed, files out, and files "
               "still to process (following its dependency patterns)",
       examples=EXAMPLES, responses={200: ("the data flow", json_of(FLOW))})
def campaign_data_flow(experiment, campaign):
    acc = access(experiment)
    row = find_campaign(acc, campaign)
    return jsonify({"campaign": row.name,
                    "stages": [flow.as_dict(s) for s in flow.campaign_flow(row)]})
