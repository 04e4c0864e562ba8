"""One submission's bad batch id stays its own problem: the others of its tracking batch are
tracked, and it says on its page what is wrong. An announced cluster the batch system never
shows ends LaunchFailed after POMS_CLUSTER_GRACE, naming it, instead of Idle 0/0 for ever."""
from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from sqlalchemy import text

from app import states
from app.extensions import db
from app.launching import service
from app.models import Experimenter, Submission
from app.models.base import utcnow
from app.tracking.tracker import track_pass
from tests.fixtures.app import signed_in
from tests.fixtures.launching import wait_for


def _stage(tutorial):
    return next(s for s in tutorial.stages if s.name == "reco_fcl")


def _idle_with(stage, batch_id: str, config, launched_ago_s: float = 0) -> Submission:
    """A submission whose launch recorded `batch_id` (as one recorded before ids were
    checked, or a cluster that vanished from the engine)."""
    alice = db.session.query(Experimenter).filter_by(username="alice").one()
    submission = service.request_launch(stage, alice, test=False, origin="test",
                                        config=config)
    db.session.flush()
    submission.batch_ids = [batch_id]
    submission.batch_id = batch_id
    submission.launch_claimed_at = utcnow()
    submission.launch_finished_at = utcnow() - timedelta(seconds=launched_ago_s)
    states.transition(submission, states.IDLE, f"launched: batch id {batch_id}")
    db.session.commit()
    return submission


def test_foreign_batch_ids_do_not_stop_tracking_of_the_others(launch_app, tutorial):
    config = launch_app.config
    stage = _stage(tutorial)
    # Three foreign ids first: the pass meets them before the real launch.
    foreign = [_idle_with(stage, f"{n}.0@schedd{n}.elsewhere.gov", config).id
               for n in (7, 8, 9)]
    alice = db.session.query(Experimenter).filter_by(username="alice").one()
    real = service.request_launch(stage, alice, test=False, origin="test", config=config)
    db.session.commit()
    service.run_launch(real.id, config)
    spool = Path(config["POMS_BATCH_DIR"]) / "clusters" / "1" / "status.json"
    wait_for(lambda: '"done": true' in spool.read_text(), what="the jobs to end")
    result = track_pass(config)
    db.session.expire_all()
    done = db.session.get(Submission, real.id)
    assert done.state in ("Completed", "Located"), (done.state, result.errors)
    assert done.jobs_done == 3 and not done.tracking_error
    for submission_id, n in zip(foreign, (7, 8, 9), strict=True):
        row = db.session.get(Submission, submission_id)
        assert row.state == "Idle"
        assert row.tracking_error == (f"not a batch id of this batch system: "
                                      f"{n}.0@schedd{n}.elsewhere.gov does not belong to the "
                                      "local engine")
    assert "the batch system does not answer" not in result.errors
    # Shown on its own page.
    client = launch_app.test_client()
    signed_in(client, "alice")
    page = client.get(f"/e/mu2e/submission/{foreign[0]}/summary").get_data(as_text=True)
    assert "7.0@schedd7.elsewhere.gov does not belong to the local engine" in page


def test_an_announced_cluster_that_never_shows_fails_the_launch_after_the_grace(
        launch_app, tutorial):
    config = launch_app.config
    config["POMS_CLUSTER_GRACE"] = 5
    stage = _stage(tutorial)
    fresh = _idle_with(stage, "999.0@local", config, launched_ago_s=1).id
    old = _idle_with(stage, "998.0@local", config, launched_ago_s=6).id
    track_pass(config)
    db.session.expire_all()
    assert db.session.get(Submission, fresh).state == "Idle"  # still within the grace
    failed = db.session.get(Submission, old)
    assert failed.state == "LaunchFailed"
    assert failed.launch_error == ("the batch system has no cluster 998.0@local: not found "
                                   "5 s after the launch announced it")
    causes = db.session.execute(text("SELECT cause FROM submission_event WHERE "
                                     "submission_id = :id ORDER BY id"), {"id": old}).scalars()
    assert list(causes)[-1] == failed.launch_error
    # The other one, once its grace is over, too; and a pass after that changes nothing.
    db.session.get(Submission, fresh).launch_finished_at = utcnow() - timedelta(seconds=6)
    db.session.commit()
    track_pass(config)
    db.session.expire_all()
    assert db.session.get(Submission, fresh).state == "LaunchFailed"
