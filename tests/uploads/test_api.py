"""/api/v1/experiments/<experiment>/uploads: list, upload several at once (multipart field
`files`), download, remove; the JSON shapes the client and `upload_file` rely on."""
from __future__ import annotations

import hashlib
import io
from datetime import timedelta

import pytest

from tests.api.support import API, as_user, bearer_token_file
from tests.credentials import makers
from tests.uploads.conftest import files_on_disk

UPLOADS = f"{API}/experiments/mu2e/uploads"


def upload(client, files, user="alice", **query):
    return client.post(UPLOADS, query_string=query, headers=as_user(user),
                       content_type="multipart/form-data",
                       data={"files": [(io.BytesIO(data), name) for name, data in files]})


def test_upload_list_download_remove(people, client, uploads_dir):
    token = bearer_token_file(3 * 86400)
    response = upload(client, [("reco.cfg", b"[global]\n"), ("bt_u1000", token)])
    body = response.get_json()
    assert response.status_code == 201, body
    assert body["used"] == 9 + len(token) and body["quota"] == 10 * 1024 * 1024
    cfg, tok = body["files"]
    assert cfg == {"id": cfg["id"], "name": "reco.cfg", "size": 9, "replaced": False,
                   "sha256": hashlib.sha256(b"[global]\n").hexdigest(),
                   "uploaded": cfg["uploaded"], "credential": None}
    assert cfg["uploaded"].endswith("Z")
    assert tok["credential"]["kind"] == "token" and tok["credential"]["role"] == "analysis"
    assert tok["credential"]["in_use"] is True and tok["credential"]["renew"] is True
    assert body["warnings"] == [
        f"bt_u1000: the bearer token expires in under 7 days ({tok['credential']['time_left']})"
        ": renew it soon"]

    listed = client.get(UPLOADS, headers=as_user("alice")).get_json()
    assert [f["name"] for f in listed["items"]] == ["bt_u1000", "reco.cfg"]
    assert (listed["total"], listed["used"]) == (2, body["used"])
    assert client.get(UPLOADS, headers=as_user("bob")).get_json()["total"] == 0

    got = client.get(f"{UPLOADS}/reco.cfg", headers=as_user("alice"))
    assert got.status_code == 200 and got.data == b"[global]\n"
    assert got.mimetype == "application/octet-stream"
    assert client.get(f"{UPLOADS}/reco.cfg", headers=as_user("bob")).status_code == 404

    again = upload(client, [("reco.cfg", b"[global]\ngroup = mu2e\n")]).get_json()
    assert again["files"][0]["replaced"] is True

    assert client.delete(f"{UPLOADS}/reco.cfg", headers=as_user("bob")).status_code == 404
    removed = client.delete(f"{UPLOADS}/reco.cfg", headers=as_user("alice"))
    assert removed.status_code == 200 and removed.get_json()["name"] == "reco.cfg"
    assert client.get(f"{UPLOADS}/reco.cfg", headers=as_user("alice")).status_code == 404
    assert len(files_on_disk(uploads_dir)) == 1


def test_refusals_list_every_file_and_keep_nothing(people, client, uploads_dir):
    response = upload(client, [("ok.cfg", b"x"), (".profile", b"x"), ("a/b", b"x"),
                               ("x509up", makers.proxy(timedelta(hours=-1),
                                                       starts=timedelta(days=-1)))])
    body = response.get_json()
    assert response.status_code == 422 and body["field"] == "files"
    assert body["error"] == ("nothing was kept: .profile: the name starts with a dot: hidden "
                             "files are not kept (and 2 more: see problems)")
    assert [(p["file"], p["reason"][:22]) for p in body["problems"]] == [
        (".profile", "the name starts with a"), ("a/b", "the name has a path se"),
        ("x509up", "this X.509 proxy expir")]
    assert files_on_disk(uploads_dir) == []
    empty = client.post(UPLOADS, headers=as_user("alice"), content_type="multipart/form-data",
                        data={})
    assert empty.status_code == 422 and "no file was sent" in empty.get_json()["error"]


def test_over_quota_says_used_and_allowed(people, client, uploads_dir):
    people.config["POMS_UPLOADS_QUOTA_BYTES"] = 100
    assert upload(client, [("a", b"x" * 80)]).status_code == 201
    response = upload(client, [("b", b"x" * 30)])
    body = response.get_json()
    assert response.status_code == 413 and (body["used"], body["quota"]) == (80, 100)
    assert "to 110 bytes, over your quota of 100 bytes (you use 80 bytes now)" in body["error"]
    too_big = upload(client, [("big", b"x" * (2 * 1024 * 1024))])
    assert too_big.status_code == 413 and too_big.is_json
    assert len(files_on_disk(uploads_dir)) == 1


def test_credential_roles(people, client):
    token = makers.token().encode()
    refused = upload(client, [("bt", token)], role="production")
    assert refused.status_code == 403 and "may not keep a credential for production" in \
        refused.get_json()["error"]
    by_name = upload(client, [("vt_mu2e_production_pat", token)], user="pat")
    assert by_name.get_json()["files"][0]["credential"]["role"] == "production"
    bad = upload(client, [("bt", token)], role="boss")
    assert bad.status_code == 422 and bad.get_json()["field"] == "role"


def test_members_only_and_names_in_urls(people, client):
    assert client.get(UPLOADS, headers=as_user("zed")).status_code == 403
    assert upload(client, [("x", b"x")], user="zed").status_code == 403
    assert client.get(f"{API}/experiments/nope/uploads", headers=as_user("alice")).status_code \
        == 404
    upload(client, [("run 1 (v2).sh", b"echo")])
    assert client.get(f"{UPLOADS}/run%201%20(v2).sh", headers=as_user("alice")).data == b"echo"
    assert client.get(f"{UPLOADS}/..", headers=as_user("alice")).status_code == 404


@pytest.mark.parametrize("changed", ["swapped", "gone"])
def test_a_changed_file_is_not_served(people, client, uploads_dir, changed):
    upload(client, [("reco.cfg", b"original")])
    [path] = files_on_disk(uploads_dir)
    if changed == "gone":
        path.unlink()
    else:
        path.write_bytes(b"swapped")
    response = client.get(f"{UPLOADS}/reco.cfg", headers=as_user("alice"))
    assert response.status_code == 409 and response.get_json()["field"] == "name"
    assert "missing on disk or changed" in response.get_json()["error"]
