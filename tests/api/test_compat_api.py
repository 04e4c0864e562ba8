"""/api/v1 endpoints the original client's calls need: job types and login setups made,
edited, removed and recoveries merged; stages added and removed; parameter overrides
merged; campaigns tagged; names by id; external submissions and reported states; and the
X-POMS-Role header. Each checks the role, audits, and writes all or nothing."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import AuditEntry, JobType, LoginSetup, Submission, SubmissionEvent
from app.tracking.tracker import stale_unclaimed
from tests.api.support import API, as_user, tutorial_text

EXP = f"{API}/experiments/mu2e"
CAMPAIGN = f"{EXP}/campaigns/srsoleti_tutorial"


def actions() -> list[str]:
    db.session.expire_all()
    return [a for a in db.session.scalars(select(AuditEntry.action).order_by(AuditEntry.id))]


def test_a_job_type_is_made_edited_and_removed_once_no_stage_uses_it(client, tutorial):
    made = client.post(f"{EXP}/job_types", headers=as_user("alice"), json={
        "name": "mine", "fields": {"launch_script": "fife_launch -c $UPLOADS/x.cfg",
                                   "parameters": [["-Oglobal.x=", "1"]],
                                   "output_file_patterns": "%.art"}})
    assert made.status_code == 201, made.get_json()
    body = made.get_json()
    assert body["ini"]["parameters"] == '[["-Oglobal.x=", "1"]]' and body["used_by"] == []
    assert body["creator"] == "alice"

    again = client.post(f"{EXP}/job_types", headers=as_user("alice"),
                        json={"name": "mine", "fields": {"launch_script": "x"}})
    assert again.status_code == 409 and "already has a job type named 'mine'" in \
        again.get_json()["error"]
    bad = client.post(f"{EXP}/job_types", headers=as_user("alice"), json={
        "name": "bad", "fields": {"launch_script": "x", "parameters": "[[1, 2]]"}})
    assert bad.status_code == 422 and "entry 1" in bad.get_json()["error"]
    no_script = client.post(f"{EXP}/job_types", headers=as_user("alice"),
                            json={"name": "empty"})
    assert no_script.status_code == 422 and "needs a launch_script" in \
        no_script.get_json()["error"]
    assert db.session.scalar(select(JobType).where(JobType.name.in_(["bad", "empty"]))) is None

    edited = client.patch(f"{EXP}/job_types/mine", headers=as_user("alice"),
                          json={"fields": {"output_file_patterns": "%.root"}})
    assert edited.status_code == 200 and edited.get_json()["ini"]["output_file_patterns"] == \
        "%.root"
    refused = client.patch(f"{EXP}/job_types/mine", headers=as_user("bob"),
                           json={"fields": {"output_file_patterns": "%"}})
    assert refused.status_code == 403 and "someone else made it" in refused.get_json()["error"]
    assert client.delete(f"{EXP}/job_types/mine", headers=as_user("bob")).status_code == 403

    in_use = client.delete(f"{EXP}/job_types/mu2e_reco_srsoleti_jobtype",
                           headers=as_user("pat"))
    assert in_use.status_code == 409
    assert in_use.get_json()["stages"] == ["srsoleti_tutorial/reco"]
    assert "used by 1 stage: srsoleti_tutorial/reco" in in_use.get_json()["error"]

    gone = client.delete(f"{EXP}/job_types/mine", headers=as_user("alice"))
    assert gone.status_code == 200 and gone.get_json() == {"deleted": "mine"}
    assert client.get(f"{EXP}/job_types/mine", headers=as_user("alice")).status_code == 404
    assert actions()[-3:] == ["job type created", "job type edited", "job type removed"]


def test_a_login_setup_is_made_and_removal_names_the_stages_using_it(client, tutorial):
    made = client.post(f"{EXP}/login_setups", headers=as_user("bob"), json={
        "name": "bob_login", "fields": {"host": "mu2egpvm01.fnal.gov", "account": "bob",
                                        "setup": "source setup.sh"}})
    assert made.status_code == 201 and made.get_json()["ini"]["account"] == "bob"
    assert made.get_json()["role"] == "analysis"
    production = {"name": "prod_login", "role": "production",
                  "fields": {"host": "mu2egpvm01.fnal.gov", "account": "mu2epro"}}
    refused = client.post(f"{EXP}/login_setups", headers=as_user("bob"), json=production)
    assert refused.status_code == 403 and "production login setup" in \
        refused.get_json()["error"]
    as_pat = client.post(f"{EXP}/login_setups", headers=as_user("pat"),
                         json={**production, "role": None})
    assert as_pat.status_code == 201 and as_pat.get_json()["role"] == "production"
    option = client.post(f"{EXP}/login_setups", headers=as_user("bob"), json={
        "name": "sly", "fields": {"host": "-oProxyCommand=x", "account": "bob"}})
    assert option.status_code == 422 and "ssh would take for an option" in \
        option.get_json()["error"]
    unknown = client.post(f"{EXP}/login_setups", headers=as_user("bob"),
                          json={"name": "x", "fields": {"launch_host": "h"}})
    assert unknown.status_code == 422 and unknown.get_json()["field"] == "launch_host"
    in_use = client.delete(f"{EXP}/login_setups/srsoleti_poms_login", headers=as_user("sue"))
    assert in_use.status_code == 409
    assert in_use.get_json()["stages"] == ["srsoleti_tutorial/reco", "srsoleti_tutorial/reco_fcl"]
    assert client.delete(f"{EXP}/login_setups/bob_login",
                         headers=as_user("bob")).status_code == 200
    assert db.session.scalar(select(LoginSetup).where(LoginSetup.name == "bob_login")) is None


def test_recoveries_merge_into_a_job_type(client, tutorial):
    url = f"{EXP}/job_types/mu2e_reco_srsoleti_jobtype/recoveries"
    merged = client.post(url, headers=as_user("alice"), json={"recoveries": [
        ["proj_status", [["-Osubmit.dataset=", "%(dataset)s_x"], ["-Oextra=", "1"]]],
        ["added_files", []]]})
    assert merged.status_code == 200, merged.get_json()
    assert merged.get_json()["ini"]["recoveries"] == (
        '[["proj_status", [["-Osubmit.dataset=", "%(dataset)s_x"], ["-Oextra=", "1"]]], '
        '["added_files", []]]')
    unknown = client.post(url, headers=as_user("alice"),
                          json={"recoveries": [["no_such_kind", []]]})
    assert unknown.status_code == 422 and "unknown recovery type" in unknown.get_json()["error"]
    assert client.post(url, headers=as_user("alice"),
                       json={"recoveries": "x"}).status_code == 422


def test_the_role_header_acts_at_or_below_ones_own_role(client, tutorial):
    production = tutorial_text(**{"poms_role = analysis": "poms_role = production",
                                  "name = srsoleti_tutorial": "name = prod",
                                  "srsoleti_poms_login": "prod_login"})
    upload = f"{EXP}/campaigns"
    as_analysis = client.post(upload, data=production, headers={
        **as_user("pat"), "X-POMS-Role": "analysis", "Content-Type": "text/plain"})
    assert as_analysis.status_code == 403
    assert "acting as analysis, you may not create production" in \
        as_analysis.get_json()["error"]
    higher = client.get(upload, headers={**as_user("alice"), "X-POMS-Role": "production"})
    assert higher.status_code == 403 and higher.get_json()["error"] == \
        "alice is analysis in mu2e and cannot act as production"
    nonsense = client.get(upload, headers={**as_user("alice"), "X-POMS-Role": "boss"})
    assert nonsense.status_code == 400 and nonsense.get_json()["field"] == "role"
    as_production = client.post(upload, data=production, headers={
        **as_user("sue"), "X-POMS-Role": "production", "Content-Type": "text/plain"})
    assert as_production.status_code == 201


def test_stages_are_added_given_dependencies_and_removed(client, tutorial):
    stages = f"{CAMPAIGN}/stages"
    added = client.post(stages, headers=as_user("alice"), json={
        "name": "ana", "fields": {"completion_pct": 80, "software_version": "MDC2020u"},
        "depends_on": [{"stage": "reco", "file_pattern": "%.art"}]})
    assert added.status_code == 201, added.get_json()
    body = added.get_json()
    assert body["fields"]["completion_pct"] == 80 and body["fields"]["vo_role"] == "Analysis"
    assert body["depends_on"] == [{"stage": "reco", "file_pattern": "%.art", "position": 1}]
    assert client.post(stages, headers=as_user("alice"),
                       json={"name": "ana"}).status_code == 409
    bad = client.post(stages, headers=as_user("alice"),
                      json={"name": "x", "depends_on": [{"stage": "nope",
                                                         "file_pattern": "%"}]})
    assert bad.status_code == 422 and "nope" in bad.get_json()["error"]
    assert client.post(stages, headers=as_user("bob"),
                       json={"name": "y"}).status_code == 403

    moved = client.patch(f"{stages}/ana", headers=as_user("alice"), json={
        "depends_on": [{"stage": "reco_fcl", "file_pattern": "%.fcl"}]})
    assert moved.status_code == 200
    assert moved.get_json()["depends_on"][0]["stage"] == "reco_fcl"
    assert moved.get_json()["fields"]["completion_pct"] == 80

    parent = client.delete(f"{stages}/reco_fcl", headers=as_user("alice"))
    assert parent.status_code == 409 and "depends on reco_fcl" in parent.get_json()["error"]
    assert client.delete(f"{stages}/ana", headers=as_user("alice")).get_json() == \
        {"deleted": "ana"}
    listed = client.get(CAMPAIGN, headers=as_user("alice")).get_json()["stages"]
    assert [s["name"] for s in listed] == ["reco_fcl", "reco"]
    assert actions().count("campaign updated") == 3


def test_param_overrides_merge_by_key(client, tutorial):
    url = f"{CAMPAIGN}/stages/reco/param_overrides"
    merged = client.post(url, headers=as_user("alice"), json={
        "param_overrides": [["-Oglobal.x=", "1"], ["--stage ", "reco2"]],
        "test_param_overrides": [["--stage ", ""]]})
    assert merged.status_code == 200, merged.get_json()
    fields = merged.get_json()["fields"]
    assert fields["param_overrides"] == [["--stage ", "reco2"], ["-Oglobal.x=", "1"]]
    assert fields["test_param_overrides"] == []
    again = client.post(url, headers=as_user("alice"),
                        json={"param_overrides": [["-Oglobal.x=", None]]})
    assert again.get_json()["fields"]["param_overrides"] == [["--stage ", "reco2"]]
    assert again.get_json()["fields"]["test_param_overrides"] == []
    bad = client.post(url, headers=as_user("alice"), json={"param_overrides": [["a"]]})
    assert bad.status_code == 422 and bad.get_json()["field"] == "param_overrides"
    assert client.post(url, headers=as_user("bob"),
                       json={"param_overrides": []}).status_code == 403


def test_tags_go_on_every_campaign_or_none(client, tutorial):
    client.post(f"{CAMPAIGN}/clone", headers=as_user("bob"), json={"new_name": "bobs"})
    refused = client.post(f"{EXP}/tags/mdc2020", headers=as_user("alice"),
                          json={"campaigns": ["srsoleti_tutorial", "bobs"]})
    assert refused.status_code == 403
    shown = client.get(CAMPAIGN, headers=as_user("alice")).get_json()
    assert shown["tags"] == []
    done = client.post(f"{EXP}/tags/mdc2020", headers=as_user("sue"),
                       json={"campaigns": [shown["id"], "bobs"]})
    assert done.status_code == 200 and done.get_json()["added"] == ["srsoleti_tutorial", "bobs"]
    again = client.post(f"{EXP}/tags/mdc2020", headers=as_user("sue"),
                        json={"campaigns": ["bobs"]})
    assert again.get_json()["added"] == []
    assert client.post(f"{EXP}/tags/a,b", headers=as_user("sue"),
                       json={"campaigns": ["bobs"]}).status_code == 422
    assert client.post(f"{EXP}/tags/x", headers=as_user("sue"),
                       json={"campaigns": ["nope"]}).status_code == 404
    tagged = client.get(f"{EXP}/campaigns?tag=mdc2020", headers=as_user("bob")).get_json()
    assert tagged["total"] == 2


def test_names_by_id_stay_in_the_experiment(client, tutorial):
    shown = client.get(CAMPAIGN, headers=as_user("alice")).get_json()
    stage = shown["stages"][1]
    assert client.get(f"{EXP}/campaigns_by_id/{shown['id']}", headers=as_user("bob")
                      ).get_json() == {"id": shown["id"], "name": "srsoleti_tutorial",
                                       "campaign": None}
    named = client.get(f"{EXP}/stages_by_id/{stage['id']}", headers=as_user("bob")).get_json()
    assert named["name"] == "reco" and named["campaign"] == "srsoleti_tutorial"
    jt = client.get(f"{EXP}/job_types/mu2e_reco_srsoleti_jobtype",
                    headers=as_user("bob")).get_json()
    assert client.get(f"{EXP}/job_types_by_id/{jt['id']}", headers=as_user("bob")
                      ).get_json()["name"] == "mu2e_reco_srsoleti_jobtype"
    ls = client.get(f"{EXP}/login_setups/srsoleti_poms_login", headers=as_user("bob")).get_json()
    assert client.get(f"{EXP}/login_setups_by_id/{ls['id']}", headers=as_user("bob")
                      ).get_json()["name"] == "srsoleti_poms_login"
    elsewhere = client.get(f"{API}/experiments/dune/stages_by_id/{stage['id']}",
                           headers=as_user("dan"))
    assert elsewhere.status_code == 404
    assert client.get(f"{EXP}/campaigns_by_id/99999", headers=as_user("bob")).status_code == 404


def test_an_external_submission_is_registered_and_follows_reported_states(client, tutorial,
                                                                          app):
    url = f"{CAMPAIGN}/stages/reco/external_submissions"
    made = client.post(url, headers=as_user("alice"), json={
        "command": "poms_run_script_stage ./job.sh", "dataset": "mu2e.files"})
    assert made.status_code == 201, made.get_json()
    s = made.get_json()
    assert s["origin"] == "external" and s["state"] == "New" and s["launcher"] == "alice"
    assert s["command"] == "poms_run_script_stage ./job.sh" and s["dataset"] == "mu2e.files"
    sid = s["id"]
    assert client.post(url, headers=as_user("bob"), json={}).status_code == 403

    # No worker ever launches it, even once it is older than the launch grace.
    row = db.session.get(Submission, sid)
    row.created = row.created.replace(year=2020)
    db.session.commit()
    assert sid not in stale_unclaimed(app.config)
    from app.launching.service import run_launch
    assert "already launched" in run_launch(sid, app.config)

    update = f"{EXP}/submissions/{sid}/update"
    for state in ("Idle", "Running"):
        done = client.post(update, headers=as_user("alice"), json={"status": state})
        assert done.status_code == 200 and done.get_json()["state"] == state
    backwards = client.post(update, headers=as_user("alice"), json={"status": "New"})
    assert backwards.status_code == 409 and "Running and cannot become New" in \
        backwards.get_json()["error"]
    unknown = client.post(update, headers=as_user("alice"), json={"status": "Done"})
    assert unknown.status_code == 422 and unknown.get_json()["field"] == "status"
    assert client.post(update, headers=as_user("alice"), json={}).status_code == 422
    history = db.session.scalars(select(SubmissionEvent).where(
        SubmissionEvent.submission_id == sid).order_by(SubmissionEvent.id)).all()
    assert [(e.to_state, e.cause) for e in history] == [
        ("New", "registered by alice: launched outside POMS (poms_run_script_stage "
                "./job.sh)"),
        ("Idle", "reported by alice"), ("Running", "reported by alice")]

    # The same submission again: its command is recorded, nothing new is written.
    same = client.post(url, headers=as_user("alice"),
                       json={"submission_id": sid, "command": "./job.sh --again"})
    assert same.status_code == 200 and same.get_json()["command"] == "./job.sh --again"
    other = client.post(f"{CAMPAIGN}/stages/reco_fcl/external_submissions",
                        headers=as_user("alice"), json={"submission_id": sid})
    assert other.status_code == 409
    assert db.session.query(Submission).count() == 1

    # A state with a batch id the batch system does not confirm: neither is kept.
    both = client.post(update, headers=as_user("alice"),
                       json={"status": "Completed", "jobsub_job_id": "12.0@jobsub01.fnal.gov"})
    assert both.status_code in (409, 502) and both.get_json()["field"] in ("jobsub_job_id",
                                                                            None)
    db.session.expire_all()
    assert db.session.get(Submission, sid).state == "Running"

    # Once a batch id is recorded, POMS tracks the jobs: a reported state is refused.
    row = db.session.get(Submission, sid)
    row.batch_ids, row.batch_id = ["12.0@jobsub01.fnal.gov"], "12.0@jobsub01.fnal.gov"
    db.session.commit()
    tracked = client.post(update, headers=as_user("alice"), json={"status": "Completed"})
    assert tracked.status_code == 409 and "POMS tracks its state" in tracked.get_json()["error"]
    parent = client.post(url, headers=as_user("alice"), json={"parent": sid})
    assert parent.status_code == 201 and parent.get_json()["recovery_of"] == sid


@pytest.mark.parametrize("body, field", [
    ({"command": 3}, "command"), ({"parent": "x"}, "parent"), ({"submission_id": 0},
                                                                "submission_id"),
    ({"test": "yes"}, "test")])
def test_external_registration_refuses_bad_bodies(client, tutorial, body, field):
    response = client.post(f"{CAMPAIGN}/stages/reco/external_submissions",
                           headers=as_user("alice"), json=body)
    assert response.status_code == 422 and response.get_json()["field"] == field
    assert db.session.query(Submission).count() == 0
