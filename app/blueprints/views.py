"""What the pages share: the request's kind, the lookups that keep every row inside the
experiment acted in, and queueing work after the commit. Who may launch or control is
app/campaigns/permissions.py's (the API asks it too).

    access = experiment_access(experiment)
    stage = stage_in(access, stage_id)            # 404 unless it is this experiment's
    if not permissions.may_launch(access, stage.campaign): abort(403, ...)
    ... one transaction, db.session.commit() ...
    queue_launches([submission.id])               # says so when the queue is not answering
    return go(url_for(...))                       # a redirect htmx follows too
"""
from __future__ import annotations

import functools
import hashlib

from flask import Response, abort, current_app, flash, redirect, request
from flask_wtf.csrf import generate_csrf
from sqlalchemy.orm import joinedload

from app import work
from app.auth.answers import is_htmx
from app.auth.session import Access
from app.extensions import db
from app.live import cache as live_cache
from app.live import changes as live_changes
from app.live import stream as live_stream
from app.models import Campaign, CampaignStage, Job, Submission

__all__ = ["campaign_in", "go", "is_htmx", "job_in", "queue_launches", "stage_in",
           "submission_in"]


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


# What the check reads (and every page of the thing shows) comes in the same query.
_STAGE_WITH_CAMPAIGN = joinedload(CampaignStage.campaign)
_SUBMISSION_WITH_STAGE = joinedload(Submission.stage).joinedload(CampaignStage.campaign)


def stage_in(access: Access, stage_id: int) -> CampaignStage:
    stage = db.session.get(CampaignStage, stage_id, options=[_STAGE_WITH_CAMPAIGN])
    if stage is None or stage.campaign.experiment_id != access.experiment.id:
        abort(404, "no such stage in this experiment")
    return stage


def submission_in(access: Access, submission_id: int) -> Submission:
    submission = db.session.get(Submission, submission_id, options=[_SUBMISSION_WITH_STAGE])
    if submission is None or submission.stage.campaign.experiment_id != access.experiment.id:
        abort(404, "no such submission in this experiment")
    return submission


def job_in(submission: Submission, job_id: int) -> Job:
    job = db.session.get(Job, job_id)
    if job is None or job.submission_id != submission.id:
        abort(404, "no such job in this submission")
    return job


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


def pushed_fragment(access: Access, topic: str, render, *, also: tuple = (),
                    path: str | None = None) -> str:
    """A live fragment rendered once per change of `topic` for everyone with the same view
    of it (app/live/cache.py): the same path (the request's, or `path` for a fragment that
    rides along with another), acting role, administrator or not, and `also` (what else
    decides what it shows, e.g. may_launch). Its forms' CSRF token is the one thing of one
    person it may hold: stored as a placeholder, the asker's put back."""
    hub = live_stream.hub_for(current_app.config["POMS_REDIS_URL"])
    # The database too: one process may serve several (the tests' apps share a hub).
    key = (current_app.config["SQLALCHEMY_DATABASE_URI"], path or request.full_path,
           access.role, access.is_admin, *also)
    token = generate_csrf()
    slot = _token_slot(str(current_app.config["SECRET_KEY"]))

    def shared() -> str:
        db.session.expire_all()  # what the request loaded before now is read again
        return render().replace(token, slot)

    cache = live_cache.for_hub(hub, live_changes.client(current_app.config["POMS_REDIS_URL"]))
    html = cache.rendered(access.experiment.id, topic, key, shared, cover=_cover())
    return html.replace(slot, token)


@functools.lru_cache(maxsize=8)
def _token_slot(secret: str) -> str:
    """Where the CSRF token goes in a shared render: the same in every web process (they
    share renders through Redis), in no page by chance; worked out once per secret."""
    return "csrf-slot-" + hashlib.sha256(b"poms csrf slot " + secret.encode()).hexdigest()[:32]


def _cover() -> float | None:
    """What the event this fetch answers covers (app/static/live.js sends it back)."""
    try:
        return float(request.headers.get("X-POMS-Live-Cover", ""))
    except ValueError:
        return None
