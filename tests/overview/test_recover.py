"""Recoveries and chaining from the operator's view: a bulk "recover now" on exactly the
files left over, audited per submission; a recovery chaining could not launch listed as
needing attention; a submission's page linking its parent and dependents as they are made."""
from __future__ import annotations

from sqlalchemy import select

from app import states
from app.chaining.hooks import after_tracking
from app.extensions import db
from app.models import AuditEntry, Submission
from app.models.chaining import ChainStep
from app.overview import bulk
from app.overview.attention import needs_attention
from app.overview.family import relatives
from tests.chaining.support import fcl_done, launched_from, stage
from tests.chaining.test_recovery_and_approval import CRY_RECOVERIES, reco_with_failures
from tests.fixtures.app import signed_in


def test_bulk_recover_launches_each_familys_recovery_on_the_files_left(launch_app, tutorial,
                                                                       tmp_path):
    job_type = stage(tutorial, "reco").job_type
    job_type.recoveries = [["proj_status", [["-Osubmit.dataset=", "%(dataset)s"]]]]
    db.session.commit()
    reco, names = reco_with_failures(tutorial, launch_app, tmp_path)
    states.transition(reco, states.LOCATED, "test: located")
    db.session.commit()
    (said,) = bulk.preview("recover", [reco], launch_app.config)
    assert said.applies and said.says == (f"recovery proj_status of submission {reco.id} "
                                          "on 1 files")
    out = bulk.apply("recover", [reco], tutorial.owner, launch_app.config)
    db.session.commit()
    (recovery,) = db.session.scalars(select(Submission).where(
        Submission.recovery_of_id == reco.id))
    assert out.launches == [recovery.id] and recovery.dataset == f"poms_recover_{reco.id}_1"
    assert db.session.scalars(select(AuditEntry.subject).where(
        AuditEntry.action == "submission recover")).all() == [f"submission {reco.id}"]
    # Asked again, the family's recovery is under way: nothing more to do now.
    (again,) = bulk.preview("recover", [reco], launch_app.config)
    assert not again.applies and "recoveries wait until it ends" in again.says


def test_a_recovery_chaining_could_not_launch_needs_attention(launch_app, tutorial,
                                                              tmp_path):
    stage(tutorial, "reco").job_type.recoveries = CRY_RECOVERIES  # not [key, value] pairs
    db.session.commit()
    reco, _names = reco_with_failures(tutorial, launch_app, tmp_path)
    after_tracking(launch_app.config)  # Located; its recovery cannot be built
    items = [i for i in needs_attention(tutorial.experiment_id)
             if i.kind == "recovery-refused"]
    assert [(i.submission.id, i.action) for i in items] == [(reco.id, "open")]
    assert "is not a [key, value] pair" in items[0].detail


def test_a_submission_page_links_its_parent_and_dependents_as_chaining_makes_them(
        launch_app, tutorial, client):
    fcl, _names = fcl_done(tutorial, launch_app, n=2)
    signed_in(client, "alice")
    summary = client.get(f"/e/mu2e/submission/{fcl.id}/summary").get_data(as_text=True)
    assert 'id="submission-dependents"' not in summary
    after_tracking(launch_app.config)  # Located; the dependent stage launches on its outputs
    (reco,) = launched_from(fcl)
    summary = client.get(f"/e/mu2e/submission/{fcl.id}/summary").get_data(as_text=True)
    assert f'id="submission-dependents"><a href="/e/mu2e/submission/{reco.id}"' in summary
    theirs = client.get(f"/e/mu2e/submission/{reco.id}/summary").get_data(as_text=True)
    assert f'<a href="/e/mu2e/submission/{fcl.id}">submission {fcl.id}</a> (reco_fcl)' in theirs


def test_a_submissions_relatives_are_its_family_their_dependents_its_parent_and_relaunches(
        launch_app, tutorial):
    """Read from the rows as chaining and the pages write them: the root and its recovery
    are one family; a dependent launched from the recovery is the family's; the dependent
    names its parent; a launch made again after a LaunchFailed is listed on the failed one's
    page; another submission's relaunch and a decision without a launch are nobody's."""
    fcl, reco = stage(tutorial, "reco_fcl"), stage(tutorial, "reco")

    def made(stage_row, **values):
        row = Submission(campaign_stage_id=stage_row.id, experiment_id=tutorial.experiment_id,
                         **values)
        db.session.add(row)
        db.session.flush()
        return row

    root = made(fcl)
    recovery = made(fcl, recovery_of_id=root.id)
    dependent = made(reco)
    failed = made(fcl, state=states.LAUNCH_FAILED)
    again = made(fcl, origin=f"launched again from {failed.id} (web)")
    made(fcl, origin=f"launched again from {failed.id}0 (web)")  # another's: 10 is not 1
    db.session.add_all([
        ChainStep(parent_submission_id=recovery.id, child_stage_id=reco.id, kind="dependent",
                  submission_id=dependent.id),
        ChainStep(parent_submission_id=root.id, child_stage_id=reco.id, kind="dependent",
                  position=1),  # decided, nothing launched (yet)
        ChainStep(parent_submission_id=root.id, child_stage_id=fcl.id, kind="recovery",
                  submission_id=recovery.id)])
    db.session.flush()

    of_root = relatives(root)
    assert of_root.parent is None
    assert of_root.family == [root, recovery]
    assert of_root.dependents == [dependent]
    assert of_root.launched_again == []
    assert relatives(failed).launched_again == [again]
    assert relatives(failed).family == relatives(failed).dependents == []
    assert relatives(recovery).family == [root, recovery]
    of_dependent = relatives(dependent)
    assert of_dependent.parent == recovery
    assert (of_dependent.family, of_dependent.dependents, of_dependent.launched_again) == (
        [], [], [])
    db.session.rollback()
