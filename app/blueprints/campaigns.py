"""Campaign pages: the list, upload, the campaign and its graph, stages, clone, export, delete."""
from __future__ import annotations

import re

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import login_required
from sqlalchemy import func, select

from app.auth import policy
from app.auth.session import Access, experiment_access
from app.blueprints.inline import inline_edit
from app.blueprints.views import campaign_in, go, is_htmx, stage_in
from app.campaigns import editing, permissions, store
from app.campaigns.graph import Edge, GraphError, Node, campaign_svg
from app.campaigns.ini import export_ini
from app.campaigns.spec import STAGE_KEYS, InvalidCampaign, Problem
from app.catalog.base import CatalogError
from app.extensions import db
from app.ids import page_number
from app.launching import inputs
from app.models import Campaign, CampaignStage, CampaignTag

bp = Blueprint("campaigns", __name__, url_prefix="/e/<experiment>")






def _require_edit(access: Access, campaign: Campaign) -> None:
    try:
        permissions.require_edit(access, campaign)
    except permissions.Refused as err:
        abort(403, str(err))


# --- the list --------------------------------------------------------------------------


@bp.get("/campaigns")
@login_required
def index(experiment):
    access = experiment_access(experiment)
    q = request.args.get("q", "").strip()
    tag = request.args.get("tag", "").strip()
    state = request.args.get("state", "Active")
    page = page_number(request.args.get("page"))
    query = select(Campaign).where(Campaign.experiment_id == access.experiment.id)
    if q:
        query = query.where(Campaign.name.icontains(q, autoescape=True))
    if tag:
        query = query.where(
            Campaign.id.in_(select(CampaignTag.campaign_id).where(CampaignTag.tag == tag))
        )
    if state in ("Active", "Inactive"):
        query = query.where(Campaign.state == state)
    size = current_app.config["POMS_PAGE_SIZE"]
    total = db.session.scalar(select(func.count()).select_from(query.subquery()))
    campaigns = db.session.scalars(
        query.order_by(Campaign.name).limit(size).offset((page - 1) * size)
    ).all()
    pages = max(1, -(-total // size))
    context = dict(
        access=access, campaigns=campaigns, q=q, tag=tag, state=state, page=page,
        pages=pages, total=total,
    )
    if is_htmx() and request.headers.get("HX-Target") == "campaign-table":
        return render_template("campaigns/_table.html", **context)
    return render_template("campaigns/list.html", **context)


# --- upload ----------------------------------------------------------------------------


def _read_upload() -> tuple[str, str]:
    """(filename, text) from the file field, or from the text carried by the preview."""
    upload = request.files.get("ini_file")
    if upload is not None and upload.filename:
        raw = upload.read()
        filename = upload.filename
    else:
        raw = request.form.get("ini_text", "").encode()
        filename = request.form.get("filename", "") or "<upload>"
    try:
        return filename, raw.decode("utf-8")
    except UnicodeDecodeError as err:
        raise InvalidCampaign(
            [Problem(filename, None, None, f"is not UTF-8 text (byte {err.start})")]
        ) from None


@bp.get("/campaigns/upload")
@login_required
def upload_form(experiment):
    access = experiment_access(experiment)
    return render_template("campaigns/upload.html", access=access)


@bp.post("/campaigns/upload/preview")
@login_required
def upload_preview(experiment):
    access = experiment_access(experiment)
    context = dict(access=access, spec=None, problems=[], warnings=[], changes=[], existing=None)
    filename, text = "<upload>", ""
    try:
        filename, text = _read_upload()
        if not text.strip():
            raise InvalidCampaign([Problem(filename, None, None, "is empty: pick an .ini file")])
        spec, warnings = store.read_ini(access.experiment, text, filename,
                                        current_app.config["POMS_MAX_STAGES"])
        permissions.check_experiment(spec, filename, access)
        existing, changes = store.upload_plan(access.experiment, spec)
        context.update(spec=spec, warnings=warnings, changes=changes, existing=existing)
        permissions.authorise_upload(access, spec, existing)
    except permissions.Refused as err:
        context.update(refused=str(err))
    except InvalidCampaign as err:
        context.update(problems=err.problems, warnings=err.warnings)
    context.update(filename=filename, ini_text=text)
    template = "campaigns/_preview.html" if is_htmx() else "campaigns/upload.html"
    return render_template(template, **context)


@bp.post("/campaigns/upload")
@login_required
def upload(experiment):
    access = experiment_access(experiment)
    try:
        filename, text = _read_upload()
        spec, _warnings = store.read_ini(access.experiment, text, filename,
                                         current_app.config["POMS_MAX_STAGES"])
        permissions.check_experiment(spec, filename, access)
    except InvalidCampaign as err:
        return render_template(
            "campaigns/upload.html", access=access, problems=err.problems,
            warnings=err.warnings, spec=None, changes=[], existing=None,
        ), 422
    existing = store.find_campaign(access.experiment, spec.name)
    try:
        permissions.authorise_upload(access, spec, existing)
    except permissions.Refused as err:
        abort(403, str(err))
    try:
        campaign = store.save_campaign(access.experiment, spec, access.user)
        db.session.commit()
    except InvalidCampaign as err:  # the experiment changed since the file was read
        db.session.rollback()
        return render_template(
            "campaigns/upload.html", access=access, problems=err.problems,
            warnings=err.warnings, spec=None, changes=[], existing=None,
        ), 422
    except store.CampaignInUse as err:
        db.session.rollback()
        problem = Problem(filename, None, None, str(err))
        return render_template(
            "campaigns/upload.html", access=access, problems=[problem], warnings=[],
            spec=None, changes=[], existing=None,
        ), 409
    flash(f"Campaign {campaign.name} {'updated' if existing else 'uploaded'}.", "ok")
    return go(url_for("campaigns.show", experiment=experiment, campaign_id=campaign.id))


# --- one campaign ----------------------------------------------------------------------


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
    return _inline_edit(
        access, campaign, key,
        read=lambda spec: editing.campaign_field_text(spec, key),
        apply=lambda spec, raw: editing.set_campaign_field(spec, key, raw),
        endpoint=url_for("campaigns.campaign_field", experiment=experiment,
                         campaign_id=campaign_id, key=key),
    )


# --- stages ----------------------------------------------------------------------------


@bp.get("/stage/<int:stage_id>")
@login_required
def stage(experiment, stage_id):
    access = experiment_access(experiment)
    stage = stage_in(access, stage_id)
    spec = store.spec_from_campaign(stage.campaign)
    fields = [(key, editing.stage_field_text(spec, stage.name, key)) for key in STAGE_KEYS]
    return render_template(
        "campaigns/stage.html", access=access, stage=stage, campaign=stage.campaign,
        fields=fields, may_edit=permissions.may_edit(access, stage.campaign),
    )


@bp.route("/stage/<int:stage_id>/field/<key>", methods=["GET", "POST"])
@login_required
def stage_field(experiment, stage_id, key):
    access = experiment_access(experiment)
    stage = stage_in(access, stage_id)
    if key not in STAGE_KEYS:
        abort(404, f"stages have no field {key!r}")
    return _inline_edit(
        access, stage.campaign, key,
        read=lambda spec: editing.stage_field_text(spec, stage.name, key),
        apply=lambda spec, raw: editing.set_stage_field(
            spec, stage.name, key, raw, *store.shared_definitions(access.experiment)
        ),
        endpoint=url_for("campaigns.stage_field", experiment=experiment,
                         stage_id=stage_id, key=key),
    )


@bp.route("/stage/<int:stage_id>/test_split_type", methods=["GET", "POST"])
@login_required
def stage_test_split_type(experiment, stage_id):
    """What the stage's test launches split by: a stage field the INI file does not carry."""
    access = experiment_access(experiment)
    stage = stage_in(access, stage_id)

    def save(raw: str) -> None:
        try:
            inputs.set_test_split_type(stage, raw, access.user)
        except ValueError as err:
            raise InvalidCampaign([Problem("stage page", f"campaign_stage {stage.name}",
                                           "test_split_type", str(err))]) from None

    return inline_edit(
        "test_split_type", read=lambda: stage.test_split_type, save=save,
        endpoint=url_for("campaigns.stage_test_split_type", experiment=experiment,
                         stage_id=stage_id),
        may_edit=permissions.may_edit(access, stage.campaign),
        refusal=f"acting as {access.role}, you may not change campaign {stage.campaign.name}",
    )


@bp.get("/stage/<int:stage_id>/splits")
@login_required
def stage_splits(experiment, stage_id):
    """The next slices the stage's split type will launch, and a reset."""
    access = experiment_access(experiment)
    stage = stage_in(access, stage_id)
    return _splits_fragment(access, stage)


@bp.post("/stage/<int:stage_id>/splits/reset")
@login_required
def reset_stage_splits(experiment, stage_id):
    access = experiment_access(experiment)
    stage = stage_in(access, stage_id)
    if not _may_launch(access, stage.campaign):
        abort(403, f"acting as {access.role}, you may not reset the splits of {stage.name}")
    inputs.reset_splits(stage)
    store.audit(access.experiment, access.user, "splits reset",
                f"{stage.campaign.name} / {stage.name}", None, {"split": stage.cs_split_type})
    db.session.commit()
    return _splits_fragment(access, stage, message="The splits start again from the first.")


def _may_launch(access: Access, campaign: Campaign) -> bool:
    return policy.may_launch(access.role, poms_role=campaign.poms_role,
                             is_owner=access.owns(campaign))


def _splits_fragment(access: Access, stage: CampaignStage, message: str | None = None):
    preview, error = None, None
    if (stage.cs_split_type or "").strip().lower() not in ("", "none"):
        try:
            preview = inputs.preview_slices(stage, current_app.config)
        except (CatalogError, ValueError) as err:
            error = str(err)
    return render_template(
        "campaigns/_splits.html", access=access, stage=stage, preview=preview, error=error,
        message=message, may_reset=_may_launch(access, stage.campaign),
    )


def _inline_edit(access, campaign, key, *, read, apply, endpoint):
    def save(raw: str) -> None:
        new_spec = apply(store.spec_from_campaign(campaign), raw)
        store.save_campaign(access.experiment, new_spec, access.user)

    return inline_edit(
        key,
        read=lambda: read(store.spec_from_campaign(campaign)),
        save=save,
        endpoint=endpoint,
        may_edit=permissions.may_edit(access, campaign),
        refusal=f"acting as {access.role}, you may not change campaign {campaign.name}",
    )
