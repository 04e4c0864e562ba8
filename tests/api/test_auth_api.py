"""Who may call /api/v1 and how: the dev header, the session cookie (with CSRF for writes),
API tokens (create, use, expire, revoke, from the API and from the page)."""
from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select

from app.extensions import db
from app.models.api_token import ApiToken
from app.models.base import utcnow
from tests.api.support import API, TUTORIAL, as_user
from tests.fixtures.app import csrf_token, signed_in

CAMPAIGNS = f"{API}/experiments/mu2e/campaigns"


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def make_token(client, user="alice", days=30, name="robot", scopes=None) -> str:
    body = {"name": name, "days": days}
    if scopes is not None:
        body["scopes"] = scopes
    response = client.post(f"{API}/tokens", json=body, headers=as_user(user))
    assert response.status_code == 201, response.get_json()
    return response.get_json()["token"]


# --- nobody, and the dev header ------------------------------------------------------------


def test_no_credentials_is_401_json_never_a_redirect(client, people):
    for method, url in (("GET", f"{API}/me"), ("GET", CAMPAIGNS), ("POST", CAMPAIGNS),
                        ("DELETE", f"{CAMPAIGNS}/x")):
        response = client.open(url, method=method)
        assert response.status_code == 401, url
        assert response.mimetype == "application/json"
        assert response.get_json()["error"].startswith("sign in")
        assert 'Bearer realm="POMS"' in response.headers.getlist("WWW-Authenticate")


def test_the_dev_header_names_a_registered_user_only(client, people):
    assert client.get(f"{API}/me", headers=as_user("alice")).get_json()["user"] == "alice"
    response = client.get(f"{API}/me", headers=as_user("mallory"))
    assert response.status_code == 403
    assert response.get_json()["error"] == "mallory is not registered in any experiment"


def test_the_dev_header_is_ignored_by_a_kerberos_server(make_app, member, tmp_path):
    app = make_app(POMS_AUTH="kerberos", POMS_KEYTAB=str(tmp_path / "none"),
                   POMS_REALMS=["POMS.TEST"])
    with app.app_context():
        member("mu2e", "alice", "analysis")
    response = app.test_client().get(f"{API}/me", headers=as_user("alice"))
    assert response.status_code == 401
    assert "Negotiate" in response.headers.getlist("WWW-Authenticate")


def test_unknown_paths_and_methods_answer_json(client, people):
    response = client.get(f"{API}/nothing/here", headers=as_user("alice"))
    assert response.status_code == 404
    assert response.get_json() == {"error": "no such API endpoint: GET /api/v1/nothing/here",
                                   "field": None}
    response = client.put(f"{API}/me", headers=as_user("alice"))
    assert response.status_code == 405 and response.mimetype == "application/json"


def test_openapi_document_needs_no_sign_in(client):
    response = client.get(f"{API}/openapi.json")
    assert response.status_code == 200
    assert response.get_json()["openapi"].startswith("3.")


# --- the session cookie: reads yes, writes with the CSRF header ----------------------------


def test_a_signed_in_browser_reads_and_writes_only_with_the_csrf_header(client, people):
    signed_in(client, "alice")
    me = client.get(f"{API}/me").get_json()
    assert (me["user"], me["auth"]) == ("alice", "session")
    response = client.post(CAMPAIGNS, data=TUTORIAL.read_bytes(),
                           headers={"Content-Type": "text/plain"})
    assert response.status_code == 403
    assert "X-CSRFToken" in response.get_json()["error"]
    token = csrf_token(client, "/e/mu2e/campaigns")
    response = client.post(CAMPAIGNS, data=TUTORIAL.read_bytes(),
                           headers={"Content-Type": "text/plain", "X-CSRFToken": token})
    assert response.status_code == 201


def test_writes_a_browser_marks_as_from_another_site_are_refused(client, people):
    token = make_token(client)
    for headers in ({"Sec-Fetch-Site": "cross-site"}, {"Origin": "https://evil.example"},
                    {"Origin": "null"}):
        response = client.post(CAMPAIGNS, data=TUTORIAL.read_bytes(),
                               headers={**bearer(token), "Content-Type": "text/plain",
                                        **headers})
        assert response.status_code == 403, headers
        assert "another site" in response.get_json()["error"]
    response = client.post(CAMPAIGNS, data=TUTORIAL.read_bytes(), headers={
        **bearer(token), "Content-Type": "text/plain", "Origin": "http://localhost",
        "Sec-Fetch-Site": "same-origin"})
    assert response.status_code == 201


# --- tokens ------------------------------------------------------------------------------


