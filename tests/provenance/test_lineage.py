"""A file's provenance, read by app/provenance directly: the job that made it as it was
launched, its inputs and what was made from it, and the bounds that keep a page over a
huge campaign fast (files per generation, generations, cycles)."""
from __future__ import annotations

import pytest

from app.catalog.embedded import EmbeddedCatalog
from app.extensions import db
from app.models import Job
from app.models.catalog import CatalogFile, CatalogFileParent
from app.models.chaining import JobOutput
from app.provenance import flow, jobs, lineage
from app.ucondb import store as ucondb
from tests.chaining.support import stage
from tests.fixtures.launching import import_tutorial
from tests.provenance.support import recorded_chain


def test_a_reco_file_traces_to_its_job_as_launched_and_back_to_its_fcl_file(launch_app,
                                                                            tmp_path):
    tutorial = import_tutorial()
    fcl, reco, (good, bad) = recorded_chain(launch_app, tutorial, tmp_path)
    # Edited after the launch: provenance says what ran, not what the stage says now.
    stage(tutorial, "reco").param_overrides = [["--stage ", "edited"]]
    stage(tutorial, "reco").login_setup.host = "elsewhere.fnal.gov"
    db.session.commit()

    trace = lineage.file_provenance("mu2e", "a_0.art")
    made = trace.producer
    assert (made.batch_job_id, made.submission_id, made.stage, made.campaign) == (
        good.batch_job_id, reco.id, "reco", tutorial.name)
    assert made.job_type == "mu2e_reco_srsoleti_jobtype"
    assert made.login_setup_as_launched["host"] == "pomsgpvm01.fnal.gov"
    params = ["".join(p) for p in lineage.parameters_as_launched(made)]
    assert params[0] == "-c examples/mu2e/reco.cfg"  # the demo tutorial's job type
    assert "--stage reco" in params and "--stage edited" not in params
    assert trace.locations == ["/data/out"] and trace.version == "MDC2020t"
    # Back: its FCL file, made by reco_fcl, and nothing before that (the first stage).
    assert [[f.name for f in g.files] for g in trace.inputs] == [["a_0.fcl"]]
    assert (trace.inputs[0].files[0].stage,
            trace.inputs[0].files[0].submission_id) == ("reco_fcl", fcl.id)
    assert trace.outputs == [] and not trace.inputs_cut
    # Forward from the FCL file: the .art file made from it (the failed job made none).
    back = lineage.file_provenance("mu2e", "a_1.fcl")
    assert back.outputs == [] and back.producer.stage == "reco_fcl"
    forward = lineage.file_provenance("mu2e", "a_0.fcl")
    assert [[f.name for f in g.files] for g in forward.outputs] == [["a_0.art"]]
    assert forward.ucondb is None  # never uploaded: no UconDB place is made up

    # A job's files: what it was given (and what became of them), what it made.
    assert jobs.job_files(good, "mu2e").inputs == [("a_0.fcl", "consumed")]
    assert jobs.job_files(good, "mu2e").outputs == ["a_0.art"]
    assert jobs.job_files(bad, "mu2e").inputs == [("a_1.fcl", "failed")]
    assert jobs.job_files(bad, "mu2e").outputs_count == 0

    # Per stage: in, processed, out, and still to process following reco's %.fcl pattern.
    rows = {r.stage: r for r in flow.campaign_flow(tutorial)}
    assert (rows["reco_fcl"].files_in, rows["reco_fcl"].files_out,
            rows["reco_fcl"].to_process) == (0, 4, 0)
    assert (rows["reco"].files_in, rows["reco"].processed, rows["reco"].files_out,
            rows["reco"].to_process) == (2, 1, 1, 3)
    assert [(s.stage, s.pattern, s.matching) for s in rows["reco"].sources] == [
        ("reco_fcl", "%.fcl", 4)]


def test_an_unknown_file_is_said_so(app):
    with pytest.raises(lineage.NoSuchFile, match="no file nothing.art in mu2e"):
        lineage.file_provenance("mu2e", "nothing.art")


def declare(names, parents=()):
    catalog = EmbeddedCatalog(db.session, "mu2e")
    catalog.declare_files([{"name": n, "parents": list(parents)} for n in names])
    db.session.commit()


