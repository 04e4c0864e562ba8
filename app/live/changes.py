"""What a commit changed, published to the live pages after the commit.

The session tells us: a flush that changes a submission's shown columns (its counters,
state, errors), adds a history row or a job, or changes a stage or a campaign, notes the
topics; `after_commit` publishes them on the experiment's Redis channel
(`poms:live:<experiment id>`), `after_rollback` forgets them. So a page is told only what
committed, and the places that change state (tracking, launching, chaining, the pages)
need no call of their own. Code that writes through raw SQL calls `note` itself.

Publishing never fails the commit: Redis not answering is logged once a minute and the
pages, whose stream ends with it, poll until it is back (app/static/live.js).
"""
from __future__ import annotations

import logging
import time
from collections import defaultdict

from flask import current_app, has_app_context
from redis import Redis
from sqlalchemy import event, inspect, select
from sqlalchemy.orm import Session

from app.models import (
    Campaign,
    CampaignStage,
    ExperimentLaunchHold,
    Job,
    StageLaunchSettings,
    Submission,
    SubmissionEvent,
    UploadedFile,
)
from app.models.chaining import ChainStep
from app.models.ucondb import FclUpload
from app.models.watching import StageBreaker

log = logging.getLogger(__name__)

CHANNEL = "poms:live:"  # + experiment id
_KEY = "poms_live"  # in session.info: the (kind, id) pairs this transaction changed

# Columns that change without anything a page shows changing (tracking stamps every pass).
_QUIET = frozenset({"tracked_at", "updated", "launch_claimed_at", "launch_claimed_by"})

_clients: dict[str, Redis] = {}
_last_complaint = 0.0
# Called with (redis url, topics) as each commit publishes: this process's own hub counts
# its changes at once (app/live/stream.py), so a page asking right after a person's action
# never gets a fragment rendered before it.
_local_listeners: list = []


def on_publish(callback) -> None:
    _local_listeners.append(callback)


def note(session: Session, kind: str, row_id: int) -> None:
    """Say that a `submission`, `stage`, `campaign` or `experiment` changed in this transaction (for
    writes the session does not see: raw SQL)."""
    session.info.setdefault(_KEY, set()).add((kind, row_id))


def _shown_change(obj) -> bool:
    state = inspect(obj)
    return any(attr.history.has_changes() for attr in state.attrs if attr.key not in _QUIET)


@event.listens_for(Session, "after_flush")
def _collect(session: Session, _flush_context) -> None:
    changed = session.info.setdefault(_KEY, set())
    for obj in session.new:
        _note_object(changed, obj, new=True)
    for obj in session.dirty:
        _note_object(changed, obj, new=False)
    for obj in session.deleted:
        _note_object(changed, obj, new=True)
    if changed:
        _resolve(session, changed)


def _note_object(changed: set, obj, new: bool) -> None:
    if isinstance(obj, Submission):
        if new or _shown_change(obj):
            changed.add(("submission", obj.id))
    elif isinstance(obj, SubmissionEvent):
        changed.add(("submission", obj.submission_id))
        changed.add(("submission-state", obj.submission_id))
    elif isinstance(obj, Job):
        if obj.submission_id is not None and (new or _shown_change(obj)):
            changed.add(("submission", obj.submission_id))
    elif isinstance(obj, CampaignStage):
        if obj.id is not None and (new or _shown_change(obj)):
            changed.add(("stage", obj.id))
    elif isinstance(obj, Campaign):
        if obj.id is not None and (new or _shown_change(obj)):
            changed.add(("campaign", obj.id))
    # What else the dashboard's needs attention and the campaign overview show (app/live/
    # cache.py keeps their renders until a topic they follow says they changed).
    elif isinstance(obj, (StageLaunchSettings, StageBreaker)):
        changed.add(("stage", obj.campaign_stage_id))
    elif isinstance(obj, ChainStep):  # the parent's recovery panel and relatives
        changed.add(("submission-state", obj.parent_submission_id))
    elif isinstance(obj, FclUpload):
        changed.add(("submission", obj.submission_id))
    elif isinstance(obj, (ExperimentLaunchHold, UploadedFile)):
        changed.add(("experiment", obj.experiment_id))


