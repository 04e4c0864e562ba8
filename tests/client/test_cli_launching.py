"""Launching and following work from the shell: `poms launch` against a live server with a
real Redis, a real RQ worker (tests.fixtures.launching.work), the local launcher and batch
engine running real jobs, and tracking passes; then status, submissions, jobs, logs, kill,
hold and release, stage hold, and the split preview."""
from __future__ import annotations

import logging
import threading

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import BatchAction, Submission
from app.tracking.tracker import track_pass
from tests.fixtures.launching import import_tutorial, wait_for, work
from workers import jobs


@pytest.fixture
def app(launch_app):
    """`member` writes to the app these tests serve: launch_app (Redis, the local engine)."""
    return launch_app


@pytest.fixture
def shell(launch_app, member, live_server_factory, client_env):
    campaign = import_tutorial("alice")
    member("mu2e", "bob", "analysis")
    client_env.setattr(logging.getLogger("werkzeug"), "level", logging.WARNING)
    server = live_server_factory(launch_app)
    client_env.setenv("POMS_SERVER", server.url)
    client_env.setenv("POMS_EXPERIMENT", "mu2e")
    client_env.setenv("POMS_USER", "alice")
    return campaign


def _run_requested_actions(app) -> None:
    """What a worker runs for each requested batch action (RQ's worker wants the main
    thread for its signals; the client waits in this one)."""
    with app.app_context():
        try:
            for action_id in db.session.scalars(
                    select(BatchAction.id).where(BatchAction.state == "requested")).all():
                jobs.batch_action(action_id)
        finally:
            db.session.remove()


def completed(app, submission_id: int):
    def check():
        track_pass(app.config)
        db.session.expire_all()
        return db.session.get(Submission, submission_id).state == "Completed"
    return check


def test_launch_follow_and_read_the_logs(poms, shell, launch_app):
    name = shell.name
    dry = poms("launch", name, "reco_fcl", "--dry-run")
    assert dry.code == 0, dry.err
    assert "fife_launch" in dry.out and "POMS4_CAMPAIGN_NAME=" in dry.out
    assert poms("--json", "submissions").json["total"] == 0

    launched = poms("--json", "launch", name, "reco_fcl")
    assert launched.code == 0, launched.err
    body = launched.json
    assert body["version"] == 1 and body["queued"] is True and body["held"] is False
    sid = body["submission"]["id"]
    assert body["submission"]["state"] == "New"
    work(launch_app)

    # --watch redraws until nothing is active; tracking runs meanwhile, as the worker would.
    tracker = threading.Thread(target=lambda: _track(launch_app, sid), daemon=True)
    tracker.start()
    watched = poms("status", name, "--watch", "--interval", "0.2")
    tracker.join(timeout=60)
    assert watched.code == 0
    assert "stage reco_fcl" in watched.out and "Completed" in watched.out
    assert "[####################]" in watched.out and "3/3" in watched.out

    as_json = poms("--json", "status", name).json
    assert as_json["stages"][0]["submissions"][0]["jobs"]["done"] == 3

    listed = poms("submissions", "--campaign", name)
    assert str(sid) in listed.out and "reco_fcl" in listed.out
    assert poms("--json", "submissions", "--state", "Completed").json["total"] == 1
    assert poms("--json", "status").json["total"] == 0  # nothing active now

    shown = poms("submission", sid)
    assert shown.out.startswith(f"submission {sid}: {name} / reco_fcl, Completed")
    assert "- -> New" in shown.out and "New -> Idle" in shown.out
    assert "-> Completed  jobs: 3 done" in shown.out

    jobs = poms("--json", "jobs", sid).json
    assert jobs["total"] == 3 and {j["state"] for j in jobs["jobs"]} == {"Completed"}
    log = poms("logs", jobs["jobs"][0]["id"])
    assert log.code == 0 and log.out
    assert poms("output", sid).out.count("jobsub_submit") >= 1
    assert poms("--json", "files", sid).json["submission"] == sid
    assert poms("logs", 999999).code == 1

    # bob may not launch alice's analysis campaign.
    refused = poms("--user", "bob", "launch", name, "reco_fcl")
    assert refused.code == 1 and "may not launch" in refused.err


def _track(app, sid):
    with app.app_context():
        wait_for(completed(app, sid), timeout=60, what="completion")


