"""A small chain recorded the way POMS records it: reco_fcl's jobs report FCL files, reco's
jobs report what they read and the .art files they made, and delivery.record_finished_jobs
reads the reports into the catalogue (job_output included)."""
from __future__ import annotations

from app.batch.job_files import write_json_atomic
from app.catalog.embedded import EmbeddedCatalog
from app.chaining import delivery
from app.extensions import db
from app.launching import snapshots
from app.models import Job
from tests.chaining.support import finished


def job_report(app, batch_job_id: str, status: int, inputs: list[str],
               outputs: list[str]) -> None:
    path = delivery._report_path(app.config, batch_job_id)
    path.parent.mkdir(parents=True)
    write_json_atomic(path, {"status": status, "inputs": inputs, "outputs": [
        {"name": name, "size": 10, "location": "/data/out"} for name in outputs]})


def ended_jobs(app, submission, cluster: int, reports: list[tuple]) -> list[Job]:
    """Jobs of `submission` that ended, each with its report: (status, inputs, outputs)."""
    jobs = []
    for proc, (status, inputs, outputs) in enumerate(reports):
        job = Job(submission_id=submission.id, batch_job_id=f"{cluster}.{proc}@local",
                  state="Completed" if status == 0 else "Failed", exit_code=status)
        db.session.add(job)
        jobs.append(job)
        job_report(app, job.batch_job_id, status, inputs, outputs)
    db.session.commit()
    return jobs


def launched_as_now(submission) -> None:
    """The snapshots a launch takes (app/launching/service.py), taken now."""
    stage_snap, job_type_snap, login_snap = snapshots.take(submission.stage)
    submission.stage_snapshot_id = stage_snap.id
    submission.job_type_snapshot_id = job_type_snap.id
    submission.login_setup_snapshot_id = login_snap.id
    db.session.commit()


def recorded_chain(app, tutorial, tmp_path):
    """reco_fcl made four FCL files (and a log, not an output); reco was given two, read
    one into an .art file and failed on the other. Returns (reco_fcl, reco, reco's jobs)."""
    fcl = finished(tutorial, "reco_fcl", app)
    ended_jobs(app, fcl, 7100, [(0, [], ["a_0.fcl", "a_1.fcl", "job0.log"]),
                                (0, [], ["a_2.fcl", "a_3.fcl"])])
    delivery.record_finished_jobs(app.config)
    db.session.commit()
    EmbeddedCatalog(db.session, "mu2e").create_list_definition("two_fcl",
                                                               ["a_0.fcl", "a_1.fcl"])
    db.session.commit()
    reco = finished(tutorial, "reco", app, dataset="two_fcl", tmp_path=tmp_path)
    launched_as_now(reco)
    jobs = ended_jobs(app, reco, 7200, [(0, ["a_0.fcl"], ["a_0.art", "a_0.log"]),
                                        (65, ["a_1.fcl"], ["a_1.art"])])
    delivery.record_finished_jobs(app.config)
    db.session.commit()
    return fcl, reco, jobs
