"""Credentials are uploaded files: one uploaded as a file and one sent as a credential are
the same rows, the launcher's lookup finds either, and roles decide who keeps which."""
from __future__ import annotations

import io
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.auth import members
from app.credentials.parse import CredentialError
from app.extensions import db
from app.models import AuditEntry, UploadedFile
from app.uploads.store import CredentialRefused, credential_for, save_credential, uploads_of
from tests.credentials import makers
from tests.fixtures.app import csrf_token, signed_in


@pytest.fixture
def people(app, member):
    member("mu2e", "alice", "analysis")
    member("mu2e", "sam", "production-shifter")
    return app


def keep(app, username, role, data, acting=None):
    exp = members.find_experiment("mu2e")
    user = members.find_experimenter(username)
    saved = save_credential(exp, user, role, data, acting_role=acting or user.role_in(exp),
                            directory=app.config["POMS_UPLOADS_DIR"],
                            quota=app.config["POMS_UPLOADS_QUOTA_BYTES"])
    db.session.commit()
    return saved


def rows() -> int:
    return db.session.scalar(select(func.count()).select_from(UploadedFile))


def test_a_proxy_uploaded_on_the_page_is_the_launch_credential(people):
    alice = signed_in(people.test_client(), "alice")
    proxy = makers.proxy(timedelta(days=9))
    alice.post("/e/mu2e/uploads", content_type="multipart/form-data", data={
        "csrf_token": csrf_token(alice, "/e/mu2e/uploads"),
        "files": [(io.BytesIO(proxy), "x509up_u1000"), (io.BytesIO(b"[global]\n"), "reco.cfg")],
    })
    exp, user = members.find_experiment("mu2e"), members.find_experimenter("alice")
    row, path = credential_for(exp, user, "analysis", directory=people.config["POMS_UPLOADS_DIR"])
    assert (row.name, row.credential_kind, path.read_bytes()) == ("x509up_u1000", "proxy", proxy)
    # Sent as a credential (the API, `poms upload-credential`), a token joins the same files
    # and, being a token, is what launches use from then on.
    token = keep(people, "alice", "analysis", makers.token().encode()).row
    assert [r.name for r in uploads_of(exp, user)] == [
        "bt_mu2e_analysis_alice", "reco.cfg", "x509up_u1000"]
    assert credential_for(exp, user, "analysis",
                          directory=people.config["POMS_UPLOADS_DIR"])[0].id == token.id


def test_sent_as_a_credential_a_new_one_replaces_the_last_of_its_kind(people):
    first = keep(people, "alice", "analysis", makers.proxy(timedelta(days=3))).row
    second = keep(people, "alice", "analysis", makers.proxy(timedelta(days=9))).row
    assert first.id == second.id and rows() == 1
    assert keep(people, "alice", "analysis", makers.token().encode()).row.id != first.id
    entry = db.session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc())).first()
    assert (entry.action, entry.subject) == ("credential uploaded",
                                             "bt_mu2e_analysis_alice of alice")


def test_refused_credentials_store_nothing(people):
    for bad in (makers.proxy(timedelta(hours=-1), starts=timedelta(days=-2)), b"junk",
                makers.long_lived_certificate_and_key()):
        with pytest.raises(CredentialError):
            keep(people, "alice", "analysis", bad)
        db.session.rollback()
    assert rows() == 0


def test_roles_decide_which_credentials_one_keeps(people):
    with pytest.raises(CredentialRefused):
        keep(people, "alice", "production", makers.proxy())
    db.session.rollback()
    assert keep(people, "sam", "production", makers.proxy()).row.name == \
        "x509up_voms_mu2e_Production_sam"
    with pytest.raises(CredentialError, match="not a kind of work"):
        keep(people, "sam", "../../etc", makers.proxy())
