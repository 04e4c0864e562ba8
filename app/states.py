"""The submission state machine: one table of allowed transitions, and the only way to move.

States are the original POMS's. Every change goes through `transition`, which is a guarded
UPDATE (`... WHERE id = :id AND state = :old`): when several workers see the same change at
once, exactly one of them applies it and writes the history row; the others learn that
someone was first and do nothing.

Launching (New -> Idle, LaunchFailed, Awaiting Approval), tracking (what the jobs say),
chaining (Located) and the people's actions all move submissions, so the table sits below
all of them: it imports only the models.
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import update
from sqlalchemy.orm.attributes import set_committed_value

from app.extensions import db
from app.models import Submission, SubmissionEvent
from app.models.base import utcnow

NEW = "New"
CANCELLED = "Cancelled"
LAUNCH_FAILED = "LaunchFailed"
AWAITING_APPROVAL = "Awaiting Approval"
IDLE = "Idle"
RUNNING = "Running"
HELD = "Held"
FAILED = "Failed"
COMPLETED = "Completed"
LOCATED = "Located"
REMOVED = "Removed"

STATES = (
    NEW, CANCELLED, LAUNCH_FAILED, AWAITING_APPROVAL, IDLE, RUNNING, HELD, FAILED,
    COMPLETED, LOCATED, REMOVED,
)

# The one table: from-state -> the states it may move to.
TRANSITIONS: dict[str, frozenset[str]] = {
    # New: the row exists; the launch waits in the queue (or for a held stage).
    NEW: frozenset({IDLE, RUNNING, HELD, COMPLETED, FAILED, LAUNCH_FAILED, CANCELLED,
                    AWAITING_APPROVAL, REMOVED}),
    # An approval stage (or a launch script that ran await_approval) waits for a person:
    # as the original, approving completes it and refusing ("UnApprove") removes it. The
    # original's status table also lists "Approved", but nothing of it ever sets it.
    AWAITING_APPROVAL: frozenset({COMPLETED, REMOVED}),
    # Idle to LaunchFailed: the launch announced a cluster the batch system never shows.
    IDLE: frozenset({RUNNING, HELD, COMPLETED, FAILED, REMOVED, LAUNCH_FAILED}),
    RUNNING: frozenset({IDLE, HELD, COMPLETED, FAILED, REMOVED}),
    HELD: frozenset({IDLE, RUNNING, COMPLETED, FAILED, REMOVED}),
    # Completed may still see stragglers removed; issue 5 moves it on to Located.
    COMPLETED: frozenset({LOCATED, REMOVED}),
    # A launch that looked failed may turn out to have launched after all (the original
    # keeps LaunchFailed open for that reason): the next tracking pass can correct it.
    LAUNCH_FAILED: frozenset({IDLE, RUNNING, HELD, COMPLETED, FAILED}),
    FAILED: frozenset(),
    LOCATED: frozenset(),
    REMOVED: frozenset(),
    CANCELLED: frozenset(),
}

# Submissions tracking still polls the batch engine for.
ACTIVE = (NEW, IDLE, RUNNING, HELD)
FINAL = tuple(s for s, nxt in TRANSITIONS.items() if not nxt)

# The states of a job row, and the submission's counter each is counted in.
JOB_COUNTERS = {
    IDLE: "jobs_idle", RUNNING: "jobs_running", HELD: "jobs_held",
    COMPLETED: "jobs_done", FAILED: "jobs_failed", REMOVED: "jobs_removed",
}
JOB_STATES = tuple(JOB_COUNTERS)


class TransitionRefused(Exception):
    """The table does not allow this change."""


def allowed(old: str, new: str) -> bool:
    return new in TRANSITIONS.get(old, frozenset())


def transition(
    submission: Submission, new: str, cause: str, *, actor_id: int | None = None
) -> bool:
    """Move `submission` to `new` if the table allows it and nobody moved it first.

    Returns True when this call made the change (and wrote its history row), False when the
    submission was already in `new` or another worker changed it meanwhile. Raises
    TransitionRefused when the table forbids the move. Works in the caller's transaction.
    """
    old = submission.state
    if old == new:
        return False
    if not allowed(old, new):
        raise TransitionRefused(f"submission {submission.id}: {old} -> {new} is not allowed")
    now = utcnow()
    result = db.session.execute(
        update(Submission)
        .where(Submission.id == submission.id, Submission.state == old)
        .values(state=new, updated=now)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        db.session.refresh(submission)
        return False
    db.session.add(
        SubmissionEvent(
            submission_id=submission.id, at=now, from_state=old, to_state=new, cause=cause,
            actor_id=actor_id,
        )
    )
    # Keep the loaded object truthful without another SELECT.
    set_committed_value(submission, "state", new)
    set_committed_value(submission, "updated", now)
    return True


def record_creation(submission: Submission, cause: str, *, actor_id: int | None = None) -> None:
    """The first history row of a new submission (state New, from nothing)."""
    db.session.add(
        SubmissionEvent(
            submission_id=submission.id, at=submission.created or utcnow(), from_state=None,
            to_state=submission.state, cause=cause, actor_id=actor_id,
        )
    )


@dataclass(frozen=True)
class Counts:
    total: int = 0
    idle: int = 0
    running: int = 0
    held: int = 0
    done: int = 0
    failed: int = 0
    removed: int = 0

    @property
    def finished(self) -> int:
        return self.done + self.failed + self.removed


def state_from_jobs(counts: Counts, completion_pct: int) -> str | None:
    """The submission state its jobs say, or None when they say nothing yet.

    As the original: Completed once at least completion_pct percent of the jobs are done,
    a job being done when it ran to its end whatever its exit code (the original's
    "Completed" jobs; what their failures left unprocessed is what recoveries re-run, after
    Located: app/chaining), even while stragglers run, provided one job succeeded; when
    every job has ended short of that, Failed; every job removed, Removed; otherwise
    Running if any runs, Held if all waiting jobs are held, else Idle.
    """
    if counts.total == 0:
        return None
    pct = 100 * (counts.done + counts.failed) / counts.total
    if counts.done and pct >= completion_pct:
        return COMPLETED
    if counts.finished == counts.total:
        if counts.removed == counts.total:
            return REMOVED
        if counts.removed and not counts.failed and not counts.done:
            return REMOVED
        return FAILED
    if counts.running:
        return RUNNING
    if counts.held and not counts.idle:
        return HELD
    return IDLE
