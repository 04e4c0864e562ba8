"""The watching API with API tokens: a read-only token lists but may not watch; an edit
token watches; resuming a stage needs the launch scope and the right to launch."""
from __future__ import annotations

from app.auth.tokens import create_token
from app.extensions import db
from tests.watching.test_pages import _trip

API = "/api/v1/experiments/mu2e"


def _bearer(user, scopes):
    _row, secret = create_token(user, f"t-{'-'.join(scopes)}", 7, scopes=scopes)
    db.session.commit()
    return {"Authorization": f"Bearer {secret}"}


def test_token_scopes_on_watches_and_resume(app, client, tutorial):
    alice = tutorial.owner
    reader, editor = _bearer(alice, ["read"]), _bearer(alice, ["read", "edit"])
    body = {"campaign": tutorial.name, "stage": "reco", "channel": "email",
            "target": "alice@example.org", "events": ["finished"], "cadence": "daily"}
    refused = client.post(f"{API}/watches", json=body, headers=reader)
    assert refused.status_code == 403
    made = client.post(f"{API}/watches", json=body, headers=editor)
    assert made.status_code == 201, made.get_json()
    assert made.get_json()["cadence"] == "daily" and made.get_json()["stage"] == "reco"
    listed = client.get(f"{API}/watches", headers=reader).get_json()["watches"]
    assert [(w["stage"], w["target"]) for w in listed] == [("reco", "alice@example.org")]
    bad = client.post(f"{API}/watches", json={**body, "cadence": "weekly"}, headers=editor)
    assert bad.status_code == 422 and bad.get_json()["field"] == "cadence"

    fcl = _trip(tutorial, app)
    state = client.get(f"{API}/campaigns/{tutorial.name}/stages/reco_fcl/breaker",
                       headers=reader).get_json()
    reco = next(s for s in tutorial.stages if s.name == "reco")
    assert state["tripped"] is True
    assert sorted(state["held_stages"]) == sorted([fcl.id, reco.id])
    assert client.post(f"{API}/campaigns/{tutorial.name}/stages/reco_fcl/resume",
                       headers=editor).status_code == 403  # no launch scope
    launcher = _bearer(alice, ["read", "launch"])
    done = client.post(f"{API}/campaigns/{tutorial.name}/stages/reco_fcl/resume",
                       headers=launcher)
    assert done.status_code == 200 and done.get_json()["stage"] == "reco_fcl"
