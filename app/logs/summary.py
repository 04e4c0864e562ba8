"""Per-submission (or per-stage) summaries of job log analyses, and the sentence pages show.

    summarize(analyses, memory_requested_mb=None) -> Summary

Pure: it takes LogAnalysis values (a Job row's stored analysis, later) and counts. A job's
requested memory is its own `memory_requested_mb` when the log said it, else the one given.
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from statistics import median

from app.logs.analysis import LogAnalysis

# How the sentence names each category (singular, plural).
_CATEGORY_WORDS = {
    "memory": ("out of memory", "out of memory"),
    "stage-in": ("stage-in error", "stage-in errors"),
    "stage-out": ("stage-out error", "stage-out errors"),
    "authentication": ("authentication error", "authentication errors"),
    "software": ("software error", "software errors"),
    "site": ("site problem", "site problems"),
    "timeout": ("over the time limit", "over the time limit"),
}


@dataclass
class SignatureCount:
    name: str
    category: str
    count: int = 0
    sites: Counter = field(default_factory=Counter)


@dataclass
class Summary:
    jobs: int = 0
    succeeded: int = 0
    failed: int = 0
    unknown: int = 0  # no exit code, no signal, no signature
    by_exit_code: dict[int | None, int] = field(default_factory=dict)
    by_signature: list[SignatureCount] = field(default_factory=list)  # most first
    by_category: dict[str, int] = field(default_factory=dict)
    unexplained: int = 0  # failed with no signature
    cpu_efficiency: float | None = None  # total CPU / total wall, jobs with both
    efficiency_deciles: list[int] = field(default_factory=lambda: [0] * 10)
    memory_requested_mb: float | None = None
    memory_used_max_mb: float | None = None
    memory_used_median_mb: float | None = None
    over_request: int = 0  # jobs that used more than they asked for
    sentence: str = ""


def summarize(analyses: Iterable[LogAnalysis],
              memory_requested_mb: float | None = None) -> Summary:
    summary = Summary(memory_requested_mb=memory_requested_mb)
    exit_codes: Counter = Counter()
    signatures: dict[str, SignatureCount] = {}
    categories: Counter = Counter()
    cpu = wall = 0.0
    used: list[float] = []
    requested: set[float] = set()
    memory_failures: list[tuple[float | None, float | None]] = []
    category_sites: dict[str, set] = {}
    for job in analyses:
        summary.jobs += 1
        exit_codes[job.exit_code] += 1
        if job.succeeded:
            summary.succeeded += 1
        elif job.failed:
            summary.failed += 1
            hit = job.signature
            if hit is None:
                summary.unexplained += 1
            else:
                count = signatures.setdefault(hit.name, SignatureCount(hit.name, hit.category))
                count.count += 1
                count.sites[job.site] += 1
                categories[hit.category] += 1
                category_sites.setdefault(hit.category, set()).add(job.site)
                if hit.category == "memory":
                    memory_failures.append((job.peak_memory_mb, _requested(job,
                                                                           memory_requested_mb)))
        else:
            summary.unknown += 1
        if job.cpu_time_s is not None and job.wall_time_s:
            cpu += job.cpu_time_s
            wall += job.wall_time_s
            decile = min(int(job.cpu_time_s / job.wall_time_s * 10), 9)
            summary.efficiency_deciles[max(decile, 0)] += 1
        ask = _requested(job, memory_requested_mb)
        if ask is not None:
            requested.add(ask)
        if job.peak_memory_mb is not None:
            used.append(job.peak_memory_mb)
            if ask is not None and job.peak_memory_mb > ask:
                summary.over_request += 1
    summary.by_exit_code = dict(sorted(exit_codes.items(), key=lambda kv: (kv[0] is None,
                                                                          kv[0] or 0)))
    summary.by_signature = sorted(signatures.values(), key=lambda s: (-s.count, s.name))
    summary.by_category = dict(categories.most_common())
    summary.cpu_efficiency = cpu / wall if wall else None
    if summary.memory_requested_mb is None and len(requested) == 1:
        summary.memory_requested_mb = next(iter(requested))
    if used:
        summary.memory_used_max_mb = max(used)
        summary.memory_used_median_mb = median(used)
    summary.sentence = _sentence(summary, categories, category_sites, memory_failures)
    return summary


def _requested(job: LogAnalysis, default: float | None) -> float | None:
    return job.memory_requested_mb if job.memory_requested_mb is not None else default


def _gb(mb: float) -> str:
    return f"{mb / 1024:.1f} GB"


def _sentence(summary: Summary, categories: Counter, category_sites: dict,
              memory_failures: list) -> str:
    if summary.jobs == 0:
        return "No job has finished yet."
    noun = "job" if summary.jobs == 1 else "jobs"
    if summary.failed == 0:
        text = (f"All {summary.jobs} {noun} succeeded." if summary.unknown == 0
                else f"No failures among {summary.jobs} {noun}")
        if summary.unknown:
            text += f"; {summary.unknown} without an exit code."
        return text
    parts = []
    for category, count in categories.most_common():
        singular, plural = _CATEGORY_WORDS.get(category, (f"{category} error",
                                                          f"{category} errors"))
        part = f"{count} {singular if count == 1 else plural}"
        if category == "memory":
            peaks = [p for p, _ in memory_failures if p is not None]
            asks = {r for _, r in memory_failures if r is not None}
            if peaks and len(asks) == 1:
                part += f" at {_gb(max(peaks))} of {_gb(next(iter(asks)))} requested"
            elif peaks:
                part += f" at up to {_gb(max(peaks))}"
        else:
            sites = category_sites.get(category, set())
            if None not in sites and len(sites) == 1 and count > 1:
                part += " at one site"
        parts.append(part)
    if summary.unexplained:
        parts.append(f"{summary.unexplained} with no known signature")
    text = f"{summary.failed} of {summary.jobs} {noun} failed: " + ", ".join(parts)
    if summary.unknown:
        text += f"; {summary.unknown} without an exit code"
    return text
