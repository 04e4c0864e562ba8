"""People with uploaded files: mu2e has alice and bob (analysis) and pat (production);
nova has zed (superuser there, nobody in mu2e)."""
from __future__ import annotations

from pathlib import Path

import pytest

from app.auth import members
from app.extensions import db
from app.uploads import store


@pytest.fixture
def people(app, member):
    member("mu2e", "alice", "analysis")
    member("mu2e", "bob", "analysis")
    member("mu2e", "pat", "production")
    member("nova", "zed", "superuser")
    return app


@pytest.fixture
def uploads_dir(app) -> Path:
    return Path(app.config["POMS_UPLOADS_DIR"])


def files_on_disk(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file()) if folder.exists() else []


def save(app, username: str, files, experiment: str = "mu2e", commit: bool = True, **options):
    """save_uploads as `username` (acting in their own role), committed."""
    exp = members.find_experiment(experiment)
    user = members.find_experimenter(username)
    options.setdefault("quota", app.config["POMS_UPLOADS_QUOTA_BYTES"])
    saved = store.save_uploads(exp, user, files, acting_role=user.role_in(exp),
                               directory=app.config["POMS_UPLOADS_DIR"], **options)
    if commit:
        db.session.commit()
    return saved
