"""The tracking pass: ask the batch engine about active submissions, record what it says.

Submissions are taken in batches (POMS_TRACKING_BATCH); each batch is one engine query for
all of its clusters, not one per job or per submission. For each submission the job rows are
brought up to date in bulk (only changed rows are written), its counters are recounted with
one GROUP BY, and the state machine moves it if the jobs say so. One transaction per
submission, so a failure in one leaves the others recorded.

Launches whose worker died are resolved here too: their jobs are looked for in the engine
(and in the launch output); found, the submission carries on as launched; not found once the
launch process is gone and the grace period is over, it is LaunchFailed. Never relaunched.
"""
from __future__ import annotations

import logging
import socket
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import func, or_, select

from app import states
from app.batch.base import (
    COMPLETED as ENGINE_COMPLETED,
)
from app.batch.base import (
    BatchEngine,
    BatchError,
    ForeignBatchId,
    JobStatus,
    cluster_of,
    split_job_id,
)
from app.batch.engines import engine_from_config
from app.batch.jobsub import parse_submit_output, parse_submitted_jobs
from app.extensions import db
from app.launching import launch_hold, service
from app.launching.await_approval import awaiting
from app.launching.launchers import kill_group, process_alive
from app.models import CampaignStage, Job, StageLaunchSettings, Submission
from app.models.base import utcnow
from app.processes import pid_alive

log = logging.getLogger(__name__)

JOB_FINISHED = ("Completed", "Failed", "Removed")


@dataclass
class PassResult:
    submissions: int = 0
    job_updates: int = 0
    transitions: list[tuple[int, str]] = field(default_factory=list)
    finished_jobs: list[int] = field(default_factory=list)  # job row ids that just ended
    errors: list[str] = field(default_factory=list)


def job_state(status: JobStatus) -> str:
    """A job row's state from what the engine reports (done and failed told apart)."""
    if status.state == ENGINE_COMPLETED:
        return "Failed" if status.exit_code not in (0, None) else "Completed"
    return status.state


# A submission is Completed once completion_pct% of its jobs ended; the rest (stragglers)
# still run, and are tracked until they end so their rows, counters and logs stay true.
STRAGGLING = (states.COMPLETED, states.LOCATED)


def _straggling(submission: Submission) -> bool:
    return submission.state in STRAGGLING and bool(
        submission.jobs_idle or submission.jobs_running or submission.jobs_held)


def active_submission_ids(limit: int | None = None, *,
                          launching_only: bool = False) -> list[int]:
    launching = (Submission.state == states.NEW) & Submission.launch_claimed_at.is_not(None)
    query = (
        select(Submission.id)
        .where(launching if launching_only else or_(
            Submission.state.in_((states.IDLE, states.RUNNING, states.HELD)),
            launching,
            Submission.state.in_(STRAGGLING) & (
                (Submission.jobs_idle > 0) | (Submission.jobs_running > 0)
                | (Submission.jobs_held > 0)),
        ))
        .order_by(Submission.tracked_at.is_not(None), Submission.tracked_at, Submission.id)
    )
    if limit:
        query = query.limit(limit)
    return list(db.session.scalars(query))


def track_pass(config, engine: BatchEngine | None = None, *,
               job_states: bool = True) -> PassResult:
    """Every active submission; with job_states=False only the launches not recorded as
    finished (an engine whose events tracking follows needs the full pass only now and then,
    as a safety net: app/tracking/events.py)."""
    engine = engine or engine_from_config(config)
    result = PassResult()
    ids = active_submission_ids(launching_only=not job_states)
    size = max(1, int(config.get("POMS_TRACKING_BATCH", 200)))
    for start in range(0, len(ids), size):
        track_submissions(ids[start:start + size], config, engine, result)
    return result


