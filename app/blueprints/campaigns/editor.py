"""The campaign editor: a campaign's stages and dependencies drawn, changed and previewed
before they are saved.

The draft is a list of operations (app/campaigns/drafts.py) the page carries in a hidden
field: each form adds one, the server applies them all through the importer and draws the
result with the upload's change preview; Save stores it in one transaction. Nothing is
stored before Save, so leaving the page leaves the campaign as it was.
"""
from __future__ import annotations

import json
import re

from flask import abort, current_app, flash, render_template, request, url_for
from flask_login import login_required

from app.auth.session import Access, experiment_access
from app.blueprints.campaigns.common import bp
from app.blueprints.views import campaign_in, go, is_htmx
from app.campaigns import draft_plan, drafts, editing, layout, permissions, store
from app.campaigns.spec import COMPLETION_TYPES, CampaignSpec, InvalidCampaign, Problem
from app.catalog.splits import SPLIT_TYPE_NAMES
from app.extensions import db
from app.launching import impact
from app.models import Campaign

# The stage fields the editor offers (the others are on the stage page).
FORM_KEYS = ("job_type", "login_setup", "completion_type", "completion_pct",
             "dataset_or_split_data", "cs_split_type")
_SPLIT = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*(?:\((.*)\))?\s*$", re.S)


def _editable(experiment: str, campaign_id: int) -> tuple[Access, Campaign]:
    access = experiment_access(experiment)
    campaign = campaign_in(access, campaign_id)
    try:
        permissions.require_edit(access, campaign)
    except permissions.Refused as err:
        abort(403, str(err))
    return access, campaign


def split_parts(text: str) -> tuple[str, str]:
    """("nfiles", "5") from "nfiles(5)"; ("", "") for none."""
    found = _SPLIT.match(text or "")
    if not found or found.group(1).lower() == "none":
        return "", ""
    return found.group(1), found.group(2) or ""


def _form_fields(form) -> dict[str, str]:
    fields = {key: form.get(key, "").strip() for key in FORM_KEYS if key != "cs_split_type"}
    name, args = form.get("split_name", "").strip(), form.get("split_args", "").strip()
    fields["cs_split_type"] = f"{name}({args})" if name and args else name
    return fields


def _operation(spec: CampaignSpec, form) -> dict | None:
    """The operation the submitted form asks for (None: only show the draft)."""
    kind = form.get("op", "")
    if kind == "add_stage":
        fields = {k: v for k, v in _form_fields(form).items() if v}
        return {"op": kind, "name": form.get("name", ""), "fields": fields}
    if kind == "set_fields":
        stage = form.get("stage", "")
        if spec.stage(stage) is None:
            return {"op": kind, "stage": stage, "fields": {}}
        typed = _form_fields(form)
        now = editing.stage_fields_text(spec, stage, typed)
        fields = {k: v for k, v in typed.items() if v != now[k]}
        return {"op": kind, "stage": stage, "fields": fields}
    if kind == "rename_stage":
        return {"op": kind, "stage": form.get("stage", ""), "name": form.get("name", "")}
    if kind == "remove_stage":
        return {"op": kind, "stage": form.get("stage", "")}
    if kind in ("add_dependency", "remove_dependency"):
        return {"op": kind, "child": form.get("child", ""), "parent": form.get("parent", ""),
                "file_pattern": form.get("file_pattern", "")}
    if kind == "place":
        # Every box where it is drawn, so that placing one keeps the others in place.
        try:
            positions = json.loads(form.get("positions", ""))
        except ValueError:
            positions = None
        return {"op": kind, "positions": positions, "stage": form.get("stage", "")}
    return None


def _operations(form) -> list:
    try:
        operations = json.loads(form.get("operations") or "[]")
    except ValueError:
        operations = None
    if not isinstance(operations, list):
        abort(400, "the editor's draft is not a list of operations: reload the editor")
    if form.get("op") == "undo" and operations:
        operations.pop()
    return operations


