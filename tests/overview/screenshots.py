"""`make screenshots`: the operator's view in Chromium, written as PNGs to docs/screenshots/.

Not part of the test run (the name is not test_*.py: pytest collects it only when named,
as the Makefile does). It sets up what a shifter meets: the tutorial campaign with a reco
whose jobs really failed, its stage held, a launch that failed, and a reco_fcl submission
whose jobs are running on the local engine while the pages are taken. Each page is checked
for that state before its picture is taken, so a picture never shows a page still loading.
"""
from __future__ import annotations

import re
import time
from pathlib import Path

import pytest

from app import states
from app.extensions import db
from app.models import Submission
from app.tracking.actions import hold_stage
from app.tracking.tracker import track_pass
from tests.fixtures.browser import DEFAULT_TIMEOUT_MS
from tests.fixtures.launching import work
from tests.overview.support import (
    ask_launch,
    launch_failed,
    reco_that_failed,
    sign_in,
    slow_tutorial,
    stage_of,
)

pytestmark = pytest.mark.screenshots

OUT = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
VIEWPORT = {"width": 1280, "height": 800}
MAX_HEIGHT = 1000  # px: the top of a long page is what the README shows
JOB_SECONDS = 600  # the running jobs outlive the pictures; the fixture removes them after


def running(app, submission_id: int, timeout: float = 60) -> Submission:
    """Track until the submission's jobs run (a real worker launched it)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        track_pass(app.config)
        db.session.expire_all()
        row = db.session.get(Submission, submission_id)
        if row.state == states.RUNNING:
            return row
        time.sleep(0.3)
    raise AssertionError(f"submission {submission_id} never ran: {row.state}")


def shoot(page, name: str, around=None) -> None:
    """The page's top (at most MAX_HEIGHT), or the band of the page holding `around`."""
    page.wait_for_load_state("networkidle")
    if around is None:
        height = min(MAX_HEIGHT, page.evaluate("document.documentElement.scrollHeight"))
        clip = {"x": 0, "y": 0, "width": VIEWPORT["width"], "height": height}
    else:
        box = around.bounding_box()
        clip = {"x": 0, "y": max(0, box["y"] - 16), "width": VIEWPORT["width"],
                "height": box["height"] + 32}
    page.screenshot(path=str(OUT / f"{name}.png"), full_page=True, clip=clip)


@pytest.mark.usefixtures("jobs_removed_after")
def test_screenshots_of_the_operators_view(app, live_server, browser, tmp_path):
    campaign = slow_tutorial(JOB_SECONDS)
    reco, _names = reco_that_failed(campaign, app, tmp_path)
    launch_failed(campaign, "ssh: connect to host pomsgpvm01.fnal.gov: Connection timed out")
    hold_stage(stage_of(campaign, "reco"), campaign.owner)
    db.session.commit()
    submission = ask_launch(campaign)
    work(app)
    running(app, submission.id)

    OUT.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(viewport=VIEWPORT)
    context.set_default_timeout(DEFAULT_TIMEOUT_MS)
    page = context.new_page()
    try:
        base = f"{live_server.url}/e/mu2e"
        sign_in(page, live_server.url, "alice")
        page.goto(f"{base}/dashboard")
        page.locator("#needs-attention li[data-kind=failed]").wait_for()
        page.locator("#needs-attention li", has_text="held").first.wait_for()
        shoot(page, "dashboard")

        page.goto(f"{base}/campaign/{campaign.id}/overview")
        page.locator(f'a.cell[data-submission="{submission.id}"][data-state="Running"]'
                     ).wait_for()
        page.locator("svg.stage-graph", has_text="Running").wait_for()
        shoot(page, "campaign-overview")

        page.goto(f"{base}/campaign/{campaign.id}")
        page.locator("svg.stage-graph", has_text="Running").wait_for()
        page.locator("svg.stage-graph", has_text="Failed").wait_for()
        shoot(page, "campaign-graph", around=page.locator("section.graph"))

        page.goto(f"{base}/campaign/{campaign.id}/editor")
        page.locator("#editor-graph").wait_for()
        shoot(page, "campaign-editor")

        page.goto(f"{base}/submission/{submission.id}")
        page.locator("#submission-state", has_text="Running").wait_for()
        page.locator("#submission-jobs-table tr[data-job]",
                     has_text=re.compile("Running")).first.wait_for()
        shoot(page, "submission-running")
    finally:
        context.close()
    db.session.expire_all()
    assert db.session.get(Submission, submission.id).state == states.RUNNING, \
        "the jobs ended before every picture was taken"
    assert reco.state == states.FAILED
