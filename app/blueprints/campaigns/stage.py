"""A campaign's stage: its page, inline editing of its fields (and of test_split_type, which
the INI file does not carry), and the next slices its split type hands out, with a reset.
"""
from __future__ import annotations

from flask import abort, current_app, render_template, url_for
from flask_login import login_required

from app.auth.session import Access, experiment_access
from app.blueprints.campaigns.common import bp
from app.blueprints.inline import campaign_inline_edit, inline_edit
from app.blueprints.views import stage_in
from app.campaigns import editing, permissions, store
from app.campaigns.origins import stage_origins
from app.campaigns.spec import STAGE_KEYS, InvalidCampaign, Problem
from app.catalog.base import CatalogError
from app.extensions import db
from app.launching import inputs
from app.models import CampaignStage


@bp.get("/stage/<int:stage_id>")
@login_required
def stage(experiment, stage_id):
    access = experiment_access(experiment)
    stage = stage_in(access, stage_id)
    spec = store.spec_from_campaign(stage.campaign)
    origins = stage_origins(spec, stage.name)
    texts = editing.stage_fields_text(spec, stage.name, STAGE_KEYS)
    fields = [(key, texts[key], origins[key]) for key in STAGE_KEYS]
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
    return campaign_inline_edit(
        access, stage.campaign, key,
        read=lambda spec: editing.stage_field_text(spec, stage.name, key),
        apply=lambda spec, raw: editing.set_stage_field(
            spec, stage.name, key, raw, *store.shared_definitions(access.experiment)
        ),
        endpoint=url_for("campaigns.stage_field", experiment=experiment,
                         stage_id=stage_id, key=key),
        origin=lambda spec: stage_origins(spec, stage.name)[key],
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
    if not permissions.may_launch(access, stage.campaign):
        abort(403, f"acting as {access.role}, you may not reset the splits of {stage.name}")
    inputs.reset_splits(stage)
    store.audit(access.experiment, access.user, "splits reset",
                f"{stage.campaign.name} / {stage.name}", None, {"split": stage.cs_split_type})
    db.session.commit()
    return _splits_fragment(access, stage, message="The splits start again from the first.")


def _splits_fragment(access: Access, stage: CampaignStage, message: str | None = None):
    preview, error = None, None
    if (stage.cs_split_type or "").strip().lower() not in ("", "none"):
        try:
            preview = inputs.preview_slices(stage, current_app.config)
        except (CatalogError, ValueError) as err:
            error = str(err)
    return render_template(
        "campaigns/_splits.html", access=access, stage=stage, preview=preview, error=error,
        message=message, may_reset=permissions.may_launch(access, stage.campaign),
    )
