"""Completion, recoveries and dependent stages, driven through the domain functions the
tracking worker calls (app/chaining/hooks.after_tracking) on the demo tutorial campaign.

What the jobs would report is put in the embedded catalogue through its own interface
(projects, deliveries, consumption, outputs), as the job reports do in the end-to-end
proofs (tests/e2e/)."""
from __future__ import annotations

import threading

from sqlalchemy import func, select

from app import states
from app.catalog.embedded import EmbeddedCatalog
from app.chaining import chain, operator
from app.chaining.hooks import after_tracking
from app.chaining.ledger import stage_ledger
from app.extensions import db
from app.launching.inputs import prepare_inputs
from app.models import AuditEntry, Submission, SubmissionEvent
from app.models.chaining import ChainStep
from tests.chaining.support import fcl_done, finished, launched_from, report, stage


def test_complete_stage_is_located_at_once_and_its_dependent_launches_once(launch_app,
                                                                          tutorial):
    fcl, names = fcl_done(tutorial, launch_app)
    result = after_tracking(launch_app.config)
    db.session.expire_all()
    assert db.session.get(Submission, fcl.id).state == "Located"
    events = db.session.scalars(select(SubmissionEvent.cause).where(
        SubmissionEvent.submission_id == fcl.id, SubmissionEvent.to_state == "Located"))
    assert list(events) == ["completion type complete: located at once"]
    (reco,) = launched_from(fcl)
    assert result.launched == [reco.id]
    assert reco.stage.name == "reco" and reco.state == "New"
    assert reco.dataset == f"poms_alice_depends_{fcl.id}_1"
    catalog = EmbeddedCatalog(db.session, "mu2e")
    # Only the outputs matching the dependency's file_pattern_1 (%.fcl), not the log.
    assert sorted(catalog.list_files(f"defname: {reco.dataset}")) == sorted(names)
    # Another pass, or another worker, finds it done.
    assert after_tracking(launch_app.config).launched == []
    assert len(launched_from(fcl)) == 1


def test_two_workers_seeing_the_completion_at_once_launch_the_dependent_once(launch_app,
                                                                            tutorial):
    fcl, _names = fcl_done(tutorial, launch_app)
    states.transition(fcl, states.LOCATED, "test")
    db.session.commit()
    barrier = threading.Barrier(2)
    outcomes, errors = [], []

    def worker():
        # Each thread: its own app context, so its own database session and connection.
        with launch_app.app_context():
            try:
                submission = db.session.get(Submission, fcl.id)
                barrier.wait(timeout=10)
                got = chain.settle(submission, launch_app.config)
                db.session.commit()
                outcomes.append(got.launched)
            except Exception as err:  # pragma: no cover - reported below
                errors.append(repr(err))
            finally:
                db.session.remove()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert errors == []
    db.session.expire_all()
    assert sorted(len(o) for o in outcomes) == [0, 1]
    assert len(launched_from(fcl)) == 1
    assert db.session.scalar(select(func.count()).select_from(ChainStep).where(
        ChainStep.parent_submission_id == fcl.id, ChainStep.kind == "dependent")) == 1


