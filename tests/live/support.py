"""What the live pages' browser tests share: a submission, moved as tracking would move it,
and its page opened and watched."""
from __future__ import annotations

from app import states
from app.extensions import db
from tests.fixtures.launching import import_tutorial
from tests.overview.support import ask_launch, sign_in


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


def shows(page, state, timeout=30_000):  # generous: CI runs two suites side by side
    page.wait_for_function(
        "s => document.querySelector('#submission-state')?.textContent.includes(s)",
        arg=state, timeout=timeout)
