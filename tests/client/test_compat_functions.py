"""The original client's Python functions (`import poms_client`) against a live dev-mode
server over real HTTP: the original's arguments in, its return shapes out, and its
RuntimeError (PomsCallError) when the server refuses."""
from __future__ import annotations

import json

import pytest

import poms_client
from app.extensions import db
from app.models import Submission, SubmissionEvent
from tests.api.support import TUTORIAL, bearer_token_file, tutorial_text
from tests.client.support import api, credentials, definition, stage_fields


@pytest.fixture
def tutorial(dev_server):
    """alice's srsoleti_tutorial, uploaded with the original's upload_wf."""
    ok, data = poms_client.upload_wf(str(TUTORIAL))
    assert ok, data
    return data


@pytest.fixture
def queued(app, redis_server, redis_conn):
    """Launches are queued on a real Redis (no worker runs them here)."""
    app.config["POMS_REDIS_URL"] = redis_server.url
    return redis_conn


def as_user(client_env, name: str) -> None:
    client_env.setenv("POMS_USER", name)


def test_upload_wf_creates_updates_and_reports_the_files_problems(dev_server, tmp_path):
    ok, data = poms_client.upload_wf(str(TUTORIAL), experiment="mu2e")
    assert ok is True and data["status"] == "201 Created"
    assert "Job type 'mu2e_reco_srsoleti_jobtype' is added." in data["message"]
    assert [name for _id, name in data["campaign_stage_ids"]] == ["reco_fcl", "reco"]
    assert data["campaign_id"] == poms_client.get_campaign_id("mu2e", "srsoleti_tutorial")

    changed = tmp_path / "changed.ini"
    changed.write_text(tutorial_text(**{"completion_pct=100": "completion_pct=90"}))
    ok, data = poms_client.upload_wf(str(changed))
    assert ok and data["status"] == "200 OK"
    assert any("completion_pct changes from 100 to 90" in m for m in data["message"])

    bad = tmp_path / "bad.ini"
    bad.write_text(tutorial_text(**{"completion_pct=100": "completion_pct=all"}))
    ok, data = poms_client.upload_wf(str(bad))
    assert ok is False and data["status"].startswith("422")
    assert data["message"] and "bad.ini" in data["message"][0]
    assert "whole number" in data["message"][0]

    with pytest.raises(RuntimeError, match="no/such.ini"):
        poms_client.upload_wf("/no/such.ini")


def test_session_experiment_and_role_as_the_original_keeps_them(dev_server, client_env):
    client_env.delenv("POMS_EXPERIMENT")
    with pytest.raises(poms_client.PomsCallError, match="no experiment"):
        poms_client.upload_wf(str(TUTORIAL))
    assert poms_client.update_session_experiment("mu2e") is True
    assert poms_client.upload_wf(str(TUTORIAL))[0] is True
    # alice is analysis in mu2e: acting as production is refused, as a role she lacks.
    assert poms_client.update_session_role("production") is True
    with pytest.raises(poms_client.PomsCallError) as refused:
        poms_client.get_campaign_id("mu2e", "srsoleti_tutorial")
    assert refused.value.status == 403
    assert "alice is analysis in mu2e and cannot act as production" in str(refused.value)
    assert str(refused.value).startswith("POMS call get_campaign_id error: HTTP status: 403")
    assert isinstance(refused.value, RuntimeError)
    # ... and a role named in the call wins over the session's.
    assert poms_client.get_campaign_id("mu2e", "srsoleti_tutorial", role="analysis") > 0


