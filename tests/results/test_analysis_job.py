"""The RQ analysis job over real local-engine jobs: each finished job's log parsed once."""
from __future__ import annotations

from sqlalchemy import func, select

from app.extensions import db
from app.logs.jobs import analyse_jobs
from app.models import Job
from app.models.logs import FailureSignature, JobAnalysis


def analyses(submission_id: int) -> dict[str, JobAnalysis]:
    rows = db.session.execute(
        select(Job.batch_job_id, JobAnalysis).join(JobAnalysis, JobAnalysis.job_id == Job.id)
        .where(Job.submission_id == submission_id)
    ).all()
    return {batch.split("@")[0].split(".")[1]: row for batch, row in rows}


def test_finished_jobs_are_analysed_once_with_their_signature(launch_app, ran_submission):
    submission = ran_submission(["ok90", "oom", "stagein", "ok50"])
    found = analyses(submission.id)
    assert sorted(found) == ["0", "1", "2", "3"]
    ok, oom, stagein, half = found["0"], found["1"], found["2"], found["3"]
    assert (ok.exit_code, ok.failed, ok.signature) == (0, False, None)
    assert abs(ok.efficiency - 0.9) < 1e-9 and abs(half.efficiency - 0.5) < 1e-9
    assert ok.memory_requested_mb == 2000.0
    assert (oom.exit_code, oom.signal, oom.signature, oom.category) == (
        137, 9, "Out of memory", "memory")
    assert oom.line == 8  # "== stdout ==" is line 1 of the job's log
    assert round(oom.peak_memory_mb) == round(2254 * 1e6 / 2**20)
    assert (stagein.exit_code, stagein.signature, stagein.category) == (
        65, "Input file could not be read", "stage-in")
    hits = dict(db.session.execute(select(FailureSignature.name, FailureSignature.hits)).all())
    assert hits["Out of memory"] == 1 and hits["Input file could not be read"] == 1

    # Again (a second tracking pass, a re-queued job): nothing is parsed or counted twice.
    ids = list(db.session.scalars(select(Job.id).where(Job.submission_id == submission.id)))
    run = analyse_jobs(ids, launch_app.config)
    assert run.analysed == [] and sorted(run.skipped) == sorted(ids)
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(JobAnalysis)) == 4
    assert db.session.scalar(select(FailureSignature.hits).where(
        FailureSignature.name == "Out of memory")) == 1


def test_a_crash_mid_way_leaves_nothing_and_the_rerun_is_clean(launch_app, ran_submission,
                                                                 monkeypatch):
    submission = ran_submission(["oom"])
    job_id = db.session.scalar(select(Job.id).where(Job.submission_id == submission.id))
    db.session.execute(JobAnalysis.__table__.delete())
    db.session.execute(FailureSignature.__table__.update().values(hits=0))
    db.session.commit()

    import app.logs.jobs as jobs

    def crash(*args, **kwargs):
        raise RuntimeError("worker killed while recording hits")

    monkeypatch.setattr(jobs, "record_hits", crash)
    run = analyse_jobs([job_id], launch_app.config)
    assert run.errors and run.analysed == []
    db.session.expire_all()
    assert db.session.get(JobAnalysis, job_id) is None
    monkeypatch.undo()
    run = analyse_jobs([job_id], launch_app.config)
    assert run.analysed == [job_id]
    assert db.session.get(JobAnalysis, job_id).signature == "Out of memory"
    assert db.session.scalar(select(FailureSignature.hits).where(
        FailureSignature.name == "Out of memory")) == 1
