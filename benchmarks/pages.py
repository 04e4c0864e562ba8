"""Every page for one person: p50 and p99 of each page and of the fragments it loads, on
SQLite and PostgreSQL.

What is real: the application (create_app, every blueprint, template and query a browser's
request runs), the migrated schema, the tutorial campaign as imported from its INI file, a
PostgreSQL server started here (tests/fixtures/postgres.py). Requests go through Flask's
test client in this process, one after another (no network, no concurrency: one person).
What is synthesised (Core inserts, as benchmarks/launching.py and benchmarks/results.py
make them): 1,000 active submissions on the tutorial's first stage, one running 10,000-job
submission (launching.py's page data), and one completed 10,000-job submission on the
second stage whose jobs all carry a log analysis (results.py's data). Each URL is asked
once before it is timed (a server answers many requests per start: Jinja compiles a
template once per process); then POMS_BENCH_REQUESTS (200) requests per page, each in an
app context and database session of its own, as a server runs them.

Prints `BENCH <name> <value> <unit>` lines, each suffixed _sqlite / _postgresql:
  <page>_p50_ms / <page>_p99_ms for
    dashboard_page, dashboard_live_fragment, attention_fragment, campaigns_glance_fragment
    campaign_list_page
    campaign_overview_page, campaign_overview_live_fragment
    campaign_page, campaign_graph_fragment
    campaign_stage_page (the campaign's stage, not its results), stage_submissions_fragment
    submission_page, submission_summary_fragment
  <page>_cpu_p50_ms                     the median CPU time this process spent on one
                                        request (the application's own work: less shaken
                                        than wall-clock time by other work on the machine;
                                        PostgreSQL's own CPU is not in it)
  pages_worst_p99_ms                    the worst p99 above
The results pages (results page, its summary, the job table, the stage's results) are
benchmarks/results.py's.
"""
from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from benchmarks.support import bench, each_database, percentile, sibling  # noqa: E402

REQUESTS = int(os.environ.get("POMS_BENCH_REQUESTS", "200"))


def timed(client, url: str, htmx: bool) -> tuple[list[float], list[float]]:
    """(wall-clock ms, this process's CPU ms) per request."""
    headers = {"HX-Request": "true"} if htmx else {}
    client.get(url, headers=headers)  # warm: the template compiled once per process
    times, cpu = [], []
    for _ in range(REQUESTS):
        started, started_cpu = time.perf_counter(), time.process_time()
        response = client.get(url, headers=headers)
        times.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - started_cpu) * 1000)
        assert response.status_code == 200, (url, response.status_code)
    return times, cpu


def pages(campaign_id: int, stage_id: int, running_id: int) -> list[tuple[str, str, bool]]:
    """(name, url, asked by htmx)"""
    e = "/e/mu2e"
    return [
        ("dashboard_page", f"{e}/dashboard", False),
        ("dashboard_live_fragment", f"{e}/dashboard/live", True),
        ("attention_fragment", f"{e}/attention", True),
        ("campaigns_glance_fragment", f"{e}/campaigns/at-a-glance", True),
        ("campaign_list_page", f"{e}/campaigns", False),
        ("campaign_overview_page", f"{e}/campaign/{campaign_id}/overview", False),
        ("campaign_overview_live_fragment", f"{e}/campaign/{campaign_id}/overview/live", True),
        ("campaign_page", f"{e}/campaign/{campaign_id}", False),
        ("campaign_graph_fragment", f"{e}/campaign/{campaign_id}/graph", True),
        ("campaign_stage_page", f"{e}/stage/{stage_id}", False),
        ("stage_submissions_fragment", f"{e}/stage/{stage_id}/submissions", True),
        ("submission_page", f"{e}/submission/{running_id}", False),
        ("submission_summary_fragment", f"{e}/submission/{running_id}/summary", True),
    ]


def run(kind: str, database_url: str, tmp: Path) -> None:
    import flask_migrate
    from sqlalchemy import select

    from app import create_app
    from app.extensions import db
    from app.models import Submission

    tmp.mkdir(parents=True)
    launching, results = sibling("launching"), sibling("results")
    app = create_app({
        "SQLALCHEMY_DATABASE_URI": database_url, "SECRET_KEY": "bench", "TESTING": True,
        "POMS_AUTH": "dev", "POMS_BATCH_DIR": str(tmp / "batch"),
        "POMS_LAUNCH_DIR": str(tmp / "launches"), "WTF_CSRF_ENABLED": False,
    })
    with app.app_context():
        flask_migrate.upgrade(directory=str(ROOT / "migrations"))
        campaign = launching.tutorial()
        launching.REQUESTS = 1  # only its data: the timing here is this file's
        launching.bench = lambda *args: None
        launching.page_latency(app, campaign)
        results.fill(db, campaign)
        running = db.session.scalar(select(Submission.id).where(
            Submission.jobs_total == 10000, Submission.state == "Running"))
        urls = pages(campaign.id, campaign.stages[0].id, running)
        db.session.remove()
    # Outside the set-up's app context: each request has its own, and its own session,
    # as in a server (inside one, the session's identity map would outlive requests).
    client = app.test_client()
    client.post("/login", data={"username": "alice"})
    worst = 0.0
    for name, url, htmx in urls:
        times, cpu = timed(client, url, htmx)
        bench(f"{name}_p50_ms_{kind}", statistics.median(times), "ms")
        bench(f"{name}_p99_ms_{kind}", percentile(times, 99), "ms")
        bench(f"{name}_cpu_p50_ms_{kind}", statistics.median(cpu), "ms")
        worst = max(worst, percentile(times, 99))
    bench(f"pages_worst_p99_ms_{kind}", worst, "ms")
    with app.app_context():
        db.engine.dispose()


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="poms-bench-") as tmpdir:
        return each_database("pages", Path(tmpdir), run)


if __name__ == "__main__":
    sys.exit(main())
