"""What a commit tells the live pages, and each page's stream: who may open one, for which
topics, and how it paces what it sends (real Redis pub/sub, the app's own session)."""
from __future__ import annotations

import re
import threading
import time

import pytest

from app import states
from app.auth.members import ensure_member, find_or_create_experiment
from app.auth.session import find_or_create_experimenter
from app.extensions import db
from app.launching import service
from app.live import stream
from app.live.changes import CHANNEL
from app.models import CampaignStage
from tests.fixtures.app import signed_in
from tests.fixtures.launching import import_tutorial
from tests.fixtures.redis_server import not_redis
from tests.overview.support import ask_launch, stage_of


@pytest.fixture
def app(launch_app):
    return launch_app


@pytest.fixture
def submission(app):
    return ask_launch(import_tutorial("alice"), "reco_fcl")


@pytest.fixture
def told(redis_server, submission):
    """The topics published for mu2e from now on, as a function that waits for the next."""
    pubsub = redis_server.client().pubsub(ignore_subscribe_messages=True)
    pubsub.subscribe(f"{CHANNEL}{find_or_create_experiment('mu2e').id}")
    pubsub.get_message(timeout=1)

    def next_topics(timeout=2.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            message = pubsub.get_message(timeout=0.1)
            if message:
                return set(message["data"].decode().split())
        return None

    yield next_topics
    pubsub.close()


def test_a_state_change_tells_every_page_that_shows_it(submission, told):
    stage = db.session.get(CampaignStage, submission.campaign_stage_id)
    submission.jobs_total, submission.jobs_idle = 2, 2
    states.transition(submission, states.IDLE, "launched")
    db.session.commit()
    assert told() == {"experiment", f"campaign-{stage.campaign_id}", f"stage-{stage.id}",
                      f"submission-{submission.id}", f"submission-{submission.id}-state"}
    # Counters alone: not the history.
    submission.jobs_idle, submission.jobs_running = 1, 1
    db.session.commit()
    assert f"submission-{submission.id}-state" not in told()


def test_nothing_shown_changed_tells_nobody(submission, told):
    submission.tracked_at = submission.created  # every tracking pass stamps this
    db.session.commit()
    submission.jobs_running = 5
    db.session.rollback()  # what rolls back was never seen
    assert told(timeout=0.5) is None


def test_a_stage_id_used_again_tells_its_new_experiment(app, redis_server):
    """SQLite gives a deleted campaign's stage ids to the next campaign made: a change there
    is told to the pages of the experiment it is in now."""
    from app.campaigns import store
    first = import_tutorial("alice")
    first.stages[0].software_version = "v2"  # a stage change: its place is looked up
    db.session.commit()
    first_stage_ids = {stage.id for stage in first.stages}
    store.delete_campaign(first, first.owner)
    db.session.commit()
    second = import_tutorial_into("nova")
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        assert {stage.id for stage in second.stages} & first_stage_ids  # ids used again
    pubsub = redis_server.client().pubsub(ignore_subscribe_messages=True)
    pubsub.subscribe(f"{CHANNEL}{second.experiment_id}")
    pubsub.get_message(timeout=1)
    submission = ask_launch(second, "reco_fcl")
    deadline = time.monotonic() + 5
    heard = set()
    while time.monotonic() < deadline and f"submission-{submission.id}" not in heard:
        message = pubsub.get_message(timeout=0.1)
        if message:
            heard |= set(message["data"].decode().split())
    pubsub.close()
    assert f"submission-{submission.id}" in heard


def stream_url(*topics):
    return "/e/mu2e/live?" + "&".join(f"topic={t}" for t in topics)


def test_a_member_follows_a_submission_and_hears_of_its_change(app, submission):
    client = signed_in(app.test_client(), "alice")
    response = client.get(stream_url(f"submission-{submission.id}"), buffered=False)
    assert response.status_code == 200
    assert response.mimetype == "text/event-stream"
    chunks = iter(response.response)
    assert next(chunks).startswith(b"retry:")
    states.transition(submission, states.IDLE, "launched")
    db.session.commit()
    name = f"submission-{submission.id}"
    assert next(chunks).startswith(f"event: {name}\ndata: {name} ".encode())
    response.close()


def test_who_may_follow_what(app, submission, member):
    client = signed_in(app.test_client(), "alice")
    assert client.get(stream_url("submission-999999")).status_code == 404
    assert client.get(stream_url("jobs-1")).status_code == 400
    assert client.get("/e/mu2e/live").status_code == 400
    # nova's submission under mu2e's name: not mu2e's.
    nova = find_or_create_experiment("nova")
    ensure_member(nova, find_or_create_experimenter("alice"), "production")
    db.session.commit()
    other = ask_launch(import_tutorial_into("nova"), "reco_fcl")
    assert client.get(stream_url(f"submission-{other.id}")).status_code == 404
    member("nova", "mallory", "analysis")
    outsider = signed_in(app.test_client(), "mallory")
    assert outsider.get(stream_url("experiment")).status_code == 403


def import_tutorial_into(experiment):
    campaign = import_tutorial("alice")
    campaign.experiment_id = find_or_create_experiment(experiment).id
    campaign.name = f"{campaign.name}_{experiment}"
    db.session.commit()
    return campaign


def test_the_page_is_told_to_poll_when_push_is_off_or_redis_is_down(make_app):
    for config in ({"POMS_LIVE_PUSH": False}, {"POMS_REDIS_URL": "redis://127.0.0.1:1/0"}):
        other = make_app(**config)
        with other.app_context():
            ensure_member(find_or_create_experiment("mu2e"),
                          find_or_create_experimenter("alice"), "analysis")
            db.session.commit()
            client = signed_in(other.test_client(), "alice")
            response = client.get(stream_url("experiment"))
            assert response.status_code == 503, config
            assert "polls" in response.get_data(as_text=True)


def test_a_burst_is_sent_once_then_its_last_change_when_due():
    hub = stream.Hub("redis://unused")
    listener = stream.Listener(1, {"submission-1"})
    events = stream.events(hub, listener, spacing=0.3, heartbeat=60)
    assert next(events).startswith("retry:")
    started = time.monotonic()
    listener.tell({"submission-1"}, time.time())
    assert next(events).startswith("event: submission-1\ndata: submission-1 ")
    received = time.time()
    for n in range(50):
        listener.tell({"submission-1"}, received + n / 1000)
    last = received + 49 / 1000
    # The burst's last, and the event says it covers it.
    assert next(events) == f"event: submission-1\ndata: submission-1 {last:.3f}\n\n"
    assert 0.3 <= time.monotonic() - started < 2
    listener.queue.put(stream._BROKEN)  # the subscription broke: the stream ends
    assert list(events) == []


def test_a_quiet_stream_says_it_is_still_there():
    listener = stream.Listener(1, {"experiment"})
    events = stream.events(stream.Hub("redis://unused"), listener, heartbeat=0.1)
    next(events)
    assert next(events) == ": still here\n\n"
    events.close()



def test_a_fragment_is_rendered_once_per_change_while_pages_follow_it(app, submission):
    client = signed_in(app.test_client(), "alice")
    summary = "/e/mu2e/dashboard/live"
    followed = client.get(stream_url("experiment"), buffered=False)
    chunks = iter(followed.response)
    next(chunks)  # subscribed
    first = client.get(summary).get_data(as_text=True)
    time.sleep(1.1)  # the fragment's "updated" stamp would move if it were rendered again
    assert client.get(summary).get_data(as_text=True) == first
    states.transition(submission, states.IDLE, "launched")
    db.session.commit()
    next(chunks)  # this process's hub has seen the change
    again = client.get(summary).get_data(as_text=True)
    assert re.search(r'data-state="Idle">.*?<strong class="count">1</strong>', again, re.S)
    assert again != first
    followed.close()


def test_a_busy_aggregate_is_told_once_a_period_covering_the_same_moment_for_every_page():
    """Two dashboards while something changes 20 times a second: the change that ends a
    quiet spell is told soon, each page at its own moment within a period, and
    both events cover that change; then each page hears at most once a period, at its own
    moment, and their events cover the same period starts (so one render serves both:
    app/live/cache.py)."""
    hub, period = stream.Hub("redis://unused"), 0.4
    pages = [stream.Listener(1, {"experiment"}) for _ in range(2)]
    heard = [[], []]

    def follow(n, phase):
        events = stream.events(hub, pages[n], aggregate_spacing=period, phase=phase,
                               heartbeat=60)
        next(events)
        for text in events:
            heard[n].append((time.time(), float(text.split()[-1])))

    followers = [threading.Thread(target=follow, args=(n, phase), daemon=True)
                 for n, phase in enumerate((0.05, 0.3))]
    for follower in followers:
        follower.start()
    lone = time.time()
    for page in pages:
        page.tell({"experiment"}, lone)
    time.sleep(0.1)
    until = time.time() + 1.5
    while time.time() < until:
        received = time.time()
        for page in pages:
            page.tell({"experiment"}, received)
        time.sleep(0.05)
    last = received
    time.sleep(2 * period + 0.2)
    for page in pages:
        page.queue.put(stream._BROKEN)
    for follower in followers:
        follower.join(timeout=5)
    for events in heard:
        (first_at, first_covers), *busy = events
        assert first_covers == pytest.approx(lone, abs=1e-3) and first_at - lone < 0.2 + period
        assert 3 <= len(busy) <= 6, events  # about 1.5 s / 0.4 s, and the burst's last
        # At most once a period: each event covers a later period than the one before (when
        # they are sent may bunch up on a busy machine; what they cover may not).
        for (_, covers), (_, next_covers) in zip(busy, busy[1:], strict=False):
            assert next_covers - covers >= period - 1e-3, events
        for _, covers in busy:
            assert round(covers / period, 3) == round(covers / period), events
        assert busy[-1][1] >= last  # the last change is told
    assert {c for _, c in heard[0][1:]} & {c for _, c in heard[1][1:]}


def test_a_commit_stands_whatever_answers_at_the_redis_address(make_app):
    """Something that is not Redis at POMS_REDIS_URL (another program took the port): the
    change is committed and the pages are simply not told."""
    with not_redis() as url:
        other = make_app(POMS_REDIS_URL=url)
        with other.app_context():
            campaign = import_tutorial("alice")
            submission = service.request_launch(stage_of(campaign, "reco_fcl"),
                                                campaign.owner, test=False, origin="test",
                                                config=other.config)
            db.session.commit()
            states.transition(submission, states.IDLE, "launched")
            db.session.commit()
            db.session.expire_all()
            assert submission.state == states.IDLE
