"""Trying a pattern on past logs: which logs it would have matched, and on which line.

    try_on_stored_logs(experiment, signature, config) -> TrialReport   the experiment's own
        failed jobs' logs, as kept (the local engine's spool, logs fetched from the other
        engines: joblog.py), newest first
    try_signature(signature, paths) -> TrialReport   log files and directories named (the
        benchmark and the `poms` tooling)

Both read at most `max_logs` logs and `max_bytes` bytes (a log is read up to its first
match), and the report says how many there were, how many were read, and what was left
out: a person sees what the answer covers. Patterns run on RE2 (signatures.py), so no
pattern can stall the scan. Nothing is saved.
"""
from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import func, or_, select

from app.extensions import db
from app.logs.joblog import open_job_log
from app.logs.scan import first_matching_line
from app.logs.signatures import Signature
from app.models import Experiment, Job, Submission
from app.models.logs import JobAnalysis

MIB = 1024 * 1024
MAX_LOGS = 200
MAX_BYTES = 256 * MIB


@dataclass(frozen=True)
class TrialMatch:
    source: str  # the job's batch id, or the file's path
    line: int
    text: str
    job_id: int | None = None
    submission_id: int | None = None


@dataclass
class TrialReport:
    considered: int = 0  # logs in scope (failed jobs of the experiment, files named)
    files_scanned: int = 0
    bytes_scanned: int = 0
    files_skipped: int = 0  # left out by the limits
    missing: int = 0  # jobs with no log kept
    max_logs: int = MAX_LOGS
    max_bytes: int = MAX_BYTES
    matches: list[TrialMatch] = field(default_factory=list)


class _Counted:
    """A binary stream that counts the bytes read from it."""

    def __init__(self, stream):
        self.stream, self.read_bytes = stream, 0

    def read(self, size: int = -1) -> bytes:
        data = self.stream.read(size)
        self.read_bytes += len(data)
        return data


# (label, opener, what the match carries): the opener gives a context manager of a binary
# stream, or of None (no log kept)
Source = tuple[str, Callable, dict]


def _scan(signature: Signature, sources: Iterable[Source], report: TrialReport) -> TrialReport:
    if signature.compiled is None:
        return report
    for label, opener, about in sources:
        if report.files_scanned >= report.max_logs or report.bytes_scanned >= report.max_bytes:
            report.files_skipped += 1
            continue
        with opener() as stream:
            if stream is None:
                report.missing += 1
                continue
            counted = _Counted(stream)
            found = first_matching_line(signature, counted)
        report.files_scanned += 1
        report.bytes_scanned += counted.read_bytes
        if found:
            report.matches.append(TrialMatch(label, found[0], found[1], **about))
    return report


def failed_jobs(experiment: Experiment):
    """The experiment's failed jobs (by the engine or by their analysis): a query of Job."""
    return (
        select(Job).join(Submission, Submission.id == Job.submission_id)
        .outerjoin(JobAnalysis, JobAnalysis.job_id == Job.id)
        .where(Submission.experiment_id == experiment.id,
               or_(Job.state == "Failed", JobAnalysis.failed.is_(True)))
    )


def try_on_stored_logs(experiment: Experiment, signature: Signature, config, *,
                       max_logs: int = MAX_LOGS, max_bytes: int = MAX_BYTES) -> TrialReport:
    """The pattern over the newest failed jobs' kept logs of this experiment only."""
    query = failed_jobs(experiment)
    report = TrialReport(max_logs=max_logs, max_bytes=max_bytes)
    report.considered = db.session.scalar(select(func.count()).select_from(query.subquery()))
    # One more than the limit: enough to say some were left out, never the whole table.
    jobs = db.session.scalars(query.order_by(Job.id.desc()).limit(max_logs + 1)).all()

    def sources() -> Iterator[Source]:
        for job in jobs:
            yield (job.batch_job_id, lambda job=job: open_job_log(config, job.batch_job_id),
                   {"job_id": job.id, "submission_id": job.submission_id})

    _scan(signature, sources(), report)
    report.files_skipped += report.considered - len(jobs)
    return report


def iter_log_files(paths: Iterable[str | os.PathLike]) -> Iterator[Path]:
    """Files named, and the files under directories named (newest first, no symlinks)."""
    for raw in paths:
        path = Path(raw)
        if path.is_symlink():
            continue
        if path.is_file():
            yield path
        elif path.is_dir():
            found = []
            for root, _dirs, files in os.walk(path, followlinks=False):
                for name in files:
                    candidate = Path(root) / name
                    if candidate.is_file() and not candidate.is_symlink():
                        found.append(candidate)
            found.sort(key=lambda p: (-p.stat().st_mtime, str(p)))
            yield from found


def try_signature(signature: Signature, paths: Iterable[str | os.PathLike], *,
                  max_files: int = 50, max_bytes: int = 512 * MIB) -> TrialReport:
    """The pattern over log files (and the files under directories) named."""
    files = list(iter_log_files(paths))
    report = TrialReport(considered=len(files), max_logs=max_files, max_bytes=max_bytes)
    return _scan(signature, ((str(p), lambda p=p: open(p, "rb"), {}) for p in files), report)
