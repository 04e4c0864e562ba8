"""Kill, hold and release asked for in a request: recorded and audited at once, done by a
worker (a real RQ worker, the local engine's real jobs), once, and never lost."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from app import work
from app.batch.engines import engine_from_config
from app.extensions import db
from app.launching import service
from app.models import AuditEntry, BatchAction, Submission
from app.models.base import utcnow
from app.tracking import actions
from app.tracking.actions import ActionRefused, run_requested_action, stale_requested_actions
from tests.fixtures.launching import wait_for
from tests.fixtures.launching import work as work_queues
from workers.main import tick


def running(app, campaign) -> Submission:
    """reco_fcl launched for real, its three jobs running for a minute."""
    stage = next(s for s in campaign.stages if s.name == "reco_fcl")
    stage.param_overrides = [["--stage ", "reco_fcl"], ["-Oglobal.work_seconds=", "60"]]
    submission = service.request_launch(stage, campaign.owner, test=False, origin="test",
                                        config=app.config)
    db.session.commit()
    work.queue_launches(app.config, [submission.id])
    work_queues(app)
    submission = db.session.get(Submission, submission.id)
    assert submission.batch_ids and submission.state in ("Idle", "Running"), \
        submission.launch_error
    return submission


def test_a_kill_is_requested_at_once_and_done_once_by_a_worker(launch_app, tutorial):
    submission = running(launch_app, tutorial)
    alice = tutorial.owner
    requested = actions.request_action("kill", submission, alice, origin="test")
    db.session.commit()
    assert isinstance(requested, BatchAction) and requested.state == "requested"
    assert actions.describe(requested).startswith("kill requested by alice at ")
    assert db.session.get(Submission, submission.id).state in ("Idle", "Running")
    audited = db.session.scalars(select(AuditEntry.action).where(
        AuditEntry.subject == f"submission {submission.id}")).all()
    assert audited == ["submission kill requested"]
    # Asked again: the same request. Another action waits until this one is done.
    assert actions.request_action("kill", submission, alice, origin="test").id == requested.id
    with pytest.raises(ActionRefused, match="kill requested by alice"):
        actions.request_action("hold", submission, alice, origin="test")
    db.session.rollback()

    work.queue_batch_action(launch_app.config, requested.id)
    work.queue_batch_action(launch_app.config, requested.id)  # one queued job, whoever asks
    work_queues(launch_app)
    row = db.session.get(BatchAction, requested.id)
    assert (row.state, row.result, row.pending_for) == ("done", "jobs removed", None)
    assert row.started_at is not None and row.finished_at >= row.started_at
    assert actions.describe(row).startswith("kill by alice: jobs removed (")
    assert db.session.get(Submission, submission.id).state == "Removed"
    engine = engine_from_config(launch_app.config)
    wait_for(lambda: {j.state for j in engine.query(submission.batch_ids)} == {"Removed"},
             what="the local engine to remove the jobs")
    # A second run of the same request does nothing.
    assert run_requested_action(requested.id, launch_app.config).endswith("done already")
    assert db.session.scalar(select(BatchAction.state).where(
        BatchAction.id == requested.id)) == "done"


def test_a_request_overtaken_by_events_is_refused_by_the_worker_saying_why(launch_app,
                                                                         tutorial):
    submission = running(launch_app, tutorial)
    alice = tutorial.owner
    requested = actions.request_action("hold", submission, alice, origin="test")
    db.session.commit()
    # Before a worker gets to it, the jobs are killed another way.
    actions.kill(submission, alice, engine_from_config(launch_app.config))
    db.session.commit()
    said = run_requested_action(requested.id, launch_app.config)
    assert "hold refused" in said
    row = db.session.get(BatchAction, requested.id)
    assert row.state == "refused" and "only idle or running work can be held" in row.result
    assert row.pending_for is None
    assert actions.describe(row).startswith("hold by alice: not done: ")
    with pytest.raises(ActionRefused, match="Removed: nothing to kill"):
        actions.request_action("kill", db.session.get(Submission, submission.id), alice,
                               origin="test")


def test_what_needs_no_engine_is_done_in_the_request(launch_app, tutorial):
    stage = next(s for s in tutorial.stages if s.name == "reco_fcl")
    submission = service.request_launch(stage, tutorial.owner, test=False, origin="test",
                                        config=launch_app.config)
    db.session.commit()
    said = actions.request_action("kill", submission, tutorial.owner, origin="test")
    db.session.commit()
    assert said == "cancelled before it launched"
    assert db.session.get(Submission, submission.id).state == "Cancelled"
    assert db.session.scalar(select(BatchAction.id)) is None


def test_lost_requests_are_queued_again_and_abandoned_ones_given_up(launch_app, tutorial,
                                                                     redis_conn):
    submission = running(launch_app, tutorial)
    alice = tutorial.owner
    lost = actions.request_action("hold", submission, alice, origin="test")
    db.session.commit()
    assert stale_requested_actions(launch_app.config) == [], "not lost yet: just asked"
    # Its queued job was lost (never queued here, as when Redis restarts).
    lost.requested_at = utcnow() - timedelta(hours=1)
    db.session.commit()
    assert stale_requested_actions(launch_app.config) == [lost.id]
    assert f"batch action {lost.id} queued again" in tick(launch_app, redis_conn, force=True)
    work_queues(launch_app)
    row = db.session.get(BatchAction, lost.id)
    assert (row.state, row.result) == ("done", "jobs held")

    # A worker claimed this one, then stopped for good: given up, and the submission takes
    # requests again.
    stuck = actions.request_action("kill", db.session.get(Submission, submission.id), alice,
                                   origin="test")
    stuck.state, stuck.started_at = "running", utcnow() - timedelta(hours=1)
    db.session.commit()
    assert stale_requested_actions(launch_app.config) == []
    row = db.session.get(BatchAction, stuck.id)
    assert row.state == "failed" and row.pending_for is None
    assert "stopped before it finished" in row.result
    again = actions.request_action("kill", db.session.get(Submission, submission.id), alice,
                                   origin="test")
    db.session.commit()
    assert again.id != stuck.id
    assert "kill done: jobs removed" in run_requested_action(again.id, launch_app.config)
