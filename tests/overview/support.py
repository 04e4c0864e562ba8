"""What the overview tests (and `make screenshots`) share: signing in, launching the
tutorial's stages for real, a reco whose jobs really failed, and moving a submission the
way the launch service or tracking would."""
from __future__ import annotations

from flask import current_app

from app import states, work
from app.batch.base import JobRequest
from app.batch.local import LocalEngine
from app.catalog.embedded import EmbeddedCatalog
from app.chaining.hooks import after_tracking
from app.extensions import db
from app.launching import service
from app.launching.inputs import prepare_inputs
from app.models import Submission
from app.tracking.tracker import track_submissions
from tests.chaining.support import fcl_done, launched_from, report
from tests.fixtures.launching import wait_for


def sign_in(page, url, username):
    """Dev-mode sign-in (no Kerberos): the login form takes the name."""
    page.goto(f"{url}/login")
    page.fill("input[name=username]", username)
    page.click("button[type=submit]")


def stage_of(campaign, name):
    return next(s for s in campaign.stages if s.name == name)


def ask_launch(campaign, stage_name="reco_fcl", user=None):
    """A launch asked for as the pages do: written (New), committed, then queued for a
    worker (which runs it unless its stage or the experiment is held)."""
    stage = stage_of(campaign, stage_name)
    submission = service.request_launch(stage, user or campaign.owner, test=False,
                                        origin="test", config=current_app.config)
    db.session.commit()
    work.queue_launches(current_app.config, [submission.id])
    return submission


def launch_failed(campaign, why="ssh: connect to host gpvm01: Connection refused"):
    """A launch that did not start, as the launch service records one."""
    submission = ask_launch(campaign)
    submission.launch_error = why
    states.transition(submission, states.LAUNCH_FAILED, why)
    db.session.commit()
    return submission


def text(response) -> str:
    return response.get_data(as_text=True)


def slow_tutorial(seconds: int = 8):
    """The tutorial campaign whose demo jobs take `seconds` each: long enough to act on
    them while they run, even on a loaded machine."""
    from tests.fixtures.launching import import_tutorial

    campaign = import_tutorial("alice", quick=True)
    for stage in campaign.stages:
        for key in ("param_overrides", "test_param_overrides"):
            setattr(stage, key, [o for o in getattr(stage, key)
                                 if o[0] != "-Oglobal.work_seconds="]
                    + [["-Oglobal.work_seconds=", str(seconds)]])
    db.session.commit()
    return campaign


# What a reco job says when dCache cannot give it its input: art's FileOpenError, exit 65.
FAILING_JOB = r"""#!/bin/bash
for i in $(seq 1 200); do echo "Begin processing the ${i}th record. run: 1210 event: $i"; done
echo "---- FileOpenError BEGIN"
echo "  Unable to open input file root://fndca1.fnal.gov/pnfs/mu2e/in.$PROCESS.art"
echo "---- FileOpenError END"
echo "Art has completed and will exit with status 65."
exit 65
"""


def reco_that_failed(tutorial, app, tmp_path):
    """The tutorial's reco, launched by chaining on reco_fcl's outputs, whose every job
    really ran on the local engine and failed: Failed, its input files all left to
    recover, each job's log kept."""
    fcl, names = fcl_done(tutorial, app, n=2)
    after_tracking(app.config)
    (reco,) = launched_from(fcl)
    prepare_inputs(reco, reco.dataset, None, tmp_path / "r", app.config)
    script = tmp_path / "reco_job.sh"
    script.write_text(FAILING_JOB)
    script.chmod(0o755)
    batch_id = LocalEngine(app.config["POMS_BATCH_DIR"]).submit(JobRequest(
        executable=str(script), count=2, submission_id=reco.id))
    reco.batch_id, reco.batch_ids = batch_id, [batch_id]
    states.transition(reco, states.IDLE, f"launched: batch id {batch_id}")
    db.session.commit()
    report(EmbeddedCatalog(db.session, "mu2e"), reco, batch_id, failed=names)

    def ended():
        track_submissions([reco.id], app.config)
        db.session.expire_all()
        return db.session.get(Submission, reco.id).state == states.FAILED

    wait_for(ended, timeout=60, what="reco's jobs to fail")
    return db.session.get(Submission, reco.id), names
