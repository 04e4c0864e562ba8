"""The proof of issue 5 on the Mu2e tutorial campaign (../shared/examples/mu2e_reco_tutorial.ini).

Imported as is, then its cfg path pointed at the demo's examples/mu2e/reco.cfg through the
store (the one change examples/mu2e/tutorial.ini makes), on the embedded default: a real
Redis, real RQ workers, the local batch engine. reco_fcl makes K FCL files; reco launches by
itself with K jobs, two of which fail once (the demo's DEMO_FAIL_PROCESSES knob); the
proj_status recovery re-runs exactly their files; every FCL file is processed exactly once
and the campaign shows complete.
"""
from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import asdict

import pytest
from sqlalchemy import select

from app.campaigns import store
from app.campaigns.ini import parse_ini
from app.catalog.embedded import EmbeddedCatalog
from app.chaining.ledger import stage_ledger
from app.extensions import db
from app.models import Submission
from app.models.chaining import ChainStep
from tests.e2e.support import (
    REPO,
    change_through_store,
    drive,
    import_shared,
    launch_stage,
    point_at_demo,
)
from tests.e2e.support import submissions as subs_of

pytestmark = pytest.mark.e2e

K = 5
FAILING = (1, 3)  # PROCESS numbers of reco jobs that fail once


def quick_and_failing(spec):
    for stage in spec.stages:
        stage.param_overrides.append(["-Oglobal.work_seconds=", "0"])
        if stage.name == "reco_fcl":
            stage.param_overrides.append(["-Oglobal.njobs=", str(K)])
        if stage.name == "reco":
            stage.param_overrides.append(
                ["-Oglobal.fail_processes=", ",".join(map(str, FAILING))])


def test_the_shared_tutorial_imports_as_the_demo_except_its_cfg_path(launch_app):
    campaign = import_shared("mu2e_reco_tutorial.ini")
    shared = store.spec_from_campaign(campaign)
    demo_path = REPO / "examples" / "mu2e" / "tutorial.ini"
    demo, _ = parse_ini(demo_path.read_text(), str(demo_path))
    assert {n: jt.parameters for n, jt in shared.job_types.items()} == {
        n: [["-c ", "/mu2e/app/users/srsoleti/tutorial/reco.cfg"]] for n in demo.job_types}
    point_at_demo(shared)
    for spec in (shared, demo):
        spec.defaults = {}  # [campaign_defaults] as written; stages carry the values
    assert asdict(shared)["stages"] == asdict(demo)["stages"]
    assert asdict(shared)["job_types"] == asdict(demo)["job_types"]
    assert asdict(shared)["dependencies"] == asdict(demo)["dependencies"]


