"""The experiment-wide switch that holds every launch (the original's set_job_launches),
for downtimes.

While it is on, every launch (a button, the API, the command line, a schedule, a recovery,
a dependent stage) is still written as a New submission, and waits, as under a held stage:
none is lost. Turning it off queues the ones that waited (those of stages not held on their
own). Only production and superuser may turn it on or off; each change is audited.
"""
from __future__ import annotations

from sqlalchemy import select

from app import states
from app.audit import audit
from app.auth import policy
from app.extensions import db
from app.models import (
    CampaignStage,
    Experiment,
    Experimenter,
    ExperimentLaunchHold,
    StageLaunchSettings,
    Submission,
)
from app.models.base import utcnow
from app.watching import events


class HoldRefused(Exception):
    """The person may not turn the switch; says why."""


def may_switch(role: str | None) -> bool:
    return policy.at_least(role, "production")


def hold_of(experiment_id: int) -> ExperimentLaunchHold | None:
    """The switch's row when it is on, else None."""
    row = db.session.get(ExperimentLaunchHold, experiment_id)
    return row if row is not None and row.held else None


def held(experiment_id: int) -> bool:
    return hold_of(experiment_id) is not None


def describe(row: ExperimentLaunchHold) -> str:
    who = row.held_by.username if row.held_by else "?"
    when = f" since {row.held_at:%Y-%m-%d %H:%M} UTC" if row.held_at else ""
    return f"held by {who}{when}" + (f": {row.reason}" if row.reason else "")


def hold_all(experiment: Experiment, user: Experimenter, role: str, reason: str = ""
             ) -> ExperimentLaunchHold:
    """Turn the switch on (in the caller's transaction). Asking again keeps the first hold."""
    if not may_switch(role):
        raise HoldRefused(f"acting as {role}, you may not hold the launches of "
                          f"{experiment.name}: production or superuser may")
    row = db.session.get(ExperimentLaunchHold, experiment.id)
    if row is None:
        row = ExperimentLaunchHold(experiment_id=experiment.id, held=False, reason="")
        db.session.add(row)
    if row.held:
        return row
    row.held, row.held_by_id, row.held_at = True, user.id, utcnow()
    row.reason = reason.strip()[:500]
    db.session.flush()
    audit(experiment, user, "launches held", f"experiment {experiment.name}",
          {"held": False}, {"held": True, "reason": row.reason})
    events.launches_held(experiment.id, held=True, who=user.username, why=row.reason)
    return row


def release_all(experiment: Experiment, user: Experimenter, role: str) -> list[int]:
    """Turn the switch off; the ids of the launches that waited, to queue after the commit
    (not those of stages held on their own: they wait for their stage)."""
    if not may_switch(role):
        raise HoldRefused(f"acting as {role}, you may not release the launches of "
                          f"{experiment.name}: production or superuser may")
    row = db.session.get(ExperimentLaunchHold, experiment.id)
    if row is None or not row.held:
        return []
    before = {"held": True, "held_by": row.held_by.username if row.held_by else None,
              "reason": row.reason}
    row.held, row.held_by_id, row.held_at, row.reason = False, None, None, ""
    waiting = waiting_in(experiment.id)
    audit(experiment, user, "launches released", f"experiment {experiment.name}", before,
          {"held": False, "queued": waiting})
    events.launches_held(experiment.id, held=False, who=user.username)
    return waiting


def waiting_in(experiment_id: int) -> list[int]:
    """The experiment's launches that wait for nothing but the switch, oldest first."""
    stage_held = select(StageLaunchSettings.campaign_stage_id).where(StageLaunchSettings.held)
    return list(db.session.scalars(
        select(Submission.id).join(CampaignStage, CampaignStage.id == Submission.campaign_stage_id)
        .where(Submission.experiment_id == experiment_id, Submission.state == states.NEW,
               Submission.launch_claimed_at.is_(None),
               Submission.campaign_stage_id.not_in(stage_held))
        .order_by(Submission.id)))


def held_experiments():
    """A subquery of the experiments whose launches are held (for the scheduler)."""
    return select(ExperimentLaunchHold.experiment_id).where(ExperimentLaunchHold.held)
