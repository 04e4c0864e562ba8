"""Per submission or per stage: what its analysed jobs say, in a few GROUP BY queries.

    results_for(submission_ids=..., stage_id=...) -> Results

Cheap on 10,000-job submissions: every number is an aggregate the database computes over
job_analysis (indexed by submission and stage); nothing loads the job rows.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from sqlalchemy import and_, case, distinct, func, literal_column, select

from app.extensions import db
from app.logs.summary import SignatureCount, Summary, _sentence
from app.models.logs import JobAnalysis
from app.results.cache import cache_for

# Efficiency histogram bins: [0, 10%), [10%, 20%), ... [90%, inf) (over 100% lands in the
# last bin: several threads).
BINS = 10


def _inline(number) -> literal_column:
    """A constant written into the SQL: an expression in both SELECT and GROUP BY must read
    the same there, and PostgreSQL sees two bound parameters as two expressions."""
    return literal_column(repr(number))


def efficiency_bin():
    eff = JobAnalysis.efficiency
    return case(*[(eff < _inline((i + 1) / BINS), _inline(i)) for i in range(BINS - 1)],
                else_=_inline(BINS - 1))


def bin_bounds(index: int) -> tuple[float, float | None]:
    return index / BINS, (index + 1) / BINS if index < BINS - 1 else None


@dataclass
class Results:
    summary: Summary
    analysed: int = 0
    histogram: list[int] = field(default_factory=lambda: [0] * BINS)
    no_efficiency: int = 0
    cpu_time_s: float = 0.0
    wall_time_s: float = 0.0
    memory_requested_mb: list[float] = field(default_factory=list)  # the distinct requests
    memory_used_max_mb: float | None = None
    memory_used_avg_mb: float | None = None
    memory_points: list[tuple[float, float, int]] = field(default_factory=list)
    # (requested, used bucket, jobs): a 2-D histogram for the memory plot

    def as_dict(self) -> dict:
        s = self.summary
        return {
            "jobs_analysed": self.analysed,
            "succeeded": s.succeeded,
            "failed": s.failed,
            "unknown": s.unknown,
            "unexplained": s.unexplained,
            "sentence": s.sentence,
            "by_exit_code": [{"exit_code": k, "jobs": v} for k, v in s.by_exit_code.items()],
            "by_signature": [{"signature": c.name, "category": c.category, "jobs": c.count,
                              "sites": len(c.sites)} for c in s.by_signature],
            "by_category": s.by_category,
            "cpu_efficiency": s.cpu_efficiency,
            "cpu_time_s": self.cpu_time_s,
            "wall_time_s": self.wall_time_s,
            "efficiency_histogram": [
                {"from": bin_bounds(i)[0], "to": bin_bounds(i)[1], "jobs": n}
                for i, n in enumerate(self.histogram)
            ],
            "memory_requested_mb": self.memory_requested_mb,
            "memory_used_max_mb": self.memory_used_max_mb,
            "memory_used_avg_mb": self.memory_used_avg_mb,
            "over_request": s.over_request,
        }


def _scope(submission_ids: list[int] | None, stage_id: int | None):
    if submission_ids is not None:
        return JobAnalysis.submission_id.in_(submission_ids)
    return JobAnalysis.campaign_stage_id == stage_id


def results_for(*, submission_ids: list[int] | None = None,
                stage_id: int | None = None, plots: bool = True) -> Results:
    """Everything pages show; plots=False leaves out the histogram and memory points (the
    summary fragment the submission page polls needs neither). Computed once per change of
    the scope's job analyses (app/results/cache.py)."""
    where = _scope(submission_ids, stage_id)
    rows, revisions = db.session.execute(
        select(func.count(), func.coalesce(func.sum(JobAnalysis.revision), 0)).where(where)
    ).one()
    scope = ("submissions", tuple(sorted(submission_ids))) if submission_ids is not None \
        else ("stage", stage_id)
    return cache_for(db.engine).get((*scope, plots, rows, int(revisions)),
                                    lambda: _computed(where, plots))