def test_tutorial_chains_recovers_only_failed_files_and_completes(launch_app):
    app = launch_app
    # FCL files stay where the jobs put them: the UconDB leg (uploads to the embedded
    # server, reco reading from there) needs a live server and has its own proof
    # (tests/e2e/test_tutorial_ucondb.py).
    app.config["POMS_UCONDB_FCL_UPLOADS"] = False
    campaign = import_shared("mu2e_reco_tutorial.ini")
    change_through_store(campaign, point_at_demo)
    change_through_store(campaign, quick_and_failing)
    first = launch_stage(app, campaign, "reco_fcl")

    def campaign_complete():
        db.session.expire_all()
        reco = subs_of(campaign, "reco")
        everything = subs_of(campaign, "reco_fcl") + reco
        settled = set(db.session.scalars(select(ChainStep.parent_submission_id).where(
            ChainStep.kind == "settled")))
        return (len(reco) >= 2 and all(s.state == "Located" for s in everything)
                and {s.id for s in everything} <= settled)

    drive(app, campaign_complete, timeout=75, what="the tutorial campaign to complete")

    fcl_subs = subs_of(campaign, "reco_fcl")
    reco_subs = subs_of(campaign, "reco")
    assert len(fcl_subs) == 1 and fcl_subs[0].jobs_done == K
    catalog = EmbeddedCatalog(db.session, "mu2e")
    fcl_files = sorted(catalog.list_files(f"poms_task_id '{first.id}' and file_name like '%.fcl'"))
    assert len(fcl_files) == K

    # reco launched by itself, on the FCL outputs, with K jobs.
    reco = reco_subs[0]
    assert reco.origin == f"parent {first.id}"
    assert reco.recovery_of_id is None
    assert reco.dataset == f"poms_alice_depends_{first.id}_1"
    assert sorted(catalog.list_files(f"defname: {reco.dataset}")) == fcl_files
    assert (reco.jobs_total, reco.jobs_done, reco.jobs_failed) == (K, K - len(FAILING),
                                                                  len(FAILING))

    # The proj_status recovery re-ran exactly the failed jobs' files.
    assert len(reco_subs) == 2
    recovery = reco_subs[1]
    assert recovery.recovery_of_id == reco.id and recovery.recovery_position == 1
    assert recovery.dataset == f"poms_recover_{reco.id}_1"
    failed_inputs = sorted(_inputs_of_failed_jobs(app, reco))
    assert len(failed_inputs) == len(FAILING)
    assert sorted(recovery.input_files) == failed_inputs
    assert recovery.jobs_total == len(FAILING) and recovery.jobs_done == len(FAILING)
    assert f"-Osubmit.dataset={recovery.dataset}" in recovery.command

    # Every FCL file was processed exactly once: one .art child each, consumed once.
    for name in fcl_files:
        children = catalog.children(name)
        assert [c for c in children if c.endswith(".art")] == [name[:-4] + ".art"], name
    consumed = {}
    for sub in reco_subs:
        summary = catalog.project_summary(f"poms_{sub.id}")
        consumed[sub.id] = summary["tot_consumed"]
    assert consumed == {reco.id: K - len(FAILING), recovery.id: len(FAILING)}

    # The stage's ledger adds up and says all of it was processed.
    ledger = stage_ledger(reco.stage)
    assert (ledger.input, ledger.processed, ledger.in_flight, ledger.failed,
            ledger.skipped) == (K, K, 0, 0, 0)

    # Nothing launched twice; the campaign shows complete to an operator.
    assert db.session.scalar(select(Submission.id).where(
        Submission.state.not_in(("Located",)),
        Submission.campaign_stage_id.in_([s.id for s in campaign.stages]))) is None
    shown = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", "poms", "status", "mu2e",
         campaign.name, "--json"], cwd=REPO, capture_output=True, text=True,
        env=_env(app), timeout=60)
    assert shown.returncode == 0, shown.stderr
    document = json.loads(shown.stdout.strip().splitlines()[-1])
    states = {st["name"]: [(s["state"], s["recovery_of"]) for s in st["submissions"]]
              for st in document["stages"]}
    assert states == {"reco_fcl": [("Located", None)],
                      "reco": [("Located", None), ("Located", reco.id)]}


def _inputs_of_failed_jobs(app, submission):
    from pathlib import Path

    from app.batch.job_files import read_manifest
    from app.models import Job

    names = []
    for job in db.session.scalars(select(Job).where(Job.submission_id == submission.id,
                                                    Job.state == "Failed")):
        cluster, proc = job.batch_job_id.split("@")[0].split(".")
        report = read_manifest(Path(app.config["POMS_BATCH_DIR"]) / "clusters" / cluster / proc
                               / "work" / "poms_job.json")
        names += report["inputs"]
    return names


def _env(app):
    import os

    env = dict(os.environ)
    env.update(POMS_DATABASE_URL=app.config["SQLALCHEMY_DATABASE_URI"],
               POMS_REDIS_URL=app.config["POMS_REDIS_URL"], POMS_SECRET_KEY="test-secret",
               POMS_BATCH_DIR=app.config["POMS_BATCH_DIR"],
               POMS_LAUNCH_DIR=app.config["POMS_LAUNCH_DIR"])
    return env
