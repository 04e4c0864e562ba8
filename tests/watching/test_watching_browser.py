"""In Chromium: choose what to be told about a stage and how, on its page; then see the
circuit breaker's banner on the stage's page, saying why, and release it with one click."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models.watching import Watch
from app.watching import breaker
from tests.watching.support import stage
from tests.watching.test_pages import _trip

pytestmark = pytest.mark.browser


def _sign_in(page, url, who="alice"):
    page.goto(f"{url}/login")
    page.fill("input[name=username]", who)
    page.click("button[type=submit]")


def test_watch_settings_on_the_stage_page(app, tutorial, live_server, page):
    reco = stage(tutorial, "reco")
    _sign_in(page, live_server.url)
    page.goto(f"{live_server.url}/e/mu2e/stage/{reco.id}")
    section = page.locator("section.watch")
    section.get_by_text("You do not watch it.").wait_for()
    section.get_by_label("a recovery refused").uncheck()
    section.get_by_label("FCL uploads to UconDB failing").uncheck()
    section.locator("select[name=channel]").select_option("webhook")
    section.locator("input[name=target]").fill("https://mattermost.example.org/hooks/xyz")
    section.locator("select[name=cadence]").select_option("daily")
    section.get_by_role("button", name="Watch", exact=True).click()
    page.locator("section.watch ul.watches li").get_by_text(
        "webhook to https://mattermost.example.org/hooks/xyz, daily").wait_for()
    db.session.expire_all()
    row = db.session.scalar(select(Watch))
    assert row.campaign_stage_id == reco.id and row.cadence == "daily"
    assert "recovery_refused" not in row.events and "fcl_upload_failed" not in row.events
    assert "breaker_tripped" in row.events

    # A bad address is refused on the spot, saying which field and why.
    section = page.locator("section.watch")
    section.locator("input[name=target]").fill("alice at fermilab")
    section.get_by_role("button", name="Watch", exact=True).click()
    page.get_by_text("Not saved: target: 'alice at fermilab' is not one email address").wait_for()

    page.locator("section.watch").get_by_role("button", name="Unwatch").click()
    page.locator("section.watch").get_by_text("You do not watch it.").wait_for()
    db.session.expire_all()
    assert db.session.scalar(select(Watch)) is None


def test_the_breaker_banner_and_its_release(app, tutorial, live_server, page):
    fcl = _trip(tutorial, app)
    _sign_in(page, live_server.url)
    page.goto(f"{live_server.url}/e/mu2e/stage/{fcl.id}")
    banner = page.locator(".breaker-banner")
    banner.wait_for()
    text = banner.inner_text()
    assert "Stage reco_fcl is stopped by its circuit breaker" in text
    assert "10 of the last 10 finished jobs failed (100%, more than 50%" in text
    assert "and 1 dependent stage wait" in text
    assert banner.locator("table tr", has_text="log not analysed yet").inner_text().split()[-1] \
        == "10"
    banner.get_by_role("button", name="Release the breaker and resume").click()
    page.get_by_text("Circuit breaker of reco_fcl released.").wait_for()
    page.locator("section.breaker").get_by_text("Circuit breaker: holds this stage").wait_for()
    assert page.locator(".breaker-banner").count() == 0
    db.session.expire_all()
    assert not breaker.is_tripped(fcl)
