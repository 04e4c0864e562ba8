"""What people do to submissions and stages: kill, hold, release, approve; hold a stage.

A request never waits on the grid. `request_action` answers at once: approve and refuse
(and a kill of a submission not launched yet) need no batch engine and are done in the
request; a kill, hold or release of launched jobs is recorded as a BatchAction ("kill
requested by alice at 12:00"), audited, and queued after the commit (app/work.py); a worker
runs it (`run_requested_action`: workers/jobs.batch_action) and records what the engine
did, or why not. One action at a time per submission; asking again for the one pending
gets that one back.

kill/hold/release/approve work in the caller's transaction (the caller commits: one user
action, one transaction) and ask the batch engine first, so a refusal from the engine
changes nothing here. Permission checks are the caller's (app/auth/policy.py).
"""
from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy import select, update

from app import states
from app.audit import audit
from app.batch.base import BatchEngine, BatchError
from app.batch.engines import engine_from_config
from app.extensions import db
from app.launching import service
from app.models import BatchAction, CampaignStage, Experimenter, Job, Submission
from app.models.base import utcnow
from app.tracking.tracker import recount

log = logging.getLogger(__name__)


class ActionRefused(Exception):
    """The action does not apply to the submission in its present state; says why."""


def owned_ids(submission: Submission, engine: BatchEngine) -> list[str]:
    """The submission's batch ids the engine confirms are its launch's own clusters: the
    only ones an action touches (an id recorded before ids were confirmed, or claimed by
    anyone, is never acted on). ActionRefused when none is."""
    try:
        owned, refused = service.confirmed_ids(submission, list(submission.batch_ids or []),
                                               engine)
    except ValueError as err:
        raise ActionRefused(f"submission {submission.id}: {err}") from None
    if not owned:
        why = "; ".join(refused) or "no batch id"
        raise ActionRefused(f"submission {submission.id} has no jobs the batch system "
                            f"confirms as its own ({why})")
    return owned


def _not_launched(submission: Submission) -> bool:
    """Queued, or waiting for a held stage: no jobs anywhere yet."""
    return submission.state == states.NEW and submission.launch_claimed_at is None


def _cancel(submission: Submission, user: Experimenter) -> str:
    states.transition(submission, states.CANCELLED, f"cancelled by {user.username}",
                      actor_id=user.id)
    return "cancelled before it launched"


def check(action: str, submission: Submission) -> None:
    """ActionRefused when `action` does not apply to the submission as it is now (what the
    request checks at once, and the worker again when it runs)."""
    if action == "kill":
        if submission.state not in (states.IDLE, states.RUNNING, states.HELD, states.NEW):
            raise ActionRefused(f"submission {submission.id} is {submission.state}: "
                                "nothing to kill")
        if not submission.batch_ids and not _not_launched(submission):
            raise ActionRefused(f"submission {submission.id} is still launching: no jobs to "
                                "kill yet")
    elif action == "hold":
        if submission.state not in (states.IDLE, states.RUNNING):
            raise ActionRefused(f"submission {submission.id} is {submission.state}: "
                                "only idle or running work can be held")
    elif action == "release":
        if submission.state != states.HELD:
            raise ActionRefused(f"submission {submission.id} is {submission.state}, not Held")
    elif action in ("approve", "refuse"):
        if submission.state != states.AWAITING_APPROVAL:
            raise ActionRefused(f"submission {submission.id} is {submission.state}, "
                                "not Awaiting Approval")
    else:
        raise ActionRefused(f"no action {action!r}: the actions are "
                            f"{', '.join(SUBMISSION_ACTIONS)}")


