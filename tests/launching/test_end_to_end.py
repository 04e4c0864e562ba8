"""The whole slice: launch the tutorial's first stage, a real RQ worker runs the command
through the local launcher, fife_launch and jobsub_submit start local jobs, tracking follows
them until the submission is Completed."""
from __future__ import annotations

from pathlib import Path

from app.extensions import db
from app.launching import service
from app.models import Job, Submission, SubmissionEvent
from app.tracking.tracker import track_pass
from tests.fixtures.launching import wait_for, work
from workers.queues import enqueue_launch


def test_tutorial_first_stage_launches_runs_and_completes(launch_app, tutorial):
    stage = next(s for s in tutorial.stages if s.name == "reco_fcl")
    submission = service.request_launch(stage, tutorial.owner, test=False, origin="test",
                                        config=launch_app.config)
    db.session.commit()
    assert submission.state == "New"
    enqueue_launch(launch_app.config["POMS_REDIS_URL"], submission.id)
    work(launch_app)

    submission = db.session.get(Submission, submission.id)
    assert submission.state in ("Idle", "Running", "Completed", "Located"), \
        submission.launch_error
    assert submission.batch_id.endswith(".0@local")
    assert submission.jobs_total == 3  # the demo cfg's reco_fcl stage runs 3 jobs
    output = Path(submission.launch_output).read_text()
    assert "jobsub_submit" in output and f"Use job id {submission.batch_id}" in output

    def completed():
        track_pass(launch_app.config)
        db.session.expire_all()
        # Completed; chaining (issue 5) may already have moved it on to Located.
        return db.session.get(Submission, submission.id).state in ("Completed", "Located")

    wait_for(completed, what="the submission to complete")
    submission = db.session.get(Submission, submission.id)
    assert (submission.jobs_done, submission.jobs_failed) == (3, 0)
    jobs = db.session.query(Job).filter_by(submission_id=submission.id).all()
    assert sorted(j.batch_job_id.split("@")[0].split(".")[1] for j in jobs) == ["0", "1", "2"]
    assert all(j.exit_code == 0 for j in jobs)
    history = [e.to_state for e in db.session.query(SubmissionEvent)
               .filter_by(submission_id=submission.id).order_by(SubmissionEvent.id)]
    assert history[0] == "New" and "Completed" in history and "Idle" in history
    # Each job wrote one FCL file, copied to the stage's output directory.
    outputs = Path(launch_app.config["POMS_BATCH_DIR"]) / "outputs" / "reco_fcl"
    assert len(list(outputs.glob("*.fcl"))) == 3
