"""Driving a whole campaign: import a shared INI through the store, then let real RQ
workers (SimpleWorker loops in this process) launch, track and chain until a condition
holds. Jobs are real processes of the local batch engine."""
from __future__ import annotations

import time
from pathlib import Path

from redis import Redis
from sqlalchemy import select

from app.auth.members import ensure_member, find_or_create_experiment
from app.auth.session import find_or_create_experimenter
from app.campaigns import store
from app.campaigns.ini import parse_ini
from app.extensions import db
from app.models import Submission
from tests.fixtures.app import EXAMPLES
from tests.fixtures.launching import work
from workers.queues import enqueue_tracking

REPO = Path(__file__).resolve().parents[2]
DEMO_CFG = "examples/mu2e/reco.cfg"
SAMPLES_CFG = "examples/samples/generic.cfg"


def import_shared(name: str, username: str = "alice", experiment: str | None = None):
    """A shared example INI imported as is (for `username`); returns the campaign."""
    path = EXAMPLES / name
    spec, _warnings = parse_ini(path.read_text(), str(path))
    exp = find_or_create_experiment(experiment or spec.experiment)
    user = find_or_create_experimenter(username)
    ensure_member(exp, user, "production" if spec.poms_role == "production" else "analysis")
    campaign = store.save_campaign(exp, spec, user)
    db.session.commit()
    return campaign


def change_through_store(campaign, change) -> None:
    """Edit a campaign as an upload would: spec out, change(spec), spec back in."""
    spec = store.spec_from_campaign(campaign)
    change(spec)
    store.save_campaign(campaign.experiment, spec, campaign.owner)
    db.session.commit()


def submissions(campaign, stage_name: str) -> list[Submission]:
    stage = next(s for s in campaign.stages if s.name == stage_name)
    return list(db.session.scalars(select(Submission).where(
        Submission.campaign_stage_id == stage.id).order_by(Submission.id)))


def drive(app, until, timeout: float = 60.0, what: str = "", pause: float = 0.2):
    """Tracking passes through the real queue and a real worker until `until()`."""
    connection = Redis.from_url(app.config["POMS_REDIS_URL"])
    deadline = time.monotonic() + timeout
    while True:
        enqueue_tracking(connection)
        work(app)
        value = until()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what or until}")
        time.sleep(pause)