def track_submissions(ids: list[int], config, engine: BatchEngine | None = None,
                      result: PassResult | None = None) -> PassResult:
    engine = engine or engine_from_config(config)
    result = result or PassResult()
    submissions = list(db.session.scalars(select(Submission).where(Submission.id.in_(ids))))
    for submission in submissions:
        if submission.state == states.NEW:
            _resolve_unfinished_launch(submission, config, engine, result)
    tracked = []
    for s in submissions:
        if not (s.batch_ids and (s.state in states.ACTIVE or _straggling(s))):
            continue
        bad = [b for b in s.batch_ids if not _is_batch_id(b)]
        if bad:  # stored before ids were checked at the door: this one cannot be tracked
            _cannot_track(s, f"batch id {bad[0]!r} is not a batch id", result)
        else:
            tracked.append(s)
    if not tracked:
        return result
    try:
        statuses = engine.query([b for s in tracked for b in s.batch_ids])
    except BatchError as err:
        # One submission's id the engine refuses (or a cluster it cannot read) must not stop
        # the others: ask for each alone.
        log.warning("tracking batch: %s; asking for each submission alone", err)
        _track_one_by_one(tracked, engine, result, config)
        return result
    _ingest_all(tracked, statuses, engine, result, config)
    return result


def _is_batch_id(batch_id) -> bool:
    try:
        split_job_id(batch_id)
    except ValueError:
        return False
    return True


def _cannot_track(submission: Submission, why: str, result: PassResult) -> None:
    """Shown on the submission's page; it goes to the back of the next pass's queue."""
    db.session.rollback()
    submission.tracking_error = why[:2000]
    submission.tracked_at = utcnow()
    db.session.commit()
    result.errors.append(f"submission {submission.id}: {why}")


ENGINE_DOWN_AFTER = 3  # failures in a row, none answered: the engine is down, stop asking


def _track_one_by_one(tracked: list[Submission], engine: BatchEngine,
                      result: PassResult, config) -> None:
    failures = answered = 0
    for submission in tracked:
        try:
            statuses = engine.query(list(submission.batch_ids))
        except ForeignBatchId as err:
            # Its own problem only: the engine was not even asked.
            _cannot_track(submission, f"not a batch id of this batch system: {err}", result)
            continue
        except BatchError as err:
            _cannot_track(submission, f"the batch system refused its ids: {err}", result)
            failures += 1
            if not answered and failures >= ENGINE_DOWN_AFTER:
                result.errors.append("the batch system does not answer")
                return
            continue
        answered += 1
        _ingest_all([submission], statuses, engine, result, config)


def _ingest_all(tracked: list[Submission], statuses: list[JobStatus], engine: BatchEngine,
                result: PassResult, config) -> None:
    by_cluster: dict[str, list[JobStatus]] = defaultdict(list)
    for status in statuses:
        # "12.3@schedd" -> "12.0@schedd", without a regex per job.
        head, _at, schedd = status.job_id.partition("@")
        by_cluster[f"{head.partition('.')[0]}.0@{schedd}"].append(status)
    for submission in tracked:
        reported = [st for b in submission.batch_ids for st in by_cluster.get(b, [])]
        if not reported and _never_shown(submission, engine, config, result):
            continue
        try:
            submission.tracking_error = "; ".join(engine.notes(list(submission.batch_ids)))
            ingest(submission, reported, engine.lists_finished_jobs, result)
            db.session.commit()
        except Exception as err:  # one bad submission must not stop the others
            log.exception("tracking submission %s", submission.id)
            _cannot_track(submission, f"tracking failed: {err}", result)


