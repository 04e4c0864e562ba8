"""In Chromium, a shifter's round: the dashboard lists a failed submission first, its page
leads to a failed job's log (why it failed, found by searching the log), back on the
submission "Recover now" launches its recovery on exactly the files left over, and the
recovery's page follows it to the end by itself; every step by a click, never a reload."""
from __future__ import annotations

import re
import time

import pytest

from app.extensions import db
from app.tracking.tracker import track_pass
from tests.chaining.support import stage
from tests.fixtures.launching import import_tutorial, work
from tests.overview.support import reco_that_failed, sign_in

pytestmark = pytest.mark.browser


def test_a_failed_submission_first_then_recovered_and_followed_to_its_end(app, live_server,
                                                                         page, tmp_path):
    tutorial = import_tutorial("alice")
    stage(tutorial, "reco").job_type.recoveries = [
        ["proj_status", [["-Osubmit.dataset=", "%(dataset)s"]]]]
    db.session.commit()
    reco, names = reco_that_failed(tutorial, app, tmp_path)

    sign_in(page, live_server.url, "alice")
    page.wait_for_url("**/dashboard")
    first = page.locator("#needs-attention ul.attention li").first
    first.wait_for()
    assert first.get_attribute("data-kind") == "failed"
    assert f"submission {reco.id} failed" in first.inner_text()
    first.get_by_role("link", name=f"submission {reco.id}").click()
    page.wait_for_url(f"**/submission/{reco.id}")

    # Why did it fail? A failed job's log, from the submission's jobs, in the log viewer.
    failed_job = page.locator("#submission-jobs-table tr[data-job]", has_text="Failed").first
    failed_job.get_by_role("link", name="log").click()
    page.get_by_role("link", name="Open it in the log viewer").click()
    page.evaluate("window.__log_open = true")
    box = page.get_by_role("searchbox", name="Find in this log")
    box.fill("Unable to open")
    box.press("Enter")
    page.locator("#log-search-status", has_text="1 of 1").wait_for()
    current = page.locator("#job-log .line.current")
    assert "Unable to open input file root://fndca1.fnal.gov" in current.inner_text()
    assert page.locator("#job-exit").inner_text().startswith("65")
    assert page.evaluate("window.__log_open") is True  # found in place, not reloaded

    # Back to the submission, to recover it.
    page.locator(".crumbs").get_by_role("link", name=f"Submission {reco.id}").click()
    page.wait_for_url(f"**/submission/{reco.id}")
    recovery = page.locator("#recovery")
    assert all(n in recovery.locator("#recovery-files").inner_text() for n in names)
    recovery.get_by_role("button", name="Recover now").click()
    page.wait_for_url(re.compile(rf".*/submission/(?!{reco.id}\b)\d+$"))
    assert f"poms_recover_{reco.id}_1" in page.content()

    work(app)  # a real worker launches it; its jobs run on the local engine
    state = page.locator("#submission-state")
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        track_pass(app.config)
        db.session.expire_all()
        if re.search("Completed|Located|Failed", state.inner_text()):
            break
        time.sleep(0.3)
    assert re.search("Completed|Located|Failed", state.inner_text()), state.inner_text()
    # Back on the dashboard, the failure has its recovery: it needs no one any more.
    page.get_by_role("link", name="Dashboard").first.click()
    page.locator("#needs-attention .live-stamp").wait_for()  # the list itself, loaded
    listed = page.locator("#needs-attention").inner_text()
    assert f"submission {reco.id} failed" not in listed, listed