def test_recovery_then_recovery_of_recovery_on_exactly_the_unprocessed_files(
        launch_app, tutorial, tmp_path):
    from app.campaigns import store

    reco_stage = stage(tutorial, "reco")
    spec = store.spec_from_campaign(tutorial)
    spec.job_types[reco_stage.job_type.name].recoveries = [
        ["proj_status", [["-Osubmit.dataset=", "%(dataset)s"]]], ["consumed_status", []]]
    store.save_campaign(tutorial.experiment, spec, tutorial.owner)
    db.session.commit()
    fcl, names = fcl_done(tutorial, launch_app)
    after_tracking(launch_app.config)
    (reco,) = launched_from(fcl)
    catalog = EmbeddedCatalog(db.session, "mu2e")
    # The reco launch itself (its project over its dataset), jobs end: two files fail.
    prepare_inputs(reco, reco.dataset, None, tmp_path / "r", launch_app.config)
    states.transition(reco, states.IDLE, "launched")
    db.session.commit()
    report(catalog, reco, "1.0@local", consumed=names[:2], outputs=["a0.art", "a1.art"])
    report(catalog, reco, "1.2@local", failed=[names[2]])
    report(catalog, reco, "1.3@local", failed=[names[3]])
    ledger = stage_ledger(reco.stage)
    assert (ledger.input, ledger.processed, ledger.in_flight) == (4, 2, 2) and ledger.adds_up

    # Preview before it launches: the files and why.
    states.transition(reco, states.COMPLETED, "jobs ended")
    states.transition(reco, states.LOCATED, "test")
    db.session.commit()
    shown = operator.recovery_preview(reco, launch_app.config)
    assert (shown.position, shown.type) == (1, "proj_status")
    assert sorted(f.name for f in shown.files) == names[2:]
    assert all("failed in 1." in f.reason for f in shown.files)

    result = after_tracking(launch_app.config)
    db.session.expire_all()
    (r1,) = db.session.scalars(select(Submission).where(Submission.recovery_of_id == reco.id))
    assert result.launched == [r1.id]
    assert (r1.recovery_position, r1.dataset) == (1, f"poms_recover_{reco.id}_1")
    assert r1.param_overrides == [["-Osubmit.dataset=", "%(dataset)s"]]
    assert sorted(catalog.list_files(f"defname: {r1.dataset}")) == names[2:]
    assert stage_ledger(reco.stage).in_flight == 2

    # The recovery runs: one more file fails; a recovery of the recovery, position 2.
    prepare_inputs(r1, r1.dataset, None, tmp_path / "r1", launch_app.config)
    states.transition(r1, states.IDLE, "launched")
    states.transition(r1, states.COMPLETED, "jobs ended")
    db.session.commit()
    report(catalog, r1, "2.0@local", consumed=[names[2]], outputs=["a2.art"])
    report(catalog, r1, "2.1@local", failed=[names[3]])
    after_tracking(launch_app.config)
    db.session.expire_all()
    # As the original's launch_recovery_if_needed, a recovery of a recovery names the
    # family's first submission as its parent; it re-runs what r1 left.
    (r2,) = db.session.scalars(select(Submission).where(Submission.recovery_position == 2))
    assert r2.recovery_of_id == reco.id and r2.param_overrides == []
    assert r2.dataset == f"poms_recover_{r1.id}_2"
    assert catalog.list_files(f"defname: {r2.dataset}") == [names[3]]

    # The last one fails for good: the list is used up, the ledger says failed.
    prepare_inputs(r2, r2.dataset, None, tmp_path / "r2", launch_app.config)
    states.transition(r2, states.IDLE, "launched")
    states.transition(r2, states.COMPLETED, "jobs ended")
    db.session.commit()
    report(catalog, r2, "3.0@local", failed=[names[3]])
    after_tracking(launch_app.config)
    db.session.expire_all()
    assert db.session.scalars(select(Submission.id).where(
        Submission.recovery_of_id.is_not(None))).all() == [r1.id, r2.id]
    assert chain.is_settled(r2.id)
    ledger = stage_ledger(reco.stage)
    assert (ledger.input, ledger.processed, ledger.in_flight, ledger.failed,
            ledger.skipped) == (4, 3, 0, 1, 0)

    # An operator marks the failed file (audited) and it is recovered at once, from the CLI.
    runner = launch_app.test_cli_runner()
    out = runner.invoke(args=["poms", "reprocess", str(reco.id), "nope.fcl"])
    assert out.exit_code == 1 and "not input files" in out.output
    out = runner.invoke(args=["poms", "reprocess", str(reco.id), names[3],
                              "--reason", "disk fixed"])
    assert out.exit_code == 0, out.output
    db.session.expire_all()
    r3 = db.session.get(Submission, int(out.output.strip().splitlines()[-1]))
    assert r3.recovery_of_id == reco.id and r3.origin.startswith("recover now by alice")
    assert r3.dataset == f"poms_recover_{r2.id}_3"
    assert catalog.list_files(f"defname: {r3.dataset}") == [names[3]]
    audit = db.session.scalars(select(AuditEntry).where(
        AuditEntry.action == "files marked to process again")).all()
    assert len(audit) == 1 and audit[0].after["files"] == [names[3]]


