"""The campaign editor's changes over the API: a list of operations (add, rename, remove a
stage; set its fields; add or remove a dependency; place stages in the graph), checked by
the importer as the editor page's are (app/campaigns/drafts.py), previewed with dry_run,
stored in one transaction.
"""
from __future__ import annotations

from flask import current_app, jsonify

from app.api.answers import campaign_json, change_json, impact_json, invalid
from app.api.caller import access
from app.api.core import ApiError, flag, json_body, reason_arg
from app.api.edits import commit_save, require_edit
from app.api.lookups import EXAMPLES, find_campaign
from app.api.routes import param, route
from app.api.schemas import BOOLEAN, STRING, array, json_of, obj, ref
from app.campaigns import draft_plan, drafts, store
from app.campaigns.spec import InvalidCampaign
from app.launching import impact

_OPERATION = obj(
    {"op": {**STRING, "enum": list(drafts.OPERATIONS)}},
    ["op"],
    description="add_stage {name, fields}, rename_stage {stage, name}, remove_stage {stage}, "
                "set_fields {stage, fields}, add_dependency {child, parent, file_pattern}, "
                "remove_dependency {child, parent}, place {stage, x, y} or "
                "{positions: {stage: [x, y]}}; fields are {key: INI text}",
)

_ANSWER = obj({
    "dry_run": BOOLEAN,
    "changes": array(ref("Change")),
    "renamed": obj(additionalProperties=STRING),
    "campaign": {"description": "the campaign as it is now (not on a dry run)"},
    "impact": {**ref("Impact"), "description": "on a dry run: what saving does to the "
                                              "launches"},
}, ["dry_run", "changes"])


@route("/experiments/<experiment>/campaigns/<campaign>/edits", "POST", scope="edit",
       tag="campaigns",
       summary="Change a campaign's stages, dependencies and layout as the editor page does",
       description="Body {\"operations\": [...]}: applied in order, each checked by the "
                   "importer as an upload is; 422 names the first refused (\"change N\"). "
                   "With ?dry_run=1 nothing is written: the answer lists what would change, "
                   "as an upload's preview does. A renamed stage keeps its submissions.",
       examples=EXAMPLES,
       query=[param("dry_run", {**STRING, "enum": ["0", "1"]},
                    "1: check and show the changes, write nothing"),
              param("reason", STRING, "why, kept with the campaign's new version")],
       body=json_of(obj({"operations": array(_OPERATION, example=[
           {"op": "add_stage", "name": "ana",
            "fields": {"job_type": "mu2e_reco_srsoleti_jobtype"}},
           {"op": "add_dependency", "child": "ana", "parent": "reco",
            "file_pattern": "%.art"}])}, ["operations"])),
       responses={200: ("the changes (and the campaign, when saved)", json_of(_ANSWER))})
def edit_campaign_graph(experiment, campaign):
    acc = access(experiment)
    row = find_campaign(acc, campaign)
    operations = json_body().get("operations")
    if not isinstance(operations, list):
        raise ApiError(422, "operations: a list of {\"op\": ..., ...}", "operations")
    require_edit(acc, row)
    try:
        draft = drafts.apply_operations(acc.experiment, store.spec_from_campaign(row),
                                        operations)
    except InvalidCampaign as err:
        raise invalid(err) from None
    changes = draft_plan.changes(row, draft)
    answer = {"dry_run": flag("dry_run"), "renamed": draft.renamed,
              "changes": [change_json(c) for c in changes]}

    def save():
        return draft_plan.save(row, draft, acc.user, source="api", reason=reason_arg())

    if answer["dry_run"]:
        answer["impact"] = impact_json(impact.impact(row, save, acc.user, current_app.config,
                                                     changes))
        return jsonify(answer)
    commit_save(save)
    answer["campaign"] = campaign_json(row, acc)
    return jsonify(answer)
