"""Keeping credentials: files (0600, outside the web root, names that cannot traverse),
rows, the audit log, the launcher's lookup, and the Credentials page."""
from __future__ import annotations

import io
import os
import stat
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from app.auth import members
from app.credentials.parse import CredentialError, now_utc
from app.credentials.store import CredentialRefused, credential_for, save_credential
from app.extensions import db
from app.models import AuditEntry, Credential
from tests.credentials import makers
from tests.fixtures.app import csrf_token, signed_in


@pytest.fixture
def app_with_creds(make_app, tmp_path):
    app = make_app(POMS_CREDENTIALS_DIR=str(tmp_path / "secret" / "credentials"))
    with app.app_context():
        for username, role in (("alice", "analysis"), ("sam", "production-shifter")):
            user = members.find_or_create_experimenter(username)
            members.ensure_member(members.find_or_create_experiment("mu2e"), user, role)
        db.session.commit()
        yield app


def folder(app) -> Path:
    return Path(app.config["POMS_CREDENTIALS_DIR"])


def save(app, username, role, data, acting=None):
    exp = members.find_experiment("mu2e")
    user = members.find_experimenter(username)
    row, parsed = save_credential(
        exp, user, role, data, acting_role=acting or user.role_in(exp),
        directory=app.config["POMS_CREDENTIALS_DIR"],
    )
    db.session.commit()
    return row, parsed


def test_saved_file_is_private_and_named_by_numbers(app_with_creds):
    data = makers.proxy()
    row, parsed = save(app_with_creds, "alice", "analysis", data)
    path = folder(app_with_creds) / row.file_name
    assert row.file_name == f"{row.experiment_id}-{row.experimenter_id}-analysis-proxy"
    assert path.read_bytes() == data
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(folder(app_with_creds).stat().st_mode) == 0o700
    assert not list(folder(app_with_creds).glob(".*.part"))  # no temporary left behind
    assert row.expires == parsed.expires and row.subject == parsed.subject
    # outside the web root: nowhere under the app's static folder
    assert not str(path).startswith(app_with_creds.static_folder)
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "credential uploaded"))
    assert entry.subject == "analysis X.509 proxy of alice"


def test_a_new_upload_replaces_the_old_one(app_with_creds):
    first, _ = save(app_with_creds, "alice", "analysis", makers.proxy(timedelta(days=3)))
    second, _ = save(app_with_creds, "alice", "analysis", makers.proxy(timedelta(days=9)))
    assert first.id == second.id
    assert db.session.scalar(select(func.count()).select_from(Credential)) == 1
    token_row, _ = save(app_with_creds, "alice", "analysis", makers.token().encode())
    assert token_row.id != first.id  # one of each kind


def test_refused_files_store_nothing(app_with_creds):
    for bad in (makers.proxy(timedelta(hours=-1), starts=timedelta(days=-2)), b"junk"):
        with pytest.raises(CredentialError):
            save(app_with_creds, "alice", "analysis", bad)
        db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(Credential)) == 0
    assert not folder(app_with_creds).exists() or not any(folder(app_with_creds).iterdir())


def test_roles_decide_which_credentials_one_keeps(app_with_creds):
    with pytest.raises(CredentialRefused):
        save(app_with_creds, "alice", "production", makers.proxy())
    db.session.rollback()
    save(app_with_creds, "sam", "production", makers.proxy())
    with pytest.raises(CredentialError, match="not a kind of work"):
        save(app_with_creds, "sam", "../../etc", makers.proxy())


def test_credential_for_the_launcher(app_with_creds):
    exp = members.find_experiment("mu2e")
    alice = members.find_experimenter("alice")
    directory = app_with_creds.config["POMS_CREDENTIALS_DIR"]
    with pytest.raises(CredentialError, match="none was uploaded"):
        credential_for(exp, alice, "analysis", directory=directory)

    proxy_row, _ = save(app_with_creds, "alice", "analysis", makers.proxy(timedelta(days=3)))
    row, path = credential_for(exp, alice, "analysis", directory=directory)
    assert row.id == proxy_row.id and path.read_bytes().startswith(b"-----BEGIN CERTIFICATE")

    token_row, _ = save(app_with_creds, "alice", "analysis", makers.token().encode())
    assert credential_for(exp, alice, "analysis", directory=directory)[0].id == token_row.id

    # A file changed behind POMS's back is never used; an expired one neither.
    (Path(directory) / token_row.file_name).write_bytes(b"tampered")
    assert credential_for(exp, alice, "analysis", directory=directory)[0].id == proxy_row.id
    later = now_utc() + timedelta(days=4)
    with pytest.raises(CredentialError, match="the X.509 proxy expired on"):
        credential_for(exp, alice, "analysis", directory=directory, now=later)
    (Path(directory) / proxy_row.file_name).unlink()
    with pytest.raises(CredentialError, match="the stored bearer token file is missing or "
                                              "changed; the stored X.509 proxy file is missing"):
        credential_for(exp, alice, "analysis", directory=directory)


