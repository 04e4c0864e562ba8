"""A campaign's versions: the history (who, when, why), two versions compared field by
field, a version downloaded as INI, and a rollback, which is the upload's own preview and
save of that version's text (preview.py, listing.upload).
"""
from __future__ import annotations

import difflib

from flask import Response, abort, render_template, request
from flask_login import login_required

from app.auth.session import experiment_access
from app.blueprints.campaigns.common import bp
from app.blueprints.campaigns.preview import preview_context
from app.blueprints.views import campaign_in
from app.campaigns import permissions, store, versions
from app.extensions import db


def _version(campaign, number: int):
    try:
        return versions.version(campaign, number)
    except versions.NoVersion as err:
        abort(404, str(err))


@bp.get("/campaign/<int:campaign_id>/versions")
@login_required
def versions_page(experiment, campaign_id):
    access = experiment_access(experiment)
    campaign = campaign_in(access, campaign_id)
    if versions.catch_up(campaign, store.spec_from_campaign(campaign)) is not None:
        # A campaign stored before versions were kept gets its first one when first seen.
        db.session.commit()
    rows = versions.history(campaign)
    return render_template("campaigns/versions.html", access=access, campaign=campaign,
                           rows=rows, who_of=versions.who_of,
                           may_edit=permissions.may_edit(access, campaign))


def _number_arg(name: str, default: int) -> int:
    raw = request.args.get(name, "")
    if not raw:
        return default
    if not raw.isdigit():
        abort(400, f"{name}: a version number")
    return int(raw)


@bp.get("/campaign/<int:campaign_id>/versions/diff")
@login_required
def version_diff(experiment, campaign_id):
    """Two versions field by field (?from=N&to=M; by default the latest and the one
    before), and their INI texts as a unified diff."""
    access = experiment_access(experiment)
    campaign = campaign_in(access, campaign_id)
    last = versions.latest(campaign)
    if last is None:
        abort(404, f"campaign {campaign.name} has no versions yet: open its history first")
    newer = _version(campaign, _number_arg("to", last.number))
    older = _version(campaign, _number_arg("from", max(newer.number - 1, 1)))
    text_diff = "".join(difflib.unified_diff(
        older.ini_text.splitlines(keepends=True), newer.ini_text.splitlines(keepends=True),
        fromfile=f"version {older.number}", tofile=f"version {newer.number}"))
    return render_template("campaigns/version_diff.html", access=access, campaign=campaign,
                           older=older, newer=newer, changes=versions.diff(older, newer),
                           text_diff=text_diff, numbers=[v.number for v in
                                                         versions.history(campaign)],
                           who_of=versions.who_of)


@bp.get("/campaign/<int:campaign_id>/versions/<int:number>/export")
@login_required
def version_export(experiment, campaign_id, number):
    access = experiment_access(experiment)
    campaign = campaign_in(access, campaign_id)
    row = _version(campaign, number)
    return Response(row.ini_text, mimetype="text/plain", headers={
        "Content-Disposition": f'attachment; filename="{versions.filename(campaign, row)}"'})


@bp.get("/campaign/<int:campaign_id>/versions/<int:number>/rollback")
@login_required
def version_rollback(experiment, campaign_id, number):
    """The upload's preview of the version's text: what putting it back changes and does
    to the launches; its Update button saves it as the upload does, as a new version."""
    access = experiment_access(experiment)
    campaign = campaign_in(access, campaign_id)
    try:
        permissions.require_edit(access, campaign)
    except permissions.Refused as err:
        abort(403, str(err))
    row = _version(campaign, number)
    context = preview_context(access, versions.filename(campaign, row), row.ini_text)
    return render_template("campaigns/version_rollback.html", campaign=campaign, version=row,
                           rollback_of=row.number, **context)