def test_the_test_flag_picks_the_test_or_integration_server(dev_server, client_env, tmp_path):
    with pytest.raises(poms_client.PomsCallError, match="no test server: set POMS_TEST_SERVER"):
        poms_client.show_campaigns(test=True)
    with pytest.raises(poms_client.PomsCallError, match="no int server"):
        poms_client.show_campaigns(test="int")
    client_env.setenv("POMS_TEST_SERVER", dev_server.url)
    assert poms_client.show_campaigns(test="dev") == (True, {"tl": [], "msg": "OK", "data": {
        "view_active": "view_active", "view_inactive": None, "view_mine": True,
        "view_others": True, "view_analysis": True, "view_production": True}})
    client_env.delenv("POMS_SERVER")
    config = tmp_path / "client.cfg"
    config.write_text(f"[poms]\nserver = {dev_server.url}\nexperiment = mu2e\n")
    assert poms_client.show_campaigns(configfile=str(config))[0] is True
    # "False" is how launch_template_edit's command passes no test server.
    client_env.setenv("POMS_SERVER", "http://localhost:9")
    assert poms_client.base_path("False") == "http://localhost:9"
    with pytest.raises(poms_client.PomsCallError, match="cannot reach"):
        poms_client.show_campaigns()
    with pytest.raises(poms_client.PomsCallError, match="no such config file"):
        poms_client.show_campaigns(configfile=str(tmp_path / "none.cfg"))


def test_ids_names_and_lists(tutorial, client_env):
    cid = poms_client.get_campaign_id("mu2e", "srsoleti_tutorial")
    assert poms_client.get_campaign_name("mu2e", cid) == "srsoleti_tutorial"
    sid = poms_client.get_campaign_stage_id("mu2e", "srsoleti_tutorial", "reco")
    assert [sid, "reco"] in tutorial["campaign_stage_ids"]
    assert poms_client.get_campaign_stage_name("mu2e", sid) == ["srsoleti_tutorial", "reco"]
    assert poms_client.get_campaign_list("mu2e") == {
        name: stage_id for stage_id, name in tutorial["campaign_stage_ids"]}
    with pytest.raises(poms_client.PomsCallError) as missing:
        poms_client.get_campaign_id("mu2e", "nope")
    assert missing.value.status == 404 and "no campaign 'nope' in mu2e" in str(missing.value)

    ok, shown = poms_client.show_campaigns(experiment="mu2e")
    assert ok and [c["name"] for c in shown["tl"]] == ["srsoleti_tutorial"]
    assert shown["tl"][0]["campaign_id"] == cid and shown["tl"][0]["creator"] == "alice"
    ok, stages = poms_client.show_campaign_stages("srsoleti_tutorial")
    rows = stages["campaign_stages"]
    assert [(s["name"], s["campaign_obj"]["name"]) for s in rows] == [
        ("reco_fcl", "srsoleti_tutorial"), ("reco", "srsoleti_tutorial")]
    assert rows[1]["campaign_stage_id"] == sid and rows[1]["depends_on"][0]["stage"] == "reco_fcl"
    assert len(poms_client.show_campaign_stages()[1]["campaign_stages"]) == 2

    # The original's view flags: only inactive campaigns, only other people's.
    as_user(client_env, "pat")
    assert poms_client.show_campaigns(update_view=1, view_inactive=1)[1]["tl"] == []
    mine = poms_client.show_campaigns(update_view=1, view_active=1, view_mine=1,
                                      view_analysis=1, view_production=1)
    assert mine[1]["tl"] == []
    others = poms_client.show_campaigns(update_view=1, view_active=1, view_others=1,
                                        view_analysis=1)
    assert [c["name"] for c in others[1]["tl"]] == ["srsoleti_tutorial"]


