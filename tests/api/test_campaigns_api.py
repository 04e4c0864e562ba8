"""/api/v1 campaigns and stages through the test client, in dev mode (X-POMS-User)."""
from __future__ import annotations

import io

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import AuditEntry, Campaign, CampaignStage
from tests.api.support import API, TUTORIAL, as_user, tutorial_text
from tests.campaigns.support import MAKER, USER

CAMPAIGNS = f"{API}/experiments/mu2e/campaigns"
TUT = f"{CAMPAIGNS}/srsoleti_tutorial"


def post_ini(client, text, user="alice", query="", experiment="mu2e"):
    return client.post(f"{API}/experiments/{experiment}/campaigns{query}",
                       data=text.encode() if isinstance(text, str) else text,
                       headers={**as_user(user), "Content-Type": "text/plain"})


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


# --- upload ----------------------------------------------------------------------------


def test_dry_run_shows_the_plan_and_writes_nothing(client, people):
    response = post_ini(client, TUTORIAL.read_text(), query="?dry_run=1")
    body = response.get_json()
    assert response.status_code == 200
    assert body["dry_run"] is True and body["created"] is True
    assert body["campaign"] == {"name": "srsoleti_tutorial", "poms_role": "analysis",
                                "stages": ["reco_fcl", "reco"]}
    assert any(c["kind"] == "job type changed" for c in body["changes"])
    assert count(Campaign) == 0 and count(AuditEntry) == 0


def test_upload_creates_then_updates_in_place_with_the_changes(client, tutorial):
    assert tutorial["name"] == "srsoleti_tutorial" and tutorial["owner"] == "alice"
    assert [s["name"] for s in tutorial["stages"]] == ["reco_fcl", "reco"]
    assert tutorial["stages"][1]["depends_on"] == [
        {"stage": "reco_fcl", "file_pattern": "%.fcl", "position": 1}]

    changed = tutorial_text(**{"completion_pct=100": "completion_pct=80"})
    plan = post_ini(client, changed, query="?dry_run=1").get_json()
    assert plan["created"] is False
    assert [c["text"] for c in plan["changes"]] == [
        "Stage 'reco_fcl': completion_pct changes from 100 to 80.",
        "Stage 'reco': completion_pct changes from 100 to 80.",
    ] or all("completion_pct" in c["text"] for c in plan["changes"])
    response = post_ini(client, changed)
    assert response.status_code == 200
    assert response.get_json()["created"] is False
    assert count(Campaign) == 1
    stage = db.session.scalar(select(CampaignStage).where(CampaignStage.name == "reco_fcl"))
    assert stage.completion_pct == 80


def test_upload_as_multipart_file(client, people):
    response = client.post(
        CAMPAIGNS, headers=as_user("alice"), content_type="multipart/form-data",
        data={"ini_file": (io.BytesIO(TUTORIAL.read_bytes()), "tutorial.ini")})
    assert response.status_code == 201
    assert response.get_json()["campaign"]["name"] == "srsoleti_tutorial"


def test_upload_uses_the_experiments_job_types_and_login_setups(client, people):
    assert post_ini(client, MAKER).status_code == 201
    plan = post_ini(client, USER, query="?dry_run=1&filename=user.ini").get_json()
    assert [c["text"] for c in plan["changes"]] == ["Job type 'reco_jt' is added."]
    assert [(w["section"], w["key"]) for w in plan["warnings"]] == [
        ("campaign_defaults", "login_setup"), ("campaign_stage sim", "job_type")]
    assert "will use experiment mu2e's job type 'mc_jt'" in plan["warnings"][1]["reason"]
    assert post_ini(client, USER).status_code == 201
    sim = db.session.scalar(select(CampaignStage).where(CampaignStage.name == "sim"))
    gen = db.session.scalar(select(CampaignStage).where(CampaignStage.name == "gen"))
    assert sim.job_type_id == gen.job_type_id

    third = MAKER.replace("name = maker", "name = third").replace("mu2epro", "mu2ereco")
    (change,) = post_ini(client, third, query="?dry_run=1").get_json()["changes"]
    assert (change["subject"], change["field"], change["used_by"]) == (
        "mc_ls", "account", ["maker", "user"])

    bad = post_ini(client, USER.replace("job_type = mc_jt", "job_type = mc_jtt"),
                   query="?filename=user.ini")
    body = bad.get_json()
    assert bad.status_code == 422 and body["field"] == "job_type"
    (problem,) = body["problems"]
    assert problem["section"] == "campaign_stage sim"
    assert "'mc_jtt' is defined neither in this file nor in experiment 'mu2e'" \
        in problem["reason"]
    assert "'mc_jt' (experiment mu2e)" in problem["reason"]
    assert count(Campaign) == 2


