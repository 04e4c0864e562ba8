"""/api/v1 .../campaigns/<c>/edits: the campaign editor's operations over the API."""
from __future__ import annotations

import re

from sqlalchemy import select

from app.extensions import db
from app.models import CampaignStage
from tests.api.support import API, as_user

EDITS = f"{API}/experiments/mu2e/campaigns/srsoleti_tutorial/edits"
OPERATIONS = [
    {"op": "rename_stage", "stage": "reco", "name": "reconstruction"},
    {"op": "add_stage", "name": "ana",
     "fields": {"job_type": "mu2e_reco_srsoleti_jobtype", "cs_split_type": "nfiles(2)"}},
    {"op": "add_dependency", "child": "ana", "parent": "reconstruction",
     "file_pattern": "%.art"},
    {"op": "place", "positions": {"reco_fcl": [0, 0], "reconstruction": [240, 0],
                                  "ana": [480, 0]}},
]


def test_dry_run_previews_then_the_edit_is_stored_and_exported(client, tutorial):
    reco_id = db.session.scalar(select(CampaignStage.id).where(CampaignStage.name == "reco"))
    plan = client.post(f"{EDITS}?dry_run=1", json={"operations": OPERATIONS},
                       headers=as_user("alice"))
    assert plan.status_code == 200, plan.get_json()
    body = plan.get_json()
    assert body["dry_run"] is True and body["renamed"] == {"reco": "reconstruction"}
    texts = [c["text"] for c in body["changes"]]
    assert texts[0] == "Stage 'reco' is renamed 'reconstruction'."
    assert "Stage 'ana' is added." in texts
    assert db.session.get(CampaignStage, reco_id).name == "reco"  # nothing written

    saved = client.post(EDITS, json={"operations": OPERATIONS}, headers=as_user("alice"))
    assert saved.status_code == 200, saved.get_json()
    stages = saved.get_json()["campaign"]["stages"]
    assert [s["name"] for s in stages] == ["reco_fcl", "reconstruction", "ana"]
    db.session.expire_all()
    assert db.session.get(CampaignStage, reco_id).name == "reconstruction"
    ini = client.get(f"{API}/experiments/mu2e/campaigns/srsoleti_tutorial/ini",
                     headers=as_user("alice")).get_data(as_text=True)
    assert re.search(r'^nxy\d+ = \["ana", 480, 0\]$', ini, re.M) and "[dependencies ana]" in ini


def test_a_refused_operation_is_named_and_nothing_is_written(client, tutorial):
    response = client.post(EDITS, json={"operations": [
        OPERATIONS[0], {"op": "set_fields", "stage": "reconstruction",
                        "fields": {"completion_type": "whenever"}}]},
        headers=as_user("alice"))
    assert response.status_code == 422
    assert "change 2 (set_fields)" in response.get_json()["error"]
    assert db.session.scalar(select(CampaignStage).where(CampaignStage.name == "reco"))


def test_only_who_may_edit_the_campaign_may_send_edits(client, tutorial):
    for user in ("bob", "sam"):  # another analysis user; a production shifter
        response = client.post(EDITS, json={"operations": OPERATIONS}, headers=as_user(user))
        assert response.status_code == 403, user


def test_a_stage_says_where_each_value_comes_from(client, tutorial):
    stage = client.get(f"{API}/experiments/mu2e/campaigns/srsoleti_tutorial/stages/reco",
                       headers=as_user("alice")).get_json()
    assert stage["origins"]["job_type"] == "campaign defaults"
    assert stage["origins"]["param_overrides"] == "stage"
    assert stage["origins"]["default_clear_cronjob"] == "built-in default"