def _render(access: Access, campaign: Campaign, operations: list, *, problems=(),
            focus: str | None = None, open_stage: str | None = None, status: int = 200):
    """The editor as the draft makes the campaign; the draft is known to apply."""
    draft = drafts.apply_operations(access.experiment, store.spec_from_campaign(campaign),
                                    operations)
    spec = draft.spec
    placed = layout.place_stages(spec)
    by_name = {p.name: p for p in placed}
    edges = [(d, layout.arrow(by_name[d.parent], by_name[d.child]))
             for d in spec.dependencies if d.parent != d.child]
    job_types, login_setups = store.shared_definitions(access.experiment)
    changes = draft_plan.changes(campaign, draft)
    # What saving does to the launches, once there is something to save.
    found = impact.impact(campaign, lambda: draft_plan.save(campaign, draft, access.user),
                          access.user, current_app.config, changes) if changes else None
    stages = [(s, editing.stage_fields_text(spec, s.name, FORM_KEYS)) for s in spec.stages]
    html = render_template(
        "campaigns/_editor.html", access=access, campaign=campaign, spec=spec,
        operations=json.dumps(operations), placed=placed, edges=edges,
        view_box=layout.view_box(placed), node=(layout.NODE_WIDTH, layout.NODE_HEIGHT),
        stages=stages, split_parts=split_parts, changes=changes, impact=found,
        problems=problems, focus=focus, open_stage=open_stage,
        job_types=sorted(job_types), login_setups=sorted(login_setups),
        completion_types=COMPLETION_TYPES, split_types=SPLIT_TYPE_NAMES,
    )
    if is_htmx():
        return html, 200  # htmx swaps only a 2xx answer
    return render_template("campaigns/editor.html", access=access, campaign=campaign,
                           fragment=html), status


@bp.get("/campaign/<int:campaign_id>/editor")
@login_required
def editor(experiment, campaign_id):
    access, campaign = _editable(experiment, campaign_id)
    return _render(access, campaign, [])


@bp.post("/campaign/<int:campaign_id>/editor")
@login_required
def editor_change(experiment, campaign_id):
    """One more change to the draft (or one fewer, op=undo): the editor drawn again with
    the preview, or with the importer's reason and the draft as it was."""
    access, campaign = _editable(experiment, campaign_id)
    operations = _operations(request.form)
    try:
        base = drafts.apply_operations(access.experiment, store.spec_from_campaign(campaign),
                                       operations).spec
    except InvalidCampaign as err:  # the campaign changed since the editor was opened
        return _render(access, campaign, [], problems=err.problems, focus="problems",
                       status=409)
    op = _operation(base, request.form)
    if op is None:
        return _render(access, campaign, operations)
    try:
        draft = drafts.apply_operations(access.experiment, store.spec_from_campaign(campaign),
                                        operations + [op])
        launched = draft_plan.launched_removed(campaign, draft)
        if launched:
            raise InvalidCampaign([Problem(
                f"change {len(operations) + 1} ({op['op']})", None, None,
                f"stage {', '.join(launched)} has submissions and cannot be removed; make "
                "the campaign Inactive instead")])
    except InvalidCampaign as err:
        return _render(access, campaign, operations, problems=err.problems, focus="problems",
                       open_stage=op.get("stage"), status=422)
    opened = op.get("name") if op["op"] in ("add_stage", "rename_stage") else op.get("stage")
    if op["op"] == "remove_stage":
        opened = None
    return _render(access, campaign, operations + [op], focus=request.form.get("focus"),
                   open_stage=opened)


@bp.post("/campaign/<int:campaign_id>/editor/save")
@login_required
def editor_save(experiment, campaign_id):
    access, campaign = _editable(experiment, campaign_id)
    operations = _operations(request.form)
    try:
        draft = drafts.apply_operations(access.experiment, store.spec_from_campaign(campaign),
                                        operations)
        draft_plan.save(campaign, draft, access.user, reason=request.form.get("reason", ""))
        db.session.commit()
    except (InvalidCampaign, store.CampaignInUse) as err:
        db.session.rollback()
        problems = err.problems if isinstance(err, InvalidCampaign) else [str(err)]
        # The draft may no longer apply (the campaign changed meanwhile): start again.
        try:
            return _render(access, campaign, operations, problems=problems, focus="problems",
                           status=409)
        except InvalidCampaign:
            return _render(access, campaign, [], problems=problems, focus="problems",
                           status=409)
    flash(f"Saved the changes to campaign {campaign.name}.", "ok")
    return go(url_for("campaigns.show", experiment=experiment, campaign_id=campaign.id))