def test_located_completion_waits_for_located_outputs_grace_or_an_operator(
        launch_app, tutorial, tmp_path):
    reco_stage = stage(tutorial, "reco")
    reco_stage.completion_type, reco_stage.completion_pct = "located", 100
    db.session.commit()
    fcl, names = fcl_done(tutorial, launch_app, n=2)
    catalog = EmbeddedCatalog(db.session, "mu2e")
    catalog.create_list_definition("two_fcl", names)
    db.session.commit()
    reco = finished(tutorial, "reco", launch_app, dataset="two_fcl", tmp_path=tmp_path)
    report(catalog, reco, "5.0@local", consumed=[names[0]], outputs=["b0.art"], location=None)
    report(catalog, reco, "5.1@local", consumed=[names[1]], outputs=["b1.art"])
    after_tracking(launch_app.config)
    db.session.expire_all()
    assert db.session.get(Submission, reco.id).state == "Completed"  # half located
    catalog.add_location("b0.art", "/data/out")
    db.session.commit()
    after_tracking(launch_app.config)
    db.session.expire_all()
    assert db.session.get(Submission, reco.id).state == "Located"
    cause = db.session.scalar(select(SubmissionEvent.cause).where(
        SubmissionEvent.submission_id == reco.id, SubmissionEvent.to_state == "Located"))
    assert cause.startswith("outputs located for 2 of 2 files")

    # Grace period over: Located without locations.
    other = finished(tutorial, "reco", launch_app)
    launch_app.config["POMS_LOCATED_GRACE_S"] = 0
    after_tracking(launch_app.config)
    db.session.expire_all()
    assert db.session.get(Submission, other.id).state == "Located"

    # An operator forces it (CLI); only a Completed submission can be.
    launch_app.config["POMS_LOCATED_GRACE_S"] = 3600
    forced = finished(tutorial, "reco", launch_app)
    after_tracking(launch_app.config)
    runner = launch_app.test_cli_runner()
    out = runner.invoke(args=["poms", "force-located", str(forced.id)])
    assert out.exit_code == 0, out.output
    db.session.expire_all()
    assert db.session.get(Submission, forced.id).state == "Located"
    out = runner.invoke(args=["poms", "force-located", str(forced.id)])
    assert out.exit_code == 1 and "only a Completed submission" in out.output


def test_recover_dry_run_lists_files_and_reasons(launch_app, tutorial, tmp_path):
    fcl, names = fcl_done(tutorial, launch_app, n=3)
    catalog = EmbeddedCatalog(db.session, "mu2e")
    catalog.create_list_definition("three_fcl", names)
    db.session.commit()
    reco = finished(tutorial, "reco", launch_app, dataset="three_fcl", tmp_path=tmp_path)
    report(catalog, reco, "7.0@local", consumed=[names[0]], outputs=["c0.art"])
    report(catalog, reco, "7.1@local", failed=[names[1]])
    runner = launch_app.test_cli_runner()
    out = runner.invoke(args=["poms", "recover", str(reco.id), "--dry-run"])
    assert out.exit_code == 0, out.output
    lines = out.output.strip().splitlines()
    assert lines[0] == f"# recovery 1 (proj_status) of submission {reco.id}: 2 files"
    assert lines[1] == f"# submission {reco.id} is Completed: recoveries wait until it ends"
    reasons = dict(line.split("\t") for line in lines[2:])
    assert reasons == {
        names[1]: "failed in 7.1@local (process bad), never consumed",
        names[2]: f"never delivered in project poms_{reco.id}",
    }
    out = runner.invoke(args=["poms", "ledger", "mu2e", tutorial.name, "reco"])
    assert out.output.strip() == ("input 3 = processed 1 + in flight 2 + failed 0 "
                                  "+ skipped 0")


