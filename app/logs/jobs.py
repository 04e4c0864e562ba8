"""The RQ `analysis` job: each finished job's log analysed once, kept on a JobAnalysis row.

    analyse_jobs(job_row_ids, config) -> AnalysisRun

Tracking enqueues the ids of jobs it has just seen finish (workers/jobs.py `analyse`).
For each job: already analysed -> skipped (never parsed twice); otherwise its log is
streamed through analyze_job_log with the experiment's signatures, and the JobAnalysis row
and the signature's hit count are written together, in the job's own savepoint. Jobs are
committed BATCH at a time (a commit per job costs more than parsing a typical log). A crash
mid-way leaves nothing of the unfinished batch behind, so a re-run starts those jobs
cleanly; two workers on the same job write one row (the primary key), and the loser's hit
is rolled back with it.
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from io import BytesIO

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError, OperationalError

from app.batch.engines import engine_from_config
from app.extensions import db
from app.logs.analysis import LogAnalysis, analyze_job_log
from app.logs.joblog import open_job_log, requested_memory_mb
from app.logs.store import analysis_signatures, record_hits
from app.models import Job, Submission
from app.models.base import utcnow
from app.models.logs import JobAnalysis

log = logging.getLogger(__name__)

FINISHED = ("Completed", "Failed", "Removed")


@dataclass
class AnalysisRun:
    analysed: list[int] = field(default_factory=list)
    skipped: list[int] = field(default_factory=list)  # already analysed, or not finished
    errors: list[str] = field(default_factory=list)

    def merge(self, other: AnalysisRun) -> None:
        self.analysed += other.analysed
        self.skipped += other.skipped
        self.errors += other.errors

    def __str__(self) -> str:
        return (f"{len(self.analysed)} job logs analysed, {len(self.skipped)} skipped, "
                f"{len(self.errors)} errors")


BATCH = 50  # jobs per commit (each in its own savepoint)
# SQLite refuses a write at once (no busy wait) when a transaction that began by reading
# was overtaken by another process's commit, e.g. a tracking pass's: the batch is rolled
# back and analysed again in a fresh transaction.
LOCKED_RETRIES = 4


def analyse_jobs(job_row_ids: list[int], config) -> AnalysisRun:
    run = AnalysisRun()
    fetch = _engine_fetch(config)
    signatures: dict[int, list] = {}  # per experiment, for this run
    for start in range(0, len(job_row_ids), BATCH):
        batch = job_row_ids[start:start + BATCH]
        for attempt in range(1, LOCKED_RETRIES + 1):
            try:
                run.merge(_analyse_batch(batch, config, fetch, signatures))
                break
            except OperationalError as err:
                db.session.rollback()
                signatures.clear()  # rows of the rolled-back transaction
                if "database is locked" in str(err) and attempt < LOCKED_RETRIES:
                    time.sleep(0.2 * attempt)
                    continue
                run.errors += [f"job {job_id}: {err}" for job_id in batch]
                log.exception("analysing the logs of jobs %s", batch)
                break
    return run


def _analyse_batch(batch: list[int], config, fetch, signatures) -> AnalysisRun:
    """One transaction; OperationalError (the database itself refused) leaves the caller
    to roll the whole batch back."""
    outcome = AnalysisRun()
    for job_id in batch:
        try:
            with db.session.begin_nested():
                done = analyse_job(job_id, config, fetch, signatures)
        except IntegrityError:
            done = False  # another worker analysed it meanwhile: its row stands
        except OperationalError:
            raise
        except Exception as err:  # one bad log must not stop the others
            outcome.errors.append(f"job {job_id}: {err}")
            log.exception("analysing the log of job %s", job_id)
            continue
        (outcome.analysed if done else outcome.skipped).append(job_id)
    db.session.commit()
    return outcome


def _engine_fetch(config):
    try:
        return engine_from_config(config).fetch_log
    except Exception:  # no engine configured here: only kept logs can be read
        return None


def analyse_job(job_id: int, config, fetch=None, cache: dict | None = None) -> bool:
    """Analyse one job's log in the caller's transaction (the caller commits); False when
    there was nothing to do."""
    if db.session.get(JobAnalysis, job_id) is not None:
        return False
    job = db.session.get(Job, job_id)
    if job is None or job.state not in FINISHED:
        return False
    submission = db.session.get(Submission, job.submission_id)
    experiment = submission.stage.campaign.experiment
    cache = {} if cache is None else cache
    if experiment.id not in cache:
        cache[experiment.id] = analysis_signatures(experiment)
    signatures = cache[experiment.id]
    exit_code = job.exit_code
    with open_job_log(config, job.batch_job_id, fetch) as stream:
        if stream is None:
            result, found = LogAnalysis(exit_code=exit_code), False
            if job.state == "Failed" and exit_code is not None:
                # No log, still the exit code can name a signature (137: out of memory).
                result = analyze_job_log(BytesIO(b""), exit_code, signatures)
        else:
            result, found = analyze_job_log(stream, exit_code, signatures), True
    if result.memory_requested_mb is None:
        result.memory_requested_mb = requested_memory_mb(config, job.batch_job_id)
    _measured_by_engine(result, job)
    db.session.add(row_for(job, submission, result, found))
    db.session.flush()  # a second row for the job fails here, before any hit is counted
    record_hits([result.signature.signature_id] if result.signature else [])
    return True


def _measured_by_engine(result: LogAnalysis, job: Job) -> None:
    """What the log does not say, the batch engine may have measured (the local engine
    records every job's CPU, wall time and peak memory): the log's figures come first."""
    for name in ("cpu_time_s", "wall_time_s", "peak_memory_mb"):
        if getattr(result, name) is None:
            setattr(result, name, getattr(job, name))


def analyse_lost(config, limit: int = 10_000) -> AnalysisRun:
    """The scheduler's catch-up: finished jobs still unanalysed a whole catch-up interval
    after they ended lost their queue entry (a worker killed holding it, a Redis restart)."""
    settle = max(60, int(config.get("POMS_ANALYSIS_CATCHUP_INTERVAL") or 600))
    ids = unanalysed_jobs(limit=limit, finished_before=utcnow() - timedelta(seconds=settle))
    return analyse_jobs(ids, config)


def row_for(job: Job, submission: Submission, result: LogAnalysis, found: bool) -> JobAnalysis:
    hit = result.signature
    return JobAnalysis(
        job_id=job.id, submission_id=submission.id,
        campaign_stage_id=submission.campaign_stage_id, log_found=found,
        failed=result.failed or job.state == "Failed",
        exit_code=result.exit_code, signal=result.signal,
        wall_time_s=result.wall_time_s, cpu_time_s=result.cpu_time_s,
        efficiency=result.cpu_efficiency, peak_memory_mb=result.peak_memory_mb,
        memory_requested_mb=result.memory_requested_mb,
        site=(result.site or None) and result.site[:128],
        signature=hit.name[:128] if hit else None, category=hit.category if hit else None,
        signature_id=hit.signature_id if hit else None, line=hit.line if hit else None,
        input_files=len(result.input_files), output_files=len(result.output_files),
        log_bytes=result.bytes, data=result.as_dict(),
    )


def unanalysed_jobs(submission_ids: list[int] | None = None, limit: int = 1000,
                    finished_before: datetime | None = None) -> list[int]:
    """Finished jobs with no analysis yet (a lost queue entry): for a catch-up pass.
    `finished_before` leaves out jobs that ended so recently their analysis may still be
    waiting in the queue."""
    query = (
        select(Job.id).outerjoin(JobAnalysis, JobAnalysis.job_id == Job.id)
        .where(JobAnalysis.job_id.is_(None), Job.state.in_(FINISHED))
        .order_by(Job.id).limit(limit)
    )
    if submission_ids is not None:
        query = query.where(Job.submission_id.in_(submission_ids))
    if finished_before is not None:
        query = query.where(Job.updated_at < finished_before)
    return list(db.session.scalars(query))
