"""In Chromium: the overview follows launches without a reload, the launch hold's banner
shows on every page while on, and a bulk hold from its preview."""
from __future__ import annotations

import re
import time

import pytest

from app import states
from app.extensions import db
from app.tracking.tracker import track_pass
from tests.fixtures.launching import import_tutorial, work
from tests.overview.support import ask_launch, sign_in, slow_tutorial, stage_of

pytestmark = pytest.mark.browser


def test_the_overview_updates_live_without_a_reload(app, live_server, page):
    campaign = import_tutorial("alice", quick=False)  # demo jobs take 2 s each
    stage = stage_of(campaign, "reco_fcl")
    sign_in(page, live_server.url, "alice")
    page.goto(f"{live_server.url}/e/mu2e/campaign/{campaign.id}/overview")
    page.evaluate("window.__same_page = true")
    row = page.locator(f"#stage-row-{stage.id}")
    assert "none yet" in row.inner_text()
    first_stamp = page.locator("#campaign-overview .live-stamp time").inner_text()

    submission = ask_launch(campaign)
    cell = row.locator(f'a.cell[data-submission="{submission.id}"]')
    cell.wait_for()  # the new submission appears in its stage's row
    work(app)
    seen, deadline = [], time.monotonic() + 60
    while time.monotonic() < deadline:
        track_pass(app.config)
        db.session.expire_all()
        state = cell.get_attribute("data-state")
        if not seen or seen[-1] != state:
            seen.append(state)
        if state in (states.COMPLETED, states.LOCATED):
            break
        time.sleep(0.3)
    assert seen[-1] in (states.COMPLETED, states.LOCATED), seen
    assert "3/3" in cell.inner_text()
    # The graph's node for the stage says its state too.
    page.locator("svg.stage-graph", has_text=re.compile("Completed|Located")).wait_for()
    assert page.locator("#campaign-overview .live-stamp time").inner_text() != first_stamp
    assert page.evaluate("window.__same_page") is True  # never reloaded


def test_the_launch_hold_banner_shows_on_every_page_while_on(app, live_server, page, member):
    campaign = import_tutorial("alice")
    member("mu2e", "prod", "production")
    sign_in(page, live_server.url, "prod")
    page.goto(f"{live_server.url}/e/mu2e/dashboard")
    assert page.locator("#launch-hold-banner").count() == 0
    page.fill("input[name=reason]", "dCache downtime")
    page.on("dialog", lambda dialog: dialog.accept())  # "Hold every launch of mu2e?"
    page.click("#launch-switch")
    banner = page.locator("#launch-hold-banner")
    banner.wait_for()
    assert "held by prod" in banner.inner_text() and "dCache downtime" in banner.inner_text()
    for path in ("/e/mu2e/campaigns", f"/e/mu2e/campaign/{campaign.id}",
                 f"/e/mu2e/stage/{campaign.stages[0].id}"):
        page.goto(live_server.url + path)
        assert "dCache downtime" in page.locator("#launch-hold-banner").inner_text(), path
    page.goto(f"{live_server.url}/e/mu2e/dashboard")
    page.locator("#needs-attention li[data-kind=launches-held]").wait_for()
    page.click("#launch-switch")  # now "Release all launches"
    page.locator("text=Launches are allowed.").wait_for()
    assert page.locator("#launch-hold-banner").count() == 0


@pytest.mark.usefixtures("jobs_removed_after")  # held jobs are stopped processes
def test_a_bulk_hold_from_its_preview(app, live_server, page):
    campaign = slow_tutorial()
    rows = [ask_launch(campaign) for _ in range(2)]
    work(app)
    stage = stage_of(campaign, "reco_fcl")
    sign_in(page, live_server.url, "alice")
    page.goto(f"{live_server.url}/e/mu2e/submissions/bulk?stage={stage.id}&state=active")
    page.select_option("select[name=action]", "hold")
    page.click("#bulk-preview")
    for row in rows:
        said = page.locator(f'#bulk-table tr[data-submission="{row.id}"] td.says')
        assert "unfinished jobs held" in said.inner_text()
    page.click("#bulk-confirm")
    page.locator(f"text=Submission {rows[1].id}: hold requested by alice").wait_for()
    work(app)
    for row in rows:
        db.session.refresh(row)
        assert row.state == states.HELD
