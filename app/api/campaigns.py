"""Campaigns and stages: list, show, upload INI (with dry run), export INI, clone, delete,
and field edits checked by the importer (app/campaigns/editing.py), as the pages do."""
from __future__ import annotations

import dataclasses
import json
import re

from flask import Response, current_app, jsonify, request
from sqlalchemy import select

from app.api.core import (
    PAGE_PARAMS,
    ApiError,
    access,
    choice_arg,
    flag,
    iso,
    json_body,
    json_of,
    page_of,
    paginate,
    param,
    ref,
    refuse,
    route,
)
from app.auth import policy
from app.auth.session import Access
from app.campaigns import editing, operations, permissions, store
from app.campaigns.ini import export_ini
from app.campaigns.spec import STAGE_KEYS, InvalidCampaign, Problem
from app.extensions import db
from app.launching import service
from app.models import Campaign, CampaignStage, CampaignTag

EXAMPLES = {"experiment": "mu2e", "campaign": "srsoleti_tutorial", "stage": "reco_fcl"}
INI_BODY = {
    "text/plain": {"type": "string", "description": "the INI file's text"},
    "multipart/form-data": {"type": "object", "properties": {
        "ini_file": {"type": "string", "format": "binary"}}},
}


# --- answers -------------------------------------------------------------------------------


def _plain(value):
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    return value


def problem_json(problem: Problem) -> dict:
    return {"file": problem.file, "section": problem.section, "key": problem.key,
            "line": problem.line, "reason": problem.reason, "text": str(problem)}


def change_json(change) -> dict:
    return {"kind": change.kind, "subject": change.subject, "field": change.field,
            "before": _plain(change.before), "after": _plain(change.after),
            "used_by": list(change.used_by), "text": str(change)}


def invalid(err: InvalidCampaign, status: int = 422) -> ApiError:
    first = err.problems[0] if err.problems else None
    message = "; ".join(str(p) for p in err.problems) or "invalid campaign"
    return ApiError(status, message, (first.key or first.section) if first else None,
                    problems=[problem_json(p) for p in err.problems],
                    warnings=[problem_json(p) for p in err.warnings])


def summary_json(campaign: Campaign) -> dict:
    return {
        "id": campaign.id, "name": campaign.name, "poms_role": campaign.poms_role,
        "state": campaign.state, "owner": campaign.owner.username, "tags": campaign.tags,
        "stages": len(campaign.stages), "updated": iso(campaign.updated),
    }


def _depends(stage: CampaignStage) -> list[dict]:
    return [{"stage": link.parent.name, "file_pattern": link.file_pattern,
             "position": link.position} for link in stage.parent_links]


def campaign_json(campaign: Campaign, acc: Access) -> dict:
    return {
        "id": campaign.id, "name": campaign.name, "experiment": campaign.experiment.name,
        "poms_role": campaign.poms_role, "state": campaign.state,
        "owner": campaign.owner.username, "tags": campaign.tags,
        "keywords": dict(campaign.keywords or {}), "created": iso(campaign.created),
        "updated": iso(campaign.updated), "launched": store.has_launched(campaign),
        "may_edit": permissions.may_edit(acc, campaign),
        "may_launch": policy.may_launch(acc.role, poms_role=campaign.poms_role,
                                        is_owner=acc.owns(campaign)),
        "stages": [
            {"id": s.id, "name": s.name, "job_type": s.job_type.name,
             "login_setup": s.login_setup.name, "depends_on": _depends(s)}
            for s in campaign.stages
        ],
    }


def stage_json(stage: CampaignStage, acc: Access) -> dict:
    spec = store.spec_from_campaign(stage.campaign)
    values = dataclasses.asdict(spec.stage(stage.name))
    return {
        "id": stage.id, "name": stage.name, "campaign": stage.campaign.name,
        "position": stage.position,
        "fields": {key: values[key] for key in STAGE_KEYS},
        "ini": {key: editing.stage_field_text(spec, stage.name, key) for key in STAGE_KEYS},
        "depends_on": _depends(stage),
        "held": service.stage_held(stage),
        "may_edit": permissions.may_edit(acc, stage.campaign),
    }


# --- finding -------------------------------------------------------------------------------