def kill(submission: Submission, user: Experimenter, engine: BatchEngine) -> str:
    if _not_launched(submission):
        return _cancel(submission, user)
    check("kill", submission)
    engine.remove(owned_ids(submission, engine))
    # The engine removes them now; record it now, so the page does not wait for tracking.
    db.session.execute(
        update(Job)
        .where(Job.submission_id == submission.id,
               Job.state.in_(("Idle", "Running", "Held")))
        .values(state="Removed", updated_at=utcnow(), ended_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    recount(submission)
    states.transition(submission, states.REMOVED, f"killed by {user.username}",
                      actor_id=user.id)
    return "jobs removed"


def hold(submission: Submission, user: Experimenter, engine: BatchEngine) -> str:
    check("hold", submission)
    engine.hold(owned_ids(submission, engine))
    db.session.execute(
        update(Job).where(Job.submission_id == submission.id,
                          Job.state.in_(("Idle", "Running")))
        .values(state="Held", updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    recount(submission)
    states.transition(submission, states.HELD, f"held by {user.username}", actor_id=user.id)
    return "jobs held"


def release(submission: Submission, user: Experimenter, engine: BatchEngine) -> str:
    check("release", submission)
    engine.release(owned_ids(submission, engine))
    # Tracking tells Running from Idle at its next pass; until then they wait.
    db.session.execute(
        update(Job).where(Job.submission_id == submission.id, Job.state == "Held")
        .values(state="Idle", updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    recount(submission)
    states.transition(submission, states.IDLE, f"released by {user.username}", actor_id=user.id)
    return "jobs released"


def approve(submission: Submission, user: Experimenter, approved: bool) -> str:
    check("approve" if approved else "refuse", submission)
    if approved:
        states.transition(submission, states.COMPLETED, f"approved by {user.username}",
                          actor_id=user.id)
        return "approved"
    states.transition(submission, states.REMOVED, f"refused by {user.username}",
                      actor_id=user.id)
    return "refused"


SUBMISSION_ACTIONS = ("kill", "hold", "release", "approve", "refuse")
ON_THE_ENGINE = {"kill": kill, "hold": hold, "release": release}
PENDING = ("requested", "running")
# A claimed action whose worker stopped (killed past its job timeout, its machine gone) is
# given up after this long, so the submission takes requests again.
ABANDONED_AFTER = timedelta(minutes=15)


def perform(action: str, submission: Submission, user: Experimenter, config) -> str:
    """One of SUBMISSION_ACTIONS by name, done now (a worker's way, and an operator's);
    says what was done. The batch engine is only built for the actions that need it."""
    if action in ("approve", "refuse"):
        return approve(submission, user, action == "approve")
    check(action, submission)
    if action == "kill" and _not_launched(submission):
        return _cancel(submission, user)
    return ON_THE_ENGINE[action](submission, user, engine_from_config(config))


def pending_action(submission: Submission) -> BatchAction | None:
    return db.session.scalar(select(BatchAction).where(BatchAction.pending_for == submission.id))


def request_action(action: str, submission: Submission, user: Experimenter, *,
                   origin: str) -> str | BatchAction:
    """What a page or the API calls (in the caller's transaction): a sentence when it was
    done at once (approve, refuse, cancelling a launch that has not started), else the
    BatchAction to queue after the commit (app/work.queue_batch_action). ActionRefused
    when it does not apply now, or another action is still pending."""
    check(action, submission)
    if action in ("approve", "refuse") or (action == "kill" and _not_launched(submission)):
        before = submission.state
        said = perform(action, submission, user, config={})
        audit(submission.stage.campaign.experiment, user, f"submission {action}",
              f"submission {submission.id}", {"state": before},
              {"state": submission.state, "done": said})
        return said
    pending = pending_action(submission)
    if pending is not None:
        if pending.action == action:
            return pending  # asked twice: the same request
        raise ActionRefused(f"submission {submission.id}: {describe(pending)}; ask again "
                            "when it is done")
    row = BatchAction(submission_id=submission.id, action=action, state="requested",
                      pending_for=submission.id, requested_by_id=user.id,
                      origin=origin[:64], requested_at=utcnow(), result="")
    db.session.add(row)
    db.session.flush()
    audit(submission.stage.campaign.experiment, user, f"submission {action} requested",
          f"submission {submission.id}", {"state": submission.state},
          {"action": action, "batch_action": row.id})
    return row


def describe(row: BatchAction) -> str:
    """'kill requested by alice at 2026-12-05 12:00:01 UTC' or 'kill by alice: jobs removed
    (2026-12-05 12:00:04 UTC)': what the pages and the API say."""
    who = row.requested_by.username if row.requested_by else "?"
    if row.state in PENDING:
        return (f"{row.action} requested by {who} at {row.requested_at:%Y-%m-%d %H:%M:%S} UTC"
                + (" (a worker is doing it)" if row.state == "running" else ""))
    when = row.finished_at or row.requested_at
    verdict = {"done": "", "refused": "not done: ", "failed": "failed: "}.get(row.state, "")
    return f"{row.action} by {who}: {verdict}{row.result} ({when:%Y-%m-%d %H:%M:%S} UTC)"


def actions_of(submission: Submission, limit: int = 10) -> list[BatchAction]:
    """The submission's batch actions, newest first."""
    return list(db.session.scalars(
        select(BatchAction).where(BatchAction.submission_id == submission.id)
        .order_by(BatchAction.id.desc()).limit(limit)))


def run_requested_action(action_id: int, config) -> str:
    """The worker's half (workers/jobs.batch_action): claim the request, ask the engine,
    record the outcome; one transaction for the action and its outcome. Running it twice
    does it once: only the run that claims it acts."""
    claimed = db.session.execute(
        update(BatchAction)
        .where(BatchAction.id == action_id, BatchAction.state == "requested")
        .values(state="running", started_at=utcnow())
        .execution_options(synchronize_session=False)
    ).rowcount == 1
    db.session.commit()
    row = db.session.get(BatchAction, action_id)
    if row is None:
        return f"batch action {action_id}: no such action"
    if not claimed:
        return f"batch action {action_id}: {row.state} already"
    submission = db.session.get(Submission, row.submission_id)
    try:
        said = perform(row.action, submission, row.requested_by, config)
        outcome, result = "done", said
    except ActionRefused as err:
        outcome, result = "refused", str(err)
    except (BatchError, ValueError) as err:
        outcome, result = "failed", f"the batch system refused: {err}"
    except Exception as err:  # recorded as failed, not left running: the page says why
        log.exception("batch action %s", action_id)
        outcome, result = "failed", f"{type(err).__name__}: {err}"
    if outcome != "done":
        db.session.rollback()
        row = db.session.get(BatchAction, action_id)
    row.state, row.result = outcome, result[:2000]
    row.finished_at, row.pending_for = utcnow(), None
    db.session.commit()
    return f"submission {row.submission_id}: {row.action} {outcome}: {result}"


def stale_requested_actions(config) -> list[int]:
    """Requested actions nobody claimed within the grace period (their queued job was
    lost, e.g. Redis restarted), to queue again; claimed ones whose worker stopped long ago
    are given up (failed, saying so) so the submission takes requests again."""
    now = utcnow()
    grace = timedelta(seconds=int(config.get("POMS_LAUNCH_GRACE", 120)))
    abandoned = list(db.session.scalars(select(BatchAction).where(
        BatchAction.state == "running", BatchAction.started_at < now - ABANDONED_AFTER)))
    for row in abandoned:
        row.state, row.finished_at, row.pending_for = "failed", now, None
        row.result = ("the worker doing it stopped before it finished: look at the jobs, "
                      "and ask again if they still need it")
    if abandoned:
        db.session.commit()
    return list(db.session.scalars(select(BatchAction.id).where(
        BatchAction.state == "requested", BatchAction.requested_at < now - grace)))


def hold_stage(stage: CampaignStage, user: Experimenter) -> None:
    settings = service.stage_settings(stage, create=True)
    settings.held = True
    settings.held_by_id = user.id
    settings.held_at = utcnow()


def release_stage(stage: CampaignStage, user: Experimenter) -> list[int]:
    """Release the stage; the ids of the launches that waited, to enqueue after commit."""
    settings = service.stage_settings(stage, create=True)
    settings.held = False
    settings.held_by_id = None
    settings.held_at = None
    return [s.id for s in service.waiting_submissions(stage)]