def test_a_huge_fan_out_shows_a_page_and_says_how_many_more(app):
    declare(["root.fcl"])
    declare([f"child_{i:03d}.art" for i in range(130)], parents=["root.fcl"])
    declare(["grandchild.root"], parents=["child_000.art", "child_129.art"])
    trace = lineage.file_provenance("mu2e", "root.fcl", limit=50)
    first, second = trace.outputs
    assert [f.name for f in first.files] == [f"child_{i:03d}.art" for i in range(50)]
    assert first.more == 80
    # Only the files shown are followed: child_129's side is not walked.
    assert [(f.name, f.via) for f in second.files] == [("grandchild.root", ["child_000.art"])]
    assert lineage.file_provenance("mu2e", "root.fcl", limit=10_000).limit == lineage.MAX_LIMIT


def test_a_cycle_in_the_parentage_ends_and_depth_bounds_the_walk(app):
    declare(["g0.fcl"])
    for i in range(1, 6):
        declare([f"g{i}.art"], parents=[f"g{i - 1}.{'fcl' if i == 1 else 'art'}"])
    ids = dict(db.session.query(CatalogFile.name, CatalogFile.id))
    db.session.add(CatalogFileParent(child_id=ids["g0.fcl"], parent_id=ids["g5.art"]))
    db.session.commit()
    trace = lineage.file_provenance("mu2e", "g5.art")  # g4 .. g0, then g5 again: stop
    assert [g.files[0].name for g in trace.inputs] == ["g4.art", "g3.art", "g2.art",
                                                       "g1.art", "g0.fcl"]
    assert not trace.inputs_cut
    short = lineage.file_provenance("mu2e", "g5.art", depth=2)
    assert [g.files[0].name for g in short.inputs] == ["g4.art", "g3.art"]
    assert short.inputs_cut


def test_the_maker_from_metadata_only_within_the_experiment(launch_app):
    tutorial = import_tutorial()
    from tests.chaining.support import finished

    sub = finished(tutorial, "reco_fcl", launch_app)
    job = Job(submission_id=sub.id, batch_job_id="9.0@local", state="Completed")
    db.session.add(job)
    db.session.commit()
    meta = {"poms_task_id": str(sub.id), "poms_job_id": "9.0@local"}
    EmbeddedCatalog(db.session, "mu2e").declare_file("old.fcl", metadata=meta)
    EmbeddedCatalog(db.session, "nova").declare_file("forged.fcl", metadata=meta)
    db.session.commit()
    assert db.session.query(JobOutput).count() == 0  # declared before job_output existed
    assert lineage.file_provenance("mu2e", "old.fcl").producer.job_id == job.id
    assert lineage.file_provenance("nova", "forged.fcl").producer is None


def test_sam_patterns_become_like_patterns():
    assert flow.like_pattern("%.fcl") == "%.fcl"
    assert flow.like_pattern("mu2e_reco.?.art") == "mu2e\\_reco._.art"
    assert flow.like_pattern("data_tier reco") is None


def test_an_fcl_file_uploaded_elsewhere_is_found_by_its_ucondb_location(app):
    """No upload row of POMS's (stored by someone else): the catalogue location names the
    folder, and this POMS's embedded UconDB the version."""
    ucondb.create_folder(db.session, "mu2e_ucondb_prod", "cnf_mu2e_fcl", created_by="them")
    stored = ucondb.store_version(db.session, "mu2e_ucondb_prod", "cnf_mu2e_fcl", "x.fcl",
                                  b"#include x\n", key="x.fcl", writer="them")
    catalog = EmbeddedCatalog(db.session, "mu2e")
    catalog.declare_file("x.fcl")
    catalog.add_location("x.fcl", "dbdata0vm.fnal.gov:/mu2e_ucondb_prod/app/data/cnf_mu2e_fcl")
    catalog.declare_file("y.fcl")
    catalog.add_location("y.fcl", "/pnfs/mu2e/scratch/fcl")
    db.session.commit()
    place = lineage.file_provenance("mu2e", "x.fcl").ucondb
    assert (place.database, place.folder, place.version) == (
        "mu2e_ucondb_prod", "cnf_mu2e_fcl", stored.meta["id"])
    assert lineage.file_provenance("mu2e", "y.fcl").ucondb is None
