"""What saving a campaign editor's draft (app/campaigns/drafts.py) changes, said as an
upload's preview says it, and saving it: store.save_campaign with the renames, so a renamed
stage keeps its row and its submissions.
"""
from __future__ import annotations

import copy

from sqlalchemy import select

from app.campaigns import store
from app.campaigns.diff import Change, diff_campaigns
from app.campaigns.drafts import Draft
from app.campaigns.spec import CampaignSpec
from app.extensions import db
from app.models import Campaign, Experimenter, Submission


def _renamed_spec(spec: CampaignSpec, renamed: dict[str, str]) -> CampaignSpec:
    spec = copy.deepcopy(spec)
    for stage in spec.stages:
        stage.name = renamed.get(stage.name, stage.name)
    for dep in spec.dependencies:
        dep.child = renamed.get(dep.child, dep.child)
        dep.parent = renamed.get(dep.parent, dep.parent)
    spec.node_positions = {renamed.get(k, k): v for k, v in spec.node_positions.items()}
    return spec


def changes(campaign: Campaign, draft: Draft) -> list[Change]:
    """What saving the draft changes, as an upload's preview says it (a renamed stage is
    one change, and its fields are compared with what it was)."""
    old = _renamed_spec(store.spec_from_campaign(campaign), draft.renamed)
    job_types, login_setups = store.shared_definitions(campaign.experiment)
    for name in draft.spec.job_types:
        if name not in old.job_types and name in job_types:
            old.job_types[name] = job_types[name]
    for name in draft.spec.login_setups:
        if name not in old.login_setups and name in login_setups:
            old.login_setups[name] = login_setups[name]
    found = [Change("stage renamed", old_name, None, old_name, new_name)
             for old_name, new_name in draft.renamed.items()]
    return found + diff_campaigns(old, draft.spec)


def launched_removed(campaign: Campaign, draft: Draft) -> list[str]:
    """The stored stages the draft removes that have submissions: saving would be refused
    (make the campaign Inactive instead), so the editor says so at once."""
    kept = {draft.renamed.get(s.name, s.name) for s in campaign.stages} & {
        s.name for s in draft.spec.stages}
    gone = [s for s in campaign.stages if draft.renamed.get(s.name, s.name) not in kept]
    if not gone:
        return []
    launched = set(db.session.scalars(select(Submission.campaign_stage_id).distinct().where(
        Submission.campaign_stage_id.in_([s.id for s in gone]))))
    return [s.name for s in gone if s.id in launched]


def save(campaign: Campaign, draft: Draft, who: Experimenter, *, source: str = "editor",
         reason: str = "") -> Campaign:
    """Store the draft, a new version of the campaign (the caller checked the role and
    commits)."""
    return store.save_campaign(campaign.experiment, draft.spec, who, renamed=draft.renamed,
                               source=source, reason=reason)
