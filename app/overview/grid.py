"""A campaign's overview: one row per stage, one cell per recent submission.

Each row says the stage's latest state (the colour of its node in the graph), its last
launch and next scheduled one, whether its launches wait (the stage is held, or every
launch of the experiment is), the ledger (files processed of its input) and, while jobs
remain, an estimate of when they finish from the jobs that ended in the last hour.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, select

from app import states
from app.chaining.ledger import Ledger, stage_ledger
from app.extensions import db
from app.launching import service
from app.models import Campaign, CampaignStage, Job, StageLaunchSettings, Submission
from app.models.base import utcnow

CELLS = 12  # the newest submissions shown per stage
RATE_WINDOW = timedelta(hours=1)


@dataclass
class StageRow:
    stage: CampaignStage
    cells: list[Submission] = field(default_factory=list)  # oldest first
    latest_state: str = ""  # "" when it never launched
    active: int = 0
    failed: int = 0  # Failed or LaunchFailed among the cells
    last_launch: datetime | None = None
    next_launch: datetime | None = None
    held_why: str = ""
    ledger: Ledger | None = None
    jobs_left: int = 0
    jobs_per_hour: float = 0.0
    finish_at: datetime | None = None

    @property
    def input_percent(self) -> int:
        if not self.ledger or not self.ledger.input:
            return 0
        return int(100 * self.ledger.processed / self.ledger.input)


def estimate_finish(jobs_left: int, ended_in_window: int, now: datetime,
                    window: timedelta = RATE_WINDOW) -> tuple[float, datetime | None]:
    """(jobs per hour, when the jobs left end at that rate); None when nothing is left or
    nothing ended lately (no rate to go by)."""
    per_hour = ended_in_window * (timedelta(hours=1) / window)
    if jobs_left <= 0 or per_hour <= 0:
        return per_hour, None
    return per_hour, now + timedelta(hours=jobs_left / per_hour)


def _ended_lately(stage_ids: list[int], since: datetime) -> dict[int, int]:
    rows = db.session.execute(
        select(Submission.campaign_stage_id, func.count(Job.id))
        .join(Submission, Submission.id == Job.submission_id)
        .where(Submission.campaign_stage_id.in_(stage_ids), Job.ended_at >= since)
        .group_by(Submission.campaign_stage_id)).all()
    return dict(rows)


def _recent(stage_id: int, n: int) -> list[Submission]:
    return list(db.session.scalars(
        select(Submission).where(Submission.campaign_stage_id == stage_id)
        .order_by(Submission.id.desc()).limit(n)))


def campaign_grid(campaign: Campaign, *, cells: int = CELLS, with_ledger: bool = True,
                  now: datetime | None = None) -> list[StageRow]:
    now = now or utcnow()
    ids = [s.id for s in campaign.stages]
    if not ids:
        return []
    settings = {row.campaign_stage_id: row for row in db.session.scalars(
        select(StageLaunchSettings).where(StageLaunchSettings.campaign_stage_id.in_(ids)))}
    last = dict(db.session.execute(
        select(Submission.campaign_stage_id, func.max(Submission.created))
        .where(Submission.campaign_stage_id.in_(ids))
        .group_by(Submission.campaign_stage_id)).all())
    left = dict(db.session.execute(
        select(Submission.campaign_stage_id,
               func.sum(Submission.jobs_idle + Submission.jobs_running + Submission.jobs_held))
        .where(Submission.campaign_stage_id.in_(ids), Submission.state.in_(states.ACTIVE))
        .group_by(Submission.campaign_stage_id)).all())
    ended = _ended_lately(ids, now - RATE_WINDOW)
    rows = []
    for stage in campaign.stages:
        recent = _recent(stage.id, cells)
        row = StageRow(stage=stage, cells=list(reversed(recent)))
        row.latest_state = recent[0].state if recent else ""
        row.active = sum(1 for s in recent if s.state in states.ACTIVE)
        row.failed = sum(1 for s in recent if s.state in (states.FAILED, states.LAUNCH_FAILED))
        row.last_launch = last.get(stage.id)
        own = settings.get(stage.id)
        row.next_launch = own.schedule_next_at if own and own.schedule else None
        row.held_why = service.held_why(stage)
        row.ledger = stage_ledger(stage) if with_ledger and recent else None
        row.jobs_left = int(left.get(stage.id) or 0)
        row.jobs_per_hour, row.finish_at = estimate_finish(row.jobs_left,
                                                           ended.get(stage.id, 0), now)
        rows.append(row)
    return rows