def test_stage_edits_parameter_overrides_and_campaign_removal(tutorial, client_env):
    assert poms_client.campaign_stage_edit(
        "add", "srsoleti_tutorial", "ana", "alice", "mu2e", "Analysis", "mu2e.art.files",
        None, None, "MDC2020u", "Located", 90, '[["-Oglobal.x=", "1"]]',
        '{"campaigns": ["reco"], "file_patterns": ["%.art"]}', None, None, None
    ) == ("status_code", 200)
    stage = poms_client.get_campaign_stage_id("mu2e", "srsoleti_tutorial", "ana")
    shown = poms_client.show_campaign_stages("srsoleti_tutorial")[1]["campaign_stages"][2]
    assert shown["depends_on"] == [{"stage": "reco", "file_pattern": "%.art", "position": 1}]

    # The original sends the stage's overrides as its test overrides too.
    text = poms_client.update_stage_param_overrides("mu2e", stage, {"-Oglobal.y=": "2"})
    assert text == "([('-Oglobal.x=', '1'), ('-Oglobal.y=', '2')], None)"
    text = poms_client.update_stage_param_overrides(
        "mu2e", ["srsoleti_tutorial", "ana"], "[['-Oglobal.x=', '']]",
        test_param_overrides=[["-Oglobal.t=", "3"]])
    assert text == ("([('-Oglobal.y=', '2')], [('-Oglobal.x=', '1'), ('-Oglobal.t=', '3')])")
    assert poms_client.update_stage_param_overrides("mu2e", stage) == "(None, None)"

    assert poms_client.campaign_stage_edit(
        "edit", "srsoleti_tutorial", "ana", None, "mu2e", None, None, None, "nfiles(2)", None,
        None, None, None, None, None, None, None) == ("status_code", 200)
    assert poms_client.update_campaign_stage(
        stage, experiment="mu2e", completion_pct=75, campaign_stage_type="test",
        no_such_column=1) == ("status_code", 200)
    fields = stage_fields("srsoleti_tutorial", "ana")
    assert fields["cs_split_type"] == "nfiles(2)" and fields["completion_pct"] == 75
    assert fields["stage_type"] == "test" and fields["completion_type"] == "located"
    assert fields["software_version"] == "MDC2020u"
    with pytest.raises(poms_client.PomsCallError) as bad:
        poms_client.update_campaign_stage(stage, completion_pct=140)
    assert bad.value.status == 422 and "completion_pct" in bad.value.message

    assert poms_client.campaign_stage_edit(
        "delete", "srsoleti_tutorial", "ana", None, "mu2e", None, None, None, None, None,
        None, None, None, None, None, None, None) == ("status_code", 200)
    assert len(poms_client.show_campaign_stages("srsoleti_tutorial")[1]["campaign_stages"]) == 2
    with pytest.raises(DeprecationWarning):
        poms_client.campaign_edit(action="add")

    data, status = poms_client.campaign_rm("mu2e", "srsoleti_tutorial")
    assert status == 200 and json.loads(data) == {"msg": "srsoleti_tutorial has been deleted."}
    data, status = poms_client.campaign_rm("mu2e", "srsoleti_tutorial")
    assert status == 404 and "no campaign" in json.loads(data)["msg"]


