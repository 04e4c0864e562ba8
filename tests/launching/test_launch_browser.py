"""In Chromium: launch the tutorial's first stage from its page (through the dry-run preview)
and watch the job count rise on the submission page as tracking follows the jobs."""
from __future__ import annotations

import re
import time

import pytest

from app.extensions import db
from app.tracking.tracker import track_pass
from tests.fixtures.launching import import_tutorial, work

pytestmark = pytest.mark.browser


def test_launch_from_the_stage_page_and_see_the_job_count_rise(app, live_server, page):
    campaign = import_tutorial("alice", quick=False)  # demo jobs take 2 s each
    stage = next(s for s in campaign.stages if s.name == "reco_fcl")
    page.goto(f"{live_server.url}/login")
    page.fill("input[name=username]", "alice")
    page.click("button[type=submit]")
    page.goto(f"{live_server.url}/e/mu2e/stage/{stage.id}")
    page.locator("#stage-submissions").get_by_text("Launch…", exact=True).click()

    # The dry run first: the exact command, nothing recorded yet.
    assert "fife_launch -c examples/mu2e/reco.cfg --stage reco_fcl" in \
        page.locator("#launch-command").inner_text()
    page.click("#confirm-launch")
    page.wait_for_url("**/submission/*")
    assert "New" in page.locator("#submission-state").inner_text()

    work(app)  # a real RQ worker runs the launch: fife_launch, jobsub_submit, local jobs
    count = page.locator("#submission-jobs .jobs-count")
    seen = []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        track_pass(app.config)
        db.session.expire_all()
        text = count.inner_text()
        if not seen or seen[-1] != text:
            seen.append(text)
        if text == "3/3":
            break
        time.sleep(0.3)
    assert seen[-1] == "3/3", seen
    assert len(seen) >= 2 and seen[0] != "3/3", f"the page never showed the count rise: {seen}"
    page.locator("#submission-state", has_text=re.compile("Completed|Located")).wait_for()
    # The job table lists the three jobs, each with a log link.
    page.locator("#submission-jobs-table tr[data-job]").nth(2).wait_for()
    assert page.locator("#submission-jobs-table tr[data-job]").count() == 3
