"""Recoveries and approvals as the original runs them.

Recoveries (SubmissionsPOMS.launch_recovery_if_needed, launch_jobs, MiscPOMS
get_recovery_param_overrides): the recovery's overrides join the stage's, %(dataset)s is the
recovery's definition, the parent is the family's first submission, and a list the
original could not use (its params.update stops on an entry that is not a pair) is named
at the dry run and refused at the launch.

Approvals (launch_jobs' approval branch, declare_approval_transfer_datasets,
dependency_definition, poms_client's await_approval, the Approve / UnApprove links of
campaign_stage_submissions.html): nothing runs, the submission awaits a person; Approve
completes it, UnApprove removes it; its dependents read its input dataset (or the one
await_approval --dataset names), the files of it matching their patterns.
"""
from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from app import states
from app.catalog.embedded import EmbeddedCatalog
from app.chaining import operator
from app.chaining.hooks import after_tracking
from app.extensions import db
from app.launching import service
from app.launching.inputs import prepare_inputs
from app.models import Submission, SubmissionEvent
from app.models.chaining import ChainStep
from tests.api.support import API, as_user
from tests.chaining.support import fcl_done, launched_from, report, stage

CRY_RECOVERIES = [["proj_status", [["-Oglobal.override_dataset=','%(dataset)s"],
                                   ["--stage ", "recovery"]]]]


def reco_with_failures(tutorial, app, tmp_path):
    """The tutorial's reco launched on reco_fcl's outputs; two files consumed, one failed;
    Located."""
    fcl, names = fcl_done(tutorial, app, n=3)
    after_tracking(app.config)
    (reco,) = launched_from(fcl)
    catalog = EmbeddedCatalog(db.session, "mu2e")
    prepare_inputs(reco, reco.dataset, None, tmp_path / "r", app.config)
    states.transition(reco, states.IDLE, "launched")
    db.session.commit()
    report(catalog, reco, "1.0@local", consumed=names[:2], outputs=["a0.art", "a1.art"])
    report(catalog, reco, "1.1@local", failed=[names[2]])
    states.transition(reco, states.COMPLETED, "jobs ended")
    db.session.commit()
    return reco, names


def test_a_recovery_the_original_could_not_build_is_named_and_not_launched(
        launch_app, tutorial, tmp_path):
    job_type = stage(tutorial, "reco").job_type
    job_type.recoveries = CRY_RECOVERIES  # as Mu2e's CampaignConfig_mdc2020_cry.ini has it
    db.session.commit()
    why = (f"job type {job_type.name}, recovery 1 (proj_status), entry 1: "
           "[\"-Oglobal.override_dataset=','%(dataset)s\"] is not a [key, value] pair")
    # The stage's own dry run launches, and says which recovery will not.
    shown = service.preview(stage(tutorial, "reco"), tutorial.owner, test=False,
                            config=launch_app.config)
    assert any(w.startswith(why) for w in shown.warnings)

    reco, names = reco_with_failures(tutorial, launch_app, tmp_path)
    states.transition(reco, states.LOCATED, "test")
    db.session.commit()
    preview = operator.recovery_preview(reco, launch_app.config)
    assert [f.name for f in preview.files] == [names[2]] and preview.problem.startswith(why)
    dry = launch_app.test_client().post(
        f"{API}/experiments/mu2e/submissions/{reco.id}/recover", json={"dry_run": True},
        headers=as_user("alice")).get_json()
    assert dry["problem"].startswith(why)

    after_tracking(launch_app.config)
    db.session.expire_all()
    (step,) = db.session.scalars(select(ChainStep).where(
        ChainStep.parent_submission_id == reco.id, ChainStep.kind == "recovery"))
    assert step.submission_id is None and why in step.note
    assert db.session.scalar(select(Submission.id).where(
        Submission.recovery_of_id.is_not(None))) is None


def test_a_recovery_launches_with_its_overrides_its_definition_and_its_familys_first_parent(
        launch_app, tutorial, tmp_path):
    job_type = stage(tutorial, "reco").job_type
    job_type.recoveries = [["proj_status", [["-Osubmit.dataset=", "%(dataset)s"],
                                            ["-Oglobal.work_seconds=", "1"]]]]
    db.session.commit()
    reco, names = reco_with_failures(tutorial, launch_app, tmp_path)
    after_tracking(launch_app.config)  # Located, then its recovery
    (r1,) = db.session.scalars(select(Submission).where(Submission.recovery_of_id == reco.id))
    service.run_launch(r1.id, launch_app.config)
    db.session.expire_all()
    r1 = db.session.get(Submission, r1.id)
    assert r1.batch_id, r1.launch_error
    # The stage's work_seconds is replaced in its place by the recovery's; the definition
    # fills %(dataset)s; the parent is the family's first submission.
    assert (f"fife_launch -c examples/mu2e/reco.cfg --stage reco "
            f"-Oglobal.work_seconds=1 -Osubmit.dataset=poms_recover_{reco.id}_1\n") \
        in r1.command
    assert r1.launch_env["POMS_PARENT_TASK_ID"] == str(reco.id)