def _never_shown(submission: Submission, engine: BatchEngine, config,
                 result: PassResult) -> bool:
    """An Idle submission whose clusters the engine has never shown, POMS_CLUSTER_GRACE
    seconds after its launch: the launch announced clusters that do not exist. LaunchFailed,
    naming them (True), rather than Idle 0/0 for ever. An engine that forgets finished jobs
    (jobsub) says nothing by not listing a cluster."""
    if submission.state != states.IDLE or not engine.lists_finished_jobs:
        return False
    if submission.jobs_running or submission.jobs_done or submission.jobs_failed \
            or submission.jobs_held or submission.jobs_removed:
        return False  # the engine showed its jobs once
    since = submission.launch_finished_at or submission.launch_started_at or submission.created
    grace = timedelta(seconds=int(config.get("POMS_CLUSTER_GRACE", 300)))
    if since is None or utcnow() - since < grace:
        return False
    ids = ", ".join(submission.batch_ids)
    why = (f"the batch system has no cluster {ids}: not found "
           f"{grace.total_seconds():g} s after the launch announced it")
    submission.launch_error = why
    submission.tracking_error = why
    submission.tracked_at = utcnow()
    states.transition(submission, states.LAUNCH_FAILED, why)
    db.session.commit()
    result.transitions.append((submission.id, states.LAUNCH_FAILED))
    return True


def _sql_time(value):
    # Times as ISO text: the database parses them, and a 100,000-row executemany skips
    # SQLAlchemy's per-value conversion (most of a big pass's time otherwise).
    return value.isoformat(sep=" ", timespec="microseconds") if value is not None else None


def _raw(sql: str) -> str:
    """`sql` written with ? placeholders, in this database driver's parameter style."""
    style = db.engine.dialect.paramstyle
    return sql if style == "qmark" else sql.replace("?", "%s")


def _usage(status: JobStatus) -> tuple:
    """What the engine measured the job used (None each where it does not say)."""
    return status.cpu_time_s, status.wall_time_s, status.peak_memory_mb


# Job rows looked up by id, this many at a time, when only some jobs are reported.
_ROWS_CHUNK = 500


def _job_rows(connection, submission_id: int, batch_job_ids: list[str] | None):
    """(id, batch_job_id, state, exit_code) of the submission's jobs, or of those named."""
    sql = "SELECT id, batch_job_id, state, exit_code FROM job WHERE submission_id = ?"
    if batch_job_ids is None:
        return connection.exec_driver_sql(_raw(sql), (submission_id,)).fetchall()
    rows = []
    postgresql = db.engine.dialect.name == "postgresql"
    for start in range(0, len(batch_job_ids), _ROWS_CHUNK):
        chunk = batch_job_ids[start:start + _ROWS_CHUNK]
        if postgresql:
            # One array parameter: the driver prepares the statement after a few runs, and
            # PostgreSQL's generic plan for `= ANY($2)` probes the (submission_id,
            # batch_job_id) index; for 500 `IN ($2, ...)` parameters it read a 100,000-job
            # submission's rows for each chunk (seconds each: tracking stalled minutes).
            rows += connection.exec_driver_sql(
                sql.replace("?", "%s") + " AND batch_job_id = ANY(%s)",
                (submission_id, list(chunk))).fetchall()
            continue
        rows += connection.exec_driver_sql(
            _raw(sql + f" AND batch_job_id IN ({', '.join('?' * len(chunk))})"),
            (submission_id, *chunk)).fetchall()
    return rows


