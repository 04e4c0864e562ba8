"""In Chromium: from the efficiency histogram to a failed job's log, its matched line
highlighted (click a bar -> the job table filtered to that bin -> open the job's log)."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models.logs import JobAnalysis

pytestmark = pytest.mark.browser


def test_open_a_failed_job_from_the_efficiency_histogram(launch_app, ran_submission,
                                                        live_server_factory, page):
    submission = ran_submission(["ok90", "ok95", "oom", "ok80"])
    oom = db.session.scalar(select(JobAnalysis).where(
        JobAnalysis.submission_id == submission.id, JobAnalysis.signature == "Out of memory"))
    server = live_server_factory(launch_app)
    page.goto(f"{server.url}/login")
    page.fill("input[name=username]", "alice")
    page.click("button[type=submit]")
    page.goto(f"{server.url}/e/mu2e/submission/{submission.id}")
    # The submission page carries the summary sentence and leads to the results.
    page.locator("#summary-sentence", has_text="1 of 4 jobs failed: 1 out of memory").wait_for()
    page.locator("#results-summary").get_by_role("link", name="results").click()

    # The OOM job ran at 35% CPU efficiency: the 30-40% bar holds it alone.
    bar = page.locator("svg.efficiency-histogram rect.bar[data-bin='3']")
    assert bar.get_attribute("data-jobs") == "1"
    bar.click()
    page.wait_for_url("**/jobs?bin=3")
    rows = page.locator("#job-table tbody tr[data-job]")
    assert rows.count() == 1
    assert "Out of memory" in rows.first.inner_text()
    assert page.locator("#job-count").inner_text() == "1 job(s)"

    rows.first.locator("a.open-log").click()
    page.wait_for_url(f"**/job/{oom.job_id}*")
    matched = page.locator("#job-log .line.matched")
    assert matched.count() == 1
    assert matched.get_attribute("id") == f"line-{oom.line}"
    assert "std::bad_alloc" in matched.inner_text()
    # The job's own line is text, never markup.
    assert page.locator("#job-log script").count() == 0
    assert "<script>alert(1)</script>" in page.locator("#job-log").inner_text()
    assert "Out of memory" in page.locator("#job-signature").inner_text()
    assert matched.is_visible()
