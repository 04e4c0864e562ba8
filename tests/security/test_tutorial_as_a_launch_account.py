"""The embedded default still works when launches run as a launch account: the demo tutorial
campaign (examples/mu2e/tutorial.ini) launches reco_fcl as the analysis launch account, its
jobs (fife_launch, fife_wrap, the local engine) write their FCL files in the account's own
area, POMS reads their reports there and declares the outputs, and reco launches by itself
on them, as the same account, and completes."""
from __future__ import annotations

from sqlalchemy import select

from app.catalog.embedded import EmbeddedCatalog
from app.extensions import db
from app.launching import service
from app.models import Submission
from tests.e2e.support import drive
from tests.e2e.support import submissions as subs_of
from tests.fixtures.launching import import_tutorial
from workers.queues import enqueue_launch


def test_the_tutorial_chains_as_the_analysis_launch_account(isolated_app, launch_accounts):
    app = isolated_app
    campaign = import_tutorial("alice")
    fcl_stage = next(s for s in campaign.stages if s.name == "reco_fcl")
    first = service.request_launch(fcl_stage, campaign.owner, test=False, origin="test",
                                   config=app.config)
    db.session.commit()
    enqueue_launch(app.config["POMS_REDIS_URL"], first.id)

    def reco_located():
        db.session.expire_all()
        reco = subs_of(campaign, "reco")
        return reco and all(s.state == "Located" for s in subs_of(campaign, "reco_fcl") + reco)

    drive(app, reco_located, timeout=90, what="reco to launch by itself and be located")
    fcl, reco = subs_of(campaign, "reco_fcl")[0], subs_of(campaign, "reco")[0]
    account = launch_accounts.analysis
    assert fcl.jobs_done == 3 and reco.jobs_done == 3
    for submission in (fcl, reco):
        assert submission.launch_account == account
        assert submission.batch_id.endswith(f"@local.{account}")
    catalog = EmbeddedCatalog(db.session, "mu2e")
    fcl_files = catalog.list_files(f"poms_task_id '{fcl.id}' and file_name like '%.fcl'")
    assert len(fcl_files) == 3
    area = launch_accounts.directory / account
    assert all(catalog.locate(name)[0].startswith(str(area)) for name in fcl_files), \
        "the outputs are in the account's own area"
    assert reco.origin == f"parent {fcl.id}"
    assert db.session.scalar(select(Submission.id).where(
        Submission.launch_account != account,
        Submission.campaign_stage_id.in_([s.id for s in campaign.stages]))) is None
