"""The circuit breaker of a stage: when too many of its last jobs failed, hold it.

    check_recent(config) -> [stage ids tripped]   # chaining's after_tracking, before chaining
    release(stage, user) -> [waiting submission ids to queue after the commit]

A stage trips when more than `percent` of its last `window` finished jobs (Completed or
Failed, test launches never counted) failed: its launches and recoveries, and every stage
downstream of it, are held (the stage hold of app/launching: launches wait in New), its
watchers are told, and its pages show why. The window is never below POMS_BREAKER_MIN_JOBS,
so a handful of jobs never trips it. Releasing is a person's act, audited; it lifts the
holds the trip made, and only jobs that end afterwards count towards the next trip.
The policy is per job type, with the experiment's default (policy.py).
"""
from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from app import states
from app.audit import audit
from app.extensions import db
from app.models import (
    Campaign,
    CampaignStage,
    Job,
    StageDependency,
    StageLaunchSettings,
    Submission,
)
from app.models.base import utcnow
from app.models.logs import JobAnalysis
from app.models.watching import StageBreaker
from app.watching import events
from app.watching.policy import policy_for

log = logging.getLogger(__name__)
RECENT = timedelta(minutes=15)  # stages tracked this recently are judged after a pass


def breaker_of(stage: CampaignStage, create: bool = False) -> StageBreaker | None:
    row = db.session.get(StageBreaker, stage.id)
    if row is None and create:
        row = StageBreaker(campaign_stage_id=stage.id, job_ids=[], held_stage_ids=[])
        db.session.add(row)
    return row


def is_tripped(stage: CampaignStage) -> bool:
    row = breaker_of(stage)
    return bool(row and row.tripped)


def last_finished(stage: CampaignStage, window: int, after_job_id: int = 0) -> list[tuple]:
    """(job id, state) of the stage's last `window` finished jobs, newest first; test
    launches never count."""
    return list(db.session.execute(
        select(Job.id, Job.state).join(Submission, Submission.id == Job.submission_id)
        .where(Submission.campaign_stage_id == stage.id, Submission.test.is_(False),
               Job.state.in_((states.COMPLETED, states.FAILED)), Job.id > after_job_id)
        .order_by(Job.id.desc()).limit(window)).all())


def downstream(stage: CampaignStage) -> list[CampaignStage]:
    """Every stage that consumes this one's outputs, directly or further down."""
    seen: dict[int, CampaignStage] = {}
    todo = [stage.id]
    while todo:
        children = db.session.scalars(select(StageDependency.child_id).where(
            StageDependency.parent_id.in_(todo))).all()
        todo = [c for c in children if c not in seen and c != stage.id]
        for child_id in todo:
            seen[child_id] = db.session.get(CampaignStage, child_id)
    return list(seen.values())


def judge(stage: CampaignStage, config) -> tuple[bool, str, list[tuple]]:
    """(trips, why, jobs judged)."""
    policy = policy_for(stage, config)
    if not policy.enabled:
        return False, "the breaker is off for this job type", []
    row = breaker_of(stage)
    jobs = last_finished(stage, policy.window, row.counts_from_job_id if row else 0)
    if len(jobs) < policy.window:
        return False, f"{len(jobs)} finished jobs, fewer than the {policy.window} judged", jobs
    failed = sum(1 for _id, state in jobs if state == states.FAILED)
    percent = 100.0 * failed / len(jobs)
    why = (f"{failed} of the last {len(jobs)} finished jobs failed ({percent:.0f}%, "
           f"more than {policy.percent}%, {policy.source})")
    return percent > policy.percent, why, jobs


def trip(stage: CampaignStage, why: str, jobs: list[tuple], config) -> StageBreaker:
    """Hold the stage and its dependents, tell its watchers (caller commits)."""
    row = breaker_of(stage, create=True)
    held = []
    for each in [stage, *downstream(stage)]:
        settings = db.session.get(StageLaunchSettings, each.id)
        if settings is None:
            settings = StageLaunchSettings(campaign_stage_id=each.id)
            db.session.add(settings)
        if not settings.held:
            settings.held, settings.held_at, settings.held_by_id = True, utcnow(), None
            held.append(each.id)
    row.tripped, row.tripped_at, row.reason = True, utcnow(), why
    row.failed = sum(1 for _id, state in jobs if state == states.FAILED)
    row.window, row.job_ids, row.held_stage_ids = len(jobs), [j for j, _s in jobs], held
    row.released_at, row.released_by_id = None, None
    campaign = stage.campaign
    audit(campaign.experiment, None, "circuit breaker tripped", f"{campaign.name}/{stage.name}",
          None, {"reason": why, "held_stages": held})
    others = len(held) - (1 if stage.id in held else 0)
    events.record("breaker_tripped", campaign.experiment_id, stage_id=stage.id,
                  campaign_id=campaign.id, key=f"breaker-trip:{stage.id}:{row.tripped_at}",
                  text=f"stage {stage.name} stopped by its circuit breaker: {why}"
                       + (f"; {others} dependent stages held" if others else ""),
                  link=stage_link(config, stage))
    return row


def stage_link(config, stage: CampaignStage) -> str:
    base = str(config.get("POMS_URL", "")).rstrip("/")
    return f"{base}/e/{stage.campaign.experiment.name}/stage/{stage.id}" if base else ""


