"""The tracking pass on its own: launches whose worker died, engines that do not answer."""
from __future__ import annotations

import subprocess

from app.batch.jobsub import JobsubEngine
from app.extensions import db
from app.launching import service
from app.models import Submission
from app.models.base import utcnow
from app.tracking.tracker import track_pass
from tests.fixtures.launching import work
from workers.queues import enqueue_launch


def claimed_submission(app, campaign, **launch) -> Submission:
    stage = campaign.stages[0]
    submission = service.request_launch(stage, campaign.owner, test=False, origin="test",
                                        config=app.config)
    submission.launch_claimed_at = utcnow()
    for key, value in launch.items():
        setattr(submission, key, value)
    db.session.commit()
    return submission


def test_a_launch_that_died_before_submitting_fails_and_is_never_run_again(launch_app,
                                                                          tutorial):
    dead = subprocess.Popen(["true"])
    dead.wait()
    submission = claimed_submission(launch_app, tutorial, launch_pid=dead.pid)
    result = track_pass(launch_app.config)
    assert (submission.id, "LaunchFailed") in result.transitions
    db.session.expire_all()
    submission = db.session.get(Submission, submission.id)
    assert submission.state == "LaunchFailed"
    assert "stopped before submitting" in submission.launch_error
    # A queued launch job that turns up later does nothing: the launch was claimed.
    enqueue_launch(launch_app.config["POMS_REDIS_URL"], submission.id)
    work(launch_app)
    assert db.session.get(Submission, submission.id).launch_output == ""


def test_a_launch_still_running_is_left_alone(launch_app, tutorial):
    alive = subprocess.Popen(["sleep", "30"])
    try:
        submission = claimed_submission(launch_app, tutorial, launch_pid=alive.pid)
        track_pass(launch_app.config)
        db.session.expire_all()
        assert db.session.get(Submission, submission.id).state == "New"
    finally:
        alive.kill()
        alive.wait()


def test_an_engine_that_does_not_answer_changes_nothing(launch_app, tutorial, tmp_path):
    submission = claimed_submission(launch_app, tutorial, state="Running", batch_id="5.0@x",
                                    batch_ids=["5.0@x"], jobs_total=2, jobs_running=2,
                                    launch_finished_at=utcnow())
    # jobsub's commands are not there: the engine cannot answer.
    engine = JobsubEngine(group="mu2e", bin_dir=str(tmp_path / "nowhere"))
    result = track_pass(launch_app.config, engine=engine)
    assert len(result.errors) == 1 and "did not answer" in result.errors[0]
    db.session.expire_all()
    again = db.session.get(Submission, submission.id)
    assert (again.state, again.jobs_running, again.jobs_total) == ("Running", 2, 2)


def test_lost_launches_are_queued_again_but_not_those_waiting_for_a_held_stage(launch_app,
                                                                              tutorial):
    from datetime import timedelta

    from app.tracking import actions
    from app.tracking.tracker import stale_unclaimed

    first, second = tutorial.stages
    lost = service.request_launch(first, tutorial.owner, test=False, origin="test",
                                  config=launch_app.config)
    waiting = service.request_launch(second, tutorial.owner, test=False, origin="test",
                                     config=launch_app.config)
    actions.hold_stage(second, tutorial.owner)
    for submission in (lost, waiting):
        submission.created = utcnow() - timedelta(minutes=10)
    db.session.commit()
    assert stale_unclaimed(launch_app.config) == [lost.id]
