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
from app.launching import service
from app.models import Submission
from app.models.chaining import ChainStep
from tests.fixtures.app import EXAMPLES
from tests.fixtures.launching import work
from workers.queues import enqueue_launch, enqueue_tracking

REPO = Path(__file__).resolve().parents[2]
DEMO_CFG = "examples/mu2e/reco.cfg"
SAMPLES_CFG = "examples/samples/generic.cfg"
UCONDB_DATABASE = "mu2e_ucondb_prod"  # the embedded UconDB's database the tutorial uses


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


def launch_stage(app, campaign, stage_name: str) -> Submission:
    """A real (not test) launch of one of the campaign's stages, as its owner, queued for
    the launch worker."""
    stage = next(s for s in campaign.stages if s.name == stage_name)
    submission = service.request_launch(stage, campaign.owner, test=False, origin="test",
                                        config=app.config)
    db.session.commit()
    enqueue_launch(app.config["POMS_REDIS_URL"], submission.id)
    return submission


def point_at_demo(spec) -> None:
    """The shared tutorial's cfg path pointed at the demo's (as examples/mu2e/tutorial.ini)."""
    for job_type in spec.job_types.values():
        job_type.parameters = [["-c ", DEMO_CFG]]


def quick(njobs: int):
    """A change for change_through_store: jobs that do not wait, `njobs` FCL files."""
    def change(spec):
        for stage in spec.stages:
            stage.param_overrides.append(["-Oglobal.work_seconds=", "0"])
            if stage.name == "reco_fcl":
                stage.param_overrides.append(["-Oglobal.njobs=", str(njobs)])
    return change


def serve_ucondb(app, live_server_factory, password: str = "s3cret"):
    """This POMS served live; its embedded UconDB is the one uploads and jobs use."""
    app.config.update(POMS_UCONDB_WRITERS="poms:s3cret", POMS_UCONDB_FCL_UPLOADS=True,
                      POMS_UCONDB_UPLOAD_RETRIES=2, POMS_UCONDB_UPLOAD_BACKOFF=0)
    server = live_server_factory(app)
    app.config.update(POMS_UCONDB_URL=f"{server.url}/ucondb/{UCONDB_DATABASE}/app",
                      POMS_UCONDB_USER="poms", POMS_UCONDB_PASSWORD=password)
    return server


def tutorial_through_ucondb(app, live_server_factory, njobs: int):
    """The shared Mu2e tutorial run on this POMS served live with its embedded UconDB:
    reco_fcl launched with `njobs` jobs, their FCL files uploaded, and reco launched by
    chaining, run on them and settled (Located). Returns (the live server, the campaign,
    reco_fcl's submission)."""
    server = serve_ucondb(app, live_server_factory)
    campaign = import_shared("mu2e_reco_tutorial.ini")
    change_through_store(campaign, point_at_demo)
    change_through_store(campaign, quick(njobs))
    first = launch_stage(app, campaign, "reco_fcl")

    def reco_done():
        db.session.expire_all()
        reco = submissions(campaign, "reco")
        settled = set(db.session.scalars(select(ChainStep.parent_submission_id).where(
            ChainStep.kind == "settled")))
        return reco and all(s.state == "Located" and s.id in settled for s in reco)

    drive(app, reco_done, timeout=120, what="reco to run on the FCL files in UconDB")
    return server, campaign, first
