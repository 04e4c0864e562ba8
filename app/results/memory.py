"""The memory a recovery of memory failures asks for, from the job type's policy.

    memory_recovery_overrides(submission) -> (overrides, MemoryRaise | None)

For the chaining engine (app/chaining/chain.py launch_recovery): when the submission being
recovered had memory failures (analysed jobs whose signature's category is `memory`) and its
job type has a memory policy (factor, cap: JobTypeMemoryPolicy), the recovery's overrides
get `-Osubmit.memory=<N>MB` (fife_launch's [submit] memory, jobsub's --memory), N from
app/logs/recovery.py raised_memory_request. No policy, no memory failures, or already at
the cap: no override, and the MemoryRaise (or None) says why.
"""
from __future__ import annotations

from sqlalchemy import func, select

from app.extensions import db
from app.logs.joblog import memory_mb
from app.logs.recovery import MemoryRaise, raised_memory_request
from app.models.logs import JobAnalysis, JobTypeMemoryPolicy

MEMORY_OVERRIDE = "-Osubmit.memory="
DEFAULT_REQUEST_MB = 2000.0  # jobsub's default request when nothing says otherwise


def policy_for(job_type_id: int | None) -> JobTypeMemoryPolicy | None:
    return db.session.get(JobTypeMemoryPolicy, job_type_id) if job_type_id else None


def set_policy(job_type_id: int, factor: float, cap_mb: int) -> JobTypeMemoryPolicy:
    """Create or change a job type's policy (caller commits); ValueError when unusable."""
    if not factor > 1 or factor > 10:
        raise ValueError(f"the memory factor must be above 1 and at most 10, not {factor}")
    if not 0 < cap_mb <= 10_000_000:
        raise ValueError(f"the memory cap must be a positive number of MB, not {cap_mb}")
    policy = policy_for(job_type_id)
    if policy is None:
        policy = JobTypeMemoryPolicy(job_type_id=job_type_id)
        db.session.add(policy)
    policy.factor, policy.cap_mb = float(factor), int(cap_mb)
    db.session.flush()
    return policy


def memory_failures(submission_id: int) -> tuple[int, float | None, float | None]:
    """(jobs failed for memory, largest peak among them, largest request among them)."""
    count, peak, asked = db.session.execute(
        select(func.count(), func.max(JobAnalysis.peak_memory_mb),
               func.max(JobAnalysis.memory_requested_mb))
        .where(JobAnalysis.submission_id == submission_id, JobAnalysis.failed.is_(True),
               JobAnalysis.category == "memory")
    ).one()
    return count or 0, peak, asked


def _requested_at_launch(submission) -> float | None:
    """The memory the submission asked for: its overrides, else its launch command."""
    for key, value in reversed(list(submission.param_overrides or [])):
        if str(key).strip() == MEMORY_OVERRIDE.strip():
            return memory_mb(str(value))
    return None


def memory_recovery_overrides(submission) -> tuple[list[list[str]], MemoryRaise | None]:
    count, peak, asked = memory_failures(submission.id)
    if not count:
        return [], None
    job_type_id = (submission.stage.job_type_id if submission.stage is not None else None)
    policy = policy_for(job_type_id)
    if policy is None:
        return [], None
    requested = _requested_at_launch(submission) or asked or DEFAULT_REQUEST_MB
    raised = raised_memory_request(requested, policy.factor, policy.cap_mb, peak)
    if not raised.raised:
        return [], raised
    return [[MEMORY_OVERRIDE, f"{raised.request_mb}MB"]], raised
