"""app/uploads/store.py on a real database and a real folder: private files, names, the
quota, replacing, all-or-nothing, the launch credential and what a launch gets."""
from __future__ import annotations

import hashlib
import os
import stat
import threading
import time
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.auth import members
from app.credentials.parse import CredentialError, now_utc
from app.extensions import db
from app.models import AuditEntry, UploadedFile
from app.uploads import store
from tests.credentials import makers
from tests.uploads.conftest import files_on_disk, save

CFG = b"[global]\ngroup = mu2e\n"


def mu2e():
    return members.find_experiment("mu2e")


def person(name):
    return members.find_experimenter(name)


def count() -> int:
    return db.session.scalar(select(func.count()).select_from(UploadedFile))


def test_files_are_kept_owner_only_outside_the_web_root_under_numbers(people, uploads_dir):
    proxy = makers.proxy(timedelta(days=10))
    saved = save(people, "alice", [("reco.cfg", CFG), ("x509up_u1000", proxy)])
    cfg, cred = (s.row for s in saved)
    assert [s.replaced for s in saved] == [False, False]
    assert (cfg.name, cfg.size, cfg.sha256) == ("reco.cfg", len(CFG),
                                                hashlib.sha256(CFG).hexdigest())
    assert not cfg.is_credential and saved[0].credential is None

    folder = uploads_dir / str(mu2e().id) / str(person("alice").id)
    assert store.path_of(cfg, uploads_dir).parent == folder
    assert store.path_of(cfg, uploads_dir).read_bytes() == CFG
    for path in files_on_disk(uploads_dir):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    for path in (folder, folder.parent):
        assert stat.S_IMODE(path.stat().st_mode) == 0o700, path
    assert not str(folder).startswith(people.static_folder)

    assert (cred.credential_kind, cred.credential_role) == ("proxy", "analysis")
    assert cred.subject.startswith("/DC=org/DC=cilogon/") and cred.issuer.endswith("Tester")
    assert abs(cred.expires - (now_utc() + timedelta(days=10))) < timedelta(minutes=1)
    actions = dict(db.session.execute(select(AuditEntry.subject, AuditEntry.action)).all())
    assert actions == {"reco.cfg of alice": "file uploaded",
                       "x509up_u1000 of alice": "credential uploaded"}


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("", "the file has no name"),
        ("cfg/reco.cfg", "path separator"),
        ("..\\reco.cfg", "path separator"),
        ("../../etc/passwd", "path separator"),
        (".bashrc", "starts with a dot"),
        ("..", "starts with a dot"),
        ("reco\tcfg", "cannot be printed"),
        ("reco\x00cfg", "cannot be printed"),
        (" reco.cfg", "starts or ends with a space"),
        ("x" * 129, "129 characters long: at most 128"),
        ("é" * 128, "at most 128 (255 bytes in UTF-8)"),
    ],
)
def test_bad_names_are_refused_naming_the_file_and_nothing_is_kept(people, uploads_dir,
                                                                   name, reason):
    with pytest.raises(store.UploadRefused) as err:
        save(people, "alice", [("good.cfg", CFG), (name, CFG)])
    [refusal] = err.value.refusals
    assert refusal.name == name and reason in refusal.reason
    db.session.rollback()
    assert count() == 0 and files_on_disk(uploads_dir) == []


def test_names_that_are_fine(people):
    names = ["reco.cfg", "x509up_u1000", "my run (v2).sh", "données.fcl", "x" * 128, "a"]
    save(people, "alice", [(n, CFG) for n in names])
    assert sorted(r.name for r in store.uploads_of(mu2e(), person("alice"))) == sorted(names)


def test_one_name_twice_in_an_upload_is_refused(people):
    with pytest.raises(store.UploadRefused, match="reco.cfg: the name is given twice"):
        save(people, "alice", [("reco.cfg", CFG), ("reco.cfg", b"other")])


def test_an_upload_of_nothing_is_refused(people):
    with pytest.raises(store.UploadRefused, match="no file was sent"):
        save(people, "alice", [])


