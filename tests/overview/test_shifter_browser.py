"""In Chromium, a shifter's round: the dashboard lists a failed submission first, one click
reaches its recovery, "Recover now" launches it on exactly the files left over, and its
page follows it to the end by itself."""
from __future__ import annotations

import re
import time

import pytest

from app import states
from app.catalog.embedded import EmbeddedCatalog
from app.chaining.hooks import after_tracking
from app.extensions import db
from app.launching.inputs import prepare_inputs
from app.tracking.tracker import track_pass
from tests.chaining.support import fcl_done, launched_from, report, stage
from tests.fixtures.launching import import_tutorial, work

pytestmark = pytest.mark.browser


def reco_that_failed(tutorial, app, tmp_path):
    """The tutorial's reco, launched by chaining on reco_fcl's outputs, whose every job
    failed: Failed, its input files all left to recover."""
    fcl, names = fcl_done(tutorial, app, n=2)
    after_tracking(app.config)
    (reco,) = launched_from(fcl)
    prepare_inputs(reco, reco.dataset, None, tmp_path / "r", app.config)
    states.transition(reco, states.IDLE, "launched")
    db.session.commit()
    report(EmbeddedCatalog(db.session, "mu2e"), reco, "1.0@local", failed=names)
    states.transition(reco, states.FAILED, "jobs: all failed")
    db.session.commit()
    return reco, names


def test_a_failed_submission_first_then_recovered_and_followed_to_its_end(app, live_server,
                                                                         page, tmp_path):
    tutorial = import_tutorial("alice")
    stage(tutorial, "reco").job_type.recoveries = [
        ["proj_status", [["-Osubmit.dataset=", "%(dataset)s"]]]]
    db.session.commit()
    reco, names = reco_that_failed(tutorial, app, tmp_path)

    page.goto(f"{live_server.url}/login")
    page.fill("input[name=username]", "alice")
    page.click("button[type=submit]")
    page.wait_for_url("**/dashboard")
    first = page.locator("#needs-attention ul.attention li").first
    first.wait_for()
    assert first.get_attribute("data-kind") == "failed"
    assert f"submission {reco.id} failed" in first.inner_text()
    first.get_by_text("Recover…").click()
    page.wait_for_url(f"**/submission/{reco.id}*")
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
    page.goto(f"{live_server.url}/e/mu2e/dashboard")
    page.locator("#needs-attention .live-stamp").wait_for()  # the list itself, loaded
    listed = page.locator("#needs-attention").inner_text()
    assert f"submission {reco.id} failed" not in listed, listed
