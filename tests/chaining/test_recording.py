"""Recording finished jobs' files from their reports, many jobs at once: the catalogue ends
up as if each job had been recorded one after the other, whatever the batch size."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from app.batch.job_files import write_json_atomic
from app.catalog.embedded import EmbeddedCatalog
from app.chaining import delivery
from app.extensions import db
from app.models import Job
from app.models.catalog import CatalogFile, CatalogLocation
from app.models.chaining import ChainJobRecord, JobOutput
from tests.chaining.support import finished

CLUSTER = 4242


def job_report(app, proc: int, status: int, outputs: list[str]) -> None:
    path = delivery._report_path(app.config, f"{CLUSTER}.{proc}@local")
    path.parent.mkdir(parents=True)
    write_json_atomic(path, {"status": status, "inputs": [], "outputs": [
        {"name": name, "size": 10, "location": "/data/out"} for name in outputs]})


@pytest.mark.parametrize("chunk", [2, 500])
def test_a_batch_of_reports_is_recorded_as_one_job_after_the_other(launch_app, tutorial,
                                                                   monkeypatch, chunk):
    monkeypatch.setattr(delivery, "RECORD_CHUNK", chunk)
    catalog = EmbeddedCatalog(db.session, "mu2e")
    catalog.declare_file("x.fcl")  # declared before, by someone else
    db.session.commit()
    sub = finished(tutorial, "reco_fcl", launch_app)
    states = ["Completed", "Completed", "Failed", "Completed", "Completed"]
    for proc, state in enumerate(states):
        db.session.add(Job(submission_id=sub.id, batch_job_id=f"{CLUSTER}.{proc}@local",
                           state=state, exit_code=0 if state == "Completed" else 1))
    db.session.commit()
    job_report(launch_app, 0, 0, ["a.fcl", "b.fcl", "a.log"])
    job_report(launch_app, 1, 0, ["b.fcl", "c.fcl", "c.fcl"])  # b.fcl: job 0's already
    job_report(launch_app, 2, 1, ["d.fcl"])  # failed: nothing of it is declared
    # job 3 left no report
    job_report(launch_app, 4, 0, ["x.fcl", "bad/name.fcl", "e.fcl"])

    assert delivery.record_finished_jobs(launch_app.config) == 5
    db.session.expire_all()
    declared = dict(db.session.execute(
        select(CatalogFile.name, CatalogLocation.location)
        .outerjoin(CatalogLocation, CatalogLocation.file_id == CatalogFile.id)).all())
    # Only names matching the job type's %.fcl, each once, each at its location.
    assert declared == {"a.fcl": "/data/out", "b.fcl": "/data/out", "c.fcl": "/data/out",
                        "e.fcl": "/data/out", "x.fcl": None}
    records = {job: (outputs, note) for job, outputs, note in db.session.execute(
        select(Job.batch_job_id, ChainJobRecord.outputs, ChainJobRecord.note)
        .join(ChainJobRecord, ChainJobRecord.job_id == Job.id))}
    assert records == {
        f"{CLUSTER}.0@local": (2, ""),
        f"{CLUSTER}.1@local": (1, "already declared, not again: b.fcl"),
        f"{CLUSTER}.2@local": (0, ""),
        f"{CLUSTER}.3@local": (0, "the job left no report of its files"),
        f"{CLUSTER}.4@local": (1, "already declared, not again: x.fcl"),
    }
    # Which job made each (the file page's "made by"); x.fcl was someone else's.
    made_by = dict(db.session.execute(
        select(CatalogFile.name, Job.batch_job_id)
        .join(JobOutput, JobOutput.file_id == CatalogFile.id)
        .join(Job, Job.id == JobOutput.job_id)).all())
    assert made_by == {"a.fcl": f"{CLUSTER}.0@local", "b.fcl": f"{CLUSTER}.0@local",
                       "c.fcl": f"{CLUSTER}.1@local", "e.fcl": f"{CLUSTER}.4@local"}
    assert delivery.record_finished_jobs(launch_app.config) == 0  # each job once


def test_an_input_the_catalogue_does_not_know_does_not_hold_the_recording(launch_app,
                                                                          tutorial):
    """A job that read a file from outside the catalogue: its outputs are declared without
    that parent, the record says so, and the other jobs (and the chaining after them) are
    not held up."""
    catalog = EmbeddedCatalog(db.session, "mu2e")
    catalog.declare_file("known.art")
    db.session.commit()
    sub = finished(tutorial, "reco_fcl", launch_app)
    for proc in range(2):
        db.session.add(Job(submission_id=sub.id, batch_job_id=f"{CLUSTER}.{proc}@local",
                           state="Completed", exit_code=0))
    db.session.commit()
    for proc, inputs, output in ((0, ["known.art", "/pnfs/elsewhere.art"], "f.fcl"),
                                 (1, [], "g.fcl")):
        path = delivery._report_path(launch_app.config, f"{CLUSTER}.{proc}@local")
        path.parent.mkdir(parents=True)
        write_json_atomic(path, {"status": 0, "inputs": inputs, "outputs": [
            {"name": output, "location": "/data/out"}]})

    assert delivery.record_finished_jobs(launch_app.config) == 2
    db.session.expire_all()
    assert sorted(catalog.list_files("file_name %.fcl")) == ["f.fcl", "g.fcl"]
    assert catalog.list_files("ischildof: (file_name known.art)") == ["f.fcl"]
    note = db.session.scalar(select(ChainJobRecord.note).join(Job).where(
        Job.batch_job_id == f"{CLUSTER}.0@local"))
    assert "inputs not in the catalogue, not made parents: /pnfs/elsewhere.art" in note
