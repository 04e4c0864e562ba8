"""The signature table in a real browser: edit in place (a bad regex first), add, reorder,
delete, and try a pattern on past logs."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models.logs import FailureSignature
from tests.logs.logfiles import FAILURES
from tests.logs.stored import stored_jobs

pytestmark = pytest.mark.browser


def stored(name: str) -> FailureSignature | None:
    db.session.expire_all()
    return db.session.scalar(select(FailureSignature).where(FailureSignature.name == name))


def test_edit_add_move_delete_and_try_in_the_browser(app, member, live_server, page,
                                                     tmp_path):
    [job] = stored_jobs(app, tmp_path / "joblogs", [(FAILURES["cvmfs"][0], 1)])
    member("mu2e", "pat", "production")
    page.goto(f"{live_server.url}/login")
    page.fill("input[name=username]", "pat")
    page.click("button[type=submit]")
    page.goto(f"{live_server.url}/e/mu2e/signatures")

    row = page.locator("tr", has_text="Disk full")
    row.get_by_role("button", name="edit Disk full").click()
    pattern = page.get_by_label("regular expression", exact=True)
    pattern.fill("(No space")
    page.get_by_role("button", name="Save").click()
    error = page.locator("tr.editing p.error")
    error.wait_for()
    assert "not a regular expression" in error.inner_text()
    assert stored("Disk full").pattern.startswith("No space left on device")

    pattern.fill("No space left on device|Quota exceeded")
    page.get_by_role("button", name="Save").click()
    page.locator("tr:not(.editing)", has_text="Quota exceeded").wait_for()
    assert stored("Disk full").pattern == "No space left on device|Quota exceeded"
    # The change brings up the offer to re-label past failures, previewed first.
    page.locator("#relabel", has_text="The table changed").wait_for()
    page.get_by_role("button", name="Preview re-labelling past failures").click()
    page.locator("#relabel-count", has_text="No failed job would be named differently"
                 ).wait_for()

    add = page.locator("form.signature-add")
    add.locator("input[name=name]").fill("Geometry missing")
    add.locator("input[name=pattern]").fill("cannot open geom")
    add.locator("select[name=category]").select_option("software")
    add.get_by_role("button", name="Add").click()
    page.get_by_text("Added Geometry missing.").wait_for()
    page.get_by_role("button", name="move Geometry missing up").click()
    page.wait_for_function(
        "() => [...document.querySelectorAll('table.signatures tbody tr')].slice(-1)[0]"
        ".textContent.includes('art exception (other)')")
    assert stored("Geometry missing").position < stored("art exception (other)").position

    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="delete Geometry missing").click()
    page.locator("tr", has_text="Geometry missing").wait_for(state="detached")
    assert stored("Geometry missing") is None

    page.fill("form[hx-target='#trial'] input[name=pattern]", "Transport endpoint")
    page.get_by_role("button", name="Try").click()
    result = page.locator("#trial table.trial")
    result.wait_for()
    assert job.batch_job_id in result.inner_text()