def test_kill_hold_release_and_stage_hold(poms, shell, launch_app):
    name = shell.name
    stage = next(s for s in shell.stages if s.name == "reco_fcl")
    # A test launch takes the test overrides: both keep the jobs running while they are held
    # (jobs of no length could end, be tracked and be Located before the hold is asked).
    stage.param_overrides = [["--stage ", "reco_fcl"], ["-Oglobal.work_seconds=", "30"]]
    stage.test_param_overrides = [["--stage ", "reco_fcl"], ["-Oglobal.work_seconds=", "30"]]
    db.session.commit()

    sid = poms("--json", "launch", name, "reco_fcl", "--test").json["submission"]["id"]
    work(launch_app)
    # A kill, hold or release is requested: the server answers at once and a worker asks
    # the batch system (these used to be done in the request, and answered with the result).
    held = poms("hold", sid)
    assert held.code == 0, held.err
    assert f"submission {sid}: hold requested by alice at" in held.out
    assert poms("--json", "hold", sid).json["requested"]["id"] == \
        poms("--json", "actions", sid).json["actions"][0]["id"], "asked twice: one request"
    assert poms("release", sid).code == 1, "another action is pending"
    work(launch_app)
    assert "hold by alice: jobs held" in poms("actions", sid).out
    again = poms("hold", sid)
    assert again.code == 1 and "only idle or running work can be held" in again.err
    # --wait: the client follows the request until a worker has done it.
    worker = threading.Timer(1.0, _run_requested_actions, (launch_app,))
    worker.start()
    try:
        released = poms("release", sid, "--wait", "30")
    finally:
        worker.join()
    assert released.code == 0, released.err
    assert "jobs released (now Idle)" in released.out
    assert poms("--json", "kill", sid).json["requested"]["action"] == "kill"
    work(launch_app)
    assert poms("--json", "submission", sid).json["submission"]["state"] == "Removed"
    assert poms("--json", "jobs", sid, "--state", "Removed").json["total"] == 3
    # Removed has ended: a recovery may run, but the stage read no input files to re-run.
    shown = poms("recover", sid, "--dry-run")
    assert shown.code == 0 and f"of submission {sid}: 0 files" in shown.out
    nothing = poms("recover", sid)
    assert nothing.code == 1 and "no recovery:" in nothing.err

    assert "held: launches wait" in poms("hold-stage", name, "reco_fcl").out
    assert "(held)" in poms("stage", name, "reco_fcl").out
    waiting = poms("--json", "launch", name, "reco_fcl").json
    assert waiting["held"] is True and waiting["queued"] is False
    released = poms("--json", "release-stage", name, "reco_fcl").json
    assert released["released_submissions"] == [waiting["submission"]["id"]]
    assert released["queued"] is True
    assert poms("--user", "bob", "hold-stage", name, "reco_fcl").code == 1


def test_split_preview(poms, shell):
    name = shell.name
    assert poms("edit-stage", name, "reco_fcl", "dataset_or_split_data=a,b,c",
                "cs_split_type=list").code == 0
    shown = poms("split", name, "reco_fcl", "-n", "5")
    assert shown.code == 0, shown.err
    assert "1. a" in shown.out and "3. c" in shown.out
    assert poms("--json", "split", name, "reco_fcl").json["slices"][0]["dataset"] == "a"


def test_approval_stage_and_schedule(poms, shell, launch_app):
    name = shell.name
    assert poms("edit-stage", name, "reco", "stage_type=approval").code == 0
    sid = poms("--json", "launch", name, "reco").json["submission"]["id"]
    work(launch_app)
    assert "Awaiting Approval" in poms("submission", sid).out
    assert poms("--user", "bob", "approve", sid).code == 1
    approved = poms("approve", sid)
    assert approved.code == 0 and "approved (now Completed)" in approved.out
    assert poms("refuse", sid).code == 1

    scheduled = poms("schedule", name, "reco_fcl", "30 2 * * *")
    assert scheduled.code == 0 and "launches on '30 2 * * *', next at" in scheduled.out
    assert "no scheduled launches" in poms("schedule", name, "reco_fcl", "").out
    bad = poms("schedule", name, "reco_fcl", "whenever")
    assert bad.code == 1 and "[schedule]" in bad.err
