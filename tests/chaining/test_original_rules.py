"""What the original POMS does with the odd campaigns it stores, through the domain functions
the tracking worker calls (app/chaining/hooks.after_tracking): a stage that depends on
itself (Mu2e's mdc2020_trkana.ini) and a completion type other than complete/located."""
from __future__ import annotations

from sqlalchemy import select

from app import states
from app.auth.members import find_or_create_experiment
from app.campaigns import store
from app.catalog.embedded import EmbeddedCatalog
from app.chaining.hooks import after_tracking
from app.extensions import db
from app.launching import inputs
from app.models import Submission
from app.models.chaining import ChainStep
from tests.chaining.support import finished, report, stage

# One stage that depends on itself, as in Mu2e's mdc2020_trkana.ini; it uses the tutorial's
# job type and login setup, which the experiment holds.
SELF_DEPENDENT = """\
[campaign]
experiment = mu2e
name = trkana_loop

[campaign_defaults]
login_setup = srsoleti_poms_login
job_type = mu2e_reco_srsoleti_jobtype
completion_type = {completion}

[campaign_stage trkana]
dataset_or_split_data = trkana_input
cs_split_type = {split}

[dependencies trkana]
campaign_stage_1 = trkana
file_pattern_1 = %.art
"""


def campaign_of(tutorial, split: str = "None", completion: str = "complete"):
    experiment = find_or_create_experiment("mu2e")
    text = SELF_DEPENDENT.format(split=split, completion=completion)
    spec, warnings = store.read_ini(experiment, text, "trkana_loop.ini")
    campaign = store.save_campaign(experiment, spec, tutorial.owner)
    catalog = EmbeddedCatalog(db.session, "mu2e")
    names = [f"in_{i}.art" for i in range(4)]
    for name in names:
        catalog.declare_file(name, metadata={})
    catalog.create_list_definition("trkana_input", names)
    db.session.commit()
    return campaign, warnings


def relaunched(parent: Submission) -> list[Submission]:
    return list(db.session.scalars(select(Submission).where(
        Submission.origin == f"parent {parent.id} (the stage depends on itself)")))


def note_of(parent: Submission) -> str:
    return db.session.scalar(select(ChainStep.note).where(
        ChainStep.parent_submission_id == parent.id, ChainStep.kind == "dependent"))


def test_a_stage_depending_on_itself_with_no_split_is_not_launched_again(launch_app,
                                                                         tutorial):
    """launch_dependents (webservice/SubmissionsPOMS.py) launches a self-dependent stage
    again as a normal launch; with split type None that is the same input forever (the
    original's stage editor refuses that case as "an infinite loop"), so POMS does not,
    and the note says why. Outputs matching file_pattern_1 change nothing."""
    campaign, warnings = campaign_of(tutorial)
    assert any("depends on itself" in w.reason for w in warnings)
    first = finished(campaign, "trkana", launch_app)
    report(EmbeddedCatalog(db.session, "mu2e"), first, "1.0@local", outputs=["out.art"])
    after_tracking(launch_app.config)
    db.session.expire_all()
    assert db.session.get(Submission, first.id).state == "Located"
    assert list(db.session.scalars(select(Submission.id))) == [first.id]  # nothing else
    assert "takes the same input every launch: not launched again" in note_of(first)


def test_a_stage_depending_on_itself_launches_its_next_split_until_they_run_out(
        launch_app, tutorial):
    """The original's launch_dependents: "self-reference, just do a normal launch" (no
    dataset override: the stage's next split). Once the splits are handed out, the next
    relaunch is refused by the split type and the chain ends."""
    campaign, _warnings = campaign_of(tutorial, split="nfiles(2)")
    trkana = stage(campaign, "trkana")
    inputs.choose_input(trkana, config=launch_app.config)  # the first launch took files 1-2
    db.session.commit()
    first = finished(campaign, "trkana", launch_app)
    after_tracking(launch_app.config)
    db.session.expire_all()
    (second,) = relaunched(first)
    assert second.dataset == "" and second.state == "New"  # its split is chosen at launch
    chosen = inputs.choose_input(trkana, config=launch_app.config)  # it takes files 3-4
    assert sorted(chosen.files) == ["in_2.art", "in_3.art"]
    states.transition(second, states.IDLE, "launched")
    states.transition(second, states.COMPLETED, "jobs: all ended")
    db.session.commit()
    after_tracking(launch_app.config)
    db.session.expire_all()
    assert db.session.get(Submission, second.id).state == "Located"
    assert relaunched(second) == []
    assert "not launched again" in note_of(second) and "handed out" in note_of(second)
    assert after_tracking(launch_app.config).launched == []  # and it stays ended


def test_a_completion_type_the_original_does_not_know_stays_completed(launch_app, tutorial):
    """wrapup_tasks (webservice/SubmissionsPOMS.py) moves on only submissions whose stage's
    completion_type is "complete" or "located": any other (the original stores any text)
    stays Completed until an operator forces Located."""
    campaign, warnings = campaign_of(tutorial, completion="Complete")
    assert any("neither 'complete' nor 'located'" in w.reason for w in warnings)
    sub = finished(campaign, "trkana", launch_app)
    launch_app.config["POMS_LOCATED_GRACE_S"] = 0  # not even when the grace period ends
    after_tracking(launch_app.config)
    db.session.expire_all()
    assert db.session.get(Submission, sub.id).state == "Completed"
    out = launch_app.test_cli_runner().invoke(args=["poms", "force-located", str(sub.id)])
    assert out.exit_code == 0, out.output
    db.session.expire_all()
    assert db.session.get(Submission, sub.id).state == "Located"
