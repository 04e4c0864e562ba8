"""The watch pass: what happened since the last pass, as events; digests that are due; and
which deliveries to queue. The scheduler queues it on `notifications` every tick, so
tracking never waits for it.

It reads what the rest of POMS already writes, so no tracking code changes for it:
submission state changes (Failed, LaunchFailed; Located, which may finish a stage or the
campaign), chaining's refused recoveries (a recovery step with no submission), FCL uploads
that failed for good, and uploaded credentials that expire within
POMS_CREDENTIAL_WARNING_HOURS. Each event is recorded once (its key), and only for the
watches that existed when it happened.
"""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select, update

from app import states
from app.config.watching import setting
from app.extensions import db
from app.models import Campaign, CampaignStage, FclUpload, Submission, SubmissionEvent, UploadedFile
from app.models.base import utcnow
from app.models.chaining import ChainStep
from app.models.watching import Delivery, Watch, WatchCursor
from app.watching import events

BATCH = 2000
# Rows are read again until they are this old: a transaction that took a lower id may
# commit after one with a higher id, and the cursor must not step over it. An event read
# twice is told once (its key).
SETTLE = timedelta(seconds=120)
NOT_DONE = (states.NEW, states.IDLE, states.RUNNING, states.HELD, states.COMPLETED,
            states.AWAITING_APPROVAL)
RETRY_WINDOW = timedelta(days=2)


def _cursor(name: str) -> int:
    row = db.session.get(WatchCursor, name)
    if row is None:
        db.session.add(WatchCursor(name=name, last_id=0))
        db.session.flush()
        return 0
    return row.last_id


def _advance(name: str, old: int, new: int) -> bool:
    """Move the cursor, once: a second pass racing this one finds it moved."""
    if new == old:
        return True
    done = db.session.execute(update(WatchCursor).where(
        WatchCursor.name == name, WatchCursor.last_id == old).values(last_id=new)
        .execution_options(synchronize_session=False))
    return done.rowcount == 1


def _settled_prefix(rows, last: int, at_of) -> int:
    """The cursor's next position: past the leading rows old enough to be settled."""
    cutoff = utcnow() - SETTLE
    for row in rows:
        if at_of(row) >= cutoff:
            break
        last = row.id
    return last


def _link(config, path: str) -> str:
    base = str(config.get("POMS_URL", "")).rstrip("/")
    return f"{base}{path}" if base else ""


def _sub_link(config, submission: Submission) -> str:
    experiment = submission.stage.campaign.experiment.name
    return _link(config, f"/e/{experiment}/submission/{submission.id}")


def _finished(submission: Submission, event_id: int, config) -> None:
    stage = submission.stage
    busy = select(func.count()).select_from(Submission).where(Submission.state.in_(NOT_DONE))
    if db.session.scalar(busy.where(Submission.campaign_stage_id == stage.id)):
        return
    campaign = stage.campaign
    events.record("finished", campaign.experiment_id, campaign_id=campaign.id,
                  stage_id=stage.id, key=f"stage-finished:{event_id}",
                  text=f"stage {stage.name} finished (submission {submission.id} Located, "
                       "nothing else running)", link=_sub_link(config, submission))
    stage_ids = [s.id for s in campaign.stages]
    if db.session.scalar(busy.where(Submission.campaign_stage_id.in_(stage_ids))):
        return
    located = set(db.session.scalars(select(Submission.campaign_stage_id).where(
        Submission.campaign_stage_id.in_(stage_ids), Submission.state == states.LOCATED)))
    if located >= set(stage_ids):
        events.record("finished", campaign.experiment_id, campaign_id=campaign.id,
                      key=f"campaign-finished:{event_id}",
                      text=f"campaign {campaign.name} finished: every stage Located")


def submission_events(config) -> None:
    last = _cursor("submission_event")
    rows = db.session.execute(
        select(SubmissionEvent.id, SubmissionEvent.submission_id, SubmissionEvent.to_state,
               SubmissionEvent.cause, SubmissionEvent.at)
        .where(SubmissionEvent.id > last,
               SubmissionEvent.to_state.in_((states.FAILED, states.LAUNCH_FAILED,
                                             states.LOCATED)))
        .order_by(SubmissionEvent.id).limit(BATCH)).all()
    for event_id, submission_id, to_state, cause, at in rows:
        submission = db.session.get(Submission, submission_id)
        if submission is None:
            continue
        stage = submission.stage
        if to_state == states.LOCATED:
            _finished(submission, event_id, config)
            continue
        why = submission.launch_error if to_state == states.LAUNCH_FAILED else cause
        events.record("submission_failed", stage.campaign.experiment_id,
                      campaign_id=stage.campaign_id, stage_id=stage.id, at=at,
                      key=f"submission-event:{event_id}",
                      text=f"submission {submission.id} of {stage.name} {to_state}: "
                           f"{(why or '').strip()[:300]}",
                      link=_sub_link(config, submission))
    _advance("submission_event", last, _settled_prefix(rows, last, lambda r: r.at))