def test_replacing_keeps_one_row_and_drops_the_old_file_only_at_commit(people, uploads_dir):
    [first] = save(people, "alice", [("reco.cfg", b"version 1")])
    old_path = store.path_of(first.row, uploads_dir)
    [second] = save(people, "alice", [("reco.cfg", b"version 2, longer")], commit=False)
    assert second.replaced and second.row.id == first.row.id
    new_path = store.path_of(second.row, uploads_dir)
    assert old_path.exists() and new_path.exists() and old_path != new_path
    db.session.commit()
    assert not old_path.exists() and new_path.read_bytes() == b"version 2, longer"
    assert count() == 1
    entry = db.session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc())).first()
    assert entry.before["size"] == 9 and entry.after["size"] == 17


def test_a_rolled_back_upload_leaves_the_folder_and_rows_as_they_were(people, uploads_dir):
    [first] = save(people, "alice", [("reco.cfg", b"version 1")])
    before = files_on_disk(uploads_dir)
    save(people, "alice", [("reco.cfg", b"version 2"), ("new.sh", b"echo")], commit=False)
    assert len(files_on_disk(uploads_dir)) == 3
    db.session.rollback()
    assert files_on_disk(uploads_dir) == before
    row = store.find_upload(mu2e(), person("alice"), "reco.cfg")
    assert store.read_upload(row, directory=uploads_dir) == b"version 1"
    assert store.find_upload(mu2e(), person("alice"), "new.sh") is None


def test_the_quota_refuses_the_whole_upload_and_says_what_is_used(people, uploads_dir):
    save(people, "alice", [("a.cfg", b"x" * 60)], quota=100)
    with pytest.raises(store.OverQuota) as err:
        save(people, "alice", [("b.cfg", b"x" * 30), ("c.cfg", b"x" * 20)], quota=100)
    assert str(err.value) == (
        "these files would bring your uploaded files in mu2e to 110 bytes, over your quota "
        "of 100 bytes (you use 60 bytes now): remove files you no longer need first")
    db.session.rollback()
    assert len(files_on_disk(uploads_dir)) == 1 and count() == 1
    # A replacement counts only what it adds; other people's files are theirs to count.
    save(people, "alice", [("a.cfg", b"x" * 95)], quota=100)
    save(people, "bob", [("a.cfg", b"x" * 95)], quota=100)
    assert store.usage(mu2e(), person("alice")) == 95


def test_a_credential_is_recognised_by_its_content(people):
    token = makers.token(timedelta(days=3)).encode()
    bundle = makers.pem(makers.user_certificate()[1])  # a CA bundle: certificates, no key
    saved = save(people, "alice", [("bt_u1000", token + b"\n"), ("ca.pem", bundle),
                                   ("notes.txt", b"a.b.c"), ("eyJ.txt", b"eyJ not a token")])
    kinds = {s.row.name: s.row.credential_kind for s in saved}
    assert kinds == {"bt_u1000": "token", "ca.pem": None, "notes.txt": None, "eyJ.txt": None}


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (lambda: makers.proxy(timedelta(hours=-1), starts=timedelta(days=-2)),
         "this X.509 proxy expired on"),
        (lambda: makers.token(timedelta(seconds=-5)).encode(), "this bearer token expired"),
        (lambda: makers.long_lived_certificate_and_key(), "the first certificate is not a proxy"),
        (lambda: makers.long_lived_certificate_and_key(b"pw"), "protected by a passphrase"),
        (lambda: makers.pem_key(makers.key()), "holds a private key and no proxy certificate"),
        (lambda: makers.token(exp=None).encode(), "has no expiry"),
    ],
)
def test_a_credential_that_cannot_be_used_is_refused(people, uploads_dir, data, reason):
    with pytest.raises(store.UploadRefused) as err:
        save(people, "alice", [("reco.cfg", CFG), ("x509up_u1000", data())])
    assert str(err.value).startswith("x509up_u1000: ") and reason in str(err.value)
    db.session.rollback()
    assert files_on_disk(uploads_dir) == []