# --- the page ------------------------------------------------------------------------------


def post_file(client, data: bytes, role="analysis", filename="x509up_u1000", htmx=True):
    token = csrf_token(client, "/e/mu2e/credentials")
    headers = {"HX-Request": "true"} if htmx else {}
    return client.post(
        "/e/mu2e/credentials",
        data={"csrf_token": token, "role": role, "credential": (io.BytesIO(data), filename)},
        content_type="multipart/form-data", headers=headers,
    )


@pytest.fixture
def alice(app_with_creds):
    return signed_in(app_with_creds.test_client(), "alice")


def test_page_upload_shows_expiry_and_warns_under_seven_days(alice):
    page = alice.get("/e/mu2e/credentials")
    assert page.status_code == 200
    assert "You have not uploaded a credential" in page.get_data(as_text=True)
    assert '<option value="production">' not in page.get_data(as_text=True)  # analysis only

    response = post_file(alice, makers.proxy(timedelta(days=3)), filename="../../etc/passwd")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Kept your X.509 proxy for analysis work" in html
    assert "under 7 days: renew it soon" in html
    assert "renew soon" in html and "/CN=Alice Tester" in html

    response = post_file(alice, makers.token(timedelta(days=30)).encode(), filename="bt_u1000")
    html = response.get_data(as_text=True)
    assert "Kept your bearer token for analysis work" in html
    assert "29 days left" in html or "30 days left" in html
    assert not Path("/etc/passwd.analysis").exists()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (lambda: makers.proxy(timedelta(hours=-2), starts=timedelta(days=-1)),
         "Not kept: this X.509 proxy expired on"),
        (lambda: makers.token(timedelta(minutes=-1)).encode(),
         "Not kept: this bearer token expired"),
        (lambda: b"<script>alert(1)</script>", "Not kept: the file is neither"),
        (lambda: makers.long_lived_certificate_and_key(), "is not a proxy"),
    ],
)
def test_page_refuses_expired_or_unparseable_with_a_clear_message(alice, data, message):
    response = post_file(alice, data())
    html = response.get_data(as_text=True)
    assert message in html
    assert "<script>alert" not in html
    assert db.session.scalar(select(func.count()).select_from(Credential)) == 0


def test_page_without_javascript_redirects_with_the_message(alice):
    response = post_file(alice, makers.proxy(), htmx=False)
    assert response.status_code == 302
    assert "Kept your X.509 proxy" in alice.get(response.headers["Location"]).get_data(
        as_text=True)


def test_analysis_user_may_not_upload_a_production_credential(alice):
    assert post_file(alice, makers.proxy(), role="production").status_code == 403


def test_no_file_picked(alice):
    token = csrf_token(alice, "/e/mu2e/credentials")
    response = alice.post("/e/mu2e/credentials", data={"csrf_token": token, "role": "analysis"},
                          headers={"HX-Request": "true"})
    assert "pick a proxy or token file first" in response.get_data(as_text=True)


def test_delete_only_ones_own(app_with_creds, alice):
    row, _ = save(app_with_creds, "sam", "production", makers.proxy())
    token = csrf_token(alice, "/e/mu2e/credentials")
    assert alice.post(f"/e/mu2e/credentials/{row.id}/delete",
                      data={"csrf_token": token}).status_code == 404
    mine, _ = save(app_with_creds, "alice", "analysis", makers.proxy())
    path = folder(app_with_creds) / mine.file_name
    response = alice.post(f"/e/mu2e/credentials/{mine.id}/delete", data={"csrf_token": token},
                          headers={"HX-Request": "true"})
    assert "Removed your analysis X.509 proxy." in response.get_data(as_text=True)
    assert not path.exists()
    db.session.expire_all()
    assert db.session.get(Credential, row.id) is not None


def test_non_member_cannot_upload(app_with_creds):
    members.find_or_create_experimenter("zed")
    members.ensure_member(members.find_or_create_experiment("nova"),
                          members.find_experimenter("zed"), "superuser")
    db.session.commit()
    zed = signed_in(app_with_creds.test_client(), "zed")
    assert zed.get("/e/mu2e/credentials").status_code == 403
    token = csrf_token(zed, "/e/nova/credentials")
    response = zed.post("/e/mu2e/credentials", data={
        "csrf_token": token, "role": "analysis", "credential": (io.BytesIO(makers.proxy()), "p")
    }, content_type="multipart/form-data")
    assert response.status_code == 403
    assert not os.path.exists(folder(app_with_creds)) or not any(folder(app_with_creds).iterdir())