def test_an_invalid_file_gets_422_with_every_problem_and_the_field(client, people):
    # (140 would be kept with a warning, as the original keeps it: a word is refused.)
    bad = tutorial_text(**{"completion_pct=100": "completion_pct=all"})
    response = post_ini(client, bad, query="?filename=mine.ini")
    body = response.get_json()
    assert response.status_code == 422
    assert body["field"] == "completion_pct"
    assert "whole number" in body["error"] and body["error"].startswith("mine.ini:")
    assert body["problems"][0]["section"] == "campaign_defaults"
    assert count(Campaign) == 0


@pytest.mark.parametrize("data, words", [
    (b"", "is empty"),
    (b"\xff\xfe not utf-8", "not UTF-8"),
    (b"[campaign]\nname=x\n", "campaign_stage_list"),
])
def test_bad_uploads_are_refused_in_words(client, people, data, words):
    response = post_ini(client, data)
    assert response.status_code == 422
    assert words in response.get_json()["error"]


@pytest.mark.parametrize("old, new, field", [
    ('test_param_overrides = [["--stage ", "reco"]]',
     "test_param_overrides = " + "[" * 50_000 + "]" * 50_000, "test_param_overrides"),
    ("software_version=MDC2020t", "software_version=MDC\x002020t", "software_version"),
    ("host=pomsgpvm01.fnal.gov", "host=poms\x00gpvm01", "host"),
])
def test_hostile_values_are_422_naming_the_key_not_500(client, people, old, new, field):
    """Issue 17: JSON deep enough to exhaust the stack raised RecursionError (500); a NUL
    byte was stored on SQLite and gave 500 on PostgreSQL. Both are bad values now."""
    response = post_ini(client, tutorial_text(**{old: new}))
    assert response.status_code == 422
    assert response.get_json()["field"] == field
    assert count(Campaign) == 0


def test_more_stages_than_the_server_allows_are_422(client, people):
    client.application.config["POMS_MAX_STAGES"] = 1
    response = post_ini(client, TUTORIAL.read_text())
    assert response.status_code == 422
    assert "at most 1 stages are allowed" in response.get_json()["error"]
    assert "POMS_MAX_STAGES" in response.get_json()["error"]
    assert count(Campaign) == 0


def test_a_file_for_another_experiment_is_refused(client, people):
    response = post_ini(client, tutorial_text(**{"experiment = mu2e": "experiment = dune"}))
    assert response.status_code == 422
    assert response.get_json()["field"] == "experiment"


def test_bad_dry_run_flag_is_400_naming_it(client, people):
    response = post_ini(client, TUTORIAL.read_text(), query="?dry_run=maybe")
    assert response.status_code == 400 and response.get_json()["field"] == "dry_run"


# --- roles -----------------------------------------------------------------------------


def test_an_analysis_user_may_not_make_a_production_campaign(client, people):
    production = tutorial_text(**{"poms_role = analysis": "poms_role = production"})
    response = post_ini(client, production, user="alice")
    assert response.status_code == 403
    assert response.get_json() == {
        "error": "acting as analysis, you may not create production campaigns", "field": None}
    # Not even as a dry run: the plan says what an upload would do, refusal included.
    assert post_ini(client, production, user="alice", query="?dry_run=1").status_code == 403
    assert post_ini(client, production, user="pat").status_code == 201


def test_only_the_owner_or_a_superuser_changes_an_analysis_campaign(client, tutorial):
    for user, status in (("bob", 403), ("sam", 403), ("sue", 200), ("alice", 200)):
        response = client.patch(TUT, json={"fields": {"tags": f"by-{user}"}},
                                headers=as_user(user))
        assert response.status_code == status, (user, response.get_json())
        if status == 403:
            assert "may not change campaign srsoleti_tutorial" in response.get_json()["error"]
    assert client.delete(TUT, headers=as_user("bob")).status_code == 403
    assert post_ini(client, TUTORIAL.read_text(), user="bob").status_code == 403