def test_what_work_a_credential_is_for(people):
    token = makers.token().encode()
    [pats] = save(people, "pat", [("vt_mu2e_production_pat", token)])
    assert pats.row.credential_role == "production"
    [named] = save(people, "pat", [("bt_u1000", token)])
    assert named.row.credential_role == "analysis"
    [asked] = save(people, "pat", [("bt_u1001", token)], role="production")
    assert asked.row.credential_role == "production"
    # An analysis user keeps no production credential, whichever way it is asked for.
    with pytest.raises(store.CredentialRefused, match="vt_mu2e_production_alice: acting as "
                                                      "analysis, you may not keep a credential"):
        save(people, "alice", [("vt_mu2e_production_alice", token)])
    db.session.rollback()
    with pytest.raises(store.CredentialRefused):
        save(people, "alice", [("bt", token)], role="production")
    db.session.rollback()
    with pytest.raises(CredentialError, match="'boss' is not a kind of work"):
        save(people, "alice", [("bt", token)], role="boss")
    db.session.rollback()
    # An ordinary file is anyone's, whatever its name says.
    save(people, "alice", [("production.cfg", CFG)], role="analysis")


def test_credential_for_picks_the_newest_usable_and_says_why_none(people, uploads_dir):
    exp, alice = mu2e(), person("alice")
    with pytest.raises(CredentialError, match="none was uploaded"):
        store.credential_for(exp, alice, "analysis", directory=uploads_dir)

    [old] = save(people, "alice", [("proxy-old", makers.proxy(timedelta(days=3)))])
    [new] = save(people, "alice", [("proxy-new", makers.proxy(timedelta(days=2)))])
    row, path = store.credential_for(exp, alice, "analysis", directory=uploads_dir)
    assert row.id == new.row.id and path.read_bytes().startswith(b"-----BEGIN CERTIFICATE")
    [tok] = save(people, "alice", [("bt_u1000", makers.token().encode())])
    assert store.credential_for(exp, alice, "analysis", directory=uploads_dir)[0].id == tok.row.id
    assert store.credential_for(exp, alice, "analysis", directory=uploads_dir,
                                kinds=("proxy",))[0].id == new.row.id
    assert store.credentials_in_use(exp, alice, directory=uploads_dir) == {tok.row.id: "analysis"}

    # A file changed behind POMS's back is never used; an expired one neither.
    store.path_of(tok.row, uploads_dir).write_bytes(b"tampered")
    store.path_of(new.row, uploads_dir).unlink()
    assert store.credential_for(exp, alice, "analysis", directory=uploads_dir)[0].id == old.row.id
    with pytest.raises(CredentialError, match=r"\(the bearer token bt_u1000 expired on .*; the "
                       r"X.509 proxy proxy-new expired on .*; the X.509 proxy proxy-old expired"):
        store.credential_for(exp, alice, "analysis", directory=uploads_dir,
                             now=now_utc() + timedelta(days=4))
    store.path_of(old.row, uploads_dir).write_bytes(b"")
    with pytest.raises(CredentialError) as err:
        store.credential_for(exp, alice, "analysis", directory=uploads_dir)
    assert str(err.value) == (
        "alice has no usable credential for analysis work in mu2e (the bearer token bt_u1000 "
        "is missing on disk or changed; the X.509 proxy proxy-new is missing on disk or "
        "changed; the X.509 proxy proxy-old is missing on disk or changed): upload a proxy or "
        "token on the Uploaded files page")
    with pytest.raises(CredentialError, match="none was uploaded"):
        store.credential_for(exp, alice, "production", directory=uploads_dir)


def test_save_credential_names_it_as_the_original_did_and_replaces_it(people, uploads_dir):
    exp, pat = mu2e(), person("pat")
    for _ in range(2):
        saved = store.save_credential(exp, pat, "production", makers.proxy(),
                                      acting_role="production", directory=uploads_dir,
                                      quota=10**6)
        db.session.commit()
    assert saved.replaced and saved.row.name == "x509up_voms_mu2e_Production_pat"
    saved = store.save_credential(exp, pat, "analysis", makers.token().encode(),
                                  acting_role="production", directory=uploads_dir, quota=10**6)
    assert saved.row.name == "bt_mu2e_analysis_pat"
    with pytest.raises(CredentialError, match="neither a PEM proxy"):
        store.save_credential(exp, pat, "analysis", CFG, acting_role="production",
                              directory=uploads_dir, quota=10**6)


