"""The migration that made uploaded files the one store: credential rows (and their files)
become uploaded files a launch finds, and go back on a downgrade."""
from __future__ import annotations

import hashlib
import stat
from datetime import timedelta
from pathlib import Path

import flask_migrate
import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import text

from app.auth import members
from app.credentials.parse import now_utc
from app.extensions import db
from app.uploads import store
from tests.credentials import makers

MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations"


def uploads_revision():
    """(the revision that made uploaded_file, the one before): found by what it does, so the
    test holds when revisions are renumbered."""
    script = ScriptDirectory(str(MIGRATIONS))
    found = next(r for r in script.walk_revisions()
                 if "create_table('uploaded_file'" in Path(r.path).read_text())
    return found.revision, found.down_revision


def migrate(to: str) -> None:
    db.session.commit()
    db.session.remove()
    if to == "head":
        flask_migrate.upgrade(directory=str(MIGRATIONS))
    else:
        flask_migrate.downgrade(directory=str(MIGRATIONS), revision=to)


def insert(table: str, **values) -> int:
    """A row written in SQL: at the old revision the models (which follow head) do not fit
    the tables. Returns its id."""
    columns = ", ".join(values)
    marks = ", ".join(f":{name}" for name in values)
    db.session.execute(text(f"INSERT INTO {table} ({columns}) VALUES ({marks})"), values)
    return db.session.scalar(text(f"SELECT max(id) FROM {table}"))


@pytest.fixture
def old_schema(make_app, tmp_path, monkeypatch):
    """An app whose database is one revision before uploaded files, with alice in mu2e:
    (app, the old credentials folder, (mu2e's id, alice's id))."""
    old_folder = tmp_path / "old-credentials"
    monkeypatch.setenv("POMS_CREDENTIALS_DIR", str(old_folder))
    app = make_app(POMS_UPLOADS_DIR=str(tmp_path / "uploads"))
    with app.app_context():
        migrate(uploads_revision()[1])
        created = now_utc()
        mu2e = insert("experiment", name="mu2e", description="", active=True, created=created)
        alice = insert("experimenter", username="alice", first_name="", last_name="",
                       active=True, created=created)
        insert("membership", experiment_id=mu2e, experimenter_id=alice, role="analysis")
        db.session.commit()
        yield app, old_folder, (mu2e, alice)


def old_credential(old_folder: Path, ids: tuple[int, int], kind: str, data: bytes,
                   role="analysis") -> Path:
    """A credential as the old schema kept it: a row, and its file in the old folder."""
    experiment_id, experimenter_id = ids
    old_folder.mkdir(mode=0o700, exist_ok=True)
    path = old_folder / f"{experiment_id}-{experimenter_id}-{role}-{kind}"
    path.write_bytes(data)
    insert("credential", experiment_id=experiment_id, experimenter_id=experimenter_id,
           role=role, kind=kind, subject="sub", issuer="iss",
           expires=now_utc() + timedelta(days=9), uploaded=now_utc(),
           sha256=hashlib.sha256(data).hexdigest())
    db.session.commit()
    return path


def test_credentials_become_uploaded_files_and_come_back(old_schema):
    app, old_folder, ids = old_schema
    proxy, token = makers.proxy(), makers.token().encode()
    old_credential(old_folder, ids, "proxy", proxy)
    old_credential(old_folder, ids, "token", token, role="production")
    old_credential(old_folder, ids, "token", token).write_bytes(b"changed behind POMS's back")

    migrate("head")  # the models fit from here on
    exp, alice = members.find_experiment("mu2e"), members.find_experimenter("alice")
    rows = {r.name: r for r in store.uploads_of(exp, alice)}
    # The changed one could never have been used: it is not carried over.
    assert sorted(rows) == ["bt_mu2e_production_alice", "x509up_voms_mu2e_Analysis_alice"]
    moved = rows["x509up_voms_mu2e_Analysis_alice"]
    assert (moved.credential_kind, moved.credential_role, moved.subject) == (
        "proxy", "analysis", "sub")
    uploads = app.config["POMS_UPLOADS_DIR"]
    path = store.credential_for(exp, alice, "analysis", directory=uploads)[1]
    assert path.read_bytes() == proxy and stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert store.launch_files(exp, alice, directory=uploads)[0].path.read_bytes() == token

    migrate(uploads_revision()[1])
    back = db.session.execute(text(
        "SELECT role, kind, sha256 FROM credential ORDER BY role")).all()
    assert back == [("analysis", "proxy", hashlib.sha256(proxy).hexdigest()),
                    ("production", "token", hashlib.sha256(token).hexdigest())]
    migrate("head")


def test_an_empty_database_needs_no_folders(old_schema, tmp_path):
    migrate("head")
    assert not (tmp_path / "uploads").exists()
