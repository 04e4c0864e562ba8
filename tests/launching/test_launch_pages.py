"""Launching from the pages: the dry-run preview, confirm, the submission page, actions."""
from __future__ import annotations

import re

from sqlalchemy import func, select

from app.extensions import db
from app.models import Submission
from app.tracking.tracker import track_submissions
from tests.fixtures.app import csrf_token, signed_in
from tests.fixtures.launching import wait_for, work


def text(response) -> str:
    return response.get_data(as_text=True)


def stage_id(campaign, name):
    return next(s.id for s in campaign.stages if s.name == name)


def count_submissions() -> int:
    return db.session.scalar(select(func.count()).select_from(Submission))


def test_preview_shows_the_exact_command_and_writes_nothing(client, tutorial):
    signed_in(client, "alice")
    sid = stage_id(tutorial, "reco_fcl")
    page = text(client.get(f"/e/mu2e/stage/{sid}/launch?test=1"))
    assert "fife_launch -c examples/mu2e/reco.cfg --stage reco_fcl" in page
    assert "POMS4_CAMPAIGN_STAGE_NAME" in page and "JOBSUB_GROUP" in page
    assert "setup fife_utils v3_5_0" in page
    assert 'id="confirm-launch"' in page
    assert count_submissions() == 0


def test_confirm_launches_and_the_submission_page_follows_it(client, tutorial, launch_app):
    signed_in(client, "alice")
    sid = stage_id(tutorial, "reco_fcl")
    token = csrf_token(client, f"/e/mu2e/stage/{sid}/launch?test=0")
    response = client.post(f"/e/mu2e/stage/{sid}/launch", data={"csrf_token": token, "test": "0"})
    assert response.status_code == 302
    submission_id = int(re.search(r"/submission/(\d+)", response.location).group(1))
    page = text(client.get(response.location))
    assert "Submission" in page and "New" in page
    work(launch_app)
    summary = text(client.get(f"/e/mu2e/submission/{submission_id}/summary"))
    # Completed; on a slow machine chaining may already have moved it on to Located.
    assert re.search(r"Idle|Running|Completed|Located", summary)
    assert "@local" in summary
    jobs = text(client.get(f"/e/mu2e/submission/{submission_id}/jobs"))
    assert jobs.count("data-job=") == 3
    output = text(client.get(f"/e/mu2e/submission/{submission_id}/output"))
    assert "Use job id" in output
    history = text(client.get(f"/e/mu2e/submission/{submission_id}/history"))
    assert "launch asked by alice (web)" in history
    section = text(client.get(f"/e/mu2e/stage/{sid}/submissions"))
    assert f'data-submission="{submission_id}"' in section
    # Each job's log is one click away: what the demo job printed, through the engine.
    from app.models import Job

    job = db.session.query(Job).filter_by(submission_id=submission_id).order_by(Job.id).first()
    log_url = f"/e/mu2e/submission/{submission_id}/job/{job.id}/log"
    wait_for(lambda: "fife_wrap: exit status 0" in text(client.get(log_url)),
             what="the first job's log to show its end")
    assert "wrote mu2e_reco." in text(client.get(log_url))


def test_launch_without_csrf_token_is_refused(client, tutorial):
    signed_in(client, "alice")
    sid = stage_id(tutorial, "reco_fcl")
    response = client.post(f"/e/mu2e/stage/{sid}/launch", data={"test": "0"})
    assert response.status_code == 400
    assert count_submissions() == 0


def test_someone_else_may_not_launch_an_analysis_campaign(client, tutorial, member):
    member("mu2e", "bob", "analysis")
    signed_in(client, "bob")
    sid = stage_id(tutorial, "reco_fcl")
    assert client.get(f"/e/mu2e/stage/{sid}/launch").status_code == 403
    token = csrf_token(client, f"/e/mu2e/stage/{sid}")
    response = client.post(f"/e/mu2e/stage/{sid}/launch", data={"csrf_token": token})
    assert response.status_code == 403
    assert count_submissions() == 0
    section = text(client.get(f"/e/mu2e/stage/{sid}/submissions"))
    assert "Launch…" not in section


def test_kill_removes_the_jobs(client, tutorial, launch_app):
    signed_in(client, "alice")
    stage = next(s for s in tutorial.stages if s.name == "reco_fcl")
    # Slow jobs, so there is something to kill.
    stage.param_overrides = [["--stage ", "reco_fcl"], ["-Oglobal.work_seconds=", "30"]]
    db.session.commit()
    token = csrf_token(client, f"/e/mu2e/stage/{stage.id}/launch")
    response = client.post(f"/e/mu2e/stage/{stage.id}/launch", data={"csrf_token": token})
    submission_id = int(re.search(r"/submission/(\d+)", response.location).group(1))
    work(launch_app)

    def running() -> bool:
        # On a loaded machine the jobs may start after the launch's own tracking pass.
        track_submissions([submission_id], launch_app.config)
        db.session.expire_all()
        return db.session.get(Submission, submission_id).state == "Running"

    wait_for(running, what="the jobs to run")
    response = client.post(f"/e/mu2e/submission/{submission_id}/kill",
                           data={"csrf_token": token})
    assert response.status_code == 302
    # The request does not wait on the batch system: the kill is requested (and shown as
    # such) until a worker has done it. It used to be done in the request.
    db.session.expire_all()
    assert db.session.get(Submission, submission_id).state == "Running"
    summary = text(client.get(f"/e/mu2e/submission/{submission_id}/summary"))
    assert "kill requested by alice at" in summary
    assert 'data-live="2"' in summary  # it follows the submission until the worker is done
    work(launch_app)
    submission = db.session.get(Submission, submission_id)
    assert submission.state == "Removed"
    assert submission.jobs_removed == 3
    summary = text(client.get(f"/e/mu2e/submission/{submission_id}/summary"))
    assert "kill by alice: jobs removed" in summary
    from app.batch.local import LocalEngine

    engine = LocalEngine(launch_app.config["POMS_BATCH_DIR"])
    wait_for(lambda: all(j.state == "Removed" for j in engine.query(submission.batch_ids)),
             what="the local engine to remove the jobs")


