"""A campaign's versions in a real browser: upload a change with a reason (its preview
shows what the next launch of each stage runs before and after), open the versions,
compare two, and roll back through the same preview."""
from __future__ import annotations

import pytest

from tests.fixtures.app import EXAMPLES

pytestmark = pytest.mark.browser

TUTORIAL = (EXAMPLES / "mu2e_reco_tutorial.ini").read_text()
V2 = TUTORIAL.replace("tutorial/reco.cfg\"]]\noutput_file_patterns = %.art",
                      "tutorial/reco_v2.cfg\"]]\noutput_file_patterns = %.art")


def _upload(page, url: str, text: str, reason: str) -> None:
    page.goto(f"{url}/e/mu2e/campaigns/upload")
    page.set_input_files("#ini_file", files=[
        {"name": "tutorial.ini", "mimeType": "text/plain", "buffer": text.encode()}])
    page.locator("section.preview").wait_for()
    page.fill("#change-reason", reason)
    page.click("#preview button.primary")
    page.wait_for_url("**/campaign/*")


def test_compare_two_versions_and_roll_back(app, member, live_server, page):
    member("mu2e", "alice", "analysis")
    page.goto(f"{live_server.url}/login")
    page.fill("input[name=username]", "alice")
    page.click("button[type=submit]")
    _upload(page, live_server.url, TUTORIAL, "first pass")

    # The change's preview: reco's next launch before and after, reco_fcl untouched.
    page.goto(f"{live_server.url}/e/mu2e/campaigns/upload")
    page.set_input_files("#ini_file", files=[
        {"name": "tutorial.ini", "mimeType": "text/plain", "buffer": V2.encode()}])
    impact = page.locator("section.impact")
    impact.wait_for()
    script_diff = impact.locator('li[data-stage="reco"] pre.script-diff').inner_text()
    assert any(line.startswith("-") and "tutorial/reco.cfg" in line
               for line in script_diff.splitlines())
    assert any(line.startswith("+") and "reco_v2.cfg" in line
               for line in script_diff.splitlines())
    assert impact.locator('li[data-stage="reco_fcl"]').count() == 0
    page.fill("#change-reason", "new reco configuration")
    page.click("#preview button.primary")
    page.wait_for_url("**/campaign/*")

    page.click("#campaign-versions")
    rows = page.locator("#versions tbody tr")
    rows.first.wait_for()
    assert rows.count() == 2
    assert "new reco configuration" in rows.nth(0).inner_text()
    assert "first pass" in rows.nth(1).inner_text()

    # Compare: the newest and the one before are picked already.
    page.click("#compare")
    page.wait_for_url("**/versions/diff?**")
    assert "version 1 to 2" in page.locator("h1").inner_text()
    change = page.locator("#version-changes tbody tr")
    assert change.count() == 1
    cells = change.first.locator("td").all_inner_texts()
    assert cells[:3] == ["job type changed", "mu2e_reco_srsoleti_jobtype", "parameters"]
    assert "tutorial/reco.cfg" in cells[3] and "reco_v2.cfg" in cells[4]

    # Roll back to version 1: the upload's preview, then Update.
    page.go_back()
    rows.first.wait_for()
    rows.nth(1).locator("a.rollback").click()
    page.wait_for_url("**/versions/1/rollback")
    assert "reco_v2.cfg" in page.locator("section.preview").inner_text()
    page.fill("#change-reason", "v2 broke reco")
    page.click("#preview button.primary")
    page.wait_for_url("**/campaign/*")
    page.click("#campaign-versions")
    rows.first.wait_for()
    assert rows.count() == 3
    assert "rolled back to version 1: v2 broke reco" in rows.nth(0).inner_text()
    assert "rollback" in rows.nth(0).inner_text()