# --- approvals ---------------------------------------------------------------------------

APPROVED = ["in.0.fcl", "in.1.fcl"]


def approval_input(campaign) -> str:
    catalog = EmbeddedCatalog(db.session, "mu2e")
    catalog.declare_files([{"name": n, "size": 1} for n in [*APPROVED, "notes.txt"]])
    catalog.create_list_definition("to_approve", [*APPROVED, "notes.txt"])
    db.session.commit()
    return "to_approve"


def launch_now(stage_row, app) -> Submission:
    submission = service.request_launch(stage_row, stage_row.campaign.owner, test=False,
                                        origin="test", config=app.config)
    db.session.commit()
    said = service.run_launch(submission.id, app.config)
    db.session.expire_all()
    return db.session.get(Submission, submission.id), said


def act(app, submission, action, user="alice"):
    return app.test_client().post(
        f"{API}/experiments/mu2e/submissions/{submission.id}/{action}",
        headers=as_user(user))


def test_an_approval_stage_waits_then_its_dependents_read_its_input(launch_app, tutorial,
                                                                    member):
    gate = stage(tutorial, "reco_fcl")
    gate.stage_type = "approval"
    gate.dataset_or_split_data = approval_input(tutorial)
    db.session.commit()
    shown = service.preview(gate, tutorial.owner, test=False, config=launch_app.config)
    assert shown.warnings[0].startswith("an approval stage runs nothing")
    submission, said = launch_now(gate, launch_app)
    assert said.endswith("awaiting approval") and submission.state == "Awaiting Approval"
    assert (submission.dataset, submission.dependents_dataset) == ("to_approve", "to_approve")
    assert not submission.command  # nothing ran
    member("mu2e", "bob", "analysis")
    assert act(launch_app, submission, "approve", "bob").status_code == 403
    assert act(launch_app, submission, "approve").status_code == 200
    db.session.expire_all()
    assert db.session.get(Submission, submission.id).state == "Completed"

    after_tracking(launch_app.config)  # Located; no recovery; the dependent launches
    db.session.expire_all()
    (reco,) = launched_from(submission)
    catalog = EmbeddedCatalog(db.session, "mu2e")
    assert sorted(catalog.list_files(f"defname: {reco.dataset}")) == APPROVED  # %.fcl only


def test_refusing_an_approval_removes_it_as_the_originals_unapprove(launch_app, tutorial):
    gate = stage(tutorial, "reco_fcl")
    gate.stage_type = "approval"
    db.session.commit()
    submission, _ = launch_now(gate, launch_app)
    answer = act(launch_app, submission, "refuse")
    assert answer.status_code == 200 and answer.get_json()["submission"]["state"] == "Removed"
    after_tracking(launch_app.config)
    db.session.expire_all()
    assert launched_from(submission) == []


def test_await_approval_in_a_launch_script_waits_and_passes_its_dataset_on(launch_app,
                                                                          tutorial):
    """poms_client's await_approval, as Mu2e's AwaitApproval job type calls it, here with
    --dataset: the submission awaits approval, and its dependents read that dataset."""
    gate = stage(tutorial, "reco_fcl")
    gate.job_type.launch_script = ("setup poms_client v4_1_1; await_approval "
                                   "--experiment=%(experiment)s --dataset "
                                   + approval_input(tutorial))
    gate.job_type.parameters = []
    gate.param_overrides = []
    db.session.commit()
    submission, said = launch_now(gate, launch_app)
    assert submission.state == "Awaiting Approval", Path(submission.launch_output).read_text()
    assert submission.dependents_dataset == "to_approve"
    cause = db.session.scalar(select(SubmissionEvent.cause).where(
        SubmissionEvent.submission_id == submission.id,
        SubmissionEvent.to_state == "Awaiting Approval"))
    assert "await_approval" in cause and "to_approve" in cause
    assert act(launch_app, submission, "approve").status_code == 200
    after_tracking(launch_app.config)
    db.session.expire_all()
    (reco,) = launched_from(submission)
    catalog = EmbeddedCatalog(db.session, "mu2e")
    assert sorted(catalog.list_files(f"defname: {reco.dataset}")) == APPROVED


def test_await_approval_without_a_dataset_gives_the_dependents_its_outputs(launch_app,
                                                                          tutorial):
    """Mu2e's own AwaitApproval (no --dataset): approved, its dependents look for its
    outputs, of which it has none, and say so."""
    gate = stage(tutorial, "reco_fcl")
    gate.job_type.launch_script = ("setup poms_client v4_1_1; "
                                   "await_approval --experiment=%(experiment)s")
    gate.job_type.parameters = []  # as that job type: parameters=[]
    gate.param_overrides = []
    db.session.commit()
    submission, _ = launch_now(gate, launch_app)
    assert submission.state == "Awaiting Approval" and submission.dependents_dataset == ""
    assert act(launch_app, submission, "approve").status_code == 200
    got = after_tracking(launch_app.config)
    assert launched_from(submission) == []
    assert any(f"no outputs of {submission.id} match %.fcl" in n for n in got.notes)
