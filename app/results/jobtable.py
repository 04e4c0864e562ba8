"""A submission's job table: filter by state, exit code, signature or efficiency bin; sort;
pages of 100. One bounded query per page (LIMIT/OFFSET), one COUNT for the pager."""
from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm import defer

from app import states
from app.extensions import db
from app.models import Job
from app.models.logs import JobAnalysis
from app.results.aggregate import BINS, efficiency_bin

PAGE_SIZE = 100
SORTS = {
    "job": Job.id,
    "state": Job.state,
    "exit": Job.exit_code,
    "signature": JobAnalysis.signature,
    "efficiency": JobAnalysis.efficiency,
    "memory": JobAnalysis.peak_memory_mb,
    "wall": JobAnalysis.wall_time_s,
    "ended": Job.ended_at,
}
NONE = "none"  # the filter value meaning "no exit code" / "no signature"


@dataclass
class JobFilter:
    state: str = ""
    exit_code: str = ""  # a number, NONE, or "" (any)
    signature: str = ""  # a name, NONE, or ""
    bin: int | None = None  # efficiency bin 0..BINS-1
    sort: str = "job"
    desc: bool = False
    page: int = 1

    @classmethod
    def from_args(cls, args) -> JobFilter:
        state = args.get("state", "")
        exit_code = args.get("exit", "").strip()
        if exit_code and exit_code != NONE and not exit_code.lstrip("-").isdigit():
            exit_code = ""
        try:
            page = max(1, int(args.get("page", 1)))
        except ValueError:
            page = 1
        try:
            bin_ = int(args.get("bin", ""))
            bin_ = bin_ if 0 <= bin_ < BINS else None
        except ValueError:
            bin_ = None
        sort = args.get("sort", "job")
        return cls(state=state if state in states.JOB_STATES else "", exit_code=exit_code,
                   signature=args.get("signature", "")[:128], bin=bin_,
                   sort=sort if sort in SORTS else "job", desc=args.get("desc") == "1",
                   page=page)

    def args(self, **changes) -> dict:
        """Query arguments of this filter (with changes), for links and exports."""
        values = {"state": self.state, "exit": self.exit_code, "signature": self.signature,
                  "bin": "" if self.bin is None else str(self.bin), "sort": self.sort,
                  "desc": "1" if self.desc else "", "page": str(self.page)}
        values.update({k: ("" if v is None else str(v)) for k, v in changes.items()})
        return {k: v for k, v in values.items() if v and not (k == "sort" and v == "job")
                and not (k == "page" and v == "1")}


@dataclass
class JobPage:
    rows: list = field(default_factory=list)  # (Job, JobAnalysis | None)
    total: int = 0
    page: int = 1
    pages: int = 1


def _filtered(query, submission_id: int, flt: JobFilter):
    query = query.where(Job.submission_id == submission_id)
    if flt.state:
        query = query.where(Job.state == flt.state)
    exit_code = func.coalesce(JobAnalysis.exit_code, Job.exit_code)
    if flt.exit_code == NONE:
        query = query.where(exit_code.is_(None))
    elif flt.exit_code:
        query = query.where(exit_code == int(flt.exit_code))
    if flt.signature == NONE:
        query = query.where(JobAnalysis.signature.is_(None))
    elif flt.signature:
        query = query.where(JobAnalysis.signature == flt.signature)
    if flt.bin is not None:
        query = query.where(JobAnalysis.efficiency.is_not(None), efficiency_bin() == flt.bin)
    return query


def _rows():
    # The whole analysis (`data`) is for the job's own page, not for tables.
    return (select(Job, JobAnalysis).outerjoin(JobAnalysis, JobAnalysis.job_id == Job.id)
            .options(defer(JobAnalysis.data)))


def job_page(submission_id: int, flt: JobFilter, page_size: int = PAGE_SIZE) -> JobPage:
    base = _rows()
    query = _filtered(base, submission_id, flt)
    counted = select(func.count()).select_from(Job)
    if flt.exit_code or flt.signature or flt.bin is not None:
        # Only a filter on the analysis needs the join (a job has at most one analysis):
        # without it the count is read from the job index alone.
        counted = counted.outerjoin(JobAnalysis, JobAnalysis.job_id == Job.id)
    total = db.session.scalar(_filtered(counted, submission_id, flt))
    pages = max(1, -(-total // page_size))
    page = min(flt.page, pages)
    column = SORTS[flt.sort]
    order = [column.is_(None), column.desc() if flt.desc else column.asc(), Job.id]
    rows = db.session.execute(
        query.order_by(*order).limit(page_size).offset((page - 1) * page_size)
    ).all()
    return JobPage(rows=[(job, analysis) for job, analysis in rows], total=total, page=page,
                   pages=pages)


def iter_jobs(submission_id: int, flt: JobFilter, batch: int = 1000):
    """Every job the filter selects (for exports), a batch at a time, in job order."""
    last = 0
    base = _rows()
    while True:
        rows = db.session.execute(
            _filtered(base, submission_id, flt).where(Job.id > last).order_by(Job.id)
            .limit(batch)
        ).all()
        if not rows:
            return
        yield from rows
        last = rows[-1][0].id


def job_record(job: Job, analysis: JobAnalysis | None) -> dict:
    """One job as exports write it."""
    a = analysis
    return {
        "job_id": job.batch_job_id,
        "state": job.state,
        "exit_code": job.exit_code,
        "signal": a.signal if a else None,
        "host": job.host,
        "started": job.started_at.isoformat() if job.started_at else None,
        "ended": job.ended_at.isoformat() if job.ended_at else None,
        "wall_time_s": a.wall_time_s if a else None,
        "cpu_time_s": a.cpu_time_s if a else None,
        "efficiency": round(a.efficiency, 4) if a and a.efficiency is not None else None,
        "peak_memory_mb": round(a.peak_memory_mb, 1) if a and a.peak_memory_mb else None,
        "memory_requested_mb": a.memory_requested_mb if a else None,
        "site": a.site if a else None,
        "signature": a.signature if a else None,
        "category": a.category if a else None,
        "line": a.line if a else None,
        "input_files": a.input_files if a else None,
        "output_files": a.output_files if a else None,
    }


JOB_FIELDS = list(job_record(Job(batch_job_id="", state=""), None))
