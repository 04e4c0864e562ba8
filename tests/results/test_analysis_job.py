"""The RQ analysis job over real local-engine jobs: each finished job's log parsed once."""
from __future__ import annotations

from sqlalchemy import create_engine, func, select, text
from sqlalchemy.pool import NullPool

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


def test_jobs_first_seen_already_ended_are_still_analysed(launch_app, tutorial_campaign,
                                                          tmp_path):
    """A fast job can end between two tracking passes: its row is written already finished,
    and it must still reach the analysis queue."""
    from app import states
    from app.batch.base import JobRequest
    from app.batch.local import LocalEngine
    from app.models import Submission
    from app.models.base import utcnow
    from app.tracking.tracker import track_submissions
    from tests.fixtures.launching import wait_for
    from tests.results.conftest import SCRIPT, stage_named

    script = tmp_path / "job.sh"
    script.write_text(SCRIPT)
    engine = LocalEngine(launch_app.config["POMS_BATCH_DIR"])
    stage = stage_named(tutorial_campaign)
    submission = Submission(campaign_stage_id=stage.id, experiment_id=stage.campaign.experiment_id,
                            launch_claimed_at=utcnow(), launch_finished_at=utcnow())
    db.session.add(submission)
    db.session.flush()
    batch_id = engine.submit(JobRequest(executable=str(script), count=2,
                                        env={"BEHAVIOURS": "oom,ok90"},
                                        submission_id=submission.id))
    submission.batch_id, submission.batch_ids = batch_id, [batch_id]
    states.transition(submission, states.IDLE, "test launch")
    db.session.commit()
    wait_for(lambda: all(s.state == "Completed" for s in engine.query([batch_id])),
             what="both jobs to end before any tracking pass")
    result = track_submissions([submission.id], launch_app.config)
    ids = list(db.session.scalars(select(Job.id).where(Job.submission_id == submission.id)))
    assert sorted(result.finished_jobs) == sorted(ids) and len(ids) == 2
    run = analyse_jobs(result.finished_jobs, launch_app.config)
    assert sorted(run.analysed) == sorted(ids)


def test_analyse_pending_catches_up_jobs_whose_queue_entry_was_lost(launch_app,
                                                                    ran_submission):
    submission = ran_submission(["oom", "ok90", "stagein"])
    db.session.execute(JobAnalysis.__table__.delete())
    db.session.commit()
    runner = launch_app.test_cli_runner()
    result = runner.invoke(args=["poms", "analyse-pending", "--submission", str(submission.id)])
    assert result.exit_code == 0, result.output
    assert "3 job logs analysed, 0 skipped, 0 errors" in result.output
    assert sorted(a.signature or "" for a in analyses(submission.id).values()) == [
        "", "Input file could not be read", "Out of memory"]
    again = runner.invoke(args=["poms", "analyse-pending"])
    assert "0 job logs analysed" in again.output


def test_the_scheduler_analyses_jobs_whose_analysis_was_lost(launch_app, ran_submission,
                                                             redis_conn):
    """No one runs `analyse-pending`: the scheduler's periodic catch-up finds the finished
    jobs nobody analysed (their queue entry lost), once they are older than its interval,
    and a worker on the analysis queue analyses them."""
    from datetime import timedelta

    from app.models.base import utcnow
    from tests.fixtures.launching import work
    from workers.main import tick

    launch_app.config["POMS_ANALYSIS_CATCHUP_INTERVAL"] = 120
    lost = ran_submission(["oom", "ok90"])
    recent = ran_submission(["stagein"])
    db.session.execute(JobAnalysis.__table__.delete())
    db.session.execute(Job.__table__.update().where(Job.submission_id == lost.id)
                       .values(updated_at=utcnow() - timedelta(minutes=5)))
    db.session.commit()
    redis_conn.flushall()

    done = tick(launch_app, redis_conn, force=True)
    assert "analysis catch-up queued" in done
    work(launch_app)
    assert sorted(a.signature or "" for a in analyses(lost.id).values()) == ["", "Out of memory"]
    # Ended just now: its own analysis may still be in the queue, so the catch-up waits.
    assert analyses(recent.id) == {}
    # Once per interval, however many ticks (and workers) there are.
    assert "analysis catch-up queued" not in tick(launch_app, redis_conn, force=True)


