"""In Chromium, a shifter's round: the dashboard lists a failed submission first, its page
leads to a failed job's log (why it failed, found by searching the log), back on the
submission "Recover now" launches its recovery on exactly the files left over, and the
recovery's page follows it to the end by itself; every step by a click, never a reload."""
from __future__ import annotations

import re
import time

import pytest

from app import states
from app.batch.base import JobRequest
from app.batch.local import LocalEngine
from app.catalog.embedded import EmbeddedCatalog
from app.chaining.hooks import after_tracking
from app.extensions import db
from app.launching.inputs import prepare_inputs
from app.models import Submission
from app.tracking.tracker import track_pass, track_submissions
from tests.chaining.support import fcl_done, launched_from, report, stage
from tests.fixtures.launching import import_tutorial, wait_for, work

pytestmark = pytest.mark.browser

# What a reco job says when dCache cannot give it its input: art's FileOpenError, exit 65.
FAILING_JOB = r"""#!/bin/bash
for i in $(seq 1 200); do echo "Begin processing the ${i}th record. run: 1210 event: $i"; done
echo "---- FileOpenError BEGIN"
echo "  Unable to open input file root://fndca1.fnal.gov/pnfs/mu2e/in.$PROCESS.art"
echo "---- FileOpenError END"
echo "Art has completed and will exit with status 65."
exit 65
"""


def reco_that_failed(tutorial, app, tmp_path):
    """The tutorial's reco, launched by chaining on reco_fcl's outputs, whose every job
    really ran on the local engine and failed: Failed, its input files all left to
    recover, each job's log kept."""
    fcl, names = fcl_done(tutorial, app, n=2)
    after_tracking(app.config)
    (reco,) = launched_from(fcl)
    prepare_inputs(reco, reco.dataset, None, tmp_path / "r", app.config)
    script = tmp_path / "reco_job.sh"
    script.write_text(FAILING_JOB)
    script.chmod(0o755)
    batch_id = LocalEngine(app.config["POMS_BATCH_DIR"]).submit(JobRequest(
        executable=str(script), count=2, submission_id=reco.id))
    reco.batch_id, reco.batch_ids = batch_id, [batch_id]
    states.transition(reco, states.IDLE, f"launched: batch id {batch_id}")
    db.session.commit()
    report(EmbeddedCatalog(db.session, "mu2e"), reco, batch_id, failed=names)

    def ended():
        track_submissions([reco.id], app.config)
        db.session.expire_all()
        return db.session.get(Submission, reco.id).state == states.FAILED

    wait_for(ended, timeout=60, what="reco's jobs to fail")
    return db.session.get(Submission, reco.id), names


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
