"""The campaign, stage and submission a URL names, found inside the experiment acted in
(404 otherwise); and the path parameters' examples the OpenAPI document shows.
"""
from __future__ import annotations

from app.api.core import ApiError
from app.auth.session import Access
from app.campaigns import store
from app.extensions import db
from app.models import Campaign, CampaignStage, Submission

EXAMPLES = {"experiment": "mu2e", "campaign": "srsoleti_tutorial", "stage": "reco_fcl"}
SUBMISSION_EXAMPLES = {**EXAMPLES, "submission_id": 1, "job_id": 1}


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


def find_submission(acc: Access, submission_id: int) -> Submission:
    s = db.session.get(Submission, submission_id)
    if s is None or s.stage.campaign.experiment_id != acc.experiment.id:
        raise ApiError(404, f"no submission {submission_id} in {acc.experiment.name}",
                       "submission_id")
    return s
