"""In Chromium: a job's log is readable, a search finds lines anywhere in the whole log and
moves between them without reloading, and the matched line leads to its signature."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models.logs import JobAnalysis

pytestmark = pytest.mark.browser

CONTRAST = """el => {
  const rgb = s => s.match(/\\d+(\\.\\d+)?/g).slice(0, 3).map(Number);
  const lum = c => { const [r, g, b] = c.map(v => { v /= 255;
      return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b; };
  const style = getComputedStyle(el);
  let back = el, bg = style.backgroundColor;
  while (bg === "rgba(0, 0, 0, 0)" && back.parentElement) {
    back = back.parentElement; bg = getComputedStyle(back).backgroundColor; }
  const [a, b] = [lum(rgb(style.color)), lum(rgb(bg))].sort((x, y) => y - x);
  return (a + 0.05) / (b + 0.05);
}"""


def open_noisy_log(app, ran_submission, live_server_factory, page) -> JobAnalysis:
    """alice on the log of a job that ran out of memory after thousands of noisy lines;
    its analysis (the matched line and signature)."""
    submission = ran_submission(["noise"])
    noise = db.session.scalar(select(JobAnalysis).where(
        JobAnalysis.submission_id == submission.id))
    server = live_server_factory(app)
    page.goto(f"{server.url}/login")
    page.fill("input[name=username]", "alice")
    page.click("button[type=submit]")
    page.goto(f"{server.url}/e/mu2e/results/submission/{submission.id}/job/{noise.job_id}")
    return noise


def test_search_a_log_move_between_matches_and_open_the_signature(
        launch_app, ran_submission, live_server_factory, page):
    noise = open_noisy_log(launch_app, ran_submission, live_server_factory, page)

    # Readable: the log's text against its background passes WCAG AA (4.5:1) easily.
    line = page.locator("#job-log .line").first
    assert line.evaluate(CONTRAST) >= 7
    assert page.locator("#job-log .no").first.evaluate(CONTRAST) >= 4.5

    page.evaluate("window.notReloaded = true")
    box = page.get_by_role("searchbox", name="Find in this log")
    box.fill("event: 150")
    box.press("Enter")
    status = page.locator("#log-search-status")
    status.filter(has_text="1 of 11 lines hold").wait_for()
    current = page.locator("#job-log .line.current")
    # "event: 150" is thousands of lines before the matched line: fetched, not reloaded.
    first = int(current.get_attribute("id").split("-")[1])
    assert first < noise.line - 1000
    assert current.locator("mark").inner_text() == "event: 150"
    assert current.is_visible()

    page.get_by_role("button", name="next match").click()
    status.filter(has_text="2 of 11").wait_for()
    second = page.locator("#job-log .line.current")
    assert int(second.get_attribute("id").split("-")[1]) > first
    second.filter(has_text="event: 1500").wait_for()
    box.press("Enter")  # Enter again: the next one
    status.filter(has_text="3 of 11").wait_for()
    # the status may be written before a match outside the loaded lines is shown: wait for it
    page.locator("#job-log .line.current").filter(has_text="event: 1501").wait_for()
    box.press("Shift+Enter")
    status.filter(has_text="2 of 11").wait_for()
    page.get_by_role("button", name="previous match").click()
    page.get_by_role("button", name="previous match").click()  # wraps to the last
    status.filter(has_text="11 of 11").wait_for()
    page.locator("#job-log .line.current").filter(has_text="event: 1509").wait_for(
        timeout=30_000)  # fetched beyond the loaded lines: slow when CI is busy
    assert re.search(r"q=event", page.url) and "line=" in page.url  # a link to this place

    box.fill("no such text anywhere")
    box.press("Enter")
    status.filter(has_text="No line holds").wait_for()
    assert page.get_by_role("button", name="next match").is_disabled()
    assert page.evaluate("window.notReloaded") is True

    # Back to the matched line, and from it to the signature that matched it.
    box.press("Escape")
    page.locator(f"#line-{noise.line}.matched").wait_for()
    page.locator(f"#line-{noise.line} a.to-signature").click()
    page.wait_for_url(f"**/e/mu2e/signatures#signature-{noise.signature_id}")
    assert "Out of memory" in page.locator(f"#signature-{noise.signature_id}").inner_text()


def test_an_answer_overtaken_by_a_newer_move_leaves_the_page_alone(
        launch_app, ran_submission, live_server_factory, page):
    """On a busy server the lines for one move may come back after the person has moved
    on: the page keeps showing where they are now, not the line they left."""
    open_noisy_log(launch_app, ran_submission, live_server_factory, page)
    box = page.get_by_role("searchbox", name="Find in this log")
    box.fill("event: 150")
    box.press("Enter")
    status = page.locator("#log-search-status")
    status.filter(has_text="1 of 11 lines hold").wait_for()
    first = page.locator("#job-log .line.current").get_attribute("id")

    held = []  # the next move's lines, answered only when the test says so
    page.route(lambda url: "line=" in url, lambda route: held.append(route))
    page.get_by_role("button", name="next match").click()  # event: 1500, not loaded
    status.filter(has_text="2 of 11").wait_for()
    page.wait_for_function("() => true")  # the fetch is on its way
    assert len(held) == 1
    page.get_by_role("button", name="previous match").click()  # back: already loaded
    status.filter(has_text="1 of 11").wait_for()
    with page.expect_response(lambda r: "line=" in r.url, timeout=30_000):
        held[0].continue_()  # the late answer (its body left unread by the page)
    page.wait_for_timeout(500)
    current = page.locator("#job-log .line.current")
    assert current.count() == 1 and current.get_attribute("id") == first
    assert "2 of 11" not in status.inner_text()
