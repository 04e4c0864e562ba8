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


def test_stragglers_of_a_completed_submission_are_tracked_to_their_end(launch_app, tutorial,
                                                                       tmp_path):
    """completion_pct 50: Completed when one of two jobs ended; the other still runs, and the
    page must go on showing it truly (running, then done, its log analysed), while the
    submission's own state stays as chaining left it."""
    from sqlalchemy import select

    from app import states
    from app.batch.base import JobRequest
    from app.batch.local import LocalEngine
    from app.models import Job
    from tests.fixtures.launching import wait_for

    stage = tutorial.stages[0]
    stage.completion_pct = 50
    release = tmp_path / "release"
    script = tmp_path / "job.sh"
    script.write_text(f'#!/bin/sh\n[ "$PROCESS" = 0 ] && exit 0\n'
                      f'while [ ! -e {release} ]; do sleep 0.1; done\nexit 0\n')
    script.chmod(0o755)
    engine = LocalEngine(launch_app.config["POMS_BATCH_DIR"], slots=4)
    submission = Submission(campaign_stage_id=stage.id, experiment_id=tutorial.experiment_id,
                            launch_claimed_at=utcnow(), launch_finished_at=utcnow())
    db.session.add(submission)
    db.session.flush()
    batch_id = engine.submit(JobRequest(executable=str(script), count=2,
                                        submission_id=submission.id))
    submission.batch_id, submission.batch_ids = batch_id, [batch_id]
    states.transition(submission, states.IDLE, "test launch")
    db.session.commit()

    finished = []  # what the worker queues for log analysis

    def counts():
        finished.extend(track_pass(launch_app.config).finished_jobs)
        db.session.expire_all()
        again = db.session.get(Submission, submission.id)
        return again.state, again.jobs_done, again.jobs_running

    wait_for(lambda: counts() == ("Completed", 1, 1), timeout=30, interval=0.2,
             what="Completed with one job done and one still running")
    release.touch()
    wait_for(lambda: counts()[1:] == (2, 0), timeout=30, interval=0.2,
             what="the straggler's end to be recorded")
    result = track_pass(launch_app.config)
    assert result.submissions == 0, "nothing left to track"
    assert db.session.get(Submission, submission.id).state == "Completed"
    rows = db.session.execute(select(Job.state, Job.ended_at)
                              .where(Job.submission_id == submission.id)).all()
    assert [state for state, _ in rows] == ["Completed", "Completed"]
    assert all(ended is not None for _, ended in rows)
    job_ids = db.session.scalars(select(Job.id).where(Job.submission_id == submission.id))
    assert sorted(finished) == sorted(job_ids), "each job's log queued for analysis once"


def test_jobsub_jobs_that_ended_before_the_first_look_are_counted(launch_app, tutorial,
                                                                  tmp_path):
    """jobsub_q lists queued jobs only. The launch announced 10 jobs; by the first tracking
    pass 6 have left the queue: they are ended, not forgotten."""
    from sqlalchemy import func, select

    from app.models import Job
    from tests.batch.test_jobsub import RECORDED, fake_bin

    bin_dir = fake_bin(tmp_path, {"jobsub_q": (RECORDED / "jobsub_q.out").read_text()})
    output = tmp_path / "launch.out"
    output.write_text((RECORDED / "jobsub_submit.out").read_text())
    submission = claimed_submission(launch_app, tutorial, launch_output=str(output))
    service.record_launch_end(submission, 0, JobsubEngine(bin_dir=str(bin_dir)))
    db.session.expire_all()
    submission = db.session.get(Submission, submission.id)
    assert submission.state == "Idle"
    assert db.session.scalar(select(func.count()).select_from(Job).where(
        Job.submission_id == submission.id, Job.state == "Idle")) == 10

    result = track_pass(launch_app.config, engine=JobsubEngine(bin_dir=str(bin_dir)))
    assert not result.errors
    db.session.expire_all()
    submission = db.session.get(Submission, submission.id)
    assert (submission.jobs_total, submission.jobs_done, submission.jobs_running,
            submission.jobs_idle, submission.jobs_held) == (10, 6, 2, 1, 1)
    assert submission.state == "Running"
    # Their logs are analysed like any finished job's (the real exit code is in the log).
    assert len(result.finished_jobs) == 6
