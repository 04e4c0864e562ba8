"""Every version of a campaign over the API: the history, two versions compared field by
field, a version as INI, and rolling back to one through the upload's own path (its plan,
its role check, its save), with ?dry_run=1 for the preview and what it does to the
launches.
"""
from __future__ import annotations

from flask import Response, current_app, jsonify, request

from app.api.answers import change_json, impact_json, invalid, problem_json
from app.api.caller import access
from app.api.core import ApiError, flag, iso, reason_arg, refuse
from app.api.edits import commit_save
from app.api.lookups import EXAMPLES, find_campaign
from app.api.routes import param, route
from app.api.schemas import BOOLEAN, INTEGER, STRING, array, json_of, obj, ref
from app.campaigns import permissions, store, versions
from app.campaigns.spec import InvalidCampaign
from app.extensions import db
from app.launching import impact
from app.models import Campaign

_ROOT = "/experiments/<experiment>/campaigns/<campaign>/versions"


def version_json(row) -> dict:
    return {"number": row.number, "created": iso(row.created), "by": versions.who_of(row),
            "source": row.source, "reason": row.reason}


def _version(campaign: Campaign, number: int):
    try:
        return versions.version(campaign, number)
    except versions.NoVersion as err:
        raise ApiError(404, str(err), "number") from None


def _number_arg(name: str) -> int:
    raw = request.args.get(name, "")
    if not raw.isdigit():
        raise ApiError(422, f"{name}: a version number", name)
    return int(raw)


@route(_ROOT, "GET", tag="campaigns", summary="The campaign's versions, newest first",
       description="Each save (upload, editor, field edit, rollback, `poms import-ini`) "
                   "made one, with who, when and why.", examples=EXAMPLES,
       responses={200: ("the versions", json_of(obj({"versions": array(ref("Version"))})))})
def list_versions(experiment, campaign):
    acc = access(experiment)
    row = find_campaign(acc, campaign)
    if versions.catch_up(row, store.spec_from_campaign(row)) is not None:
        db.session.commit()  # the first version of a campaign stored before versions began
    return jsonify({"versions": [version_json(v) for v in versions.history(row)]})


@route(f"{_ROOT}/diff", "GET", tag="campaigns",
       summary="What changed from one version to another, field by field",
       examples=EXAMPLES,
       query=[param("from", INTEGER, "the older version's number"),
              param("to", INTEGER, "the newer version's number")],
       responses={200: ("the changes", json_of(obj({
           "from": INTEGER, "to": INTEGER, "changes": array(ref("Change"))})))})
def diff_versions(experiment, campaign):
    acc = access(experiment)
    row = find_campaign(acc, campaign)
    older, newer = _number_arg("from"), _number_arg("to")
    changes = versions.diff(_version(row, older), _version(row, newer))
    return jsonify({"from": older, "to": newer, "changes": [change_json(c) for c in changes]})


@route(f"{_ROOT}/<int:number>/ini", "GET", tag="campaigns",
       summary="One version of the campaign as an INI file", examples=EXAMPLES,
       responses={200: ("the INI text", {"text/plain": STRING})})
def export_version(experiment, campaign, number):
    acc = access(experiment)
    row = find_campaign(acc, campaign)
    version = _version(row, number)
    return Response(version.ini_text, mimetype="text/plain", headers={
        "Content-Disposition": f'attachment; filename="{versions.filename(row, version)}"'})


@route(f"{_ROOT}/<int:number>/rollback", "POST", scope="edit", tag="campaigns",
       summary="Put the campaign back as a version held it (a new version)",
       description="As an upload of that version's INI: the same checks, role and save. "
                   "With ?dry_run=1 nothing is written: the answer lists the changes and "
                   "what they do to the launches.",
       examples=EXAMPLES,
       query=[param("dry_run", {**STRING, "enum": ["0", "1"]},
                    "1: show the changes and their impact, write nothing"),
              param("reason", STRING, "why, kept with the new version")],
       body_required=False,
       responses={200: ("the changes (and the new version, when saved)", json_of(obj({
           "dry_run": BOOLEAN, "changes": array(ref("Change")), "impact": ref("Impact"),
           "version": ref("Version")}, ["dry_run", "changes"])))})
def rollback_version(experiment, campaign, number):
    acc = access(experiment)
    row = find_campaign(acc, campaign)
    version = _version(row, number)
    try:
        spec, warnings = store.read_ini(acc.experiment, version.ini_text,
                                        versions.filename(row, version),
                                        current_app.config["POMS_MAX_STAGES"])
    except InvalidCampaign as err:
        raise invalid(err) from None
    existing, changes = store.upload_plan(acc.experiment, spec)
    try:
        permissions.authorise_upload(acc, spec, existing)
    except permissions.Refused as err:
        raise refuse(str(err)) from None
    reason = versions.rollback_reason(number, reason_arg())
    answer = {"dry_run": flag("dry_run"), "changes": [change_json(c) for c in changes],
              "warnings": [problem_json(w) for w in warnings]}

    def save():
        return store.save_campaign(acc.experiment, spec, acc.user, source="rollback",
                                   reason=reason)

    if answer["dry_run"]:
        answer["impact"] = impact_json(impact.impact(existing, save, acc.user,
                                                     current_app.config, changes))
        return jsonify(answer)
    saved = commit_save(save)
    newest = versions.latest(saved)
    answer["version"] = version_json(newest) if newest else None
    return jsonify(answer)
