"""Each kind of event reaches the watchers that want it, through the watch pass: a refused
recovery, a stage and then the campaign finished, FCL uploads failing for good, a
credential about to expire, and the experiment's launches held (recorded by whoever holds
them)."""
from __future__ import annotations

from datetime import timedelta

import pytest

from app import states
from app.chaining import chain
from app.extensions import db
from app.launching import launch_hold
from app.models import FclUpload, Job, UploadedFile
from app.models.base import utcnow
from app.ucondb.jobs import run_upload
from app.watching import watches
from tests.chaining.support import finished
from tests.watching.support import stage, watch_pass


@pytest.fixture
def told(launch_app, tutorial, smtp_server):
    """Alice watches the whole tutorial campaign for every event; what her mail says."""
    watches.watch(tutorial.owner, tutorial, target="alice@example.org",
                  config=launch_app.config)
    db.session.commit()

    def subjects():
        watch_pass(launch_app)
        return [mail["Subject"] for _to, mail in smtp_server.messages]
    return subjects


def test_a_refused_recovery_is_told(launch_app, tutorial, told):
    sub = finished(tutorial, "reco", launch_app)
    # Overrides the launch cannot read: chaining records the recovery as not launched.
    step = chain.launch_recovery(sub, 1, "proj_status", "not a list of pairs", [],
                                 launch_app.config)
    db.session.commit()
    assert step.submission_id is None and "not launched" in step.note
    assert any(f"recovery of submission {sub.id} refused" in s for s in told())


def test_a_stage_then_the_campaign_finishing_is_told(launch_app, tutorial, told):
    fcl = finished(tutorial, "reco_fcl", launch_app)
    states.transition(fcl, states.LOCATED, "located")
    db.session.commit()
    said = told()
    assert any("stage reco_fcl finished" in s for s in said)
    assert not any("campaign srsoleti_tutorial finished" in s for s in said)
    reco = finished(tutorial, "reco", launch_app)
    states.transition(reco, states.LOCATED, "located")
    db.session.commit()
    said = told()
    assert any("stage reco finished" in s for s in said)
    assert any("campaign srsoleti_tutorial finished: every stage Located" in s for s in said)


def test_fcl_uploads_failing_for_good_are_told_once(launch_app, tutorial, told, tmp_path):
    launch_app.config["POMS_UCONDB_URL"] = "http://127.0.0.1:9/mu2e_ucondb_prod/app"
    sub = finished(tutorial, "reco_fcl", launch_app)
    fcl_file = tmp_path / "mu2e_reco.1.fcl"
    fcl_file.write_text("#include \"reco.fcl\"\n")
    for n in range(2):
        job = Job(submission_id=sub.id, batch_job_id=f"{n}.0@local", state="Completed",
                  exit_code=0)
        db.session.add(job)
        db.session.flush()
        db.session.add(FclUpload(submission_id=sub.id, job_id=job.id, files=[
            {"name": fcl_file.name, "path": str(fcl_file), "dataset": "mu2e_reco"}]))
        db.session.commit()
        with pytest.raises(Exception):  # noqa: B017 (whatever the client raises)
            run_upload(job.id, launch_app.config, final=True)
    said = [s for s in told() if "FCL uploads to UconDB" in s]
    assert len(said) == 1, said
    assert f"FCL uploads to UconDB of submission {sub.id} failed for 2 jobs:" in said[0]
    assert "127.0.0.1" in said[0] or "refused" in said[0].lower()
    assert len(told()) == 1  # told once, not at every pass


def test_a_credential_about_to_expire_is_told(launch_app, tutorial, told):
    db.session.add(UploadedFile(
        experiment_id=tutorial.experiment_id, experimenter_id=tutorial.owner_id,
        name="x509up_voms_mu2e_Analysis_alice", size=10, sha256="0" * 64, stored_name="s",
        credential_kind="proxy", credential_role="analysis",
        expires=utcnow() + timedelta(hours=5)))
    db.session.commit()
    said = told()
    assert any("the proxy x509up_voms_mu2e_Analysis_alice its launches use expires" in s
               for s in said), said


def test_launches_held_reach_every_watch_in_the_experiment(launch_app, tutorial, told):
    # Through the switch itself (the dashboard's, the API's and `poms launches`'s).
    launch_hold.hold_all(tutorial.experiment, tutorial.owner, "production", "downtime")
    db.session.commit()
    assert any(f"launches are held by {tutorial.owner.username}: downtime" in s
               for s in told())
    launch_hold.release_all(tutorial.experiment, tutorial.owner, "production")
    db.session.commit()
    assert any(f"launches are released by {tutorial.owner.username}" in s for s in told())


def test_a_watch_of_one_stage_hears_nothing_of_another(launch_app, tutorial, smtp_server):
    watches.watch(tutorial.owner, tutorial, stage(tutorial, "reco"),
                  target="alice@example.org", config=launch_app.config)
    db.session.commit()
    fcl = finished(tutorial, "reco_fcl", launch_app)
    states.transition(fcl, states.LOCATED, "located")
    db.session.commit()
    watch_pass(launch_app)
    assert smtp_server.messages == []