def test_non_members_and_unknown_experiments(client, tutorial):
    response = client.get(f"{API}/experiments/dune/campaigns", headers=as_user("alice"))
    assert response.status_code == 403
    assert response.get_json() == {"error": "alice is not a member of dune",
                                   "field": "experiment"}
    response = client.get(f"{API}/experiments/nope/campaigns", headers=as_user("alice"))
    assert response.status_code == 404 and response.get_json()["field"] == "experiment"
    # dan is production in dune, and sees nothing of mu2e.
    assert client.get(TUT, headers=as_user("dan")).status_code == 403


# --- list, show, export ------------------------------------------------------------------


def test_list_pages_and_filters(client, tutorial):
    for i in range(4):
        assert client.post(f"{TUT}/clone", json={"new_name": f"copy{i}"},
                           headers=as_user("alice")).status_code == 201
    client.patch(f"{CAMPAIGNS}/copy0", json={"fields": {"state": "Inactive"}},
                 headers=as_user("alice"))
    client.patch(f"{CAMPAIGNS}/copy1", json={"fields": {"tags": "mdc, keep"}},
                 headers=as_user("alice"))
    page = client.get(f"{CAMPAIGNS}?per_page=2&page=2", headers=as_user("bob")).get_json()
    assert (page["page"], page["per_page"], page["pages"], page["total"]) == (2, 2, 2, 4)
    assert [c["name"] for c in page["items"]] == ["copy3", "srsoleti_tutorial"]

    def names(query):
        body = client.get(f"{CAMPAIGNS}?{query}", headers=as_user("bob")).get_json()
        return [c["name"] for c in body["items"]]

    assert names("state=Inactive") == ["copy0"]
    assert names("state=all&q=copy") == ["copy0", "copy1", "copy2", "copy3"]
    assert names("state=all&q=COPY") == names("state=all&q=copy")  # as the page searches
    assert names("tag=keep") == ["copy1"]
    assert names("poms_role=production") == []


@pytest.mark.parametrize("query, field", [
    ("page=0", "page"), ("per_page=1000", "per_page"), ("page=x", "page"),
    ("state=Gone", "state"), ("poms_role=boss", "poms_role"),
])
def test_list_refuses_bad_parameters(client, people, query, field):
    response = client.get(f"{CAMPAIGNS}?{query}", headers=as_user("alice"))
    assert response.status_code == 400
    assert response.get_json()["field"] == field


def test_show_and_export_round_trip(client, tutorial):
    shown = client.get(TUT, headers=as_user("bob")).get_json()
    assert shown["may_edit"] is False and shown["launched"] is False
    response = client.get(f"{TUT}/ini", headers=as_user("bob"))
    assert response.status_code == 200 and response.mimetype == "text/plain"
    assert 'filename="srsoleti_tutorial.ini"' in response.headers["Content-Disposition"]
    text = response.get_data(as_text=True)
    again = post_ini(client, text, query="?dry_run=1").get_json()
    assert again["created"] is False and again["changes"] == []
    assert client.get(f"{CAMPAIGNS}/nope", headers=as_user("bob")).get_json() == {
        "error": "no campaign 'nope' in mu2e", "field": "campaign"}
    assert client.get(f"{CAMPAIGNS}/nope/ini", headers=as_user("bob")).status_code == 404


# --- clone, delete, edit -------------------------------------------------------------------


def test_clone_good_and_bad(client, tutorial):
    response = client.post(f"{TUT}/clone", json={"new_name": "mine"}, headers=as_user("bob"))
    assert response.status_code == 201
    assert response.get_json()["owner"] == "bob"
    again = client.post(f"{TUT}/clone", json={"new_name": "mine"}, headers=as_user("bob"))
    assert again.status_code == 409 and "already exists" in again.get_json()["error"]
    for body in ({}, {"new_name": ""}, {"new_name": 3}, {"new_name": "a\x00b"}):
        response = client.post(f"{TUT}/clone", json=body, headers=as_user("bob"))
        assert response.status_code == 422 and response.get_json()["field"] == "new_name"
    response = client.post(f"{TUT}/clone", data="[]", headers={
        **as_user("bob"), "Content-Type": "application/json"})
    assert response.status_code == 400


