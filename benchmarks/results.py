"""Results pages at scale: one 10,000-job submission (POMS_BENCH_JOBS), every job analysed,
on SQLite and PostgreSQL.

What is real: the application and its queries, the migrated schema, the tutorial campaign
imported from its INI file, a PostgreSQL server started here (tests/fixtures/postgres.py),
and for analyse_jobs_per_s the analysis job over real log files. What is synthesised: the
10,000 jobs and their analyses (Core inserts; one in 25 failed out of memory, the others'
efficiency and memory drawn at random with a fixed seed).

Prints `BENCH <name> <value> <unit>` lines, each suffixed _sqlite / _postgresql:
  results_page_p50_ms / _p99_ms     the submission's results page (summary, counts, plots)
  summary_fragment_p50_ms / _p99_ms the summary fragment the submission page loads
  job_table_p50_ms / _p99_ms        a page of 100 jobs: unfiltered, by signature, by
                                    efficiency bin, sorted by memory (rotating)
  stage_page_p50_ms / _p99_ms       the stage's results page
  <name>_cpu_p50_ms                 the median CPU time this process spent on one request
                                    (less shaken by other work on the machine than the
                                    wall-clock figures; PostgreSQL's own CPU is not in it)
  results_page_after_change_p50_ms / _max_ms  the results page just after one of its
                                    job analyses changed (20 times): nothing kept applies
  jobs_csv_s                        the whole job table as CSV
  analyse_jobs_per_s                the RQ analysis job over 1,000 real local-engine logs

Request timings go through Flask's test client in this process (no network), one request
after another (one person); each URL is asked once before it is timed (Jinja compiles a
template once per process), then POMS_BENCH_REQUESTS (200) times, each request in an app
context and database session of its own, as a server runs them. benchmarks/pages.py
times the other pages on the same data.
"""
from __future__ import annotations

import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from benchmarks.support import each_database  # noqa: E402

JOBS = int(os.environ.get("POMS_BENCH_JOBS", "10000"))
REQUESTS = int(os.environ.get("POMS_BENCH_REQUESTS", "200"))


def bench(name: str, value: float, unit: str) -> None:
    print(f"BENCH {name} {value:.4g} {unit}", flush=True)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))]


def timed(client, urls: list[str], name: str, kind: str) -> None:
    for url in urls:
        client.get(url)  # warm: the template compiled once per process
    times, cpu = [], []
    for n in range(REQUESTS):
        start, start_cpu = time.perf_counter(), time.process_time()
        response = client.get(urls[n % len(urls)])
        times.append((time.perf_counter() - start) * 1000)
        cpu.append((time.process_time() - start_cpu) * 1000)
        assert response.status_code == 200, (urls[n % len(urls)], response.status_code)
    bench(f"{name}_p50_ms_{kind}", statistics.median(times), "ms")
    bench(f"{name}_p99_ms_{kind}", percentile(times, 99), "ms")
    bench(f"{name}_cpu_p50_ms_{kind}", statistics.median(cpu), "ms")


def run(kind: str, database_url: str, tmp: Path) -> None:
    import flask_migrate

    from app import create_app
    from app.extensions import db
    from tests.fixtures.launching import import_tutorial

    tmp.mkdir(parents=True)
    app = create_app({
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SECRET_KEY": "bench", "TESTING": True, "POMS_AUTH": "dev",
        "POMS_BATCH_DIR": str(tmp / "batch"), "WTF_CSRF_ENABLED": False,
    })
    with app.app_context():
        flask_migrate.upgrade(directory=str(ROOT / "migrations"))
        submission_id, stage_id = fill(db, import_tutorial())
        db.session.remove()
    # Outside the set-up's app context: each request has its own, and its own session,
    # as in a server (inside one, the session's identity map would outlive requests).
    client = app.test_client()
    client.post("/login", data={"username": "alice"})
    base = f"/e/mu2e/results/submission/{submission_id}"
    timed(client, [base], "results_page", kind)
    timed(client, [f"{base}/summary"], "summary_fragment", kind)
    timed(client, [f"{base}/jobs", f"{base}/jobs?signature=Out+of+memory",
                   f"{base}/jobs?bin=3", f"{base}/jobs?sort=memory&desc=1&page=50"],
          "job_table", kind)
    timed(client, [f"/e/mu2e/results/stage/{stage_id}"], "stage_page", kind)
    after_change(app, client, base, submission_id, kind)
    start = time.perf_counter()
    response = client.get(f"{base}/jobs.csv")
    assert response.get_data(as_text=True).count("\n") == JOBS + 1
    bench(f"jobs_csv_s_{kind}", time.perf_counter() - start, "s")
    with app.app_context():
        analyse_rate(app, db, tmp, stage_id, kind)
        db.session.remove()
        db.engine.dispose()