def test_job_types_and_login_setups(tutorial, client_env):
    assert poms_client.job_type_edit(
        "%.root", "fife_launch -c $UPLOADS/x.cfg", def_parameter='[["-Oa=", "1"]]',
        action="add", name="mine", experiment="mu2e") == ("status_code", 200)
    assert poms_client.campaign_definition_edit(
        None, None, def_parameter=[["-Ob=", "2"]], action="edit", name="mine",
        experiment="mu2e", recoveries='[["added_files", []]]') == ("status_code", 200)
    with pytest.raises(poms_client.PomsCallError) as taken:
        poms_client.job_type_edit(None, "x", action="add", name="mine", experiment="mu2e")
    assert taken.value.status == 409

    mine = api().get(api().experiment_path("job_types", "mine"))
    assert mine["ini"]["parameters"] == '[["-Ob=", "2"]]'
    assert mine["ini"]["output_file_patterns"] == "%.root"

    recoveries, status, job_type_id = poms_client.modify_job_type_recoveries(
        mine["id"], [["added_files", [["-Oc=", "3"]]], ["proj_status", []]], experiment="mu2e")
    assert status == 200 and job_type_id == mine["id"]
    assert recoveries == [["added_files", [["-Oc=", "3"]]], ["proj_status", []]]

    assert poms_client.launch_template_edit(
        action="add", launch_name="mine_login", launch_host="mu2egpvm01.fnal.gov",
        user_account="mu2epro", launch_setup=["source", "setup.sh"], experiment="mu2e",
        pc_username="alice") == ("status_code", 200)
    assert poms_client.launch_template_edit(action="add", launch_name="x",
                                            experiment="mu2e") == ("failed", -1)
    assert poms_client.launch_template_edit(action="rename", launch_name="x") == ("failed", -1)
    assert poms_client.login_setup_edit("mu2egpvm02.fnal.gov", None, None, action="edit",
                                        name="mine_login", experiment="mu2e") == (
        "status_code", 200)
    assert definition("login_setups", "mine_login") == {
        "host": "mu2egpvm02.fnal.gov", "account": "mu2epro", "setup": "source setup.sh"}

    data, status = poms_client.job_type_rm("mu2e", "mu2e_reco_srsoleti_jobtype")
    assert status == 409 and "srsoleti_tutorial/reco" in json.loads(data)["message"]
    data, status = poms_client.login_setup_rm("mu2e", "srsoleti_poms_login")
    assert status == 409
    assert poms_client.job_type_rm("mu2e", "mine")[1] == 200
    assert poms_client.login_setup_rm("mu2e", "mine_login")[1] == 200
    assert poms_client.login_setup_rm("mu2e", "mine_login")[1] == 404
    with pytest.raises(poms_client.PomsCallError, match="no job type 'nothing'"):
        poms_client.job_type_edit(None, None, action="delete", name="nothing",
                                  experiment="mu2e")


def test_tags(tutorial, client_env):
    cid = poms_client.get_campaign_id("mu2e", "srsoleti_tutorial")
    assert poms_client.tag_campaigns("mdc2020", [cid], "mu2e") is True
    assert poms_client.tag_campaigns("nightly", str(cid), "mu2e") is True
    assert poms_client.show_campaigns()[1]["tl"][0]["tags"] == ["mdc2020", "nightly"]
    as_user(client_env, "bob")
    with pytest.raises(poms_client.PomsCallError) as refused:
        poms_client.tag_campaigns("bobs", "srsoleti_tutorial", "mu2e")
    assert refused.value.status == 403


def test_an_externally_run_submission_from_id_to_details(tutorial, client_env):
    stage = poms_client.get_campaign_stage_id("mu2e", "srsoleti_tutorial", "reco")
    sid = poms_client.get_submission_id_for(stage, user="alice",
                                            command_executed="./run.sh 1",
                                            input_dataset="mu2e.fcl", experiment="mu2e")
    assert isinstance(sid, int)
    assert poms_client.update_submission(sid, status="Idle", experiment="mu2e") == (True, "Ok.")
    assert poms_client.update_submission(sid, status="Running", project="p",
                                         experiment="mu2e")[0]
    # By name: exact, a part only one stage has, or campaign/stage.
    recovery = poms_client.get_task_id_for("eco_fc", command_executed="again",
                                           parent_task_id=sid, experiment="mu2e")
    again = poms_client.get_submission_id_for("srsoleti_tutorial/reco", submission_id=sid,
                                              command_executed="./run.sh 2")
    assert again == sid
    with pytest.raises(poms_client.PomsCallError, match="2 stages match"):
        poms_client.get_submission_id_for("eco")

    ok, details = poms_client.submission_details("mu2e", None, sid)
    assert ok and details["submission"]["command_executed"] == "./run.sh 2"
    assert details["submission"]["origin"] == "external" and details["dataset"] == "mu2e.fcl"
    assert [h["status"] for h in details["history"]] == ["New", "Idle", "Running"]
    assert details["recovery_ids"] == [recovery]

    ok, listed = poms_client.campaign_stage_submissions("mu2e", None, "srsoleti_tutorial", "*")
    assert [r["submission_id"] for r in listed["submissions"]] == [sid, recovery]
    row = listed["submissions"][0]
    assert row["status"] == "Running" and row["creator"] == "alice"
    assert row["jobsub_cluster"] == "unknown.0" and row["campaign_stage_name"] == "reco"
    only = poms_client.campaign_stage_submissions("mu2e", None, "srsoleti_tutorial", "reco_fcl")
    assert [r["submission_id"] for r in only[1]["submissions"]] == [recovery]

    with pytest.raises(poms_client.PomsCallError) as refused:
        poms_client.update_submission(sid, status="New", experiment="mu2e")
    assert refused.value.status == 409
    assert poms_client.update_submission(sid, status="Completed", experiment="mu2e")[0]
    db.session.expire_all()
    assert db.session.get(Submission, sid).state == "Completed"
    causes = [e.cause for e in db.session.query(SubmissionEvent).filter_by(submission_id=sid)]
    assert causes[-1] == "reported by alice"

    assert poms_client.register_poms_campaign("srsoleti_tutorial/reco", experiment="mu2e",
                                              version="MDC2020t") == stage
    with pytest.raises(poms_client.PomsCallError, match="no longer makes stages"):
        poms_client.register_poms_campaign("brand_new_stage", experiment="mu2e")


