"""Issue 17: an API token could do everything its owner could, everywhere. Tokens now carry
scopes (read, launch, edit, admin) and may be limited to some experiments; every /api/v1
endpoint names the scope it needs (the route table, the OpenAPI document) and a token
without it is refused before anything happens. Tokens made before keep full scope in their
owner's experiments (migration 0014)."""
from __future__ import annotations

import re

import flask_migrate
import pytest
from sqlalchemy import select, text

from app import create_app
from app.api.routes import ENDPOINT_SCOPES, NOT_WITH_A_TOKEN, PUBLIC_ENDPOINTS
from app.auth import members
from app.auth.tokens import SCOPES
from app.extensions import db
from app.models.api_token import ApiToken
from tests.api.support import API, TUTORIAL, as_user
from tests.fixtures.app import csrf_token, signed_in
from tests.security.routes import path_for, routes

_TABLE = [r for r in routes(create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://",
                                        "SECRET_KEY": "x", "POMS_AUTH": "dev"}))
          if r.is_api and r.endpoint not in PUBLIC_ENDPOINTS]
NEEDS_MORE_THAN_READ = [r for r in _TABLE if ENDPOINT_SCOPES[r.endpoint] != "read"]
WORDS = {"experiment": "mu2e", "campaign": "srsoleti_tutorial", "stage": "reco", "name": "x",
         "credential_id": 1, "job_id": 1, "signature_id": 1, "submission_id": 1,
         "token_id": 1, "tag": "t1", "number": 1}


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def make_token(client, user="pat", **body) -> str:
    response = client.post(f"{API}/tokens", json={"name": "robot", **body},
                           headers=as_user(user))
    assert response.status_code == 201, response.get_json()
    return response.get_json()["token"]


@pytest.fixture
def people(member):
    member("mu2e", "pat", "superuser")
    member("dune", "pat", "superuser")


def test_every_api_endpoint_names_a_scope():
    assert {r.endpoint for r in _TABLE} <= set(ENDPOINT_SCOPES)
    assert set(ENDPOINT_SCOPES.values()) <= set(SCOPES)
    # Every write needs more than read; every read only read. Revoking is the exception: a
    # token may always revoke itself (the view asks admin for revoking another).
    for r in _TABLE:
        if r.endpoint != "api.revoke_token":
            assert (ENDPOINT_SCOPES[r.endpoint] == "read") is (r.method == "GET"), r.id


def test_a_token_revokes_itself_but_another_only_with_admin(client, people):
    reader = make_token(client, scopes=["read"])
    other = make_token(client, scopes=["read"])
    ids = {row.token_hash: row.id for row in db.session.scalars(select(ApiToken))}
    from app.auth.tokens import digest

    refused = client.delete(f"{API}/tokens/{ids[digest(other)]}", headers=bearer(reader))
    assert refused.status_code == 403 and "'admin' scope" in refused.get_json()["error"]
    admin = make_token(client, scopes=["admin"])
    assert client.delete(f"{API}/tokens/{ids[digest(other)]}",
                         headers=bearer(admin)).status_code == 200
    assert client.delete(f"{API}/tokens/{ids[digest(reader)]}",
                         headers=bearer(reader)).status_code == 200
    assert client.get(f"{API}/me", headers=bearer(reader)).status_code == 401


@pytest.mark.parametrize("route", NEEDS_MORE_THAN_READ, ids=[r.id for r in NEEDS_MORE_THAN_READ])
def test_a_token_without_the_scope_is_refused(client, people, route):
    needed = ENDPOINT_SCOPES[route.endpoint]
    token = make_token(client, scopes=[s for s in SCOPES if s != needed])
    before = db.session.scalar(text("SELECT count(*) FROM audit_entry"))
    response = client.open(path_for(route.rule, WORDS), method=route.method,
                           headers=bearer(token), json={})
    assert response.status_code == 403, response.get_json()
    message = response.get_json()["error"]
    if route.endpoint in NOT_WITH_A_TOKEN:
        assert "cannot make API tokens" in message
    else:
        assert f"no {needed!r} scope" in message and response.get_json()["scope"] == needed
    db.session.expire_all()
    assert db.session.scalar(text("SELECT count(*) FROM audit_entry")) == before


