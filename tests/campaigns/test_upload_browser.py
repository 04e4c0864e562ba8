"""The upload page in a real browser: pick a file, see the preview, upload, see the graph."""
from __future__ import annotations

import pytest

from tests.fixtures.app import EXAMPLES

pytestmark = pytest.mark.browser


def test_pick_preview_upload_and_see_the_graph(app, member, live_server, page):
    member("mu2e", "alice", "analysis")
    page.goto(f"{live_server.url}/login")
    page.fill("input[name=username]", "alice")
    page.click("button[type=submit]")
    page.goto(f"{live_server.url}/e/mu2e/campaigns/upload")

    # A broken file first: the preview lists the problems and offers no Upload button.
    broken = (EXAMPLES / "mu2e_reco_tutorial.ini").read_text().replace(
        "job_type = generate_fcl_reco_srsoleti_jobtype\n", "job_type = nowhere\n"
    )
    page.set_input_files("#ini_file", files=[
        {"name": "broken.ini", "mimeType": "text/plain", "buffer": broken.encode()}
    ])
    problems = page.locator("section.problems")
    problems.wait_for()
    assert "nowhere" in problems.inner_text()
    assert page.locator("#preview button.primary").count() == 0

    # The real file: selecting it previews it at once (no click), then Upload stores it.
    page.set_input_files("#ini_file", str(EXAMPLES / "mu2e_reco_tutorial.ini"))
    preview = page.locator("section.preview")
    preview.wait_for()
    assert "srsoleti_tutorial" in preview.inner_text()
    assert "reco_fcl" in preview.inner_text()
    page.click("#preview button.primary")
    page.wait_for_url("**/campaign/*")
    graph = page.locator("svg.stage-graph")
    graph.wait_for()
    assert graph.locator("g.node").count() == 2
    assert graph.locator("g.edge").count() == 1

    # Each stage in the graph is a link to its page.
    graph.locator("g.node", has_text="reco_fcl").locator("a").click()
    page.wait_for_url("**/stage/*")
    assert "Stage reco_fcl" in page.locator("h1").inner_text()