def test_launches_return_the_original_303_and_the_submission(tutorial, queued, client_env):
    stage = poms_client.get_campaign_stage_id("mu2e", "srsoleti_tutorial", "reco_fcl")
    where, status, sid = poms_client.launch_campaign_stage_jobs(stage, test_launch=True,
                                                                experiment="mu2e")
    assert status == 303 and where.endswith(f"/e/mu2e/submission/{sid}")
    launched = db.session.get(Submission, sid)
    assert launched.test is True and launched.state == "New" and launched.origin == "api"
    assert poms_client.launch_jobs(stage, experiment="mu2e") is True
    cid = poms_client.get_campaign_id("mu2e", "srsoleti_tutorial")
    _where, status, first = poms_client.launch_campaign_jobs(cid, experiment="mu2e")
    assert status == 303 and db.session.get(Submission, first).stage.name == "reco_fcl"
    assert db.session.query(Submission).count() == 3
    as_user(client_env, "bob")
    with pytest.raises(poms_client.PomsCallError) as refused:
        poms_client.launch_campaign_stage_jobs(stage, experiment="mu2e")
    assert refused.value.status == 403


class RefreshOptions:
    """The upload_file command's options that check_stale_* read."""
    experiment, poms_role, test, verbose = "mu2e", "analysis", None, False


def test_a_credential_is_kept_and_refresh_sees_its_age(dev_server, tmp_path):
    token = tmp_path / "bt_u1000"
    token.write_bytes(bearer_token_file(30 * 86400))
    assert poms_client.check_stale_token(RefreshOptions) is True
    assert poms_client.upload_credential(str(token), experiment="mu2e") is True
    kept = credentials()
    assert [(c["kind"], c["role"]) for c in kept] == [("token", "analysis")]
    assert poms_client.check_stale_token(RefreshOptions) is False
    assert poms_client.check_stale_proxy(RefreshOptions) is True
    with pytest.raises(poms_client.PomsCallError) as refused:
        poms_client.upload_credential(str(token), role="production")
    assert refused.value.status == 403


def test_what_the_original_did_by_hand(dev_server, monkeypatch, tmp_path):
    with pytest.raises(poms_client.PomsCallError, match="call the poms_client function"):
        poms_client.make_poms_call(method="active_jobs")
    token = tmp_path / "token"
    token.write_text("abc.def.ghi\n")
    monkeypatch.setenv("BEARER_TOKEN_FILE", str(token))
    assert poms_client.auth_token() == "abc.def.ghi"
    monkeypatch.setenv("X509_USER_PROXY", str(tmp_path / "proxy"))
    assert poms_client.auth_cert() == str(tmp_path / "proxy")
    assert poms_client.getconfig({}).sections() == []
