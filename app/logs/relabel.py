"""Re-labelling past failures after the signature table changed.

    plan_relabel(experiment, config) -> RelabelPlan   what the table, as it is now, would
        name each of the newest failed jobs (their logs analysed again), and which names
        change; nothing is written
    apply_relabel(experiment, who, config, fingerprint) -> RelabelPlan   the plan again,
        written in the caller's transaction, with the hit counts moved and one audit entry

The preview and the apply are the same computation: the apply recomputes the plan and
refuses (StaleRelabel) when the table changed since the preview was shown (`fingerprint`).
At most MAX_JOBS jobs and MAX_BYTES of logs are read (newest first); the plan says how many
failed jobs there were, how many were read, and how many had no log kept. A job with no
log is named by its exit code, as the analysis names it.
"""
from __future__ import annotations

import dataclasses
import hashlib
from collections import Counter
from dataclasses import dataclass, field
from io import BytesIO

from sqlalchemy import case, func, select, update

from app.audit import audit
from app.extensions import db
from app.logs.analysis import analyze_job_log
from app.logs.joblog import open_job_log
from app.logs.scan import SignatureHit
from app.logs.store import experiment_signatures, signatures_for
from app.logs.trial import MAX_BYTES
from app.models import Experiment, Experimenter, Job, Submission
from app.models.logs import FailureSignature, JobAnalysis

MAX_JOBS = 500
NONE = "(none)"


class StaleRelabel(ValueError):
    """The table changed between the preview and the apply."""


@dataclass(frozen=True)
class Change:
    job_id: int
    before: str | None  # the signature's name as the job was labelled
    after: SignatureHit | None


@dataclass
class RelabelPlan:
    fingerprint: str
    considered: int = 0  # failed jobs of the experiment with an analysis
    examined: int = 0
    missing_logs: int = 0
    bytes_read: int = 0
    max_jobs: int = MAX_JOBS
    changes: list[Change] = field(default_factory=list)

    def summary(self) -> list[tuple[str, str, int]]:
        """(from, to, jobs), most jobs first."""
        counts = Counter((c.before or NONE, c.after.name if c.after else NONE)
                         for c in self.changes)
        return [(a, b, n) for (a, b), n in counts.most_common()]

    @property
    def left_out(self) -> int:
        return max(0, self.considered - self.examined)


def fingerprint(experiment: Experiment) -> str:
    """Changes whenever anything that decides a job's name changes in the table."""
    digest = hashlib.sha256()
    for row in experiment_signatures(experiment):
        digest.update(repr((row.id, row.position, row.name, row.pattern, row.category,
                            row.exit_codes)).encode())
    return digest.hexdigest()[:16]


def _failed(experiment: Experiment):
    return (select(JobAnalysis, Job).join(Job, Job.id == JobAnalysis.job_id)
            .join(Submission, Submission.id == JobAnalysis.submission_id)
            .where(Submission.experiment_id == experiment.id, JobAnalysis.failed.is_(True)))


def plan_relabel(experiment: Experiment, config, *, max_jobs: int = MAX_JOBS,
                 max_bytes: int = MAX_BYTES) -> RelabelPlan:
    signatures = signatures_for(experiment)
    plan = RelabelPlan(fingerprint=fingerprint(experiment), max_jobs=max_jobs)
    query = _failed(experiment)
    plan.considered = db.session.scalar(select(func.count()).select_from(query.subquery()))
    for row, job in db.session.execute(query.order_by(JobAnalysis.job_id.desc())
                                       .limit(max_jobs)):
        if plan.bytes_read >= max_bytes:
            break
        with open_job_log(config, job.batch_job_id) as stream:
            if stream is None:
                plan.missing_logs += 1
                # As the analysis job: with no log, only a failed job's exit code names it.
                named = job.state == "Failed" and job.exit_code is not None
                result = analyze_job_log(BytesIO(b""), job.exit_code if named else 0,
                                         signatures)
            else:
                result = analyze_job_log(stream, job.exit_code, signatures)
                plan.bytes_read += result.bytes
        plan.examined += 1
        hit = result.signature
        if (hit.signature_id if hit else None) != row.signature_id or (
                hit is None) != (row.signature is None):
            plan.changes.append(Change(row.job_id, row.signature, hit))
    return plan


def apply_relabel(experiment: Experiment, who: Experimenter | None, config,
                  expected_fingerprint: str) -> RelabelPlan:
    """Recompute the plan and write it; StaleRelabel if the table changed since the
    preview. The caller commits (one transaction for the whole re-labelling)."""
    if fingerprint(experiment) != expected_fingerprint:
        raise StaleRelabel("the signature table changed since this preview: preview again")
    plan = plan_relabel(experiment, config)
    moved: Counter[int] = Counter()
    for change in plan.changes:
        row = db.session.get(JobAnalysis, change.job_id)
        hit = change.after
        if row.signature_id is not None:
            moved[row.signature_id] -= 1
        if hit is not None and hit.signature_id is not None:
            moved[hit.signature_id] += 1
        row.signature = hit.name[:128] if hit else None
        row.category = hit.category if hit else None
        row.signature_id = hit.signature_id if hit else None
        row.line = hit.line if hit else None
        row.data = {**(row.data or {}), "signature": dataclasses.asdict(hit) if hit else None}
    for signature_id, delta in moved.items():
        if delta:
            hits = FailureSignature.hits + delta
            db.session.execute(update(FailureSignature)
                               .where(FailureSignature.id == signature_id)
                               .values(hits=case((hits < 0, 0), else_=hits)))
    if plan.changes:
        before = Counter(c.before or NONE for c in plan.changes)
        after = Counter(c.after.name if c.after else NONE for c in plan.changes)
        audit(experiment, who, "past failures re-labelled", f"{len(plan.changes)} failed jobs",
              {"signatures": dict(before.most_common())},
              {"signatures": dict(after.most_common()),
               "jobs": [c.job_id for c in plan.changes]})
    db.session.flush()
    return plan
