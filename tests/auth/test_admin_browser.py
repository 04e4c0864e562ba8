"""The members page in a real browser: htmx swaps the table in place, with the CSRF token
base.html hands to every htmx request. (Credentials are uploaded files now: their page is
tests/uploads/test_browser.py.)"""
from __future__ import annotations

import pytest

from app.auth import members
from app.extensions import db

pytestmark = pytest.mark.browser


def sign_in(page, url: str, username: str) -> None:
    page.goto(f"{url}/login")
    page.fill("input[name=username]", username)
    page.click("button[type=submit]")
    page.wait_for_url("**/dashboard")  # the front page


def settled(page) -> None:
    """htmx has swapped and settled the last answer, so the new controls are live (a change
    made to a control still being swapped in is lost, and the test would wait forever)."""
    page.wait_for_function(
        "() => !document.querySelector('.htmx-request, .htmx-swapping, .htmx-settling')"
    )


def test_members_inline_add_change_remove(app, member, live_server, page):
    member("mu2e", "su", "superuser")
    member("mu2e", "alice", "production")
    sign_in(page, live_server.url, "su")
    page.click("text=Members")
    page.wait_for_url("**/e/mu2e/members")

    page.fill("input[name=principal]", "bob@FNAL.GOV")
    page.select_option("#members form.inline-form select[name=role]", "production-shifter")
    page.click("text=Add member")
    page.locator("#members .flash.ok", has_text="Added bob as production-shifter.").wait_for()
    assert page.url.endswith("/e/mu2e/members")  # no page load: the table was swapped
    settled(page)

    # Choosing a role changes nothing until Save.
    page.select_option("select[aria-label='role of alice']", "analysis")
    page.wait_for_timeout(300)
    assert page.locator("#members .flash.ok", has_text="alice is now").count() == 0
    assert members.membership(members.find_experiment("mu2e"),
                              members.find_experimenter("alice")).role == "production"
    db.session.expire_all()  # the live server changes it next
    page.click("button[aria-label='save the role of alice']")
    page.locator("#members .flash.ok", has_text="alice is now analysis.").wait_for()
    settled(page)

    page.on("dialog", lambda dialog: dialog.accept())  # hx-confirm
    page.locator("#members tr", has_text="bob").locator("button", has_text="Remove").click()
    page.locator("#members .flash.ok", has_text="Removed bob from mu2e.").wait_for()
    assert page.locator("#members tr", has_text="bob").count() == 0

    page.click("text=Audit log")
    page.wait_for_url("**/e/mu2e/audit")
    page.select_option("select[name=action]", "role changed")
    page.locator("#audit-table", has_text="1 entry").wait_for()
    assert "alice in mu2e" in page.locator("#audit-table").inner_text()
    assert members.membership(members.find_experiment("mu2e"),
                              members.find_experimenter("alice")).role == "analysis"