def refused_recoveries(config) -> None:
    last = _cursor("chain_step")
    rows = list(db.session.scalars(
        select(ChainStep).where(ChainStep.id > last).order_by(ChainStep.id).limit(BATCH)))
    for step in rows:
        if step.kind != "recovery" or step.submission_id is not None:
            continue
        parent = db.session.get(Submission, step.parent_submission_id)
        stage = db.session.get(CampaignStage, step.child_stage_id)
        if parent is None or stage is None:
            continue
        events.record("recovery_refused", stage.campaign.experiment_id,
                      campaign_id=stage.campaign_id, stage_id=stage.id, at=step.created,
                      key=f"chain-step:{step.id}",
                      text=f"recovery of submission {parent.id} refused: {step.note[:300]}",
                      link=_sub_link(config, parent))
    _advance("chain_step", last, _settled_prefix(rows, last, lambda r: r.created))


def failed_uploads(config) -> None:
    since = utcnow() - RETRY_WINDOW
    rows = db.session.execute(
        select(FclUpload.submission_id, func.count(), func.max(FclUpload.error))
        .where(FclUpload.state == "failed", FclUpload.created >= since)
        .group_by(FclUpload.submission_id)).all()
    for submission_id, count, error in rows:
        submission = db.session.get(Submission, submission_id)
        if submission is None:
            continue
        stage = submission.stage
        events.record("fcl_upload_failed", stage.campaign.experiment_id,
                      campaign_id=stage.campaign_id, stage_id=stage.id,
                      key=f"fcl-failed:{submission_id}",
                      text=f"FCL uploads to UconDB of submission {submission_id} failed for "
                           f"{count} jobs: {(error or '')[:300]}",
                      link=_sub_link(config, submission))


def expiring_credentials(config) -> None:
    now = utcnow()
    soon = now + timedelta(hours=int(setting(config, "POMS_CREDENTIAL_WARNING_HOURS")))
    rows = db.session.scalars(select(UploadedFile).where(
        UploadedFile.credential_kind.is_not(None), UploadedFile.expires > now,
        UploadedFile.expires <= soon))
    for row in rows:
        campaigns = db.session.scalars(select(Campaign).where(
            Campaign.experiment_id == row.experiment_id,
            Campaign.owner_id == row.experimenter_id))
        for campaign in campaigns:
            events.record("credential_expiring", row.experiment_id, campaign_id=campaign.id,
                          key=f"credential:{row.id}:{row.expires:%Y%m%d%H%M}:{campaign.id}",
                          text=f"the {row.credential_kind} {row.name} its launches use expires "
                               f"{row.expires:%Y-%m-%d %H:%M} UTC: upload a new one")


def watch_pass(config) -> list[int]:
    """One pass (commits); the ids of deliveries to queue (pending, or waiting to retry
    whose queued job may have been lost: queueing skips those already queued)."""
    if db.session.scalar(select(Watch.id).limit(1)) is not None:
        submission_events(config)
        refused_recoveries(config)
        failed_uploads(config)
        expiring_credentials(config)
        events.due_digests()
    else:  # nobody watches: nothing to tell, and nothing old to tell the first watcher
        cutoff = utcnow() - SETTLE
        for name, column, at in (("submission_event", SubmissionEvent.id, SubmissionEvent.at),
                                 ("chain_step", ChainStep.id, ChainStep.created)):
            last = _cursor(name)
            newest = db.session.scalar(select(func.max(column)).where(at < cutoff)) or 0
            _advance(name, last, max(last, newest))
    db.session.commit()
    return list(db.session.scalars(select(Delivery.id).where(
        Delivery.state.in_(("pending", "retrying")),
        Delivery.created >= utcnow() - RETRY_WINDOW).order_by(Delivery.id)))
