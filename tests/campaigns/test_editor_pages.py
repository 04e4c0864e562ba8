"""The campaign editor's pages through the test client: who may use it, each change previewed
as an upload is, a refused change said and the draft kept, Save stored and audited."""
from __future__ import annotations

import json
import re

import pytest
from sqlalchemy import select

from app.extensions import db
from app.launching import external
from app.models import AuditEntry, Campaign
from tests.fixtures.app import csrf_token, signed_in
from tests.fixtures.launching import import_tutorial

HTMX = {"HX-Request": "true"}


@pytest.fixture
def tutorial(app):
    return import_tutorial("alice")


def url(campaign, tail=""):
    return f"/e/mu2e/campaign/{campaign.id}/editor{tail}"


def draft_of(html: str) -> list:
    found = re.search(r'name="operations" value="([^"]*)"', html)
    return json.loads(found.group(1).replace("&#34;", '"').replace("&amp;", "&"))


def change(client, campaign, operations, **form):
    token = csrf_token(client, url(campaign))
    data = {"csrf_token": token, "operations": json.dumps(operations), **form}
    return client.post(url(campaign), data=data, headers=HTMX)


def test_only_who_may_edit_the_campaign_opens_the_editor(tutorial, client, member):
    member("mu2e", "bob", "analysis")
    signed_in(client, "bob")  # another analysis user: not his campaign
    assert client.get(url(tutorial)).status_code == 403
    page = client.get(f"/e/mu2e/campaign/{tutorial.id}").get_data(as_text=True)
    assert "Edit stages and dependencies" not in page
    member("mu2e", "carol", "production-shifter")
    signed_in(client, "carol")
    assert client.get(url(tutorial)).status_code == 403
    signed_in(client, "alice")
    page = client.get(f"/e/mu2e/campaign/{tutorial.id}").get_data(as_text=True)
    assert "Edit stages and dependencies" in page
    page = client.get(url(tutorial)).get_data(as_text=True)
    assert 'data-stage="reco_fcl"' in page and 'data-parent="reco_fcl"' in page
    # The lists to choose from: the experiment's job types, completion and split types.
    assert '<option value="generate_fcl_reco_srsoleti_jobtype"' in page
    assert '<option value="located"' in page and '<option value="nfiles"' in page


def test_a_change_without_the_csrf_token_is_refused(tutorial, client):
    signed_in(client, "alice")
    response = client.post(url(tutorial), data={"operations": "[]", "op": "remove_stage",
                                                "stage": "reco"}, headers=HTMX)
    assert response.status_code == 400


def test_add_stage_draw_dependency_preview_save_and_export(tutorial, client):
    signed_in(client, "alice")
    response = change(client, tutorial, [], op="add_stage", name="ana",
                      job_type="mu2e_reco_srsoleti_jobtype", completion_type="located",
                      split_name="nfiles", split_args="3")
    page = response.get_data(as_text=True)
    assert "Stage &#39;ana&#39; is added." in page
    operations = draft_of(page)
    assert operations == [{"op": "add_stage", "name": "ana", "fields": {
        "job_type": "mu2e_reco_srsoleti_jobtype", "completion_type": "located",
        "cs_split_type": "nfiles(3)"}}]
    page = change(client, tutorial, operations, op="add_dependency", parent="reco",
                  child="ana", file_pattern="%.art").get_data(as_text=True)
    assert "will depend on &#39;reco&#39; (files matching &#39;%.art&#39;)" in page
    operations = draft_of(page)
    page = change(client, tutorial, operations, op="place", stage="ana",
                  positions=json.dumps({"reco_fcl": [0, 0], "reco": [240, 0],
                                        "ana": [480, 90]})).get_data(as_text=True)
    assert "the graph layout changes" in page
    operations = draft_of(page)
    assert len(tutorial.stages) == 2  # nothing stored yet

    token = csrf_token(client, url(tutorial))
    response = client.post(url(tutorial, "/save"), data={
        "csrf_token": token, "operations": json.dumps(operations)}, headers=HTMX)
    assert response.status_code == 204
    assert response.headers["HX-Redirect"] == f"/e/mu2e/campaign/{tutorial.id}"
    db.session.expire_all()
    campaign = db.session.get(Campaign, tutorial.id)
    assert [s.name for s in campaign.stages] == ["reco_fcl", "reco", "ana"]
    entry = db.session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc())).first()
    assert (entry.action, entry.experimenter.username) == ("campaign updated", "alice")
    exported = client.get(f"/e/mu2e/campaign/{tutorial.id}/export").get_data(as_text=True)
    assert "[campaign_stage ana]" in exported and "[dependencies ana]" in exported
    assert re.search(r'^nxy\d+ = \["ana", 480, 90\]$', exported, re.M)


def test_a_refused_change_says_why_and_keeps_the_draft(tutorial, client):
    signed_in(client, "alice")
    operations = [{"op": "rename_stage", "stage": "reco", "name": "reconstruction"}]
    response = change(client, tutorial, operations, op="set_fields", stage="reconstruction",
                      job_type="mu2e_reco_srsoleti_jobtype",
                      login_setup="srsoleti_poms_login", completion_type="complete",
                      completion_pct="140", dataset_or_split_data="", split_name="")
    page = response.get_data(as_text=True)
    assert response.status_code == 200  # htmx swaps it in
    assert 'id="problems"' in page and "completion_pct" in page
    assert draft_of(page) == operations
    assert "Stage &#39;reco&#39; is renamed &#39;reconstruction&#39;." in page
    # Without htmx the whole page comes back, with the status saying it was refused.
    token = csrf_token(client, url(tutorial))
    response = client.post(url(tutorial), data={
        "csrf_token": token, "operations": json.dumps(operations), "op": "remove_stage",
        "stage": "reco_fcl"})
    assert response.status_code == 422
    assert "depends on reco_fcl" in response.get_data(as_text=True)


def test_undo_takes_the_last_change_back(tutorial, client):
    signed_in(client, "alice")
    operations = [{"op": "rename_stage", "stage": "reco", "name": "r2"},
                  {"op": "remove_dependency", "child": "r2", "parent": "reco_fcl"}]
    page = change(client, tutorial, operations, op="undo").get_data(as_text=True)
    assert draft_of(page) == operations[:1]


def test_removing_a_stage_that_launched_is_refused_at_once(tutorial, client):
    external.register(tutorial.stages[1], tutorial.owner)
    db.session.commit()
    signed_in(client, "alice")
    page = change(client, tutorial, [], op="remove_stage", stage="reco").get_data(as_text=True)
    assert 'id="problems"' in page and "stage reco has submissions" in page
    assert draft_of(page) == []