MULTI_PARENT = """
[campaign]
experiment = mu2e
poms_role = analysis
name = two_parents
campaign_stage_list = sim, digi, mix

[campaign_defaults]
vo_role = Analysis
software_version = v1
dataset_or_split_data = None
cs_split_type = None
completion_type = complete
completion_pct = 100
param_overrides = []
test_param_overrides = []
login_setup = demo_login
job_type = demo_job

[login_setup demo_login]
host = localhost
account = poms
setup = true

[job_type demo_job]
launch_script = fife_launch
parameters = [["-c ", "examples/mu2e/reco.cfg"]]
output_file_patterns = %.art,%.root

[campaign_stage sim]
[campaign_stage digi]
[campaign_stage mix]
dataset_or_split_data = from_parent

[dependencies mix]
campaign_stage_1 = sim
file_pattern_1 = %.art
campaign_stage_2 = digi
file_pattern_2 = %.root
"""


def test_a_stage_with_two_parents_launches_on_each_parents_matching_files(launch_app,
                                                                       tutorial):
    from app.auth.members import find_or_create_experiment
    from app.campaigns import store
    from app.campaigns.ini import parse_ini

    spec, _ = parse_ini(MULTI_PARENT, "two_parents.ini")
    owner = tutorial.owner  # alice, an analysis member of mu2e
    campaign = store.save_campaign(find_or_create_experiment("mu2e"), spec, owner)
    db.session.commit()
    catalog = EmbeddedCatalog(db.session, "mu2e")
    sim = finished(campaign, "sim", launch_app)
    report(catalog, sim, "1.0@local", outputs=["s1.art", "s2.art", "s1.root"])
    digi = finished(campaign, "digi", launch_app)
    report(catalog, digi, "2.0@local", outputs=["d1.root", "d2.art"])
    after_tracking(launch_app.config)
    (from_sim,) = launched_from(sim)
    (from_digi,) = launched_from(digi)
    assert from_sim.stage.name == from_digi.stage.name == "mix"
    assert sorted(catalog.list_files(f"defname: {from_sim.dataset}")) == ["s1.art", "s2.art"]
    assert catalog.list_files(f"defname: {from_digi.dataset}") == ["d1.root"]
    assert after_tracking(launch_app.config).launched == []


def test_recover_command_refuses_until_the_family_has_ended(launch_app, tutorial, tmp_path):
    fcl, names = fcl_done(tutorial, launch_app, n=2)
    catalog = EmbeddedCatalog(db.session, "mu2e")
    catalog.create_list_definition("two_more", names)
    db.session.commit()
    reco = finished(tutorial, "reco", launch_app, dataset="two_more", tmp_path=tmp_path)
    report(catalog, reco, "8.0@local", failed=names)
    runner = launch_app.test_cli_runner()
    out = runner.invoke(args=["poms", "recover", str(reco.id)])
    assert out.exit_code == 1
    assert f"submission {reco.id} is Completed: a recovery waits until it ends" in out.output
    states.transition(reco, states.LOCATED, "test")
    db.session.commit()
    out = runner.invoke(args=["poms", "recover", str(reco.id)])
    assert out.exit_code == 0, out.output
    db.session.expire_all()
    recovery = db.session.get(Submission, int(out.output.strip().splitlines()[-1]))
    assert recovery.recovery_of_id == reco.id and recovery.recovery_position == 1
    assert sorted(catalog.list_files(f"defname: {recovery.dataset}")) == sorted(names)
    # The automatic pass finds it recovered: no other recovery is launched (what it does
    # launch is reco_fcl's dependent).
    launched = after_tracking(launch_app.config).launched
    db.session.expire_all()
    assert [db.session.get(Submission, i).origin for i in launched] == [f"parent {fcl.id}"]
    assert db.session.scalars(select(Submission.id).where(
        Submission.recovery_of_id.is_not(None))).all() == [recovery.id]
    out = runner.invoke(args=["poms", "recover", str(reco.id)])
    assert out.exit_code == 1 and f"submission {recovery.id} is New" in out.output