def test_launch_files_are_all_of_the_launching_persons_files_there(people, uploads_dir):
    proxy = makers.proxy()
    save(people, "alice", [("reco.cfg", CFG), ("reco.sh", b"#!/bin/sh\n"), ("x509up", proxy)])
    save(people, "bob", [("reco.cfg", b"bob's")])
    save(people, "zed", [("nova.cfg", b"nova")], experiment="nova")
    files = store.launch_files(mu2e(), person("alice"), directory=uploads_dir)
    assert [f.name for f in files] == ["reco.cfg", "reco.sh", "x509up"]
    assert [f.path.read_bytes() for f in files] == [CFG, b"#!/bin/sh\n", proxy]
    assert files[0].sha256 == hashlib.sha256(CFG).hexdigest() and files[0].size == len(CFG)
    assert store.launch_files(mu2e(), person("pat"), directory=uploads_dir) == []

    files[0].path.write_bytes(b"changed")
    files[1].path.unlink()
    with pytest.raises(store.UploadError) as err:
        store.launch_files(mu2e(), person("alice"), directory=uploads_dir)
    assert str(err.value) == ("alice's uploaded files in mu2e reco.cfg, reco.sh are missing on "
                              "disk or changed since uploaded: upload again or remove them")


def test_remove_forgets_the_row_and_the_file_at_commit(people, uploads_dir):
    [kept] = save(people, "alice", [("reco.cfg", CFG)])
    path = store.path_of(kept.row, uploads_dir)
    store.remove_upload(kept.row, person("alice"), directory=uploads_dir)
    assert path.exists()
    db.session.rollback()
    assert path.exists() and count() == 1
    store.remove_upload(store.find_upload(mu2e(), person("alice"), "reco.cfg"),
                        person("alice"), directory=uploads_dir)
    db.session.commit()
    assert not path.exists() and count() == 0
    entry = db.session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc())).first()
    assert (entry.action, entry.subject, entry.after) == ("file removed", "reco.cfg of alice",
                                                          None)


def test_a_changed_file_is_never_read_back(people, uploads_dir):
    [kept] = save(people, "alice", [("reco.cfg", CFG)])
    store.path_of(kept.row, uploads_dir).write_bytes(b"evil")
    with pytest.raises(store.UploadError, match="reco.cfg is missing on disk or changed"):
        store.read_upload(kept.row, directory=uploads_dir)


def test_files_a_crash_left_behind_are_swept_once_old(people, uploads_dir):
    save(people, "alice", [("a.cfg", CFG)])
    folder = uploads_dir / str(mu2e().id) / str(person("alice").id)
    old, young = folder / "0123abcd", folder / "4567ef01"
    for path in (old, young):
        path.write_bytes(b"never committed")
    an_hour_ago = time.time() - store.ORPHAN_AGE_SECONDS - 60
    os.utime(old, (an_hour_ago, an_hour_ago))
    save(people, "alice", [("b.cfg", CFG)])
    assert not old.exists() and young.exists()
    assert store.read_upload(store.find_upload(mu2e(), person("alice"), "a.cfg"),
                             directory=uploads_dir) == CFG


def test_two_uploads_of_one_name_at_once_keep_one_and_refuse_the_other(people, uploads_dir):
    save(people, "alice", [("reco.cfg", b"first")], commit=False)
    outcome = {}

    def the_other_tab():
        with people.app_context():
            try:
                save(people, "alice", [("reco.cfg", b"second")])
                outcome["kept"] = True
            except store.UploadRefused as err:
                outcome["refused"] = str(err)
                db.session.rollback()

    other = threading.Thread(target=the_other_tab)
    other.start()
    # Its file written, the other upload has looked for a reco.cfg and found none committed.
    deadline = time.monotonic() + 30
    while len(files_on_disk(uploads_dir)) < 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    db.session.commit()
    other.join(60)
    assert outcome == {"refused": "reco.cfg: another upload of the same name finished first: "
                                  "look at your files and try again"}
    row = store.find_upload(mu2e(), person("alice"), "reco.cfg")
    assert store.read_upload(row, directory=uploads_dir) == b"first"
    assert len(files_on_disk(uploads_dir)) == 1