def find_campaign(acc: Access, name: str) -> Campaign:
    campaign = store.find_campaign(acc.experiment, name)
    if campaign is None:
        raise ApiError(404, f"no campaign {name!r} in {acc.experiment.name}", "campaign")
    return campaign


def find_stage(acc: Access, campaign_name: str, stage_name: str) -> CampaignStage:
    campaign = find_campaign(acc, campaign_name)
    stage = next((s for s in campaign.stages if s.name == stage_name), None)
    if stage is None:
        raise ApiError(404, f"campaign {campaign.name} has no stage {stage_name!r}", "stage")
    return stage


def require_edit(acc: Access, campaign: Campaign) -> None:
    try:
        permissions.require_edit(acc, campaign)
    except permissions.Refused as err:
        raise refuse(str(err)) from None


# --- campaigns -----------------------------------------------------------------------------


@route("/experiments/<experiment>/campaigns", "GET", tag="campaigns",
       summary="The experiment's campaigns, by name", examples=EXAMPLES,
       query=PAGE_PARAMS + [
           param("q", {"type": "string"}, "part of the name"),
           param("tag", {"type": "string"}, "only campaigns with this tag"),
           param("state", {"type": "string", "enum": ["Active", "Inactive", "all"],
                           "default": "Active"}, "campaign state"),
           param("poms_role", {"type": "string", "enum": ["analysis", "production", "all"],
                               "default": "all"}, "kind of campaign"),
       ],
       responses={200: ("a page of campaigns", json_of(page_of("CampaignSummary")))})
def list_campaigns(experiment):
    acc = access(experiment)
    q = request.args.get("q", "").strip()
    tag = request.args.get("tag", "").strip()
    state = choice_arg("state", ("Active", "Inactive", "all"), "Active")
    role = choice_arg("poms_role", ("analysis", "production", "all"), "all")
    query = select(Campaign).where(Campaign.experiment_id == acc.experiment.id)
    if q:
        query = query.where(Campaign.name.icontains(q, autoescape=True))
    if tag:
        query = query.where(
            Campaign.id.in_(select(CampaignTag.campaign_id).where(CampaignTag.tag == tag)))
    if state != "all":
        query = query.where(Campaign.state == state)
    if role != "all":
        query = query.where(Campaign.poms_role == role)
    return jsonify(paginate(query.order_by(Campaign.name), summary_json))


def _read_ini() -> tuple[str, str]:
    """(file name, text) from a multipart upload or the raw body."""
    upload = request.files.get("ini_file") or request.files.get("file")
    if upload is not None:
        raw, filename = upload.read(), upload.filename or "<upload>"
    elif request.mimetype == "multipart/form-data":
        raw = request.form.get("ini_text", "").encode()
        filename = "<upload>"
    else:
        raw, filename = request.get_data(), "<upload>"
    filename = request.args.get("filename") or filename
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        raise invalid(InvalidCampaign(
            [Problem(filename, None, None, f"is not UTF-8 text (byte {err.start})")])) from None
    if not text.strip():
        raise invalid(InvalidCampaign([Problem(filename, None, None, "is empty")]))
    return filename, text


@route("/experiments/<experiment>/campaigns", "POST", scope="edit", tag="campaigns",
       summary="Upload an INI file: create the campaign, or update the one with its name",
       description="The body is the INI text (text/plain) or a multipart form with the file "
                   "in `ini_file`. With ?dry_run=1 nothing is written: the answer says what "
                   "would change. Invalid files get 422 with every problem.",
       examples=EXAMPLES, body=INI_BODY,
       query=[param("dry_run", {"type": "string", "enum": ["0", "1"]},
                    "1: check and show the changes, write nothing"),
              param("filename", {"type": "string"}, "the file name problems are reported in")],
       responses={200: ("updated (or the dry run's plan)", json_of(ref("Upload"))),
                  201: ("created", json_of(ref("Upload")))})