def after_change(app, client, url: str, submission_id: int, kind: str) -> None:
    """The results page right after one of its jobs' analysis changed (a re-labelling of
    one row): what a view costs when nothing it computed before can be reused."""
    from sqlalchemy import select, update

    from app.extensions import db
    from app.models.logs import JobAnalysis

    times = []
    for n in range(20):
        with app.app_context():
            job_id = db.session.scalar(select(JobAnalysis.job_id).where(
                JobAnalysis.submission_id == submission_id).order_by(JobAnalysis.job_id)
                .limit(1).offset(n))
            db.session.execute(update(JobAnalysis).where(JobAnalysis.job_id == job_id)
                               .values(site="MIT"))
            db.session.commit()
        start = time.perf_counter()
        assert client.get(url).status_code == 200
        times.append((time.perf_counter() - start) * 1000)
    bench(f"results_page_after_change_p50_ms_{kind}", statistics.median(times), "ms")
    bench(f"results_page_after_change_max_ms_{kind}", max(times), "ms")


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="poms-bench-") as tmpdir:
        return each_database("results", Path(tmpdir), run)


def fill(db, campaign):
    """One submission of JOBS analysed jobs on the campaign's second stage (Core inserts):
    (its id, the stage's id)."""
    from app.logs.analysis import LogAnalysis, SignatureHit
    from app.logs.jobs import row_for
    from app.models import Job, Submission
    from app.models.logs import JobAnalysis
    stage = campaign.stages[1]
    submission = Submission(campaign_stage_id=stage.id, experiment_id=campaign.experiment_id,
                            state="Completed", jobs_total=JOBS)
    db.session.add(submission)
    db.session.flush()
    rng = random.Random(7)
    db.session.execute(Job.__table__.insert(), [
        {"submission_id": submission.id, "batch_job_id": f"9.{n}@local", "state": "Completed",
         "exit_code": 0, "host": "", "updated_at": submission.created} for n in range(JOBS)])
    ids = [row[0] for row in db.session.execute(
        db.select(Job.id).where(Job.submission_id == submission.id).order_by(Job.id))]
    rows = []
    for n, job_id in enumerate(ids):
        failed = n % 25 == 0
        result = LogAnalysis(
            exit_code=137 if failed else 0, wall_time_s=3600.0,
            cpu_time_s=3600.0 * (0.35 if failed else rng.uniform(0.5, 1.0)),
            peak_memory_mb=2150.0 if failed else rng.uniform(900, 1900),
            memory_requested_mb=2000.0, site=rng.choice(["FermiGrid", "UCSD", "MIT"]),
            signature=SignatureHit("Out of memory", "memory", "", 12, "std::bad_alloc")
            if failed else None)
        job = Job(id=job_id, batch_job_id=f"9.{n}@local",
                  state="Failed" if failed else "Completed")
        row = row_for(job, submission, result, True)
        rows.append({c.name: getattr(row, c.name) for c in JobAnalysis.__table__.columns
                     if c.name not in ("analysed_at", "revision")}
                    | {"analysed_at": submission.created})
    db.session.execute(JobAnalysis.__table__.insert(), rows)
    db.session.commit()
    return submission.id, stage.id


def analyse_rate(app, db, tmp: Path, stage_id: int, kind: str) -> None:
    """The analysis job over real logs in the local engine's layout."""
    from app.logs.jobs import analyse_jobs
    from app.models import CampaignStage, Job, Submission
    from tests.logs.logfiles import FAILURES, clean_log

    count = min(1000, JOBS)
    stage = db.session.get(CampaignStage, stage_id)
    submission = Submission(campaign_stage_id=stage.id,
                            experiment_id=stage.campaign.experiment_id, state="Completed")
    db.session.add(submission)
    db.session.flush()
    texts = [clean_log(), FAILURES["art-input-unreadable"][0]]
    jobs = []
    for n in range(count):
        directory = tmp / "batch" / "clusters" / "500" / str(n)
        directory.mkdir(parents=True)
        (directory / "stdout").write_text(texts[n % 2])
        job = Job(submission_id=submission.id, batch_job_id=f"500.{n}@local",
                  state="Completed" if n % 2 == 0 else "Failed",
                  exit_code=0 if n % 2 == 0 else 65)
        db.session.add(job)
        jobs.append(job)
    db.session.commit()
    start = time.perf_counter()
    run = analyse_jobs([j.id for j in jobs], app.config)
    elapsed = time.perf_counter() - start
    assert len(run.analysed) == count, run
    bench(f"analyse_jobs_per_s_{kind}", count / elapsed, "jobs/s")


if __name__ == "__main__":
    sys.exit(main())