def check_recent(config) -> list[int]:
    """Judge the stages whose real (not test) submissions were tracked lately; trip those
    that fail too much. Each stage in its own transaction."""
    since = utcnow() - RECENT
    stage_ids = db.session.scalars(
        select(Submission.campaign_stage_id).where(
            Submission.test.is_(False), Submission.tracked_at >= since).distinct()).all()
    tripped = []
    released_by_hand()
    for stage_id in stage_ids:
        stage = db.session.get(CampaignStage, stage_id)
        if stage is None or is_tripped(stage):
            continue
        try:
            # Another tracking worker may judge the same stage now: the row lock (or the
            # primary key, for a first trip) lets one of them trip it.
            row = db.session.get(StageBreaker, stage_id, with_for_update=True,
                                 populate_existing=True)
            if row is not None and row.tripped:
                db.session.commit()
                continue
            trips, why, jobs = judge(stage, config)
            if trips:
                trip(stage, why, jobs, config)
                tripped.append(stage_id)
            db.session.commit()
        except IntegrityError:
            db.session.rollback()  # the other worker tripped it first
        except Exception:
            db.session.rollback()
            log.exception("circuit breaker of stage %s", stage_id)
    return tripped


def _lift(row: StageBreaker, stage: CampaignStage, user, action: str) -> list[int]:
    """Mark the breaker released and lift the holds its trip made (those a person made
    since stay); the launches that waited, audited as `action`."""
    waiting = []
    for held_id in row.held_stage_ids or []:
        settings = db.session.get(StageLaunchSettings, held_id)
        if settings is not None and settings.held and settings.held_by_id is None:
            settings.held, settings.held_at = False, None
        if settings is None or not settings.held:
            waiting += db.session.scalars(select(Submission.id).where(
                Submission.campaign_stage_id == held_id, Submission.state == states.NEW,
                Submission.launch_claimed_at.is_(None)).order_by(Submission.id)).all()
    newest = db.session.scalar(
        select(func.max(Job.id)).join(Submission, Submission.id == Job.submission_id)
        .where(Submission.campaign_stage_id == stage.id)) or 0
    row.tripped, row.released_at = False, utcnow()
    row.released_by_id = user.id if user else None
    row.counts_from_job_id = newest
    campaign = stage.campaign
    audit(campaign.experiment, user, action, f"{campaign.name}/{stage.name}",
          {"reason": row.reason}, {"released_submissions": waiting})
    who = user.username if user else "releasing the stage hold"
    events.record("breaker_tripped", campaign.experiment_id, stage_id=stage.id,
                  campaign_id=campaign.id, key=f"breaker-release:{stage.id}:{row.released_at}",
                  text=f"stage {stage.name}: circuit breaker released by {who}")
    return waiting


def release(stage: CampaignStage, user) -> list[int]:
    """Release the breaker and the holds its trip made; the launches that waited, to queue
    after the commit (caller commits). ValueError when it is not tripped."""
    row = breaker_of(stage)
    if row is None or not row.tripped:
        raise ValueError(f"the circuit breaker of stage {stage.name} is not tripped")
    return _lift(row, stage, user, "circuit breaker released")


def released_by_hand() -> None:
    """A tripped stage whose own hold a person released (the stage page's Release stage,
    `poms release-stage`) counts as released: its banner goes, its dependents' holds are
    lifted (their waiting launches are queued by the scheduler, as any unheld New one),
    and the jobs judged stop counting. Commits."""
    rows = list(db.session.scalars(
        select(StageBreaker).outerjoin(
            StageLaunchSettings,
            StageLaunchSettings.campaign_stage_id == StageBreaker.campaign_stage_id)
        .where(StageBreaker.tripped.is_(True),
               func.coalesce(StageLaunchSettings.held, False).is_(False))))
    for row in rows:
        stage = db.session.get(CampaignStage, row.campaign_stage_id)
        _lift(row, stage, None, "circuit breaker released with the stage hold")
    db.session.commit()


def failures_by_signature(row: StageBreaker) -> list[tuple[str, int]]:
    """The failed jobs the trip judged, counted by failure signature (most first)."""
    ids = list(row.job_ids or [])
    if not ids:
        return []
    failed = select(Job.id).where(Job.id.in_(ids), Job.state == states.FAILED)
    counted = db.session.execute(
        select(JobAnalysis.signature, func.count()).where(JobAnalysis.job_id.in_(failed))
        .group_by(JobAnalysis.signature)).all()
    total = db.session.scalar(select(func.count()).select_from(failed.subquery())) or 0
    analysed = sum(n for _s, n in counted)
    rows = sorted(((s or "no signature matched", int(n)) for s, n in counted),
                  key=lambda pair: (-pair[1], pair[0]))
    if total > analysed:
        rows.append(("log not analysed yet", total - analysed))
    return rows


def tripped_in(experiment_id: int) -> list[StageBreaker]:
    """The experiment's stages stopped by their breaker, newest trip first (for overviews)."""
    return list(db.session.scalars(
        select(StageBreaker).join(CampaignStage,
                                  CampaignStage.id == StageBreaker.campaign_stage_id)
        .join(CampaignStage.campaign)
        .where(StageBreaker.tripped.is_(True), Campaign.experiment_id == experiment_id)
        .order_by(StageBreaker.tripped_at.desc())))