def test_a_read_token_reads_and_writes_nothing(client, people):
    token = make_token(client, scopes=["read"])
    assert client.get(f"{API}/experiments/mu2e/campaigns", headers=bearer(token)).status_code \
        == 200
    upload = client.post(f"{API}/experiments/mu2e/campaigns", data=TUTORIAL.read_bytes(),
                         headers={**bearer(token), "Content-Type": "text/plain"})
    assert upload.status_code == 403 and "'edit' scope" in upload.get_json()["error"]
    edit = make_token(client, scopes=["edit"])
    upload = client.post(f"{API}/experiments/mu2e/campaigns", data=TUTORIAL.read_bytes(),
                         headers={**bearer(edit), "Content-Type": "text/plain"})
    assert upload.status_code == 201
    launch = client.post(f"{API}/experiments/mu2e/campaigns/srsoleti_tutorial/stages/reco_fcl"
                         "/launch", json={"dry_run": True}, headers=bearer(edit))
    assert launch.status_code == 403 and "'launch' scope" in launch.get_json()["error"]


def test_a_token_for_one_experiment_is_refused_in_another(client, people):
    token = make_token(client, experiments=["dune"])
    assert client.get(f"{API}/experiments/dune/campaigns", headers=bearer(token)).status_code \
        == 200
    refused = client.get(f"{API}/experiments/mu2e/campaigns", headers=bearer(token))
    assert refused.status_code == 403 and "not for mu2e" in refused.get_json()["error"]
    write = client.post(f"{API}/experiments/mu2e/campaigns", data=TUTORIAL.read_bytes(),
                        headers={**bearer(token), "Content-Type": "text/plain"})
    assert write.status_code == 403
    listed = client.get(f"{API}/experiments", headers=bearer(token)).get_json()
    assert [e["name"] for e in listed["items"]] == ["dune"]
    assert list(client.get(f"{API}/me", headers=bearer(token)).get_json()["experiments"]) == \
        ["dune"]


def test_a_token_cannot_reach_beyond_its_owner(client, people, member):
    member("nova", "someone", "superuser")
    response = client.post(f"{API}/tokens", json={"name": "x", "experiments": ["nova"]},
                           headers=as_user("pat"))
    assert response.status_code == 422 and response.get_json()["field"] == "experiments"
    response = client.post(f"{API}/tokens", json={"name": "x", "scopes": ["root"]},
                           headers=as_user("pat"))
    assert response.status_code == 422 and response.get_json()["field"] == "scopes"


def test_the_openapi_document_says_each_endpoints_scope(client):
    doc = client.get(f"{API}/openapi.json").get_json()
    seen = 0
    for path, operations in doc["paths"].items():
        for method, op in operations.items():
            endpoint = f"api.{op['operationId']}"
            if endpoint in PUBLIC_ENDPOINTS:
                assert "x-poms-token-scope" not in op
                continue
            scope = ENDPOINT_SCOPES[endpoint]
            assert op["x-poms-token-scope"] == scope, (method, path)
            assert {"token": [scope]} in op["security"]
            assert f"`{scope}` scope" in op["description"]
            seen += 1
    assert seen == len(_TABLE)


def test_the_tokens_page_sets_and_shows_scopes_and_experiments(client, people):
    signed_in(client, "pat")
    page = client.get("/tokens").get_data(as_text=True)
    for scope in SCOPES:
        assert f'name="scope" value="{scope}"' in page
    assert 'name="experiment" value="dune"' in page and 'name="experiment" value="mu2e"' in page
    response = client.post("/tokens", data={"name": "nightly", "days": "10",
                                            "scope": ["read", "launch"], "experiment": "mu2e",
                                            "csrf_token": csrf_token(client, "/tokens")})
    assert response.status_code == 201
    shown = response.get_data(as_text=True)
    secret = re.search(r'id="new-token">([^<]+)<', shown).group(1)
    row = db.session.scalar(select(ApiToken).where(ApiToken.name == "nightly"))
    assert row.scopes == ["read", "launch"] and row.experiments == ["mu2e"]
    later = client.get("/tokens").get_data(as_text=True)
    assert '<td class="scopes">read, launch</td>' in later
    assert '<td class="experiments">mu2e</td>' in later
    assert client.get(f"{API}/experiments/dune/campaigns",
                      headers=bearer(secret)).status_code == 403


def test_tokens_made_before_scopes_keep_full_scope_in_their_owners_experiments(app, people):
    """Migration 0015 on a database holding a token from before."""
    pat = members.find_experimenter("pat").id
    db.session.remove()
    flask_migrate.downgrade(revision="0014")
    db.session.execute(text(
        "INSERT INTO api_token (experimenter_id, name, prefix, token_hash, created, expires) "
        "VALUES (:who, 'old', 'poms_old', :hash, '2026-01-01 00:00:00', '2099-01-01 00:00:00')"
    ), {"who": pat, "hash": "0" * 64})
    db.session.commit()
    db.session.remove()
    flask_migrate.upgrade()
    row = db.session.scalar(select(ApiToken).where(ApiToken.name == "old"))
    assert row.scopes == list(SCOPES) and row.experiments is None
    assert members.find_experimenter("pat").session_epoch == 0