def ingest(submission: Submission, reported: list[JobStatus], lists_finished: bool,
           result: PassResult, *, only_reported: bool = False) -> None:
    """Bring the submission's job rows, counters and state up to date (caller commits).

    Only jobs whose state or exit code changed are written, in one executemany each for new
    and changed rows, straight through the driver: tracking a 100,000-job submission is
    bounded by these writes. only_reported: `reported` are the jobs that changed (events),
    so only their rows are read.
    """
    now = _sql_time(utcnow())
    connection = db.session.connection()
    existing = {
        batch_job_id: (job_id, state, exit_code)
        for job_id, batch_job_id, state, exit_code in _job_rows(
            connection, submission.id, [s.job_id for s in reported] if only_reported else None)
    }
    inserts, updates, finished_updates, inserted_finished = [], [], [], []
    seen = set()
    for status in reported:
        seen.add(status.job_id)
        state = job_state(status)
        row = existing.get(status.job_id)
        if row is None:
            inserts.append((submission.id, status.job_id, state, status.exit_code, status.host,
                            _sql_time(status.started), _sql_time(status.ended), now,
                            *_usage(status)))
            if state in JOB_FINISHED:  # first seen already ended: still one to analyse
                inserted_finished.append(status.job_id)
        elif row[1] != state or row[2] != status.exit_code:
            if state in JOB_FINISHED and row[1] not in JOB_FINISHED:
                result.finished_jobs.append(row[0])
            updates.append((state, status.exit_code, status.host, _sql_time(status.started),
                            _sql_time(status.ended), now, *_usage(status), row[0]))
    if not lists_finished:
        for job_id, row in existing.items():
            if job_id not in seen and row[1] not in JOB_FINISHED:
                result.finished_jobs.append(row[0])
                finished_updates.append(("Completed", row[2], now, now, row[0]))
    if inserts:
        connection.exec_driver_sql(_raw(
            "INSERT INTO job (submission_id, batch_job_id, state, exit_code, host, started_at, "
            "ended_at, updated_at, cpu_time_s, wall_time_s, peak_memory_mb) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"), inserts)
        if inserted_finished:
            ids = {row[1]: row[0] for row in _job_rows(connection, submission.id,
                                                        inserted_finished)}
            result.finished_jobs.extend(ids[b] for b in inserted_finished)
    if updates:
        connection.exec_driver_sql(_raw(
            # What a state does not say (an event without the host, or the start, of an
            # HTCondor job: app/batch/htcondor_events.py) stays as it was recorded.
            "UPDATE job SET state = ?, exit_code = ?, host = COALESCE(NULLIF(?, ''), host), "
            "started_at = COALESCE(?, started_at), ended_at = ?, updated_at = ?, "
            "cpu_time_s = ?, wall_time_s = ?, peak_memory_mb = ? WHERE id = ?"), updates)
    if finished_updates:
        connection.exec_driver_sql(_raw(
            "UPDATE job SET state = ?, exit_code = ?, ended_at = ?, updated_at = ? "
            "WHERE id = ?"), finished_updates)
    result.job_updates += len(inserts) + len(updates) + len(finished_updates)
    result.submissions += 1
    recount(submission)
    submission.tracked_at = utcnow()
    counts = states.Counts(
        total=submission.jobs_total, idle=submission.jobs_idle,
        running=submission.jobs_running, held=submission.jobs_held,
        done=submission.jobs_done, failed=submission.jobs_failed,
        removed=submission.jobs_removed,
    )
    pct = db.session.scalar(
        select(CampaignStage.completion_pct).where(CampaignStage.id == submission.campaign_stage_id)
    )
    target = states.state_from_jobs(counts, pct if pct is not None else 100)
    if target and target != submission.state and states.allowed(submission.state, target):
        cause = (f"jobs: {counts.done} done, {counts.failed} failed, {counts.running} running, "
                 f"{counts.idle} idle, {counts.held} held, {counts.removed} removed "
                 f"of {counts.total}")
        if states.transition(submission, target, cause):
            result.transitions.append((submission.id, target))


def recount(submission: Submission) -> None:
    counts = dict(db.session.execute(
        select(Job.state, func.count()).where(Job.submission_id == submission.id)
        .group_by(Job.state)
    ).all())
    submission.jobs_total = sum(counts.values())
    for state, column in states.JOB_COUNTERS.items():
        setattr(submission, column, counts.get(state, 0))


