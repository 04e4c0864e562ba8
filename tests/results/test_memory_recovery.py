"""A recovery of memory failures asks for more memory: the job type's factor, capped."""
from __future__ import annotations

from sqlalchemy import select

from app.catalog.recovery import RecoveryFile
from app.chaining.chain import launch_recovery
from app.extensions import db
from app.models import JobType, Submission
from app.models.logs import JobTypeMemoryPolicy
from app.results.memory import memory_recovery_overrides
from tests.fixtures.app import csrf_token, signed_in


def test_memory_failures_recover_with_the_raised_request_capped(launch_app, ran_submission):
    submission = ran_submission(["oom", "ok90"], memory="2000MB")
    # No policy on the job type: nothing is raised.
    assert memory_recovery_overrides(submission) == ([], None)

    alice = signed_in(launch_app.test_client(), "alice")
    stage_page = f"/e/mu2e/results/stage/{submission.campaign_stage_id}"
    response = alice.post(
        f"/e/mu2e/results/job-type/{submission.stage.job_type_id}/memory",
        data={"factor": "1.5", "cap_mb": "3000", "stage_id": submission.campaign_stage_id,
              "csrf_token": csrf_token(alice, stage_page)})
    assert response.status_code == 302
    policy = db.session.get(JobTypeMemoryPolicy, submission.stage.job_type_id)
    assert (policy.factor, policy.cap_mb) == (1.5, 3000)
    assert "asks for 1.5× the memory" in alice.get(stage_page).get_data(as_text=True)

    from app.catalog.embedded import EmbeddedCatalog

    EmbeddedCatalog(db.session, "mu2e").declare_file("in.0.art", size=10)
    db.session.commit()
    # Peak 2254 base-10 MB = 2150 MiB; x 1.5 = 3225 MB, over the cap of 3000.
    step = launch_recovery(submission, 1, "proj_status", [],
                           [RecoveryFile("in.0.art", "failed")], launch_app.config)
    db.session.commit()
    assert step.submission_id, step.note
    recovery = db.session.get(Submission, step.submission_id)
    assert ["-Osubmit.memory=", "3000MB"] in recovery.param_overrides
    assert recovery.recovery_of_id == submission.id
    assert "capped at 3000 MB" in step.note


def test_only_who_may_edit_the_job_type_sets_its_policy(launch_app, ran_submission):
    submission = ran_submission(["ok90"])
    from app.auth.members import ensure_member, find_or_create_experiment
    from app.auth.session import find_or_create_experimenter

    ensure_member(find_or_create_experiment("mu2e"), find_or_create_experimenter("bob"),
                  "analysis")
    db.session.commit()
    bob = signed_in(launch_app.test_client(), "bob")
    job_type = db.session.get(JobType, submission.stage.job_type_id)
    assert job_type.creator.username == "alice"
    page = bob.get(f"/e/mu2e/results/stage/{submission.campaign_stage_id}")
    assert 'name="factor"' not in page.get_data(as_text=True)
    response = bob.post(f"/e/mu2e/results/job-type/{job_type.id}/memory",
                        data={"factor": "2", "cap_mb": "9000",
                              "csrf_token": csrf_token(bob, "/e/mu2e/dashboard")})
    assert response.status_code == 403
    assert db.session.scalar(select(JobTypeMemoryPolicy)) is None
    # Without the CSRF token even the owner is refused.
    alice = signed_in(launch_app.test_client(), "alice")
    response = alice.post(f"/e/mu2e/results/job-type/{job_type.id}/memory",
                          data={"factor": "2", "cap_mb": "9000"})
    assert response.status_code == 400
    assert db.session.scalar(select(JobTypeMemoryPolicy)) is None