def upload_campaign(experiment):
    acc = access(experiment)
    dry_run = flag("dry_run")
    filename, text = _read_ini()
    try:
        spec, warnings = store.read_ini(acc.experiment, text, filename,
                                        current_app.config["POMS_MAX_STAGES"])
        permissions.check_experiment(spec, filename, acc)
    except InvalidCampaign as err:
        raise invalid(err) from None
    existing, changes = store.upload_plan(acc.experiment, spec)
    try:
        permissions.authorise_upload(acc, spec, existing)
    except permissions.Refused as err:
        raise refuse(str(err)) from None
    answer = {
        "dry_run": dry_run, "created": existing is None,
        "changes": [change_json(c) for c in changes],
        "warnings": [problem_json(w) for w in warnings],
    }
    if dry_run:
        answer["campaign"] = {"name": spec.name, "poms_role": spec.poms_role,
                              "stages": [s.name for s in spec.stages]}
        return jsonify(answer)
    try:
        campaign = store.save_campaign(acc.experiment, spec, acc.user)
        db.session.commit()
    except InvalidCampaign as err:
        raise invalid(err) from None
    except store.CampaignInUse as err:
        raise ApiError(409, str(err)) from None
    answer["campaign"] = campaign_json(campaign, acc)
    return jsonify(answer), (201 if existing is None else 200)


@route("/experiments/<experiment>/campaigns/<campaign>", "GET", tag="campaigns",
       summary="One campaign, its stages and their dependencies", examples=EXAMPLES,
       responses={200: ("the campaign", json_of(ref("Campaign")))})
def show_campaign(experiment, campaign):
    acc = access(experiment)
    return jsonify(campaign_json(find_campaign(acc, campaign), acc))


@route("/experiments/<experiment>/campaigns/<campaign>/ini", "GET", tag="campaigns",
       summary="The campaign as an INI file (imports back to the same campaign)",
       examples=EXAMPLES,
       responses={200: ("the INI text", {"text/plain": {"type": "string"}})})
