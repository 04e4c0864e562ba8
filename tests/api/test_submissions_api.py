"""/api/v1 launching and submissions through the test client, with real Redis and RQ (the
launch_app fixture): good and bad input, and who may do what."""
from __future__ import annotations

import pytest

from app.extensions import db
from app.models import Submission
from tests.api.support import API, as_user, tutorial_text
from tests.fixtures.launching import import_tutorial, work

EXP = f"{API}/experiments/mu2e"


@pytest.fixture
def app(launch_app):
    """`member` writes to the app these tests serve: launch_app (Redis, the local engine)."""
    return launch_app


@pytest.fixture
def api(launch_app, member):
    campaign = import_tutorial("alice")
    member("mu2e", "bob", "analysis")
    member("mu2e", "sam", "production-shifter")
    member("mu2e", "pat", "production")
    client = launch_app.test_client()
    return client, campaign.name


def test_launch_dry_run_writes_nothing_and_a_launch_is_queued(api, launch_app):
    client, name = api
    url = f"{EXP}/campaigns/{name}/stages/reco_fcl/launch"
    dry = client.post(url, json={"dry_run": True, "test": True}, headers=as_user("alice"))
    body = dry.get_json()
    assert dry.status_code == 200 and body["dry_run"] is True and body["test"] is True
    assert body["environment"]["POMS4_TEST_LAUNCH"] == "True"
    # The whole launch script, as the submission's command will hold it: the sandbox
    # ($UPLOADS) first, then the launch.
    assert body["command"].startswith("# POMS launch sandbox")
    assert "\n# POMS launch script" in body["command"] and body["command"].endswith(
        f"\n{body['command_line']}\nstatus=$?\nset +x\necho \"== completed: $status ==\"\n"
        "exit $status\n")
    assert body["command_line"].startswith("fife_launch -c examples/mu2e/reco.cfg")
    assert db.session.query(Submission).count() == 0

    launched = client.post(url, headers=as_user("alice"))  # no body: a production launch
    body = launched.get_json()
    assert launched.status_code == 202 and body["queued"] is True
    sid = body["submission"]["id"]
    work(launch_app)
    shown = client.get(f"{EXP}/submissions/{sid}", headers=as_user("bob")).get_json()
    # launched: its jobs may already have ended and their files been found (Located)
    assert shown["state"] in ("Idle", "Running", "Completed", "Located") and shown["batch_id"]
    assert shown["jobs"]["total"] == 3 and "fife_launch" in shown["command"]
    history = client.get(f"{EXP}/submissions/{sid}/history", headers=as_user("bob")).get_json()
    assert history["items"][0]["to"] == "New" and history["items"][0]["by"] == "alice"
    output = client.get(f"{EXP}/submissions/{sid}/output", headers=as_user("bob"))
    assert output.mimetype == "text/plain" and "jobsub_submit" in output.get_data(as_text=True)
    jobs = client.get(f"{EXP}/submissions/{sid}/jobs?per_page=2", headers=as_user("bob"))
    assert jobs.get_json()["total"] == 3 and len(jobs.get_json()["items"]) == 2


@pytest.mark.parametrize("body, status, field", [
    ({"test": "yes"}, 422, "test"), ({"dry_run": 1}, 422, "dry_run"), ([1], 400, None),
])
def test_launch_refuses_bad_bodies(api, body, status, field):
    client, name = api
    response = client.post(f"{EXP}/campaigns/{name}/stages/reco_fcl/launch", json=body,
                           headers=as_user("alice"))
    assert response.status_code == status and response.get_json()["field"] == field


def test_who_may_launch(api):
    client, name = api
    url = f"{EXP}/campaigns/{name}/stages/reco_fcl/launch"
    # alice's analysis campaign is alice's (and a superuser's) to launch.
    for user, role in (("bob", "analysis"), ("sam", "production-shifter"),
                       ("pat", "production")):
        response = client.post(url, json={"dry_run": True}, headers=as_user(user))
        assert response.status_code == 403, user
        assert response.get_json() == {
            "error": f"acting as {role}, you may not launch {name}", "field": None}
    assert client.post(f"{EXP}/campaigns/{name}/stages/nope/launch", json={},
                       headers=as_user("alice")).status_code == 404


def test_a_shifter_launches_production_work_but_does_not_edit_it(api, launch_app):
    client, _name = api
    # Its own login setup: the tutorial's is alice's analysis one, which a production
    # campaign may not launch with.
    production = tutorial_text(**{"poms_role = analysis": "poms_role = production",
                                  "name = srsoleti_tutorial": "name = prod",
                                  "srsoleti_poms_login": "mu2epro_login"})
    assert client.post(f"{EXP}/campaigns", data=production, headers={
        **as_user("pat"), "Content-Type": "text/plain"}).status_code == 201
    url = f"{EXP}/campaigns/prod/stages/reco_fcl"
    assert client.post(f"{url}/launch", json={"dry_run": True},
                       headers=as_user("sam")).status_code == 200
    assert client.patch(url, json={"fields": {"vo_role": "x"}},
                        headers=as_user("sam")).status_code == 403
    assert client.post(f"{url}/hold", headers=as_user("sam")).get_json()["held"] is True
    assert client.post(f"{url}/hold", headers=as_user("bob")).status_code == 403


