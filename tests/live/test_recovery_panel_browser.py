"""In Chromium, against gunicorn: the recovery panel of a submission's page follows the
submission by itself (told over the page's event stream), is left alone while the person has
the keyboard in it (a refresh would throw away what they typed), and catches up on what it
missed once the keyboard leaves it."""
from __future__ import annotations

import pytest

from app import states
from tests.live.support import a_submission, moved, open_submission

pytestmark = pytest.mark.browser

PANEL = "#recovery"


def panel_shows(page, state, timeout=15_000):  # generous: the machine may be busy
    page.wait_for_selector(f"{PANEL}[data-state={state}]", timeout=timeout)


def test_the_recovery_panel_follows_the_submission_but_not_while_typed_in(app, web, page):
    submission = a_submission()
    open_submission(page, web, submission)
    panel_shows(page, states.NEW)
    moved(submission, states.IDLE)
    panel_shows(page, states.IDLE)

    files = page.locator(f"{PANEL} textarea[name=files]")
    files.click()
    files.type("mcs.owner.reco.0001.art")
    moved(submission, states.RUNNING, running=1)
    page.wait_for_selector("#submission-state:has-text('Running')")  # the push arrived
    page.wait_for_timeout(1_000)
    assert page.get_attribute(PANEL, "data-state") == states.IDLE
    assert files.input_value() == "mcs.owner.reco.0001.art"

    page.locator("h1").first.click()  # the keyboard leaves the panel
    panel_shows(page, states.RUNNING)