def test_thousands_of_finished_jobs_are_analysed_in_chunks_each_with_its_own_timeout(
        redis_server, redis_conn):
    """A pass over a big submission hands over thousands of jobs at once: one RQ job for
    all of them would outlive any timeout and keep the other analysis workers idle."""
    from rq import Queue

    from workers.queues import ANALYSIS_CHUNK, ANALYSIS_TIMEOUT_S, enqueue_analysis

    ids = list(range(1, 2 * ANALYSIS_CHUNK + 51))
    enqueue_analysis(redis_server.url, ids)
    queued = Queue("analysis", connection=redis_conn).get_jobs()
    assert [len(job.args[0]) for job in queued] == [ANALYSIS_CHUNK, ANALYSIS_CHUNK, 50]
    assert [i for job in queued for i in job.args[0]] == ids
    assert {job.timeout for job in queued} == {ANALYSIS_TIMEOUT_S}
    assert enqueue_analysis(redis_server.url, []) == []


def test_a_tracking_commit_in_the_middle_of_an_analysis_loses_no_job(launch_app,
                                                                     ran_submission,
                                                                     monkeypatch):
    """Another process (a tracking pass) commits while the analysis transaction is
    half-way. On SQLite the analysis' first write is then refused at once ('database is
    locked'): the batch is analysed again, not lost to the catch-up. On PostgreSQL the
    commit neither waits for the analysis nor costs it a job."""
    import app.logs.jobs as jobs

    submission = ran_submission(["oom", "ok90", "stagein"])
    db.session.execute(JobAnalysis.__table__.delete())
    db.session.execute(FailureSignature.__table__.update().values(hits=0))
    db.session.commit()
    # A connection of its own, as another process has (not one of the app's pool).
    other_process = create_engine(launch_app.config["SQLALCHEMY_DATABASE_URI"],
                                  poolclass=NullPool)
    real = jobs.analyze_job_log
    interruptions = []

    def overtaken(*args, **kwargs):
        if len(interruptions) < 2:  # the first two attempts are overtaken
            with other_process.begin() as other:
                if other.dialect.name == "postgresql":
                    other.execute(text("SET LOCAL lock_timeout = '10s'"))  # fail, never hang
                other.execute(text("UPDATE submission SET tracked_at = CURRENT_TIMESTAMP"))
            interruptions.append(1)
        return real(*args, **kwargs)

    real_batch, attempts = jobs._analyse_batch, []

    def attempt(*args, **kwargs):
        attempts.append(1)
        return real_batch(*args, **kwargs)

    monkeypatch.setattr(jobs, "analyze_job_log", overtaken)
    monkeypatch.setattr(jobs, "_analyse_batch", attempt)
    ids = list(db.session.scalars(select(Job.id).where(Job.submission_id == submission.id)))
    run = analyse_jobs(ids, launch_app.config)
    other_process.dispose()
    assert run.errors == [] and sorted(run.analysed) == sorted(ids)
    assert len(interruptions) == 2
    # SQLite refused the two overtaken attempts; PostgreSQL took the batch the first time.
    assert len(attempts) == (3 if db.engine.dialect.name == "sqlite" else 1)
    db.session.expire_all()
    assert sorted(a.signature or "" for a in analyses(submission.id).values()) == [
        "", "Input file could not be read", "Out of memory"]
    assert db.session.scalar(select(FailureSignature.hits).where(
        FailureSignature.name == "Out of memory")) == 1, "a retried batch counts its hits once"
