"""In Chromium at a phone's width (390 px): the main pages fit, with no sideways scrolling,
and none of them has a script error or does something its Content-Security-Policy refuses
(what the policy refuses silently does not work: an inline handler, an evaluated trigger);
and an inline edit takes Escape to cancel and gives keyboard focus back where it was."""
from __future__ import annotations

import pytest

from app.extensions import db
from app.launching import external
from tests.fixtures.launching import import_tutorial

pytestmark = pytest.mark.browser

WIDTH = 390


@pytest.fixture
def app(launch_app):
    """With Redis, as served: the live pages hold their event streams (refused, each would
    be a console error, as the browser reports it)."""
    return launch_app


def sign_in(page, live_server, user="alice"):
    page.goto(f"{live_server.url}/login")
    page.fill("input[name=username]", user)
    page.click("button[type=submit]")


# The elements that stick out of the window (outside any box that scrolls by itself).
STICKING_OUT = """
() => {
  const out = [];
  for (const el of document.querySelectorAll("body *")) {
    const r = el.getBoundingClientRect();
    if (r.right <= window.innerWidth + 1 || r.width === 0) continue;
    let p = el.parentElement, scrolls = false;
    while (p && !scrolls) {
      scrolls = ["auto", "scroll", "hidden"].includes(getComputedStyle(p).overflowX);
      p = p.parentElement;
    }
    if (!scrolls) out.push(`${el.tagName}.${el.className}#${el.id}`);
  }
  return out.slice(0, 5);
}
"""


def overflow(page) -> int:
    """How many pixels the page is wider than the window (0: no sideways scrolling)."""
    return page.evaluate("document.documentElement.scrollWidth - window.innerWidth")


def script_errors(page) -> list[str]:
    """What goes wrong in the page's scripts from now on, as Chromium reports it: uncaught
    errors, and the console's errors (the Content-Security-Policy's refusals among them)."""
    errors: list[str] = []
    page.on("pageerror", lambda err: errors.append(f"{page.url}: {err}"))
    page.on("console", lambda message: errors.append(f"{page.url}: {message.text}")
            if message.type == "error" else None)
    return errors


def test_the_main_pages_fit_390_px_with_no_script_errors(app, live_server, browser, member):
    campaign = import_tutorial("alice")
    member("mu2e", "alice", "superuser")
    stage = campaign.stages[1]
    submission = external.register(stage, campaign.owner)
    db.session.commit()
    context = browser.new_context(viewport={"width": WIDTH, "height": 844})
    page = context.new_page()
    try:
        errors = script_errors(page)
        sign_in(page, live_server)
        pages = [
            "/e/mu2e/dashboard", "/e/mu2e/campaigns", "/e/mu2e/campaigns/upload",
            f"/e/mu2e/campaign/{campaign.id}", f"/e/mu2e/campaign/{campaign.id}/editor",
            f"/e/mu2e/stage/{stage.id}", f"/e/mu2e/submission/{submission.id}",
            "/e/mu2e/job_types", f"/e/mu2e/job_type/{stage.job_type.id}",
            "/e/mu2e/login_setups", "/e/mu2e/uploads", "/e/mu2e/signatures",
            "/e/mu2e/members", "/e/mu2e/audit", "/tokens", "/e/mu2e/results/calendar",
            f"/e/mu2e/results/stage/{stage.id}",
            f"/e/mu2e/results/submission/{submission.id}", "/ucondb/mu2e_ucondb_prod/app/UI/index",
        ]
        wide = {}
        for path in pages:
            response = page.goto(f"{live_server.url}{path}")
            assert response.ok, f"{path}: {response.status}"
            page.wait_for_load_state("networkidle")
            if overflow(page) > 0:
                wide[path] = (overflow(page), page.evaluate(STICKING_OUT))
        assert wide == {}, f"wider than {WIDTH} px: {wide}"
        assert errors == [], "\n".join(errors)
    finally:
        context.close()


def focused(page) -> str:
    return page.evaluate("document.activeElement.getAttribute('aria-label') || ''")


def test_escape_cancels_an_inline_edit_and_focus_comes_back(app, live_server, page):
    campaign = import_tutorial("alice")
    stage = campaign.stages[1]
    sign_in(page, live_server)
    page.goto(f"{live_server.url}/e/mu2e/stage/{stage.id}")
    field = page.locator("#field-completion_pct")
    field.get_by_role("button", name="edit completion_pct").click()
    box = field.locator("input[name=value]")
    box.wait_for()
    assert focused(page) == "completion_pct"  # the form took the focus
    box.fill("80")
    box.press("Escape")
    field.get_by_role("button", name="edit completion_pct").wait_for()
    assert field.locator(".field-value").inner_text() == "100"  # nothing was saved
    page.wait_for_function("document.activeElement.getAttribute('aria-label') === "
                           "'edit completion_pct'")

    # Save with Enter: the new value shows, and the focus is back on its edit button.
    field.get_by_role("button", name="edit completion_pct").click()
    box.wait_for()
    page.wait_for_function("document.activeElement.getAttribute('aria-label') === "
                           "'completion_pct'")
    box.fill("80")
    box.press("Enter")
    field.locator(".field-value", has_text="80").wait_for()
    page.wait_for_function("document.activeElement.getAttribute('aria-label') === "
                           "'edit completion_pct'")
    assert 'data-origin="stage"' in field.inner_html()  # 80 is the stage's own now
