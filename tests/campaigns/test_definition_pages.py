"""Making job types and login setups from scratch on their pages, and removing unused ones
(the original's job_type_rm / login_setup_rm), through the test client."""
from __future__ import annotations

from sqlalchemy import select

from app.extensions import db
from app.models import AuditEntry, JobType, LoginSetup
from tests.fixtures.app import csrf_token, signed_in
from tests.fixtures.launching import import_tutorial


def make(client, kind, **form):
    token = csrf_token(client, f"/e/mu2e/{kind}s")
    return client.post(f"/e/mu2e/{kind}s/new", data={"csrf_token": token, **form})


def named(model, name):
    return db.session.scalar(select(model).where(model.name == name))


def test_make_a_job_type_from_scratch_checked_as_an_upload(app, client, member):
    member("mu2e", "alice", "analysis")
    signed_in(client, "alice")
    page = client.get("/e/mu2e/job_types").get_data(as_text=True)
    assert "New job type" in page and 'name="launch_script"' in page
    bad = make(client, "job_type", name="sim", launch_script="fife_launch",
               parameters="-c x.cfg")
    assert bad.status_code == 422
    said = bad.get_data(as_text=True)
    assert "parameters" in said and "Not made" in said and 'value="sim"' in said
    assert named(JobType, "sim") is None
    good = make(client, "job_type", name="sim", launch_script="fife_launch -c $UPLOADS/x.cfg",
                parameters='[["-Oa=", "1"]]')
    assert good.status_code == 302
    row = named(JobType, "sim")
    assert row.parameters == [["-Oa=", "1"]] and row.creator.username == "alice"
    entry = db.session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc())).first()
    assert entry.action == "job type created"
    again = make(client, "job_type", name="sim", launch_script="x")
    assert again.status_code == 422 and "already has" in again.get_data(as_text=True)


def test_a_login_setup_takes_a_role_one_may_give(app, client, member):
    member("mu2e", "alice", "analysis")
    signed_in(client, "alice")
    page = client.get("/e/mu2e/login_setups").get_data(as_text=True)
    assert '<option value="production"' not in page
    refused = make(client, "login_setup", name="prod", host="h", account="mu2epro",
                   role="production")
    assert refused.status_code == 403
    made = make(client, "login_setup", name="mine", host="mu2egpvm01.fnal.gov",
                account="alice", setup="source x.sh")
    assert made.status_code == 302 and named(LoginSetup, "mine").role == "analysis"
    odd = make(client, "login_setup", name="odd", host="-oProxyCommand=x", account="a")
    assert odd.status_code == 422 and named(LoginSetup, "odd") is None


def test_remove_only_what_no_stage_uses_and_only_who_may(app, client, member):
    campaign = import_tutorial("alice")
    used = campaign.stages[0].job_type
    member("mu2e", "bob", "analysis")
    signed_in(client, "alice")
    page = client.get(f"/e/mu2e/job_type/{used.id}").get_data(as_text=True)
    assert 'id="remove-definition"' not in page and "give them another job type" in page
    token = csrf_token(client, f"/e/mu2e/job_type/{used.id}")
    response = client.post(f"/e/mu2e/job_type/{used.id}/remove", data={"csrf_token": token})
    assert response.status_code == 302 and named(JobType, used.name) is not None
    assert "is used by 1 stage" in client.get(response.location).get_data(as_text=True)

    make(client, "job_type", name="spare", launch_script="fife_launch")
    spare = named(JobType, "spare")
    signed_in(client, "bob")  # not his: he may not remove it
    token = csrf_token(client, f"/e/mu2e/job_type/{spare.id}")
    assert client.post(f"/e/mu2e/job_type/{spare.id}/remove",
                       data={"csrf_token": token}).status_code == 403
    signed_in(client, "alice")
    page = client.get(f"/e/mu2e/job_type/{spare.id}").get_data(as_text=True)
    assert 'id="remove-definition"' in page
    token = csrf_token(client, f"/e/mu2e/job_type/{spare.id}")
    response = client.post(f"/e/mu2e/job_type/{spare.id}/remove", data={"csrf_token": token})
    assert response.status_code == 302 and response.location.endswith("/e/mu2e/job_types")
    assert named(JobType, "spare") is None
    entry = db.session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc())).first()
    assert (entry.action, entry.subject) == ("job type removed", "spare")
