"""The campaign list's columns, counted in the database: per campaign its active
submissions, the failures that need a look (Failed or LaunchFailed in the last days, not
recovered or launched again), its last activity, and the files processed of its input.

`summary_columns` gives correlated subqueries, so the list sorts and pages on them in SQL;
`activity` names what a campaign is doing in one word, and is a filter too.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import exists, func, select
from sqlalchemy.orm import aliased

from app import states
from app.chaining.ledger import stage_ledger
from app.models import Campaign, CampaignStage, Submission
from app.models.base import utcnow

ACTIVITIES = ("running", "needs attention", "idle", "never launched")
SORTS = ("name", "activity", "active", "failures")
_LATER = aliased(Submission, name="later")  # made once: see app/overview/attention.py


def summary_columns(days: int = 7, now: datetime | None = None) -> dict:
    """Labelled scalar subqueries over Campaign: active, failures, last_activity."""
    since = (now or utcnow()) - timedelta(days=days)
    later = _LATER
    root = func.coalesce(Submission.recovery_of_id, Submission.id)
    followed = exists().where(
        later.campaign_stage_id == Submission.campaign_stage_id, later.id > Submission.id,
        (later.recovery_of_id == root) | ((Submission.state == states.LAUNCH_FAILED)
                                          & later.state.not_in((states.LAUNCH_FAILED,
                                                                states.CANCELLED, states.NEW))))
    def of_campaign(column, *where):
        return (select(column).select_from(Submission)
                .join(CampaignStage, CampaignStage.id == Submission.campaign_stage_id)
                .where(CampaignStage.campaign_id == Campaign.id, *where)
                .correlate(Campaign).scalar_subquery())

    active = of_campaign(func.count(), Submission.state.in_(states.ACTIVE)).label("active")
    failures = of_campaign(
        func.count(), Submission.state.in_((states.FAILED, states.LAUNCH_FAILED)),
        Submission.updated >= since, ~followed).label("failures")
    last = of_campaign(func.max(Submission.updated)).label("last_activity")
    return {"active": active, "failures": failures, "last_activity": last}


def activity(active: int, failures: int, last: datetime | None) -> str:
    if failures:
        return "needs attention"
    if active:
        return "running"
    return "idle" if last else "never launched"


def activity_filter(name: str, columns: dict):
    """A WHERE clause for `activity(...) == name`, or None for no filter."""
    if name == "needs attention":
        return columns["failures"] > 0
    if name == "running":
        return (columns["failures"] == 0) & (columns["active"] > 0)
    if name == "idle":
        return ((columns["failures"] == 0) & (columns["active"] == 0)
                & columns["last_activity"].is_not(None))
    if name == "never launched":
        return columns["last_activity"].is_(None)
    return None


def order_by(sort: str, columns: dict):
    if sort == "activity":
        return [columns["last_activity"].desc().nulls_last(), Campaign.name]
    if sort == "active":
        return [columns["active"].desc(), Campaign.name]
    if sort == "failures":
        return [columns["failures"].desc(), Campaign.name]
    return [Campaign.name]


@dataclass
class InputProgress:
    processed: int = 0
    input: int = 0

    @property
    def percent(self) -> int:
        return int(100 * self.processed / self.input) if self.input else 0


def input_progress(campaign: Campaign) -> InputProgress:
    """Files processed of the input of the campaign's first stages (those that read a
    dataset of their own, not another stage's outputs): the campaign's progress."""
    out = InputProgress()
    for stage in campaign.stages:
        if stage.parent_links:
            continue
        ledger = stage_ledger(stage)
        out.processed += ledger.processed
        out.input += ledger.input
    return out
