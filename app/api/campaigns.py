"""Campaigns: list, show, upload INI (with dry run), export INI, clone, delete, field edits
checked by the importer (app/api/edits.py) as the pages do, tags, and a campaign by id.
Their stages are app/api/stages.py's.
"""
from __future__ import annotations

import re

from flask import Response, current_app, jsonify, request
from sqlalchemy import select

from app.api.answers import (
    campaign_json,
    change_json,
    impact_json,
    invalid,
    problem_json,
    summary_json,
)
from app.api.caller import access
from app.api.core import (
    ApiError,
    choice_arg,
    flag,
    json_body,
    paginate,
    reason_arg,
    refuse,
)
from app.api.edits import commit_save, edit_body, require_edit, save_edits
from app.api.lookups import EXAMPLES, find_campaign
from app.api.routes import PAGE_PARAMS, param, route
from app.api.schemas import STRING, STRINGS, array, json_of, obj, page_of, ref
from app.auth import policy
from app.campaigns import editing, operations, permissions, store
from app.campaigns.ini import export_ini
from app.campaigns.spec import InvalidCampaign, Problem
from app.extensions import db
from app.launching import impact
from app.models import Campaign, CampaignTag

INI_BODY = {
    "text/plain": {**STRING, "description": "the INI file's text"},
    "multipart/form-data": obj({"ini_file": {**STRING, "format": "binary"}}),
}


@route("/experiments/<experiment>/campaigns", "GET", tag="campaigns",
       summary="The experiment's campaigns, by name", examples=EXAMPLES,
       query=PAGE_PARAMS + [
           param("q", STRING, "part of the name"),
           param("tag", STRING, "only campaigns with this tag"),
           param("state", {**STRING, "enum": ["Active", "Inactive", "all"],
                           "default": "Active"}, "campaign state"),
           param("poms_role", {**STRING, "enum": ["analysis", "production", "all"],
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
       query=[param("dry_run", {**STRING, "enum": ["0", "1"]},
                    "1: check and show the changes, write nothing"),
              param("filename", STRING, "the file name problems are reported in"),
              param("reason", STRING, "why, kept with the campaign's new version")],
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

    def save():
        return store.save_campaign(acc.experiment, spec, acc.user, source="api",
                                   reason=reason_arg())

    if dry_run:
        answer["campaign"] = {"name": spec.name, "poms_role": spec.poms_role,
                              "stages": [s.name for s in spec.stages]}
        answer["impact"] = impact_json(impact.impact(existing, save, acc.user,
                                                     current_app.config, changes))
        return jsonify(answer)
    campaign = commit_save(save)
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
       responses={200: ("the INI text", {"text/plain": STRING})})
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
       body=json_of(obj({"new_name": {**STRING, "minLength": 1}}, ["new_name"])),
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
       responses={200: ("deleted", json_of(obj({"deleted": STRING})))})
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


@route("/experiments/<experiment>/campaigns/<campaign>", "PATCH", scope="edit", tag="campaigns",
       summary="Change campaign fields (state, tags, campaign_keywords) as INI text",
       examples=EXAMPLES,
       body=json_of(obj({"fields": obj(additionalProperties=STRING,
                                       example={"state": "Inactive"})})),
       responses={200: ("the campaign as it is now", json_of(ref("Campaign")))})
def edit_campaign(experiment, campaign):
    acc = access(experiment)
    row = find_campaign(acc, campaign)
    edits = edit_body(editing.CAMPAIGN_FIELDS)
    require_edit(acc, row)
    save_edits(acc, row, edits, editing.set_campaign_field)
    db.session.refresh(row)
    return jsonify(campaign_json(row, acc))


@route("/experiments/<experiment>/tags/<tag>", "POST", scope="edit", tag="campaigns",
       summary="Tag campaigns (the original's link_tags): all of them, or none",
       description="Body {\"campaigns\": [name or id, ...]}. Refused (403) unless you may "
                   "change every one of them; campaigns that have the tag already keep it.",
       examples={"experiment": "mu2e", "tag": "mdc2020"},
       body=json_of(obj({"campaigns": array({"type": ["string", "integer"]}, minItems=1,
                                             example=["srsoleti_tutorial"])},
                        ["campaigns"])),
       responses={200: ("tagged", json_of(obj({
           "tag": STRING, "campaigns": STRINGS, "added": STRINGS}, ["tag", "campaigns"])))})
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
