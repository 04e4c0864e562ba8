"""What needs a person in an experiment, most urgent first, each with the action that deals
with it: the first thing on the dashboard.

  LaunchFailed        a launch that did not start, and no later launch of its stage has;
                      launch it again
  Failed              a submission that failed and has no recovery yet; recover it
  held launches       launches waiting for a held stage, or for the experiment's switch;
                      release
  recovery refused    chaining could not launch a recovery (its note says why); look
  FCL uploads failed  the dependent stages wait; upload again
  credential          a proxy or token that expires soon (or did), not replaced; upload one
  stage stopped       a held stage (by a person, or by its circuit breaker, saying why), or
                      a submission whose jobs are held; release

Each question is one bounded query, over the last POMS_ATTENTION_DAYS days.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, exists, func, select
from sqlalchemy.orm import aliased, joinedload

from app import states
from app.extensions import db
from app.launching import launch_hold
from app.models import (
    Campaign,
    CampaignStage,
    StageLaunchSettings,
    Submission,
    UploadedFile,
)
from app.models.base import utcnow
from app.models.chaining import ChainStep
from app.models.submission import listed
from app.models.ucondb import FclUpload
from app.watching import breaker

LIMIT = 50  # rows per question: the list is for people, the pages behind it for the rest
# Made once: SQLAlchemy adapts an alias's columns the first time each is used, and doing
# that on every poll cost more than the queries themselves.
_LATER = aliased(Submission, name="later")
_NEWER = aliased(UploadedFile, name="newer")


@dataclass
class Item:
    kind: str  # launch-failed, failed, held-launches, launches-held, recovery-refused,
    #            uploads-failed, credential, stage-held, jobs-held
    title: str
    detail: str = ""
    at: datetime | None = None
    submission: Submission | None = None
    stage: CampaignStage | None = None
    campaign_id: int | None = None
    action: str = ""  # relaunch, recover, release-stage, release-all, retry-uploads,
    #                   upload-credential, release, open


def _subs(where):
    return db.session.scalars(
        select(Submission).where(*where)
        .options(joinedload(Submission.stage).joinedload(CampaignStage.campaign), *listed())
        .order_by(Submission.id.desc()).limit(LIMIT)).all()


def _launch_failed(exp_id: int, since: datetime) -> list[Item]:
    later = _LATER
    relaunched = exists().where(
        later.campaign_stage_id == Submission.campaign_stage_id, later.id > Submission.id,
        later.state.not_in((states.LAUNCH_FAILED, states.CANCELLED, states.NEW)))
    return [Item("launch-failed", f"submission {s.id} did not launch",
                 s.launch_error or "the launch failed", s.created, s, s.stage,
                 s.stage.campaign_id, "relaunch")
            for s in _subs((Submission.experiment_id == exp_id,
                            Submission.state == states.LAUNCH_FAILED,
                            Submission.created >= since, ~relaunched))]


def _no_recovery_yet():
    later = _LATER
    root = func.coalesce(Submission.recovery_of_id, Submission.id)
    return ~exists().where(later.recovery_of_id == root, later.id > Submission.id)


def _failed(exp_id: int, since: datetime) -> list[Item]:
    return [Item("failed", f"submission {s.id} failed",
                 f"{s.jobs_failed} of {s.jobs_total} jobs failed", s.updated, s, s.stage,
                 s.stage.campaign_id, "recover")
            for s in _subs((Submission.experiment_id == exp_id,
                            Submission.state == states.FAILED, Submission.updated >= since,
                            _no_recovery_yet()))]


def _held(exp_id: int) -> list[Item]:
    items = []
    switch = launch_hold.hold_of(exp_id)
    if switch is not None:
        waiting = len(launch_hold.waiting_in(exp_id))
        items.append(Item("launches-held", "every launch of the experiment is held",
                          f"{launch_hold.describe(switch)}; {waiting} launch(es) wait",
                          switch.held_at, action="release-all"))
    stages = db.session.scalars(
        select(CampaignStage).join(StageLaunchSettings,
                                   StageLaunchSettings.campaign_stage_id == CampaignStage.id)
        .join(Campaign).where(Campaign.experiment_id == exp_id, StageLaunchSettings.held)
        .limit(LIMIT)).all()
    tripped = {}  # stage id -> the breaker that holds it (its own, or an upstream stage's)
    for row in breaker.tripped_in(exp_id):
        for held_id in [*row.held_stage_ids, row.campaign_stage_id]:
            tripped[held_id] = row
    for stage in stages:
        settings = db.session.get(StageLaunchSettings, stage.id)
        waiting = db.session.scalar(select(func.count()).where(
            Submission.campaign_stage_id == stage.id, Submission.state == states.NEW,
            Submission.launch_claimed_at.is_(None)))
        trip = tripped.get(stage.id)
        who = ((f"its circuit breaker: {trip.reason}" if trip.campaign_stage_id == stage.id
                else f"the circuit breaker of an upstream stage: {trip.reason}")
               if trip is not None
               else settings.held_by.username if settings.held_by else "?")
        kind, title = (("held-launches", f"{waiting} launch(es) of {stage.name} wait")
                       if waiting else ("stage-held", f"stage {stage.name} is held"))
        items.append(Item(kind, title, f"held by {who}", settings.held_at, stage=stage,
                          campaign_id=stage.campaign_id, action="release-stage"))
    for s in _subs((Submission.experiment_id == exp_id, Submission.state == states.HELD)):
        items.append(Item("jobs-held", f"submission {s.id}: its jobs are held",
                          f"{s.jobs_held} of {s.jobs_total} jobs held", s.updated, s, s.stage,
                          s.stage.campaign_id, "release"))
    return items


def _recoveries_refused(exp_id: int, since: datetime) -> list[Item]:
    rows = db.session.execute(
        select(ChainStep, Submission).join(Submission,
                                           Submission.id == ChainStep.parent_submission_id)
        .where(Submission.experiment_id == exp_id, ChainStep.kind == "recovery",
               ChainStep.submission_id.is_(None), ChainStep.note != "",
               ChainStep.created >= since, _no_recovery_yet())
        .order_by(ChainStep.id.desc()).limit(LIMIT)).all()
    return [Item("recovery-refused", f"no recovery of submission {s.id}", step.note,
                 step.created, s, s.stage, s.stage.campaign_id, "open") for step, s in rows]


def _uploads_failed(exp_id: int) -> list[Item]:
    rows = db.session.execute(
        select(FclUpload.submission_id, func.count(), func.max(FclUpload.updated))
        .join(Submission, Submission.id == FclUpload.submission_id)
        .where(Submission.experiment_id == exp_id, FclUpload.state == "failed")
        .group_by(FclUpload.submission_id).order_by(FclUpload.submission_id.desc())
        .limit(LIMIT)).all()
    items = []
    for submission_id, n, at in rows:
        s = db.session.get(Submission, submission_id)
        items.append(Item("uploads-failed", f"submission {s.id}: {n} FCL upload(s) failed",
                          "the dependent stages wait until they are uploaded", at, s, s.stage,
                          s.stage.campaign_id, "retry-uploads"))
    return items


def _credentials(exp_id: int, now: datetime, warn: timedelta) -> list[Item]:
    newer = _NEWER
    replaced = exists().where(
        newer.experiment_id == UploadedFile.experiment_id,
        newer.experimenter_id == UploadedFile.experimenter_id,
        newer.credential_kind == UploadedFile.credential_kind,
        newer.credential_role == UploadedFile.credential_role,
        newer.expires > UploadedFile.expires)
    rows = db.session.scalars(
        select(UploadedFile).where(
            UploadedFile.experiment_id == exp_id, UploadedFile.credential_kind.is_not(None),
            and_(UploadedFile.expires < now + warn, UploadedFile.expires > now - warn),
            ~replaced).order_by(UploadedFile.expires).limit(LIMIT)).all()
    return [Item("credential",
                 f"{row.credential_role} {row.credential_kind} {row.name} of "
                 f"{row.experimenter.username} "
                 + ("expired" if row.expires <= now else "expires soon"),
                 f"{'expired' if row.expires <= now else 'expires'} "
                 f"{row.expires:%Y-%m-%d %H:%M} UTC", row.expires, action="upload-credential")
            for row in rows]


def needs_attention(experiment_id: int, *, days: int = 7, now: datetime | None = None
                    ) -> list[Item]:
    """Everything that needs a person in the experiment: the launches held by the switch
    first, then failures, then what waits, each group newest first."""
    now = now or utcnow()
    since = now - timedelta(days=days)
    held = _held(experiment_id)
    return ([i for i in held if i.kind == "launches-held"]
            + _launch_failed(experiment_id, since) + _failed(experiment_id, since)
            + _recoveries_refused(experiment_id, since) + _uploads_failed(experiment_id)
            + _credentials(experiment_id, now, timedelta(days=days))
            + [i for i in held if i.kind != "launches-held"])
