"""/api/v1 credentials: upload a bearer token file or proxy, see its expiry, remove it."""
from __future__ import annotations

import os
from pathlib import Path

from tests.api.support import API, as_user, bearer_token_file

CREDENTIALS = f"{API}/experiments/mu2e/credentials"


def upload(client, data: bytes, user="alice", role=None):
    query = f"?role={role}" if role else ""
    return client.post(CREDENTIALS + query, data=data,
                       headers={**as_user(user), "Content-Type": "application/octet-stream"})


def test_upload_list_and_remove_a_token(app, client, people):
    response = upload(client, bearer_token_file(30 * 86400))
    body = response.get_json()
    assert response.status_code == 201, body
    assert body["credential"]["kind"] == "token" and body["credential"]["role"] == "analysis"
    assert body["credential"]["renew"] is False and body["warning"] is None
    assert body["parsed"]["issuer"] == "https://cilogon.org/mu2e"
    assert body["credential"]["name"] == "bt_mu2e_analysis_alice"
    assert body["credential"]["in_use"] is True
    folder = Path(app.config["POMS_UPLOADS_DIR"])
    stored = [p for p in folder.rglob("*") if p.is_file()]
    assert len(stored) == 1 and oct(os.stat(stored[0]).st_mode & 0o777) == "0o600"
    # The same row is an uploaded file: the two lists are views of one store.
    uploads = client.get(f"{API}/experiments/mu2e/uploads", headers=as_user("alice")).get_json()
    assert [f["name"] for f in uploads["items"]] == ["bt_mu2e_analysis_alice"]

    listed = client.get(CREDENTIALS, headers=as_user("alice")).get_json()
    assert listed["total"] == 1 and listed["items"][0]["time_left"].endswith("days left")
    assert client.get(CREDENTIALS, headers=as_user("bob")).get_json()["total"] == 0

    cid = listed["items"][0]["id"]
    assert client.delete(f"{CREDENTIALS}/{cid}", headers=as_user("bob")).status_code == 404
    assert client.delete(f"{CREDENTIALS}/{cid}", headers=as_user("alice")).status_code == 200
    assert client.get(CREDENTIALS, headers=as_user("alice")).get_json()["total"] == 0


def test_a_token_with_days_left_is_kept_with_a_warning(client, people):
    body = upload(client, bearer_token_file(2 * 86400)).get_json()
    assert body["credential"]["renew"] is True
    assert "under 7 days" in body["warning"]


def test_multipart_upload_with_the_role_in_the_form(client, people):
    import io

    response = client.post(CREDENTIALS, headers=as_user("pat"),
                           content_type="multipart/form-data",
                           data={"credential": (io.BytesIO(bearer_token_file(86400 * 9)), "bt"),
                                 "role": "production"})
    assert response.status_code == 201
    assert response.get_json()["credential"]["role"] == "production"


def test_refusals(client, people):
    expired = upload(client, bearer_token_file(-60))
    assert expired.status_code == 422 and "expired" in expired.get_json()["error"]
    assert expired.get_json()["field"] == "credential"
    garbage = upload(client, b"hello")
    assert garbage.status_code == 422 and "neither a PEM proxy" in garbage.get_json()["error"]
    empty = upload(client, b"")
    assert empty.status_code == 422 and empty.get_json()["field"] == "credential"
    wrong_role = upload(client, bearer_token_file(86400 * 9), role="boss")
    assert wrong_role.status_code == 422 and wrong_role.get_json()["field"] == "role"
    # An analysis user keeps no production credential.
    refused = upload(client, bearer_token_file(86400 * 9), role="production")
    assert refused.status_code == 403 and refused.get_json()["field"] == "role"
    assert client.get(CREDENTIALS, headers=as_user("alice")).get_json()["total"] == 0
