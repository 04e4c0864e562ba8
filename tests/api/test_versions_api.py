"""/api/v1 .../campaigns/<c>/versions: every save over the API makes a version; the
history, a diff, a version's INI, and a rollback previewed (with its impact on the
launches) then saved, exactly, and refused to who may not change the campaign."""
from __future__ import annotations

from sqlalchemy import select

from app.campaigns import store
from app.campaigns.ini import export_ini
from app.extensions import db
from app.models import Experiment
from tests.api.support import API, as_user, tutorial_text

CAMPAIGN = f"{API}/experiments/mu2e/campaigns/srsoleti_tutorial"
V2_CFG = tutorial_text(**{
    'parameters = [["-c ", "/mu2e/app/users/srsoleti/tutorial/reco.cfg"]]\n'
    "output_file_patterns = %.art":
    'parameters = [["-c ", "/mu2e/app/users/srsoleti/tutorial/reco_v2.cfg"]]\n'
    "output_file_patterns = %.art"})


def exported(client) -> str:
    return client.get(f"{CAMPAIGN}/ini", headers=as_user("alice")).get_data(as_text=True)


def test_api_saves_make_versions_and_a_rollback_puts_the_campaign_back(client, tutorial):
    first = exported(client)
    alice = as_user("alice")
    # An upload with a reason, a field edit, the editor's operations: one version each.
    assert client.post(f"{API}/experiments/mu2e/campaigns?reason=v2+configuration",
                       data=V2_CFG, headers={**alice, "Content-Type": "text/plain"}
                       ).status_code == 200
    assert client.patch(CAMPAIGN, json={"fields": {"tags": "mdc"}},
                        headers=alice).status_code == 200
    assert client.post(f"{CAMPAIGN}/edits?reason=ana+stage", headers=alice, json={
        "operations": [{"op": "add_stage", "name": "ana", "fields": {}}]}).status_code == 200

    listed = client.get(f"{CAMPAIGN}/versions", headers=alice).get_json()["versions"]
    assert [(v["number"], v["by"], v["source"], v["reason"]) for v in listed] == [
        (4, "alice", "api", "ana stage"), (3, "alice", "api", ""),
        (2, "alice", "api", "v2 configuration"), (1, "alice", "api", "")]

    one = client.get(f"{CAMPAIGN}/versions/1/ini", headers=alice)
    assert one.status_code == 200 and one.get_data(as_text=True) == first
    diff = client.get(f"{CAMPAIGN}/versions/diff?from=1&to=2", headers=alice).get_json()
    assert [(c["kind"], c["subject"], c["field"]) for c in diff["changes"]] == [
        ("job type changed", "mu2e_reco_srsoleti_jobtype", "parameters")]
    assert diff["changes"][0]["after"] == [["-c ", "/mu2e/app/users/srsoleti/tutorial/"
                                            "reco_v2.cfg"]]

    plan = client.post(f"{CAMPAIGN}/versions/1/rollback?dry_run=1", headers=alice)
    assert plan.status_code == 200, plan.get_json()
    body = plan.get_json()
    assert "Stage 'ana' is removed." in [c["text"] for c in body["changes"]]
    by_stage = {s["stage"]: s for s in body["impact"]["stages"]}
    assert by_stage["ana"]["status"] == "removed"
    assert by_stage["reco"]["status"] == "changes"
    assert "-" in by_stage["reco"]["script_diff"] and "reco_v2.cfg" in by_stage["reco"][
        "before"] and "reco_v2.cfg" not in by_stage["reco"]["after"]
    assert by_stage["reco_fcl"]["status"] == "same"
    assert len(client.get(f"{CAMPAIGN}/versions", headers=alice).get_json()["versions"]) == 4

    done = client.post(f"{CAMPAIGN}/versions/1/rollback?reason=v2+broke+reco", headers=alice)
    assert done.status_code == 200, done.get_json()
    assert done.get_json()["version"]["number"] == 5
    assert done.get_json()["version"]["reason"] == "rolled back to version 1: v2 broke reco"
    assert exported(client) == first

    # A clone starts its own history, saying whose copy it is.
    assert client.post(f"{CAMPAIGN}/clone", json={"new_name": "copy"},
                       headers=alice).status_code == 201
    copied = client.get(f"{API}/experiments/mu2e/campaigns/copy/versions",
                        headers=alice).get_json()["versions"]
    assert [(v["number"], v["source"], v["reason"]) for v in copied] == [
        (1, "clone", "copy of campaign srsoleti_tutorial")]


def test_rollback_is_refused_to_who_may_not_change_the_campaign(client, tutorial):
    client.post(f"{API}/experiments/mu2e/campaigns", data=V2_CFG,
                headers={**as_user("alice"), "Content-Type": "text/plain"})
    # bob (analysis) does not own alice's analysis campaign; dan is not in mu2e.
    for who, status in (("bob", 403), ("dan", 403)):
        refused = client.post(f"{CAMPAIGN}/versions/1/rollback", headers=as_user(who))
        assert refused.status_code == status, (who, refused.get_json())
    db.session.expire_all()
    mu2e = db.session.scalar(select(Experiment).where(Experiment.name == "mu2e"))
    row = store.find_campaign(mu2e, "srsoleti_tutorial")
    assert "reco_v2.cfg" in export_ini(store.spec_from_campaign(row))
    assert client.get(f"{CAMPAIGN}/versions/7/ini", headers=as_user("alice")).status_code == 404