def test_delete(client, tutorial):
    response = client.delete(TUT, headers=as_user("alice"))
    assert response.status_code == 200 and response.get_json() == {
        "deleted": "srsoleti_tutorial"}
    assert count(Campaign) == 0
    assert client.delete(TUT, headers=as_user("alice")).status_code == 404


def test_edit_campaign_fields(client, tutorial):
    response = client.patch(TUT, json={"fields": {"state": "Inactive", "tags": "a, b"}},
                            headers=as_user("alice"))
    body = response.get_json()
    assert response.status_code == 200 and body["state"] == "Inactive" and body["tags"] == [
        "a", "b"]
    response = client.patch(TUT, json={"fields": {"state": "Sleeping"}},
                            headers=as_user("alice"))
    assert response.status_code == 422 and response.get_json()["field"] == "state"
    response = client.patch(TUT, json={"fields": {"name": "x"}}, headers=as_user("alice"))
    assert response.status_code == 422 and response.get_json()["field"] == "name"


def test_show_and_edit_a_stage_through_the_importer(client, tutorial):
    stage_url = f"{TUT}/stages/reco_fcl"
    stage = client.get(stage_url, headers=as_user("bob")).get_json()
    assert stage["fields"]["completion_pct"] == 100 and stage["ini"]["completion_pct"] == "100"
    assert stage["fields"]["param_overrides"] == [["--stage ", "reco_fcl"]]
    assert stage["held"] is False

    response = client.patch(stage_url, json={"fields": {
        "completion_pct": 90, "cs_split_type": "nfiles(5)", "merge_overrides": True}},
        headers=as_user("alice"))
    body = response.get_json()
    assert response.status_code == 200, body
    assert body["fields"]["completion_pct"] == 90
    assert body["fields"]["cs_split_type"] == "nfiles(5)"
    assert body["fields"]["merge_overrides"] is True

    # All or nothing: one bad field leaves every field as it was.
    response = client.patch(stage_url, json={"fields": {
        "completion_pct": "50", "job_type": "no_such_job_type"}}, headers=as_user("alice"))
    assert response.status_code == 422 and response.get_json()["field"] == "job_type"
    assert client.get(stage_url, headers=as_user("alice")).get_json()["fields"][
        "completion_pct"] == 90
    response = client.patch(stage_url, json={"fields": {"cs_split_type": "mod(x)"}},
                            headers=as_user("alice"))
    assert response.status_code == 422 and response.get_json()["field"] == "cs_split_type"

    assert client.patch(stage_url, json={"fields": {"vo_role": "x"}},
                        headers=as_user("bob")).status_code == 403
    assert client.patch(stage_url, json={"fields": {}}, headers=as_user("alice")
                        ).status_code == 400
    assert client.get(f"{TUT}/stages/nope", headers=as_user("bob")).get_json() == {
        "error": "campaign srsoleti_tutorial has no stage 'nope'", "field": "stage"}


def test_every_change_is_audited_with_the_api_user(client, tutorial):
    client.patch(f"{TUT}/stages/reco", json={"fields": {"vo_role": "Production"}},
                 headers=as_user("alice"))
    actions = db.session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)).all()
    assert actions[-1] == "campaign updated"
    entry = db.session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc())).first()
    assert entry.experimenter.username == "alice"


def test_job_types_and_login_setups_read_as_ini(client, tutorial):
    listed = client.get(f"{API}/experiments/mu2e/job_types", headers=as_user("bob")).get_json()
    assert [d["name"] for d in listed["items"]] == [
        "generate_fcl_reco_srsoleti_jobtype", "mu2e_reco_srsoleti_jobtype"]
    one = client.get(f"{API}/experiments/mu2e/job_types/mu2e_reco_srsoleti_jobtype",
                     headers=as_user("bob")).get_json()
    assert one["ini"]["launch_script"] == "fife_launch" and one["creator"] == "alice"
    login = client.get(f"{API}/experiments/mu2e/login_setups/srsoleti_poms_login",
                       headers=as_user("bob")).get_json()
    assert login["ini"]["account"] == "poms_launcher"
    missing = client.get(f"{API}/experiments/mu2e/login_setups/nope", headers=as_user("bob"))
    assert missing.status_code == 404 and missing.get_json()["field"] == "name"
    assert client.get(f"{API}/experiments/dune/job_types",
                      headers=as_user("alice")).status_code == 403
