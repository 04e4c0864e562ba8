"""In Chromium, against gunicorn: a tab left hidden lets its event stream go, so an operator
with many POMS tabs open can still open another (a browser holds 6 connections a host over
HTTP/1.1, and each open stream keeps one), and a tab shown again catches up and is pushed to
as before. Headless Chromium shows every tab, so the test hides a tab as the browser would
tell the page: visibilityState "hidden" and a visibilitychange event."""
from __future__ import annotations

import pytest

from app import states
from tests.live.conftest import Web
from tests.live.support import a_submission, moved, shows
from tests.overview.support import sign_in

pytestmark = pytest.mark.browser

CONNECTIONS_PER_HOST = 6  # Chromium's limit over HTTP/1.1


@pytest.fixture
def web(app, redis_server, tmp_path):
    """gunicorn whose pages let their stream go after 0.3 s hidden (30 s by default)."""
    server = Web(app.config["SQLALCHEMY_DATABASE_URI"], redis_server.url, tmp_path,
                 POMS_LIVE_HIDDEN_MS="300")
    server.start()
    yield server
    server.stop()


def set_visible(page, visible: bool) -> None:
    page.evaluate("""visible => {
        const state = visible ? "visible" : "hidden";
        Object.defineProperty(document, "visibilityState", {value: state, configurable: true});
        Object.defineProperty(document, "hidden", {value: !visible, configurable: true});
        document.dispatchEvent(new Event("visibilitychange"));
    }""", visible)


def test_hidden_tabs_let_their_streams_go_and_catch_up_when_shown(app, web, page):
    submission = a_submission()
    sign_in(page, web.url, "alice")
    address = f"{web.url}/e/mu2e/submission/{submission.id}"
    tabs = [page] + [page.context.new_page() for _ in range(CONNECTIONS_PER_HOST - 1)]
    for tab in tabs:
        tab.goto(address)
        tab.wait_for_selector("body[data-live-mode=push]")
        set_visible(tab, False)
    for tab in tabs:
        tab.wait_for_selector("body[data-live-mode=paused]")

    # Six tabs open and hidden: a seventh loads and is pushed to (with their streams held,
    # its page would wait for a connection that never frees).
    seventh = page.context.new_page()
    seventh.goto(address, timeout=15_000)
    seventh.wait_for_selector("body[data-live-mode=push]")
    moved(submission, states.IDLE)
    shows(seventh, states.IDLE)
    assert "Idle" not in page.locator("#submission-state").text_content(), \
        "a hidden tab's stream was let go: nothing was pushed to it"

    # Shown again: the first tab catches up on what changed while hidden, then is pushed to.
    set_visible(page, True)
    page.wait_for_selector("body[data-live-mode=push]")
    shows(page, states.IDLE)
    moved(submission, states.RUNNING, running=1)
    shows(page, states.RUNNING)
    shows(seventh, states.RUNNING)


def test_a_tab_hidden_briefly_keeps_its_stream(app, web, page):
    submission = a_submission()
    sign_in(page, web.url, "alice")
    page.goto(f"{web.url}/e/mu2e/submission/{submission.id}")
    page.wait_for_selector("body[data-live-mode=push]")
    set_visible(page, False)
    set_visible(page, True)  # switched away and back within the grace
    page.wait_for_timeout(600)
    assert page.get_attribute("body", "data-live-mode") == "push"
    moved(submission, states.IDLE)
    shows(page, states.IDLE)
