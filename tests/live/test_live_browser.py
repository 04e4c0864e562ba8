"""In Chromium, against gunicorn with the Procfile's worker class: a submission's page
changes when its submission changes, told over Server-Sent Events (no polling while the
stream is open); it catches up after the server restarts; and it polls when the stream is
refused."""
from __future__ import annotations

import pytest

from app import states
from tests.live.support import a_submission, moved, open_submission, shows

pytestmark = pytest.mark.browser


def test_a_page_updates_through_server_sent_events(app, web, page):
    submission = a_submission()
    gets = open_submission(page, web, submission)
    page.wait_for_selector("body[data-live-mode=push]")
    page.evaluate("window.__same_page = true")
    # Nothing changes: nothing is fetched (the fragment would poll every 2 s otherwise).
    page.wait_for_timeout(2500)
    assert gets == []
    moved(submission, states.IDLE)
    shows(page, states.IDLE)
    riders = []  # the jobs table and results summary come with the summary, not on their own
    page.on("request", lambda r: riders.append(r.url)
            if "/jobs" in r.url or "/results/" in r.url else None)
    moved(submission, states.RUNNING, running=2)
    shows(page, states.RUNNING)
    history = page.locator("#submission-history")
    history.get_by_text(states.RUNNING).first.wait_for()
    for where, said in (("#submission-jobs-table", "All (3)"),
                        ("#results-summary", "of 3 jobs analysed")):
        page.wait_for_function("([w, s]) => document.querySelector(w)?.textContent.includes(s)",
                               arg=[where, said], timeout=15_000)
    assert page.evaluate("window.__same_page") is True
    assert len(gets) <= 2, gets  # once per change, never a poll
    assert riders == [], riders


def test_a_page_reconnects_and_catches_up_after_the_server_restarts(app, web, page):
    submission = a_submission()
    open_submission(page, web, submission)
    page.wait_for_selector("body[data-live-mode=push]")
    page.evaluate("window.__same_page = true")
    web.stop()
    page.wait_for_selector("body[data-live-mode=poll]")  # the stream ended with the server
    moved(submission, states.IDLE)  # while nobody could have told the page
    web.start()
    page.wait_for_selector("body[data-live-mode=push]", timeout=20_000)
    shows(page, states.IDLE)  # fetched again on reconnect
    moved(submission, states.RUNNING, running=1)
    shows(page, states.RUNNING)  # and pushed again
    assert page.evaluate("window.__same_page") is True


def test_a_change_pushed_while_the_fragment_is_being_fetched_is_shown(app, web, page):
    """A push that arrives while the fragment's own fetch is on its way: the answer on its
    way was rendered before the change, and the fetch the push asks for must follow it (htmx
    queues it on the element that answer replaces, and drops it there)."""
    submission = a_submission()
    open_submission(page, web, submission)
    page.wait_for_selector("body[data-live-mode=push]")
    # How often the summary was told its topic (the stream also carries the page's others).
    page.evaluate("window.__pushes = 0; document.addEventListener('htmx:sseMessage', e => {"
                  " if (e.target.id === 'submission-summary') { window.__pushes += 1; } })")
    held = []

    def hold_the_first(route):
        if held:
            route.continue_()
        else:
            held.append((route, route.fetch()))  # rendered now, before the second change

    page.route(f"**/e/mu2e/submission/{submission.id}/summary*", hold_the_first)
    moved(submission, states.IDLE)
    page.wait_for_function("() => window.__pushes >= 1")
    for _ in range(100):
        if held:
            break
        page.wait_for_timeout(100)
    assert held, "the push fetched the summary"
    moved(submission, states.RUNNING, running=1)
    page.wait_for_function("() => window.__pushes >= 2")  # told while the fetch is held
    route, rendered = held[0]
    route.fulfill(response=rendered)
    shows(page, states.RUNNING)


def test_a_change_pushed_as_the_fragment_is_swapped_in_is_shown(app, web, page):
    """A push that arrives after the fragment's answer is swapped in and before htmx has
    processed the new element (its sse listener): on a busy page, here a handler of the
    swap that takes 3 s, the push waits behind it, then must reach the new element."""
    submission = a_submission()
    open_submission(page, web, submission)
    page.wait_for_selector("body[data-live-mode=push]")
    page.evaluate("""() => {
      document.addEventListener('htmx:afterSwap', e => {
        if (e.target.id !== 'submission-summary' || window.__busy_once) { return; }
        window.__busy_once = true;
        const until = Date.now() + 3000;
        while (Date.now() < until) { /* the page is busy */ }
      });
    }""")
    summary = f"/e/mu2e/submission/{submission.id}/summary"
    with page.expect_event("requestfinished", lambda r: summary in r.url):
        moved(submission, states.IDLE)  # pushed: the summary is fetched, then swapped in
    moved(submission, states.RUNNING, running=1)  # pushed while the page is busy
    shows(page, states.RUNNING)


def test_a_page_polls_when_the_stream_is_refused(app, web, page):
    submission = a_submission()
    # A proxy that will not hold the connection open: every stream request fails.
    page.route("**/e/mu2e/live?**", lambda route: route.abort("connectionrefused"))
    gets = open_submission(page, web, submission)
    page.wait_for_selector("body[data-live-mode=poll]")
    moved(submission, states.IDLE)
    shows(page, states.IDLE, timeout=8000)
    assert gets, "the summary was fetched by polling"