def test_submission_lists_filters_and_bad_parameters(api, launch_app):
    client, name = api
    url = f"{EXP}/campaigns/{name}/stages/reco_fcl/launch"
    ids = [client.post(url, json={}, headers=as_user("alice")).get_json()["submission"]["id"]
           for _ in range(3)]
    listed = client.get(f"{EXP}/submissions?per_page=2", headers=as_user("bob")).get_json()
    assert listed["total"] == 3 and [s["id"] for s in listed["items"]] == ids[::-1][:2]
    by_stage = client.get(f"{EXP}/submissions?campaign={name}&stage=reco",
                          headers=as_user("bob")).get_json()
    assert by_stage["total"] == 0
    assert client.get(f"{EXP}/submissions?state=New&active=1",
                      headers=as_user("bob")).get_json()["total"] == 3
    for query, field in (("state=Sleeping", "state"), ("stage=reco", "stage"),
                         ("active=2", "active"), ("page=0", "page")):
        response = client.get(f"{EXP}/submissions?{query}", headers=as_user("bob"))
        assert response.status_code == 400 and response.get_json()["field"] == field
    assert client.get(f"{EXP}/submissions?campaign=nope",
                      headers=as_user("bob")).status_code == 404
    for path in ("", "/jobs", "/history", "/output"):
        response = client.get(f"{EXP}/submissions/999{path}", headers=as_user("bob"))
        assert response.status_code == 404 and response.get_json()["field"] == "submission_id"
    response = client.get(f"{EXP}/submissions/{ids[0]}/jobs?state=Lost", headers=as_user("bob"))
    assert response.status_code == 400
    assert client.get(f"{EXP}/jobs/999/log", headers=as_user("bob")).status_code == 404


def test_actions_refused_in_the_wrong_state_or_role(api, launch_app):
    client, name = api
    sid = client.post(f"{EXP}/campaigns/{name}/stages/reco_fcl/launch", json={},
                      headers=as_user("alice")).get_json()["submission"]["id"]
    response = client.post(f"{EXP}/submissions/{sid}/release", headers=as_user("alice"))
    assert response.status_code == 409 and "not Held" in response.get_json()["error"]
    assert client.post(f"{EXP}/submissions/{sid}/kill",
                       headers=as_user("bob")).status_code == 403
    killed = client.post(f"{EXP}/submissions/{sid}/kill", headers=as_user("alice")).get_json()
    assert killed["done"] == "cancelled before it launched"
    assert killed["submission"]["state"] == "Cancelled"
    again = client.post(f"{EXP}/submissions/{sid}/kill", headers=as_user("alice"))
    assert again.status_code == 409


def test_update_submission_records_a_batch_id(api, launch_app, tmp_path):
    from app.batch.base import JobRequest
    from app.batch.local import LocalEngine

    client, name = api
    sid = client.post(f"{EXP}/campaigns/{name}/stages/reco_fcl/launch", json={},
                      headers=as_user("alice")).get_json()["submission"]["id"]
    url = f"{EXP}/submissions/{sid}/update"
    # A cluster the engine knows was submitted for this submission (as the job wrapper's
    # jobsub_submit does, with POMS_TASK_ID), and one submitted for another.
    job = tmp_path / "job.sh"
    job.write_text("#!/bin/sh\ntrue\n")
    engine = LocalEngine(launch_app.config["POMS_BATCH_DIR"])
    own = engine.submit(JobRequest(executable=str(job), submission_id=sid))
    other = engine.submit(JobRequest(executable=str(job), submission_id=sid + 100))
    response = client.post(url, json={"jobsub_job_id": own}, headers=as_user("alice"))
    assert response.status_code == 200
    assert response.get_json()["batch_ids"] == [own]
    assert response.get_json()["state"] == "New"  # states move only through tracking
    for claimed in (other, "12345.0@jobsub01.fnal.gov"):
        refused = client.post(url, json={"jobsub_job_id": claimed}, headers=as_user("alice"))
        assert refused.status_code == 409 and refused.get_json()["field"] == "jobsub_job_id"
    assert client.get(f"{EXP}/submissions/{sid}", headers=as_user("alice")).get_json()[
        "batch_ids"] == [own]
    for body in ({}, {"jobsub_job_id": ""}, {"jobsub_job_id": "a b"}, {"jobsub_job_id": 5}):
        bad = client.post(url, json=body, headers=as_user("alice"))
        assert bad.status_code == 422 and bad.get_json()["field"] == "jobsub_job_id"
    assert client.post(url, json={"jobsub_job_id": "1.0@x"},
                       headers=as_user("bob")).status_code == 403


