"""One campaign: its page and graph, export as INI, clone, delete, and inline editing of its
own fields (state, tags).
"""
from __future__ import annotations

import re

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_login import login_required

from app.auth import policy
from app.auth.session import Access, experiment_access
from app.blueprints.campaigns.common import bp
from app.blueprints.inline import campaign_inline_edit
from app.blueprints.views import campaign_in, go
from app.campaigns import editing, permissions, store
from app.campaigns.graph import Edge, GraphError, Node, campaign_svg
from app.campaigns.ini import export_ini
from app.extensions import db
from app.models import Campaign


def _require_edit(access: Access, campaign: Campaign) -> None:
    try:
        permissions.require_edit(access, campaign)
    except permissions.Refused as err:
        abort(403, str(err))


@bp.get("/campaign/<int:campaign_id>")
@login_required
def show(experiment, campaign_id):
    access = experiment_access(experiment)
    campaign = campaign_in(access, campaign_id)
    nodes = [
        Node(
            name=s.name,
            url=url_for("campaigns.stage", experiment=experiment, stage_id=s.id),
            label=s.job_type.name,
        )
        for s in campaign.stages
    ]
    edges = [
        Edge(parent=link.parent.name, child=s.name, label=link.file_pattern)
        for s in campaign.stages
        for link in s.parent_links
    ]
    try:
        graph, graph_error = campaign_svg(nodes, edges), None
    except GraphError as err:
        graph, graph_error = None, str(err)
    return render_template(
        "campaigns/show.html", access=access, campaign=campaign, graph=graph,
        graph_error=graph_error, may_edit=permissions.may_edit(access, campaign),
        launched=store.has_launched(campaign),
    )


@bp.get("/campaign/<int:campaign_id>/export")
@login_required
def export(experiment, campaign_id):
    access = experiment_access(experiment)
    campaign = campaign_in(access, campaign_id)
    text = export_ini(store.spec_from_campaign(campaign))
    filename = re.sub(r"[^A-Za-z0-9_.-]+", "_", campaign.name) + ".ini"
    return Response(
        text,
        mimetype="text/plain",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@bp.post("/campaign/<int:campaign_id>/clone")
@login_required
def clone(experiment, campaign_id):
    access = experiment_access(experiment)
    campaign = campaign_in(access, campaign_id)
    if not policy.may_create_campaign(access.role, campaign.poms_role):
        abort(403, f"acting as {access.role}, you may not create {campaign.poms_role} campaigns")
    new_name = request.form.get("new_name", "").strip()
    try:
        if not new_name:
            raise ValueError("give the copy a name")
        copy = store.clone_campaign(campaign, new_name, access.user)
        db.session.commit()
    except ValueError as err:
        db.session.rollback()
        flash(f"Not cloned: {err}.", "error")
        return redirect(url_for("campaigns.show", experiment=experiment, campaign_id=campaign.id))
    flash(f"Cloned {campaign.name} as {copy.name}.", "ok")
    return redirect(url_for("campaigns.show", experiment=experiment, campaign_id=copy.id))


@bp.post("/campaign/<int:campaign_id>/delete")
@login_required
def delete(experiment, campaign_id):
    access = experiment_access(experiment)
    campaign = campaign_in(access, campaign_id)
    _require_edit(access, campaign)
    name = campaign.name
    try:
        store.delete_campaign(campaign, access.user)
        db.session.commit()
    except store.CampaignInUse as err:
        db.session.rollback()
        flash(f"Not deleted: {err}.", "error")
        return go(url_for("campaigns.show", experiment=experiment, campaign_id=campaign_id))
    flash(f"Deleted campaign {name}.", "ok")
    return go(url_for("campaigns.index", experiment=experiment))


@bp.route("/campaign/<int:campaign_id>/field/<key>", methods=["GET", "POST"])
@login_required
def campaign_field(experiment, campaign_id, key):
    """Inline editing of the campaign's own fields (state, tags)."""
    access = experiment_access(experiment)
    campaign = campaign_in(access, campaign_id)
    if key not in editing.CAMPAIGN_FIELDS:
        abort(404, f"campaigns have no editable field {key!r}")
    return campaign_inline_edit(
        access, campaign, key,
        read=lambda spec: editing.campaign_field_text(spec, key),
        apply=lambda spec, raw: editing.set_campaign_field(spec, key, raw),
        endpoint=url_for("campaigns.campaign_field", experiment=experiment,
                         campaign_id=campaign_id, key=key),
    )
