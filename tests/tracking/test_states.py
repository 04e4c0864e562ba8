"""The state machine: one table, guarded updates, a history row for every change."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from app import states
from app.extensions import db
from app.models import Submission, SubmissionEvent
from app.states import Counts, state_from_jobs


def test_final_states_allow_nothing_and_every_target_is_a_state():
    for final in (states.FAILED, states.LOCATED, states.REMOVED, states.CANCELLED):
        assert states.TRANSITIONS[final] == frozenset()
    assert set(states.TRANSITIONS) == set(states.STATES)
    for targets in states.TRANSITIONS.values():
        assert targets <= set(states.STATES)
    assert not states.allowed(states.COMPLETED, states.RUNNING)
    assert states.allowed(states.AWAITING_APPROVAL, states.COMPLETED)


@pytest.mark.parametrize("counts, pct, expected", [
    (Counts(), 100, None),
    (Counts(total=3, idle=3), 100, "Idle"),
    (Counts(total=3, idle=2, running=1), 100, "Running"),
    (Counts(total=3, held=3), 100, "Held"),
    (Counts(total=3, done=3), 100, "Completed"),
    (Counts(total=4, done=3, running=1), 75, "Completed"),
    # Failed jobs ran to their end: the submission completes, recoveries re-run their files.
    (Counts(total=4, done=3, failed=1), 100, "Completed"),
    (Counts(total=4, done=2, failed=1, running=1), 75, "Completed"),
    (Counts(total=4, done=1, removed=3), 100, "Failed"),
    (Counts(total=2, failed=2), 100, "Failed"),
    (Counts(total=2, removed=2), 100, "Removed"),
])
def test_the_jobs_say_the_submission_state(counts, pct, expected):
    assert state_from_jobs(counts, pct) == expected


def test_a_transition_writes_history_and_a_stale_second_writer_changes_nothing(app, tutorial):
    stage = tutorial.stages[0]
    submission = Submission(campaign_stage_id=stage.id, state="New")
    db.session.add(submission)
    db.session.commit()
    assert states.transition(submission, states.IDLE, "launched")
    db.session.commit()
    # A second worker that still believes the submission is New loses the race quietly.
    from sqlalchemy.orm.attributes import set_committed_value

    set_committed_value(submission, "state", "New")  # what the other worker read earlier
    assert states.transition(submission, states.LAUNCH_FAILED, "timed out") is False
    db.session.commit()
    db.session.expire_all()
    assert db.session.get(Submission, submission.id).state == "Idle"
    events = db.session.scalars(select(SubmissionEvent).where(
        SubmissionEvent.submission_id == submission.id)).all()
    assert [(e.from_state, e.to_state, e.cause) for e in events] == [("New", "Idle", "launched")]
    with pytest.raises(states.TransitionRefused):
        states.transition(db.session.get(Submission, submission.id), states.NEW, "back")
