"""When a stage's circuit breaker trips: per job type, else the experiment's default, else
the built-in one. Editable like the memory policy (by who may change the job type; the
experiment default by production and superusers); the window never below
POMS_BREAKER_MIN_JOBS."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from app.config.watching import setting
from app.extensions import db
from app.models import CampaignStage
from app.models.watching import BreakerPolicy

DEFAULT_WINDOW = 20
DEFAULT_PERCENT = 50


@dataclass(frozen=True)
class Policy:
    enabled: bool
    window: int
    percent: int
    source: str  # "job type X's policy", "the experiment's default", "the built-in default"


def row_for(experiment_id: int, job_type_id: int | None) -> BreakerPolicy | None:
    on_type = (BreakerPolicy.job_type_id == job_type_id if job_type_id is not None
               else BreakerPolicy.job_type_id.is_(None))
    return db.session.scalar(select(BreakerPolicy).where(
        BreakerPolicy.experiment_id == experiment_id, on_type))


def policy_for(stage: CampaignStage, config) -> Policy:
    experiment_id = stage.campaign.experiment_id
    least = int(setting(config, "POMS_BREAKER_MIN_JOBS"))
    row = row_for(experiment_id, stage.job_type_id)
    source = f"job type {stage.job_type.name}'s policy" if row else ""
    if row is None:
        row, source = row_for(experiment_id, None), "the experiment's default"
    if row is None:
        return Policy(True, max(DEFAULT_WINDOW, least), DEFAULT_PERCENT, "the built-in default")
    return Policy(row.enabled, max(row.window, least), row.percent, source)


def set_policy(experiment_id: int, job_type_id: int | None, *, window: int, percent: int,
               enabled: bool, config) -> BreakerPolicy:
    """Create or change a policy (caller commits, and audits); ValueError when unusable."""
    least = int(setting(config, "POMS_BREAKER_MIN_JOBS"))
    if not least <= window <= 100_000:
        raise ValueError(f"window: judge at least {least} finished jobs "
                         f"(POMS_BREAKER_MIN_JOBS), at most 100000, not {window}")
    if not 0 <= percent < 100:
        raise ValueError(f"percent: a failure rate from 0 to 99, not {percent}")
    row = row_for(experiment_id, job_type_id)
    if row is None:
        row = BreakerPolicy(experiment_id=experiment_id, job_type_id=job_type_id)
        db.session.add(row)
    row.window, row.percent, row.enabled = int(window), int(percent), bool(enabled)
    db.session.flush()
    return row


def remove_policy(experiment_id: int, job_type_id: int) -> bool:
    """A job type back to the experiment's default."""
    row = row_for(experiment_id, job_type_id)
    if row is not None:
        db.session.delete(row)
    return row is not None
