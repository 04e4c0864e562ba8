"""What people do to submissions and stages: kill, hold, release, approve; hold a stage.

Each function works in the caller's transaction (the caller commits: one user action, one
transaction) and asks the batch engine first, so a refusal from the engine changes nothing
here. Permission checks are the caller's (app/auth/policy.py).
"""
from __future__ import annotations

from sqlalchemy import update

from app import states
from app.batch.base import BatchEngine, engine_from_config
from app.extensions import db
from app.launching import service
from app.models import CampaignStage, Experimenter, Job, Submission
from app.models.base import utcnow
from app.tracking.tracker import recount


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


def kill(submission: Submission, user: Experimenter, engine: BatchEngine) -> str:
    if submission.state == states.NEW and submission.launch_claimed_at is None:
        # Not launched yet (queued, or waiting for a held stage): nothing to remove.
        states.transition(submission, states.CANCELLED, f"cancelled by {user.username}",
                          actor_id=user.id)
        return "cancelled before it launched"
    if submission.state not in (states.IDLE, states.RUNNING, states.HELD, states.NEW):
        raise ActionRefused(f"submission {submission.id} is {submission.state}: nothing to kill")
    if not submission.batch_ids:
        raise ActionRefused(f"submission {submission.id} is still launching: no jobs to kill yet")
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
    if submission.state not in (states.IDLE, states.RUNNING):
        raise ActionRefused(f"submission {submission.id} is {submission.state}: "
                            "only idle or running work can be held")
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
    if submission.state != states.HELD:
        raise ActionRefused(f"submission {submission.id} is {submission.state}, not Held")
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
    if submission.state != states.AWAITING_APPROVAL:
        raise ActionRefused(f"submission {submission.id} is {submission.state}, "
                            "not Awaiting Approval")
    if approved:
        states.transition(submission, states.COMPLETED, f"approved by {user.username}",
                          actor_id=user.id)
        return "approved"
    states.transition(submission, states.REMOVED, f"refused by {user.username}",
                      actor_id=user.id)
    return "refused"


SUBMISSION_ACTIONS = ("kill", "hold", "release", "approve", "refuse")


def perform(action: str, submission: Submission, user: Experimenter, config) -> str:
    """One of SUBMISSION_ACTIONS by name, as the pages and the API both offer them; says what
    was done. The batch engine is only built for the actions that need it."""
    if action in ("approve", "refuse"):
        return approve(submission, user, action == "approve")
    on_the_engine = {"kill": kill, "hold": hold, "release": release}
    if action not in on_the_engine:
        raise ActionRefused(f"no action {action!r}: the actions are "
                            f"{', '.join(SUBMISSION_ACTIONS)}")
    return on_the_engine[action](submission, user, engine_from_config(config))


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
