"""What the pages share: the request's kind, the lookups that keep every row inside the
experiment acted in, who may launch or control, and queueing work after the commit.

    access = experiment_access(experiment)
    stage = stage_in(access, stage_id)            # 404 unless it is this experiment's
    if not may_launch(access, stage.campaign): abort(403, ...)
    ... one transaction, db.session.commit() ...
    queue_launches([submission.id])               # says so when the queue is not answering
    return go(url_for(...))                       # a redirect htmx follows too
"""
from __future__ import annotations

from flask import Response, abort, current_app, flash, redirect

from app import work
from app.auth import policy
from app.auth.answers import is_htmx
from app.auth.session import Access
from app.extensions import db
from app.models import Campaign, CampaignStage, Submission

__all__ = ["campaign_in", "go", "is_htmx", "may_control", "may_launch", "queue_launches",
           "stage_in", "submission_in"]


def go(target: str):
    """Redirect, the way htmx understands it when htmx asked."""
    if is_htmx():
        return Response(status=204, headers={"HX-Redirect": target})
    return redirect(target)


# --- lookups: everything belongs to the experiment, or it is not there --------------------


def campaign_in(access: Access, campaign_id: int) -> Campaign:
    campaign = db.session.get(Campaign, campaign_id)
    if campaign is None or campaign.experiment_id != access.experiment.id:
        abort(404, "no such campaign in this experiment")
    return campaign


def stage_in(access: Access, stage_id: int) -> CampaignStage:
    stage = db.session.get(CampaignStage, stage_id)
    if stage is None or stage.campaign.experiment_id != access.experiment.id:
        abort(404, "no such stage in this experiment")
    return stage


def submission_in(access: Access, submission_id: int) -> Submission:
    submission = db.session.get(Submission, submission_id)
    if submission is None or submission.stage.campaign.experiment_id != access.experiment.id:
        abort(404, "no such submission in this experiment")
    return submission


# --- who may act ---------------------------------------------------------------------------


def may_launch(access: Access, campaign: Campaign) -> bool:
    return policy.may_launch(access.role, poms_role=campaign.poms_role,
                             is_owner=access.owns(campaign))


def may_control(access: Access, campaign: Campaign) -> bool:
    return policy.may_control_submission(access.role, poms_role=campaign.poms_role,
                                         is_owner=access.owns(campaign))


# --- after the commit ----------------------------------------------------------------------


def queue_launches(submission_ids: list[int]) -> bool:
    """Queue launches after the commit. Without Redis the rows stay New and the scheduler
    queues them once Redis is back; the person is told."""
    try:
        work.queue_launches(current_app.config, submission_ids)
    except work.QueueUnavailable:
        flash("The queue is not answering: the launch is recorded and will start when the "
              "workers are back.", "error")
        return False
    return True