def test_dashboard_counts_submissions_by_state_and_polls_itself(client, tutorial, launch_app):
    from app.launching import service

    stage = next(s for s in tutorial.stages if s.name == "reco_fcl")
    for _ in range(2):
        service.request_launch(stage, tutorial.owner, test=False, origin="test",
                               config=launch_app.config)
    db.session.commit()
    signed_in(client, "alice")
    page = text(client.get("/e/mu2e/dashboard"))
    assert 'hx-trigger="sse:experiment, live-refresh"' in page and "sse-connect=" in page
    live = text(client.get("/e/mu2e/dashboard/live"))
    assert re.search(r'data-state="New">.*?<strong class="count">2</strong>', live, re.S)
    assert re.search(r'data-state="Running">.*?<strong class="count">0</strong>', live, re.S)
    assert live.count("/e/mu2e/submission/") == 2


def test_the_job_table_pages_and_filters_by_state(client, tutorial):
    from sqlalchemy import insert

    from app.models import Job
    from app.tracking.tracker import recount

    stage = tutorial.stages[0]
    submission = Submission(campaign_stage_id=stage.id, experiment_id=tutorial.experiment_id,
                            state="Running", batch_id="4.0@local", batch_ids=["4.0@local"])
    db.session.add(submission)
    db.session.flush()
    db.session.execute(insert(Job), [
        dict(submission_id=submission.id, batch_job_id=f"4.{p}@local",
             state="Failed" if p % 10 == 0 else "Running", exit_code=1 if p % 10 == 0 else None)
        for p in range(120)
    ])
    recount(submission)
    db.session.commit()
    signed_in(client, "alice")
    base = f"/e/mu2e/submission/{submission.id}/jobs"
    first = text(client.get(base))
    assert first.count("data-job=") == 50 and "page 1 of 3" in first
    last = text(client.get(f"{base}?page=3"))
    assert last.count("data-job=") == 20
    failed = text(client.get(f"{base}?state=Failed"))
    assert failed.count("data-job=") == 12 and "12 job(s) Failed" in failed
    assert 'data-job="4.10@local"' in failed and 'data-job="4.11@local"' not in failed


def test_the_launch_output_shows_while_the_launch_runs(client, tutorial, launch_app):
    import threading

    from app.launching import service

    stage = next(s for s in tutorial.stages if s.name == "reco_fcl")
    stage.login_setup.setup = 'echo "preparing the launch"; sleep 4; ' + stage.login_setup.setup
    db.session.commit()
    submission = service.request_launch(stage, tutorial.owner, test=False, origin="test",
                                        config=launch_app.config)
    db.session.commit()
    submission_id = submission.id

    def run():
        with launch_app.app_context():
            service.run_launch(submission_id, launch_app.config)

    launching = threading.Thread(target=run)
    launching.start()
    signed_in(client, "alice")
    try:
        url = f"/e/mu2e/submission/{submission_id}/output"
        shown = wait_for(lambda: (lambda t: t if "preparing the launch" in t else None)(
            text(client.get(url))), what="the first lines of the launch output")
        assert "The launch is running" in shown and "Use job id" not in shown
        assert 'hx-trigger="every 1s"' in shown
    finally:
        launching.join()
    assert "Use job id" in text(client.get(url))


def test_hold_a_stage_launch_waits_release_queues_it(client, tutorial, launch_app):
    signed_in(client, "alice")
    sid = stage_id(tutorial, "reco_fcl")
    token = csrf_token(client, f"/e/mu2e/stage/{sid}")
    assert client.post(f"/e/mu2e/stage/{sid}/hold", data={"csrf_token": token}).status_code == 302
    assert "Stage held by alice" in text(client.get(f"/e/mu2e/stage/{sid}/submissions"))
    response = client.post(f"/e/mu2e/stage/{sid}/launch", data={"csrf_token": token})
    submission_id = int(re.search(r"/submission/(\d+)", response.location).group(1))
    assert "waits until it is released" in text(client.get(response.location))
    work(launch_app)
    assert db.session.get(Submission, submission_id).state == "New"
    client.post(f"/e/mu2e/stage/{sid}/release", data={"csrf_token": token})
    work(launch_app)
    assert db.session.get(Submission, submission_id).batch_id.endswith("@local")


def test_a_schedule_is_saved_and_a_bad_one_refused(client, tutorial):
    signed_in(client, "alice")
    sid = stage_id(tutorial, "reco_fcl")
    token = csrf_token(client, f"/e/mu2e/stage/{sid}")
    client.post(f"/e/mu2e/stage/{sid}/schedule", data={"csrf_token": token,
                                                       "schedule": "0 */6 * * *"})
    section = text(client.get(f"/e/mu2e/stage/{sid}/submissions"))
    assert 'value="0 */6 * * *"' in section and "next launch" in section
    client.post(f"/e/mu2e/stage/{sid}/schedule", data={"csrf_token": token,
                                                       "schedule": "sometimes"})
    page = text(client.get(f"/e/mu2e/stage/{sid}"))
    assert "Schedule not saved" in page and "not a cron expression" in page