def test_split_preview_good_and_bad(api):
    client, name = api
    stage = f"{EXP}/campaigns/{name}/stages/reco_fcl"
    client.patch(stage, json={"fields": {"dataset_or_split_data": "x,y",
                                         "cs_split_type": "list"}}, headers=as_user("alice"))
    shown = client.get(f"{stage}/split?n=3", headers=as_user("bob")).get_json()
    assert [s["dataset"] for s in shown["slices"]] == ["x", "y"]
    assert shown["done"]
    assert client.get(f"{stage}/split?n=0", headers=as_user("bob")).status_code == 400
    client.patch(stage, json={"fields": {"dataset_or_split_data": "",
                                         "cs_split_type": "nfiles(2)"}},
                 headers=as_user("alice"))
    response = client.get(f"{stage}/split", headers=as_user("bob"))
    assert response.status_code == 422 and response.get_json()["field"] == "cs_split_type"


def test_campaign_status(api, launch_app):
    client, name = api
    client.post(f"{EXP}/campaigns/{name}/stages/reco/hold", headers=as_user("alice"))
    client.post(f"{EXP}/campaigns/{name}/stages/reco_fcl/launch", json={},
                headers=as_user("alice"))
    doc = client.get(f"{EXP}/campaigns/{name}/status", headers=as_user("bob")).get_json()
    assert [s["name"] for s in doc["stages"]] == ["reco_fcl", "reco"]
    assert doc["stages"][1]["held"] is True
    assert doc["stages"][0]["submissions"][0]["state"] == "New"
    assert client.get(f"{EXP}/campaigns/{name}/status?limit=0",
                      headers=as_user("bob")).status_code == 400


def test_files_lists_the_launch_input_a_page_at_a_time(api):
    client, name = api
    sid = client.post(f"{EXP}/campaigns/{name}/stages/reco_fcl/launch", json={},
                      headers=as_user("alice")).get_json()["submission"]["id"]
    url = f"{EXP}/submissions/{sid}/files"
    assert client.get(url, headers=as_user("bob")).get_json()["total"] == 0
    submission = db.session.get(Submission, sid)
    submission.input_files = [f"f{i}.art" for i in range(5)]  # as a launch records them
    db.session.commit()
    page = client.get(f"{url}?per_page=2&page=3", headers=as_user("bob")).get_json()
    assert page["total"] == 5 and page["pages"] == 3
    assert page["items"] == [{"name": "f4.art", "kind": "input"}]


def test_schedule_a_stage(api):
    client, name = api
    url = f"{EXP}/campaigns/{name}/stages/reco_fcl/schedule"
    set_ = client.put(url, json={"schedule": "0 */6 * * *"}, headers=as_user("alice"))
    assert set_.status_code == 200 and set_.get_json()["next"].endswith(":00:00Z")
    for bad in ("every day", "0 0 30 2 *"):
        response = client.put(url, json={"schedule": bad}, headers=as_user("alice"))
        assert response.status_code == 422 and response.get_json()["field"] == "schedule"
    assert client.put(url, json={"schedule": 5}, headers=as_user("alice")).status_code == 422
    assert client.put(url, json={"schedule": ""}, headers=as_user("bob")).status_code == 403
    cleared = client.put(url, json={"schedule": ""}, headers=as_user("alice")).get_json()
    assert cleared["schedule"] == "" and cleared["next"] is None


def test_approve_and_refuse_only_awaiting_approval(api):
    client, name = api
    sid = client.post(f"{EXP}/campaigns/{name}/stages/reco_fcl/launch", json={},
                      headers=as_user("alice")).get_json()["submission"]["id"]
    response = client.post(f"{EXP}/submissions/{sid}/approve", headers=as_user("alice"))
    assert response.status_code == 409 and "not Awaiting Approval" in response.get_json()["error"]
    assert client.post(f"{EXP}/submissions/{sid}/refuse",
                       headers=as_user("bob")).status_code == 403


def test_recover_waits_for_the_end_and_says_when_nothing_is_left(api, launch_app):
    client, name = api
    sid = client.post(f"{EXP}/campaigns/{name}/stages/reco_fcl/launch", json={},
                      headers=as_user("alice")).get_json()["submission"]["id"]
    url = f"{EXP}/submissions/{sid}/recover"
    dry = client.post(url, json={"dry_run": True}, headers=as_user("alice")).get_json()
    assert dry["recovers"] == sid and dry["file_count"] == 0
    assert "recoveries wait until it ends" in dry["note"]
    early = client.post(url, headers=as_user("alice"))
    assert early.status_code == 409 and "waits until it ends" in early.get_json()["error"]
    assert client.post(url, json={}, headers=as_user("bob")).status_code == 403
    assert client.post(url, json={"type": 3}, headers=as_user("alice")).status_code == 422

    client.post(f"{EXP}/submissions/{sid}/kill", headers=as_user("alice"))  # now Cancelled
    work(launch_app)
    after = client.post(url, json={}, headers=as_user("alice"))
    assert after.status_code == 409 and after.get_json()["error"].startswith("no recovery:")
