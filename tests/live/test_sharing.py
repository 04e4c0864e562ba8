"""Fragments many pages show are rendered once and shared (app/live/cache.py): while a topic
keeps changing, the fetches made for events covering the same moment get one render; a
shared render still carries each person's own CSRF token, so its forms work for them."""
from __future__ import annotations

import html
import re
import threading
import time

import pytest
from redis import Redis

from app.extensions import db
from app.launching import service
from app.live import cache, stream
from app.models import CampaignStage
from tests.fixtures.app import signed_in
from tests.fixtures.launching import import_tutorial
from tests.overview.support import ask_launch


@pytest.fixture
def app(launch_app):
    return launch_app


def follow(client, topic):
    """An open live page of `topic`: this process's hub now counts its changes."""
    response = client.get(f"/e/mu2e/live?topic={topic}", buffered=False)
    chunks = iter(response.response)
    next(chunks)
    return response, chunks


def stamp(fragment: str) -> str:
    return re.search(r'data-updated="([^"]+)"', fragment).group(1)


def test_fetches_for_events_covering_the_same_moment_share_one_render(app, monkeypatch):
    submission = ask_launch(import_tutorial("alice"), "reco_fcl")
    client = signed_in(app.test_client(), "alice")
    page, chunks = follow(client, "experiment")
    # Entries expire after 5 s: on a busy machine the paced event below can take longer.
    monkeypatch.setattr(cache.for_hub(stream.hub_for(app.config["POMS_REDIS_URL"])),
                        "max_age", 120)
    covers = f"{time.time():.3f}"
    asked = {"HX-Request": "true", "X-POMS-Live-Cover": covers}
    first = client.get("/e/mu2e/attention", headers=asked).get_data(as_text=True)
    time.sleep(1.1)  # a render now would carry a later "updated" stamp
    submission.jobs_total, submission.jobs_running = 3, 3  # it keeps changing
    db.session.commit()
    next(chunks)  # this process's hub has seen the change
    # Another page whose event covers the same moment: the same render, not a new one.
    again = client.get("/e/mu2e/attention", headers=asked).get_data(as_text=True)
    assert stamp(again) == stamp(first)
    # An event covering the change: rendered again.
    later = {"HX-Request": "true", "X-POMS-Live-Cover": f"{time.time():.3f}"}
    fresh = client.get("/e/mu2e/attention", headers=later).get_data(as_text=True)
    assert stamp(fresh) > stamp(first)
    # Asked with no event (a page load, a reconnect): as of the last change it has seen.
    assert stamp(client.get("/e/mu2e/attention").get_data(as_text=True)) == stamp(fresh)
    page.close()


def test_a_shared_render_carries_each_persons_own_token(app, member):
    campaign = import_tutorial("alice")
    member("mu2e", "bob", "superuser")
    member("mu2e", "carol", "superuser")
    carol = signed_in(app.test_client(), "carol")
    bob = signed_in(app.test_client(), "bob")
    page, _ = follow(carol, f"campaign-{campaign.id}")
    url = f"/e/mu2e/campaign/{campaign.id}/overview/live"
    hers = carol.get(url, headers={"HX-Request": "true"}).get_data(as_text=True)
    time.sleep(1.1)
    his = bob.get(url, headers={"HX-Request": "true"}).get_data(as_text=True)
    assert stamp(his) == stamp(hers)  # one render for both
    hold = re.search(r'<form method="post" action="([^"]+/hold)">\s*<input type="hidden" '
                     r'name="csrf_token" value="([^"]+)">', his)
    assert hold, his
    assert hold.group(2) not in hers  # his own token, not hers
    response = bob.post(html.unescape(hold.group(1)), data={"csrf_token": hold.group(2)})
    assert response.status_code == 302, response.get_data(as_text=True)
    db.session.expire_all()
    stage = db.session.get(CampaignStage, int(hold.group(1).split("/")[-2]))
    assert service.stage_settings(stage).held
    page.close()


def at_once(caches, render, cover) -> list[str]:
    """Pages asking each of `caches` for the dashboard's live section in the same instant,
    for an event covering `cover`: what each got."""
    got = []
    pages = [threading.Thread(target=lambda c=c: got.append(
        c.rendered(1, "experiment", ("/dashboard/live",), render, cover=cover)))
        for c in caches]
    for page in pages:
        page.start()
    for page in pages:
        page.join(timeout=10)
    return got


def test_pages_asking_at_once_wait_for_one_render():
    """Twenty pages ask for the same fragment in the same instant: one render, and every
    page gets it (a render storm at the start of a busy spell was the slowest second)."""
    hub = stream.Hub("redis://unused")
    hub._subscription = object()  # as if following changes: no Redis needed for this
    shared = cache.FragmentCache(hub)
    renders = []

    def render():
        renders.append(1)
        time.sleep(0.2)
        return "<section>counts</section>"

    got = at_once([shared] * 20, render, cover=time.time())
    assert got == ["<section>counts</section>"] * 20
    assert len(renders) == 1


def test_web_processes_share_a_render_through_redis(redis_server):
    """Two web processes (their own caches, one Redis): pages that ask each of them for an
    event covering the same moment get one render between them; an event covering a later
    moment is rendered again; without Redis each renders its own."""
    redis = redis_server.client()
    renders = []

    def render():
        renders.append(1)
        time.sleep(0.2)
        return f"<section>counts {len(renders)}</section>"

    processes = []
    for _ in range(2):
        hub = stream.Hub("redis://unused")
        hub._subscription = object()  # as if following changes
        processes.append(cache.FragmentCache(hub, shared=redis))
    got = at_once(processes * 5, render, cover=time.time())
    assert got == ["<section>counts 1</section>"] * 10
    assert len(renders) == 1
    later = time.time()
    assert processes[1].rendered(1, "experiment", ("/dashboard/live",), render,
                                 cover=later) == "<section>counts 2</section>"
    assert processes[0].rendered(1, "experiment", ("/dashboard/live",), render,
                                 cover=later) == "<section>counts 2</section>"
    apart = cache.FragmentCache(processes[0].hub,
                                shared=Redis.from_url("redis://127.0.0.1:1/0",
                                                      socket_connect_timeout=0.2))
    assert apart.rendered(1, "experiment", ("/other",), render,
                          cover=time.time()) == "<section>counts 3</section>"