def _computed(where, plots: bool) -> Results:
    ja = JobAnalysis
    session = db.session
    succeeded_expr = and_(ja.exit_code == 0, ja.signal.is_(None))
    head = session.execute(select(
        func.count(),
        func.sum(case((succeeded_expr, 1), else_=0)),
        func.sum(case((ja.failed.is_(True), 1), else_=0)),
        func.sum(case((and_(ja.failed.is_(True), ja.signature.is_(None)), 1), else_=0)),
        func.sum(case((and_(ja.cpu_time_s.is_not(None), ja.wall_time_s > 0), ja.cpu_time_s),
                      else_=0.0)),
        func.sum(case((and_(ja.cpu_time_s.is_not(None), ja.wall_time_s > 0), ja.wall_time_s),
                      else_=0.0)),
        func.max(ja.peak_memory_mb), func.avg(ja.peak_memory_mb),
        func.sum(case((ja.peak_memory_mb > ja.memory_requested_mb, 1), else_=0)),
    ).where(where)).one()
    jobs, succeeded, failed, unexplained, cpu, wall, mem_max, mem_avg, over = head
    jobs = jobs or 0
    summary = Summary(jobs=jobs, succeeded=succeeded or 0, failed=failed or 0,
                      unexplained=unexplained or 0, over_request=over or 0)
    summary.unknown = jobs - summary.succeeded - summary.failed
    summary.by_exit_code = {
        code: n for code, n in session.execute(
            select(ja.exit_code, func.count()).where(where).group_by(ja.exit_code)
            .order_by(ja.exit_code.is_(None), ja.exit_code))
    }
    categories: Counter = Counter()
    category_sites: dict[str, set] = {}
    signatures = []
    for name, category, count, sites in session.execute(
        select(ja.signature, ja.category, func.count(), func.count(distinct(ja.site)))
        .where(where, ja.failed.is_(True), ja.signature.is_not(None))
        .group_by(ja.signature, ja.category)
        .order_by(func.count().desc(), ja.signature)
    ):
        counted = SignatureCount(name, category, count)
        counted.sites = Counter({f"site {i}": 1 for i in range(sites)})
        signatures.append(counted)
        categories[category] += count
    # Sites per category (the sentence says "at one site" when they were all at one).
    for category, sites, unsited in session.execute(
        select(ja.category, func.count(distinct(ja.site)),
               func.sum(case((ja.site.is_(None), 1), else_=0)))
        .where(where, ja.failed.is_(True), ja.category.is_not(None)).group_by(ja.category)
    ):
        known = {f"site {i}" for i in range(sites)}
        category_sites[category] = known | ({None} if unsited else set())
    summary.by_signature = signatures
    summary.by_category = dict(categories.most_common())
    summary.cpu_efficiency = (cpu / wall) if wall else None
    memory_failures = []
    if categories.get("memory"):
        peak, asks = session.execute(
            select(func.max(ja.peak_memory_mb), func.count(distinct(ja.memory_requested_mb)))
            .where(where, ja.failed.is_(True), ja.category == "memory")
        ).one()
        asked = session.scalar(
            select(func.max(ja.memory_requested_mb))
            .where(where, ja.failed.is_(True), ja.category == "memory")
        )
        # Several different requests: the sentence gives the peak only.
        memory_failures = [(peak, asked if asks == 1 else None)]
    summary.sentence = _sentence(summary, categories, category_sites, memory_failures)
    results = Results(summary=summary, analysed=jobs, cpu_time_s=cpu or 0.0,
                      wall_time_s=wall or 0.0, memory_used_max_mb=mem_max,
                      memory_used_avg_mb=mem_avg)
    if plots:
        for index, n in session.execute(
            select(efficiency_bin(), func.count()).where(where, ja.efficiency.is_not(None))
            .group_by(efficiency_bin())
        ):
            results.histogram[int(index)] = n
        results.no_efficiency = jobs - sum(results.histogram)
    results.memory_requested_mb = [
        r for r in session.scalars(
            select(ja.memory_requested_mb).distinct()
            .where(where, ja.memory_requested_mb.is_not(None))
            .order_by(ja.memory_requested_mb).limit(20))
    ]
    if len(results.memory_requested_mb) == 1:
        summary.memory_requested_mb = results.memory_requested_mb[0]
    summary.memory_used_max_mb = mem_max
    if plots:
        results.memory_points = memory_points(where)
    return results


MEMORY_BUCKETS = 20


def memory_points(where) -> list[tuple[float, float, int]]:
    """(requested MB, used MB rounded to a bucket, jobs): the memory plot, bounded in size
    whatever the number of jobs."""
    ja = JobAnalysis
    top = db.session.scalar(select(func.max(ja.peak_memory_mb)).where(where)) or 0.0
    if not top:
        return []
    step = max(1.0, top / MEMORY_BUCKETS)
    bucket = func.round(ja.peak_memory_mb / _inline(step))
    requested = func.coalesce(ja.memory_requested_mb, _inline(0.0))
    rows = db.session.execute(
        select(requested, bucket, func.count())
        .where(where, ja.peak_memory_mb.is_not(None))
        .group_by(requested, bucket)
        .limit(2000)
    ).all()
    return [(float(req), float(b) * step, n) for req, b, n in rows]