def _resolve_unfinished_launch(submission: Submission, config, engine: BatchEngine,
                               result: PassResult) -> None:
    """A claimed launch not recorded as finished: still running, or its worker died."""
    if submission.launch_finished_at is not None or submission.launch_claimed_at is None:
        return
    if not submission.command and submission.launch_started_at is None \
            and process_alive(submission.launch_claimed_by) is False:
        # Its worker died between the claim and the script: nothing ran, try it again.
        service.give_back(submission.id, config, "its worker stopped after claiming the "
                                                 "launch, before the launch script started")
        if submission.state == states.LAUNCH_FAILED:
            result.transitions.append((submission.id, states.LAUNCH_FAILED))
        return
    if process_alive(submission.launch_claimed_by):
        return  # the work horse that claimed it is still at it (its script, or its end)
    here = submission.launch_worker in ("", socket.gethostname())
    if not here and utcnow() - submission.launch_claimed_at < timedelta(hours=4):
        return  # another machine runs it; only it can tell whether its process lives
    if here and pid_alive(submission.launch_pid):
        _stop_if_overdue(submission, config, engine, result)  # else still launching
        return
    grace = timedelta(seconds=int(config.get("POMS_LAUNCH_GRACE", 120)))
    try:
        found = engine.clusters_of_submission(submission.id)
    except BatchError as err:
        result.errors.append(str(err))
        return
    output = service.read_output(submission)
    found += [b for b in parse_submit_output(output) if b not in found]
    try:
        found, refused = service.confirmed_ids(submission, found, engine)
    except BatchError as err:
        result.errors.append(str(err))
        return
    if refused:
        submission.launch_error = "batch ids not taken: " + "; ".join(refused)
    if found:
        service.remember_batch_ids(submission, found)
        service.remember_jobs(submission, [j for j in parse_submitted_jobs(output)
                                           if cluster_of(j) in found])
        submission.launch_finished_at = utcnow()
        states.transition(submission, states.IDLE,
                          f"launch found by tracking (its worker stopped): batch id {found[0]}")
        db.session.commit()
        result.transitions.append((submission.id, states.IDLE))
        return
    process_gone = bool(submission.launch_pid) and not pid_alive(submission.launch_pid)
    if process_gone and awaiting(output, submission.id)[0]:
        service.record_launch_end(submission, None, engine)  # it ran await_approval
        result.transitions.append((submission.id, submission.state))
        return
    if process_gone or utcnow() - submission.launch_claimed_at > grace:
        submission.launch_finished_at = utcnow()
        why = ("the launch stopped before submitting any jobs (its worker stopped)"
               if submission.launch_pid else
               "its worker stopped while starting the launch script; no jobs of it were "
               f"found after {grace.total_seconds():g} s")
        submission.launch_error = why
        states.transition(submission, states.LAUNCH_FAILED, why)
        db.session.commit()
        result.transitions.append((submission.id, states.LAUNCH_FAILED))


def _stop_if_overdue(submission: Submission, config, engine: BatchEngine,
                     result: PassResult) -> None:
    """A launch script whose worker is gone runs on in a session of its own: past
    POMS_LAUNCH_TIMEOUT it is stopped here, as its worker would have (a hung script
    would otherwise keep its submission New for ever), and recorded the same way."""
    timeout = float(config.get("POMS_LAUNCH_TIMEOUT", 1800))
    started = submission.launch_started_at
    if started is None or utcnow() - started < timedelta(seconds=timeout):
        return
    kill_group(submission.launch_pid)
    deadline = time.monotonic() + 5
    while pid_alive(submission.launch_pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    if pid_alive(submission.launch_pid):
        return  # not ours to stop (another account's): the next pass tries again
    service.record_launch_end(submission, None, engine, stopped_after=timeout)
    result.transitions.append((submission.id, submission.state))


def stale_unclaimed(config) -> list[int]:
    """New submissions nobody claimed within the grace period (their queued job was lost,
    e.g. Redis restarted). Re-enqueueing them is safe: the claim runs a launch once."""
    grace = timedelta(seconds=int(config.get("POMS_LAUNCH_GRACE", 120)))
    held = select(StageLaunchSettings.campaign_stage_id).where(StageLaunchSettings.held)
    return list(db.session.scalars(
        select(Submission.id).where(
            Submission.state == states.NEW, Submission.launch_claimed_at.is_(None),
            # a launch given back (service.give_back) is tried again at once
            (Submission.created < utcnow() - grace) | (Submission.launch_attempts > 0),
            Submission.campaign_stage_id.not_in(held),  # those wait for their stage
            Submission.experiment_id.not_in(launch_hold.held_experiments()),  # a downtime
        )
    ))