def export_campaign(experiment, campaign):
    acc = access(experiment)
    row = find_campaign(acc, campaign)
    filename = re.sub(r"[^A-Za-z0-9_.-]+", "_", row.name) + ".ini"
    return Response(export_ini(store.spec_from_campaign(row)), mimetype="text/plain",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


@route("/experiments/<experiment>/campaigns/<campaign>/clone", "POST",
       scope="edit", tag="campaigns",
       summary="Copy the campaign under a new name (sharing its job types and login setups)",
       examples=EXAMPLES,
       body=json_of({"type": "object", "required": ["new_name"],
                     "properties": {"new_name": {"type": "string", "minLength": 1}}}),
       responses={201: ("the copy", json_of(ref("Campaign")))})
def clone_campaign(experiment, campaign):
    acc = access(experiment)
    row = find_campaign(acc, campaign)
    if not policy.may_create_campaign(acc.role, row.poms_role):
        raise refuse(f"acting as {acc.role}, you may not create {row.poms_role} campaigns")
    new_name = json_body().get("new_name")
    if not isinstance(new_name, str) or not new_name.strip():
        raise ApiError(422, "new_name: give the copy a name", "new_name")
    new_name = new_name.strip()
    if not new_name.isprintable() or "/" in new_name or len(new_name) > 255:
        raise ApiError(422, "new_name: printable, no '/', at most 255 characters", "new_name")
    try:
        copy = store.clone_campaign(row, new_name, acc.user)
        db.session.commit()
    except ValueError as err:
        raise ApiError(409, str(err), "new_name") from None
    return jsonify(campaign_json(copy, acc)), 201


@route("/experiments/<experiment>/campaigns/<campaign>", "DELETE", scope="edit", tag="campaigns",
       summary="Delete a campaign that never launched (409 otherwise: make it Inactive)",
       examples=EXAMPLES,
       responses={200: ("deleted", json_of({"type": "object", "properties": {
           "deleted": {"type": "string"}}}))})
def delete_campaign(experiment, campaign):
    acc = access(experiment)
    row = find_campaign(acc, campaign)
    require_edit(acc, row)
    name = row.name
    try:
        store.delete_campaign(row, acc.user)
        db.session.commit()
    except store.CampaignInUse as err:
        raise ApiError(409, str(err)) from None
    return jsonify({"deleted": name})


def ini_text(key: str, value) -> str:
    """A JSON value as the INI would say it; the importer decides whether it is right."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "True" if value else "False"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, list | dict):
        return json.dumps(value)
    raise ApiError(422, f"{key}: give the value as INI text", key)


def _edit_body(allowed: tuple[str, ...]) -> dict[str, str]:
    body = json_body()
    fields = body.get("fields", body)
    if not isinstance(fields, dict) or not fields:
        raise ApiError(400, "give the fields to change: {\"fields\": {key: INI text}}")
    for key in fields:
        if key not in allowed:
            raise ApiError(422, f"{key!r} is not an editable field; these are: "
                           f"{', '.join(allowed)}", key)
    return {key: ini_text(key, value) for key, value in fields.items()}


def _refused_field(key: str, err: InvalidCampaign) -> ApiError:
    return ApiError(422, f"{key}: " + "; ".join(p.reason for p in err.problems), key,
                    problems=[problem_json(p) for p in err.problems])


def _save_edits(acc: Access, campaign: Campaign, edits: dict, apply, then=None) -> None:
    """Apply each edit through the importer (and `then`, a last change of the whole
    spec), then store the campaign: one transaction."""
    spec = store.spec_from_campaign(campaign)
    for key, raw in edits.items():
        try:
            spec = apply(spec, key, raw)
        except InvalidCampaign as err:
            raise _refused_field(key, err) from None
    if then is not None:
        spec = then(spec)
    try:
        store.save_campaign(acc.experiment, spec, acc.user)
        db.session.commit()
    except InvalidCampaign as err:
        raise invalid(err) from None
    except store.CampaignInUse as err:
        raise ApiError(409, str(err)) from None


@route("/experiments/<experiment>/campaigns/<campaign>", "PATCH", scope="edit", tag="campaigns",
       summary="Change campaign fields (state, tags, campaign_keywords) as INI text",
       examples=EXAMPLES,
       body=json_of({"type": "object", "properties": {"fields": {
           "type": "object", "additionalProperties": {"type": "string"},
           "example": {"state": "Inactive"}}}}),
       responses={200: ("the campaign as it is now", json_of(ref("Campaign")))})
def edit_campaign(experiment, campaign):
    acc = access(experiment)
    row = find_campaign(acc, campaign)
    edits = _edit_body(editing.CAMPAIGN_FIELDS)
    require_edit(acc, row)
    _save_edits(acc, row, edits, editing.set_campaign_field)
    db.session.refresh(row)
    return jsonify(campaign_json(row, acc))


# --- stages --------------------------------------------------------------------------------


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
       body=json_of({"type": "object", "properties": {"fields": {
           "type": "object", "additionalProperties": {"type": "string"},
           "example": {"completion_pct": "90"}}}}),
       responses={200: ("the stage as it is now", json_of(ref("Stage")))})
def edit_stage(experiment, campaign, stage):
    acc = access(experiment)
    row = find_stage(acc, campaign, stage)
    body = json_body()
    depends = depends_body(body) if "depends_on" in body else None
    edits = {} if depends is not None and "fields" not in body else _edit_body(STAGE_KEYS)
    require_edit(acc, row.campaign)
    shared = store.shared_definitions(acc.experiment)
    name = row.name

    def new_dependencies(spec):
        try:
            return editing.set_stage_dependencies(spec, name, depends)
        except InvalidCampaign as err:
            raise _refused_field("depends_on", err) from None

    _save_edits(acc, row.campaign, edits,
                lambda spec, key, raw: editing.set_stage_field(spec, name, key, raw, *shared),
                then=new_dependencies if depends is not None else None)
    return jsonify(stage_json(find_stage(acc, campaign, name), acc))


def depends_body(body: dict) -> list[tuple[str, str]]:
    """depends_on: [{"stage": parent, "file_pattern": pattern}, ...] (its order gives N)."""
    depends = body.get("depends_on", [])
    if not isinstance(depends, list) or not all(
        isinstance(d, dict) and isinstance(d.get("stage"), str)
        and isinstance(d.get("file_pattern"), str) for d in depends
    ):
        raise ApiError(422, "depends_on: a list of {\"stage\": parent stage, "
                       "\"file_pattern\": pattern}", "depends_on")
    return [(d["stage"], d["file_pattern"]) for d in depends]


_DEPENDS_SCHEMA = {"type": "array", "items": {
    "type": "object", "required": ["stage", "file_pattern"],
    "properties": {"stage": {"type": "string"}, "file_pattern": {"type": "string"}}}}


@route("/experiments/<experiment>/campaigns/<campaign>/stages", "POST", scope="edit",
       tag="stages",
       summary="Add a stage to a campaign: its fields as INI text, and its dependencies",
       description="Body {\"name\": ..., \"fields\": {key: INI text}, \"depends_on\": "
                   "[{\"stage\": parent, \"file_pattern\": pattern}]}. What fields does "
                   "not give comes from the campaign's defaults. Checked by the importer "
                   "(422 names the field); 409 when the stage exists.",
       examples=EXAMPLES,
       body=json_of({"type": "object", "required": ["name"], "properties": {
           "name": {"type": "string", "minLength": 1},
           "fields": {"type": "object", "additionalProperties": {"type": "string"},
                      "example": {"job_type": "mu2e_reco_srsoleti_jobtype",
                                  "login_setup": "srsoleti_poms_login"}},
           "depends_on": _DEPENDS_SCHEMA}}),
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
       responses={200: ("removed", json_of({"type": "object", "required": ["deleted"],
                        "properties": {"deleted": {"type": "string"}}}))})
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


_PAIRS_SCHEMA = {"type": ["array", "null"], "items": {
    "type": "array", "minItems": 2, "maxItems": 2, "items": {"type": ["string", "null"]}}}


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
       body=json_of({"type": "object", "properties": {
           "param_overrides": {**_PAIRS_SCHEMA, "example": [["-Oglobal.release=", "v2"]]},
           "test_param_overrides": _PAIRS_SCHEMA}}),
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
        raise _refused_field(first or "param_overrides", err) from None
    except store.CampaignInUse as err:
        raise ApiError(409, str(err)) from None
    return jsonify(stage_json(find_stage(acc, campaign, name), acc))


# --- tags and ids --------------------------------------------------------------------------


@route("/experiments/<experiment>/tags/<tag>", "POST", scope="edit", tag="campaigns",
       summary="Tag campaigns (the original's link_tags): all of them, or none",
       description="Body {\"campaigns\": [name or id, ...]}. Refused (403) unless you may "
                   "change every one of them; campaigns that have the tag already keep it.",
       examples={"experiment": "mu2e", "tag": "mdc2020"},
       body=json_of({"type": "object", "required": ["campaigns"], "properties": {
           "campaigns": {"type": "array", "minItems": 1,
                         "items": {"type": ["string", "integer"]},
                         "example": ["srsoleti_tutorial"]}}}),
       responses={200: ("tagged", json_of({"type": "object", "required": ["tag", "campaigns"],
                        "properties": {"tag": {"type": "string"},
                                       "campaigns": {"type": "array",
                                                     "items": {"type": "string"}},
                                       "added": {"type": "array",
                                                 "items": {"type": "string"}}}}))})
def tag_campaigns(experiment, tag):
    acc = access(experiment)
    wanted = json_body().get("campaigns")
    if not isinstance(wanted, list) or not wanted or not all(
            isinstance(c, str | int) and not isinstance(c, bool) for c in wanted):
        raise ApiError(422, "campaigns: a list of campaign names or ids", "campaigns")
    rows = []
    for item in wanted:
        row = (operations.campaign_by_id(acc.experiment, item) if isinstance(item, int)
               else store.find_campaign(acc.experiment, item))
        if row is None:
            raise ApiError(404, f"no campaign {item!r} in {acc.experiment.name}", "campaigns")
        require_edit(acc, row)
        if row not in rows:
            rows.append(row)
    try:
        added = operations.tag_campaigns(rows, tag, acc.user)
        db.session.commit()
    except InvalidCampaign as err:
        raise ApiError(422, "; ".join(p.reason for p in err.problems), "tag") from None
    return jsonify({"tag": tag.strip(), "campaigns": [r.name for r in rows], "added": added})


@route("/experiments/<experiment>/campaigns_by_id/<int:campaign_id>", "GET",
       tag="campaigns", summary="A campaign's name from its id",
       examples={"experiment": "mu2e", "campaign_id": 1},
       responses={200: ("its name", json_of(ref("Named")))})
def campaign_by_id(experiment, campaign_id):
    acc = access(experiment)
    row = operations.campaign_by_id(acc.experiment, campaign_id)
    if row is None:
        raise ApiError(404, f"no campaign {campaign_id} in {acc.experiment.name}",
                       "campaign_id")
    return jsonify({"id": row.id, "name": row.name, "campaign": None})


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
