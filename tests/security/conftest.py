"""An app outside dev mode with real launch accounts, and campaigns that attack it.

  isolated_app   POMS_AUTH=remote_user, the local launcher, the analysis and production
                 launch accounts (tests/fixtures/accounts.py), Redis, a migrated database
                 (SQLite, or PostgreSQL with POMS_TEST_DATABASE=postgresql)
  people         mu2e: alice and bob (analysis), pat (production)
  upload(text, user)   a campaign file saved as `user` would upload it
  launch(stage, user)  one launch through the real queue and worker; the submission
"""
from __future__ import annotations

import pytest

from app.auth.members import ensure_member, find_or_create_experiment
from app.auth.session import find_or_create_experimenter
from app.campaigns import store
from app.extensions import db
from app.launching import service
from app.models import Submission
from tests.fixtures.app import _app
from tests.fixtures.launching import work
from workers.queues import enqueue_launch

FRONT_END = "10.1.2.3"


@pytest.fixture
def isolated_app(new_database, tmp_path, redis_server, redis_conn, launch_accounts):
    app = _app(
        new_database(),
        POMS_AUTH="remote_user", POMS_TRUSTED_PROXIES=[FRONT_END], POMS_REALMS=["FNAL.GOV"],
        SESSION_COOKIE_SECURE=False,
        POMS_REDIS_URL=redis_server.url,
        POMS_BATCH_DIR=str(tmp_path / "batch"),
        POMS_LAUNCH_DIR=str(tmp_path / "launches"),
        POMS_UPLOADS_DIR=str(tmp_path / "uploads"),
        POMS_LOCAL_SLOTS=4, POMS_LAUNCH_GRACE=3, POMS_LAUNCH_TIMEOUT=120,
        POMS_UCONDB_FCL_UPLOADS=False,
        **launch_accounts.config(),
    )
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def people(isolated_app):
    mu2e = find_or_create_experiment("mu2e")
    users = {}
    for name, role in (("alice", "analysis"), ("bob", "analysis"), ("pat", "production")):
        users[name] = find_or_create_experimenter(name)
        ensure_member(mu2e, users[name], role)
    db.session.commit()
    return users


def upload(text: str, user, filename: str = "attack.ini"):
    """The campaign as an upload by `user` saves it (store.read_ini, then save)."""
    experiment = find_or_create_experiment("mu2e")
    spec, _warnings = store.read_ini(experiment, text, filename)
    campaign = store.save_campaign(experiment, spec, user)
    db.session.commit()
    return campaign


def launch(app, stage, user, test: bool = False) -> Submission:
    submission = service.request_launch(stage, user, test=test, origin="test",
                                        config=app.config)
    db.session.commit()
    enqueue_launch(app.config["POMS_REDIS_URL"], submission.id)
    work(app)
    return db.session.get(Submission, submission.id)


def campaign_ini(name: str, *, role: str = "analysis", login_setup: str, job_type: str,
                 definitions: str = "", dataset: str = "None", stage: str = "probe") -> str:
    """A one-stage campaign file; `definitions` adds [login_setup]/[job_type] sections."""
    return f"""[campaign]
experiment = mu2e
poms_role = {role}
name = {name}
campaign_stage_list = {stage}

[campaign_defaults]
vo_role = Analysis
software_version = v1
dataset_or_split_data = {dataset}
cs_split_type = None
completion_type = complete
completion_pct = 100
param_overrides = []
test_param_overrides = []
merge_overrides = False
login_setup = {login_setup}
job_type = {job_type}
stage_type = regular

{definitions}

[campaign_stage {stage}]
"""
