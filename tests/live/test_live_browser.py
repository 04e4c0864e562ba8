"""In Chromium, against gunicorn with the Procfile's worker class: a submission's page
changes when its submission changes, told over Server-Sent Events (no polling while the
stream is open); it catches up after the server restarts; and it polls when the stream is
refused."""
from __future__ import annotations

import pytest

from app import states
from app.extensions import db
from tests.fixtures.launching import import_tutorial
from tests.overview.support import ask_launch, sign_in

pytestmark = pytest.mark.browser


def a_submission():
    """A New submission of the tutorial's first stage (queued; no worker runs it here)."""
    return ask_launch(import_tutorial("alice"), "reco_fcl")


def moved(submission, state, running=0):
    """What tracking does when the grid says so: counters, then the state, one commit."""
    submission.jobs_total = 3
    submission.jobs_running = running
    submission.jobs_idle = 3 - running
    states.transition(submission, state, "the test says so")
    db.session.commit()


def open_submission(page, web, submission):
    sign_in(page, web.url, "alice")
    fragment_gets = []
    summary = f"/e/mu2e/submission/{submission.id}/summary"
    page.on("request", lambda r: fragment_gets.append(r.url) if summary in r.url else None)
    page.goto(f"{web.url}/e/mu2e/submission/{submission.id}")
    return fragment_gets


def shows(page, state, timeout=15_000):  # generous: the machine may be busy
    page.wait_for_function(
        "s => document.querySelector('#submission-state')?.textContent.includes(s)",
        arg=state, timeout=timeout)


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


def test_a_page_polls_when_the_stream_is_refused(app, web, page):
    submission = a_submission()
    # A proxy that will not hold the connection open: every stream request fails.
    page.route("**/e/mu2e/live?**", lambda route: route.abort("connectionrefused"))
    gets = open_submission(page, web, submission)
    page.wait_for_selector("body[data-live-mode=poll]")
    moved(submission, states.IDLE)
    shows(page, states.IDLE, timeout=8000)
    assert gets, "the summary was fetched by polling"