def test_a_token_acts_as_its_owner_and_records_its_use(client, people):
    token = make_token(client, "bob", days=7, name="nightly")
    row = db.session.scalar(select(ApiToken))
    assert row.token_hash != token and token not in (row.prefix, row.name)
    assert token.startswith(row.prefix) and row.last_used is None
    me = client.get(f"{API}/me", headers=bearer(token)).get_json()
    assert (me["user"], me["auth"]) == ("bob", "token")
    assert me["token"]["name"] == "nightly" and "token" not in me["token"]
    db.session.refresh(row)
    assert row.last_used is not None
    # bob may read mu2e campaigns with it, and write what bob may write.
    assert client.get(CAMPAIGNS, headers=bearer(token)).status_code == 200
    response = client.post(CAMPAIGNS, data=TUTORIAL.read_bytes(),
                           headers={**bearer(token), "Content-Type": "text/plain"})
    assert response.status_code == 201 and response.get_json()["campaign"]["owner"] == "bob"


def test_a_token_beats_a_session_cookie_and_sets_none(client, people):
    token = make_token(client, "bob")
    signed_in(client, "alice")
    response = client.get(f"{API}/me", headers=bearer(token))
    assert response.get_json()["user"] == "bob"
    assert "Set-Cookie" not in response.headers


def test_expired_revoked_and_unknown_tokens_are_401(client, people):
    token = make_token(client)
    row = db.session.scalar(select(ApiToken))
    row.expires = utcnow() - timedelta(seconds=1)
    db.session.commit()
    response = client.get(f"{API}/me", headers=bearer(token))
    assert response.status_code == 401 and "expired" in response.get_json()["error"]

    # Revoking a token with a token takes the admin scope (a token may revoke itself).
    token = make_token(client, name="second", scopes=["admin"])
    second = db.session.scalar(select(ApiToken).where(ApiToken.name == "second"))
    response = client.delete(f"{API}/tokens/{second.id}", headers=bearer(token))
    assert response.status_code == 200 and response.get_json()["status"] == "revoked"
    response = client.get(f"{API}/me", headers=bearer(token))
    assert response.status_code == 401 and "revoked" in response.get_json()["error"]

    for bad in ("poms_" + "x" * 43, "garbage", ""):
        response = client.get(f"{API}/me", headers=bearer(bad))
        assert response.status_code == 401


def test_token_listing_creation_rules_and_other_peoples_tokens(client, people):
    token = make_token(client, "alice")
    listed = client.get(f"{API}/tokens", headers=as_user("alice")).get_json()
    assert listed["total"] == 1 and "token" not in listed["items"][0]
    assert client.get(f"{API}/tokens", headers=as_user("bob")).get_json()["total"] == 0
    response = client.post(f"{API}/tokens", json={"name": "child"}, headers=bearer(token))
    assert response.status_code == 403 and "cannot make" in response.get_json()["error"]
    for body, field in (({"name": ""}, "name"), ({"name": "x", "days": 0}, "days"),
                        ({"name": "x", "days": 9999}, "days"), ({"days": 3}, "name"),
                        ({"name": "x", "days": "3"}, "days")):
        response = client.post(f"{API}/tokens", json=body, headers=as_user("alice"))
        assert response.status_code == 422 and response.get_json()["field"] == field, body
    token_id = listed["items"][0]["id"]
    assert client.delete(f"{API}/tokens/{token_id}", headers=as_user("bob")).status_code == 404


def test_the_tokens_page_shows_a_new_token_once_and_revokes(client, people):
    signed_in(client, "alice")
    page = client.get("/tokens").get_data(as_text=True)
    assert "No tokens yet." in page
    response = client.post("/tokens", data={"name": "ci robot", "days": "10",
                                            "csrf_token": csrf_token(client, "/tokens")})
    page = response.get_data(as_text=True)
    assert response.status_code == 201
    secret = re.search(r'<code class="secret" id="new-token">([^<]+)</code>', page).group(1)
    assert "ci robot" in page and "not shown again" in page
    assert client.get(f"{API}/me", headers=bearer(secret)).get_json()["user"] == "alice"
    later = client.get("/tokens").get_data(as_text=True)
    assert secret not in later and secret[:10] in later
    row = db.session.scalar(select(ApiToken))
    assert row.last_used is not None
    assert row.last_used.strftime("%Y-%m-%d %H:%M") in later

    response = client.post(f"/tokens/{row.id}/revoke",
                           data={"csrf_token": csrf_token(client, "/tokens")})
    assert "Revoked" in response.get_data(as_text=True)
    assert client.get(f"{API}/me", headers=bearer(secret)).status_code == 401

    bad = client.post("/tokens", data={"name": "", "days": "10",
                                       "csrf_token": csrf_token(client, "/tokens")})
    assert bad.status_code == 422 and "Not made" in bad.get_data(as_text=True)
    assert client.post("/tokens", data={"name": "x"}).status_code == 400  # no CSRF token


def test_revoking_someone_elses_token_on_the_page_is_404(client, people):
    make_token(client, "bob")
    row = db.session.scalar(select(ApiToken))
    signed_in(client, "alice")
    response = client.post(f"/tokens/{row.id}/revoke",
                           data={"csrf_token": csrf_token(client, "/tokens")})
    assert response.status_code == 404