def _resolve(session: Session, changed: set) -> None:
    """Turn the noted rows into topics per experiment, while the transaction can read.

    The places are read each time, never kept between transactions: SQLite gives a deleted
    campaign's stage ids to the next campaign made, maybe another experiment's."""
    topics = session.info.setdefault("poms_live_topics", defaultdict(set))
    submissions = {i for kind, i in changed if kind in ("submission", "submission-state")}
    stages = {i for kind, i in changed if kind == "stage"}
    campaigns = {i for kind, i in changed if kind == "campaign"}
    submission_places = {}
    if submissions:
        submission_places = {
            row.id: (row.campaign_stage_id, row.campaign_id, row.experiment_id)
            for row in session.execute(
                select(Submission.id, Submission.campaign_stage_id, CampaignStage.campaign_id,
                       Campaign.experiment_id)
                .join(CampaignStage, CampaignStage.id == Submission.campaign_stage_id)
                .join(Campaign, Campaign.id == CampaignStage.campaign_id)
                .where(Submission.id.in_(submissions)))}
    stage_places = {}
    if stages:
        stage_places = {
            row.id: (row.campaign_id, row.experiment_id)
            for row in session.execute(
                select(CampaignStage.id, CampaignStage.campaign_id, Campaign.experiment_id)
                .join(Campaign, Campaign.id == CampaignStage.campaign_id)
                .where(CampaignStage.id.in_(stages)))}
    campaign_experiment = {}
    if campaigns:
        campaign_experiment = dict(session.execute(
            select(Campaign.id, Campaign.experiment_id).where(Campaign.id.in_(campaigns))).all())
    for kind, row_id in changed:
        if kind in ("submission", "submission-state"):
            place = submission_places.get(row_id)
            if place is None:
                continue
            stage_id, campaign_id, experiment_id = place
            names = {"experiment", f"campaign-{campaign_id}", f"stage-{stage_id}",
                     f"submission-{row_id}"}
            if kind == "submission-state":
                names.add(f"submission-{row_id}-state")
        elif kind == "stage":
            place = stage_places.get(row_id)
            if place is None:
                continue
            campaign_id, experiment_id = place
            names = {"experiment", f"campaign-{campaign_id}", f"stage-{row_id}"}
        elif kind == "experiment":
            experiment_id, names = row_id, {"experiment"}
        else:
            experiment_id = campaign_experiment.get(row_id)
            if experiment_id is None:
                continue
            names = {"experiment", f"campaign-{row_id}"}
        topics[experiment_id] |= names
    changed.clear()


@event.listens_for(Session, "before_commit")
def _resolve_notes(session: Session) -> None:
    # What `note` said with nothing left to flush (a raw UPDATE): no after_flush follows.
    changed = session.info.get(_KEY)
    if changed:
        _resolve(session, changed)


@event.listens_for(Session, "after_commit")
def _publish_after_commit(session: Session) -> None:
    session.info.pop(_KEY, None)
    topics = session.info.pop("poms_live_topics", None)
    if not topics:
        return
    url = _redis_url()
    if url:
        publish(url, topics)


@event.listens_for(Session, "after_rollback")
def _forget(session: Session) -> None:
    session.info.pop(_KEY, None)
    session.info.pop("poms_live_topics", None)


def _redis_url() -> str | None:
    # The session events fire in whichever app is current (web, worker, command): the
    # Redis to tell is that app's.
    if not has_app_context() or not current_app.config.get("POMS_LIVE_PUSH", True):
        return None
    return current_app.config.get("POMS_REDIS_URL")


def client(url: str) -> Redis:
    """One connection pool per Redis URL, with short timeouts: a commit never waits on it."""
    redis = _clients.get(url)
    if redis is None:
        redis = _clients[url] = Redis.from_url(url, socket_timeout=0.5,
                                               socket_connect_timeout=0.5)
    return redis


def publish(url: str, topics: dict[int, set[str]]) -> None:
    """Tell each experiment's open pages which topics changed (one round trip)."""
    global _last_complaint
    for callback in _local_listeners:
        callback(url, topics)
    try:
        pipe = client(url).pipeline(transaction=False)
        for experiment_id, names in topics.items():
            pipe.publish(f"{CHANNEL}{experiment_id}", " ".join(sorted(names)))
        pipe.execute()
    # Whatever answers at that address (something not Redis made redis-py raise an
    # AttributeError once), the commit it follows has happened and must stand.
    except Exception as err:  # noqa: BLE001
        if time.monotonic() - _last_complaint > 60:
            _last_complaint = time.monotonic()
            log.warning("live pages not told of a change (Redis at %s: %s); they catch up "
                        "when it answers again", url, err)
