"""A submission's state reported by a script: the original's update_submission(status=...),
sent by wrappers that run work themselves (poms_run_script_stage: Idle, Running,
Completed) or put a launch on hold for a person (await_approval: Awaiting Approval).

A report moves the submission through the one transition table (states.transition), like
any other change, with a history row naming who reported it. It is refused while POMS
tracks the submission's jobs in the batch system (it has a batch id): there the jobs say
what the state is.
"""
from __future__ import annotations

from app import states
from app.models import Experimenter, Submission


class ReportRefused(Exception):
    """The report names no state, the table forbids the move, or POMS tracks the jobs."""


def report_state(submission: Submission, state: str, who: Experimenter) -> bool:
    """Apply a reported state; True when it changed the submission (caller commits)."""
    if state not in states.STATES:
        raise ReportRefused(f"status {state!r} is not a submission state; the states are "
                            f"{', '.join(states.STATES)}")
    if submission.batch_ids:
        raise ReportRefused(
            f"submission {submission.id} follows its jobs in the batch system (batch id "
            f"{submission.batch_id}): POMS tracks its state, a report cannot set it")
    if submission.state == state:
        return False
    try:
        return states.transition(submission, state, f"reported by {who.username}",
                                 actor_id=who.id)
    except states.TransitionRefused:
        raise ReportRefused(f"submission {submission.id} is {submission.state} and cannot "
                            f"become {state}") from None
