"""Completed -> Located, through the one transition table (app/states.py).

A `complete` stage's submission is Located as soon as it is Completed. A `located`
stage's when outputs with a location exist for at least completion_pct percent of its
consumed input (of its outputs, for a stage that reads no input), or once the grace
period (POMS_LOCATED_GRACE_S, two days as in the original) has passed since it was
Completed, or when an operator forces it. A stage of any other completion type (the
original stores any text) is Located only when an operator forces it, as in the original,
whose wrapup_tasks looks at `complete` and `located` only.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import distinct, func, select

from app import states
from app.catalog.outputs import project_name
from app.extensions import db
from app.launching.snapshots import launched_stage
from app.models import Experimenter, Submission, SubmissionEvent
from app.models.base import utcnow
from app.models.catalog import (
    CatalogDelivery,
    CatalogFile,
    CatalogFileParent,
    CatalogLocation,
    CatalogProject,
)

DEFAULT_GRACE_S = 2 * 24 * 3600


class NotCompleted(Exception):
    """Only a Completed submission can be Located."""


def located_grace(config) -> timedelta:
    raw = config.get("POMS_LOCATED_GRACE_S")
    if raw in (None, ""):
        raw = os.environ.get("POMS_LOCATED_GRACE_S")
    return timedelta(seconds=int(raw) if raw not in (None, "") else DEFAULT_GRACE_S)


@dataclass
class LocatedShare:
    consumed: int  # input files consumed (0 for a stage that reads none)
    located: int  # of those (or of the outputs), how many have a located output
    outputs: int  # outputs declared

    def percent(self) -> float:
        base = self.consumed or self.outputs
        return 100.0 * self.located / base if base else 0.0


def located_share(submission: Submission) -> LocatedShare:
    experiment = submission.stage.campaign.experiment.name
    mine = CatalogFile.file_metadata["poms_task_id"].as_string() == str(submission.id)
    outputs = select(CatalogFile.id).where(CatalogFile.experiment == experiment, mine)
    located_outputs = outputs.where(CatalogFile.id.in_(select(CatalogLocation.file_id)))
    n_outputs = db.session.scalar(select(func.count()).select_from(outputs.subquery())) or 0
    project = db.session.scalar(select(CatalogProject.id).where(
        CatalogProject.experiment == experiment,
        CatalogProject.name == project_name(submission.id)))
    if project is None:
        n_located = db.session.scalar(
            select(func.count()).select_from(located_outputs.subquery())) or 0
        return LocatedShare(0, n_located, n_outputs)
    consumed = select(CatalogDelivery.file_id).where(
        CatalogDelivery.project_id == project, CatalogDelivery.status == "consumed")
    n_consumed = db.session.scalar(
        select(func.count(distinct(consumed.subquery().c.file_id)))) or 0
    n_located = db.session.scalar(
        select(func.count(distinct(CatalogFileParent.parent_id))).where(
            CatalogFileParent.parent_id.in_(consumed),
            CatalogFileParent.child_id.in_(located_outputs),
        )) or 0
    return LocatedShare(n_consumed, n_located, n_outputs)


def completed_at(submission: Submission):
    return db.session.scalar(
        select(func.max(SubmissionEvent.at)).where(
            SubmissionEvent.submission_id == submission.id,
            SubmissionEvent.to_state == states.COMPLETED))


def check_located(submission: Submission, config) -> str | None:
    """Move a Completed submission to Located when its stage's rule says so; the cause
    when it moved, None otherwise. Caller commits."""
    if submission.state != states.COMPLETED:
        return None
    data = launched_stage(submission)
    kind = data.get("completion_type") or submission.stage.completion_type or "complete"
    pct = data.get("completion_pct")
    pct = submission.stage.completion_pct if pct is None else pct
    if kind == "complete":
        cause = "completion type complete: located at once"
    elif kind != "located":
        return None  # as the original's wrapup_tasks: only an operator can say Located
    else:
        share = located_share(submission)
        since = completed_at(submission) or submission.updated
        if share.percent() >= pct and (share.consumed or share.outputs):
            cause = (f"outputs located for {share.located} of "
                     f"{share.consumed or share.outputs} files ({share.percent():.0f}% >= "
                     f"{pct}%)")
        elif utcnow() - since >= located_grace(config):
            cause = (f"grace period over ({located_grace(config)} since Completed); outputs "
                     f"located for {share.located} of {share.consumed or share.outputs}")
        else:
            return None
    return cause if states.transition(submission, states.LOCATED, cause) else None


def force_located(submission: Submission, user: Experimenter) -> str:
    """An operator says the outputs are where they should be (caller commits)."""
    if submission.state != states.COMPLETED:
        raise NotCompleted(
            f"submission {submission.id} is {submission.state}: only a Completed "
            "submission can be forced to Located")
    states.transition(submission, states.LOCATED, f"located forced by {user.username}",
                      actor_id=user.id)
    return "located"
