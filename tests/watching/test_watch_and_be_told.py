"""Watch and be told, for real: mail arrives at a local SMTP server, webhook bodies at a local
HTTP server, digests gather events, a failed delivery is retried with backoff on the
`notifications` queue and shown on the deliveries page."""
from __future__ import annotations

import time
from datetime import timedelta

import pytest
from redis import Redis
from rq import Queue
from rq.job import Job as RQJob

from app.extensions import db
from app.models.watching import Delivery, Watch
from app.watching import watches
from app.watching.delivery import DeliveryFailed, deliver_once
from app.watching.scan import watch_pass as scan
from tests.watching.support import launch_failed, run_worker, stage, watch_pass
from workers.queues import NOTIFICATIONS, enqueue_deliveries


def test_a_failed_launch_is_mailed_and_posted_to_the_webhook(launch_app, tutorial,
                                                              smtp_server, webhook):
    app = launch_app
    watches.watch(tutorial.owner, tutorial, events=["submission_failed"], channel="email",
                  target="alice@example.org", config=app.config)
    watches.watch(tutorial.owner, tutorial, stage(tutorial, "reco"), channel="webhook",
                  target=webhook.url, events=["submission_failed"], config=app.config)
    db.session.commit()
    failed = launch_failed(tutorial, "reco_fcl", app)
    watch_pass(app)

    assert len(smtp_server.messages) == 1
    to, mail = smtp_server.messages[0]
    assert to == ["alice@example.org"]
    assert f"submission {failed.id} of reco_fcl LaunchFailed" in mail["Subject"]
    assert "no proxy for mu2e" in mail.get_content()
    assert f"/e/mu2e/submission/{failed.id}" in mail.get_content()
    # The webhook watches stage reco only: a failure of reco_fcl is not its business.
    assert webhook.bodies == []

    other = launch_failed(tutorial, "reco", app, why="launch script exited 2")
    watch_pass(app)
    assert len(webhook.bodies) == 1 and set(webhook.bodies[0]) == {"text"}
    assert f"submission {other.id} of reco LaunchFailed" in webhook.bodies[0]["text"]
    assert len(smtp_server.messages) == 2  # the campaign watch hears of reco too
    # Another pass tells nobody anything twice.
    watch_pass(app)
    assert len(smtp_server.messages) == 2 and len(webhook.bodies) == 1
    assert {d.state for d in db.session.query(Delivery)} == {"sent"}


def test_events_before_the_watch_and_unwanted_kinds_are_not_told(launch_app, tutorial,
                                                                 smtp_server):
    app = launch_app
    launch_failed(tutorial, "reco_fcl", app)
    watches.watch(tutorial.owner, tutorial, events=["finished"], config=app.config,
                  target="alice@example.org")
    watches.watch(tutorial.owner, tutorial, events=["submission_failed"], config=app.config,
                  target="bob@example.org")
    db.session.commit()
    watch_pass(app)
    assert smtp_server.messages == []
    launch_failed(tutorial, "reco_fcl", app)
    watch_pass(app)
    assert [to for to, _mail in smtp_server.messages] == [["bob@example.org"]]


def test_an_hourly_digest_gathers_the_hours_events_in_one_message(launch_app, tutorial,
                                                                  smtp_server):
    app = launch_app
    row = watches.watch(tutorial.owner, tutorial, events=["submission_failed"],
                        cadence="hourly", target="alice@example.org", config=app.config)
    db.session.commit()
    first = launch_failed(tutorial, "reco_fcl", app)
    second = launch_failed(tutorial, "reco", app)
    watch_pass(app)
    assert smtp_server.messages == []  # not an hour yet
    row = db.session.get(Watch, row.id)
    row.last_digest_at = row.created - timedelta(hours=1, minutes=1)
    db.session.commit()
    watch_pass(app)
    assert len(smtp_server.messages) == 1
    _to, mail = smtp_server.messages[0]
    assert "hourly digest: 2 events" in mail["Subject"]
    body = mail.get_content()
    assert f"submission {first.id} of reco_fcl" in body
    assert f"submission {second.id} of reco" in body
    watch_pass(app)
    assert len(smtp_server.messages) == 1


def test_a_failing_webhook_is_retried_with_backoff_then_delivered(launch_app, tutorial,
                                                                  webhook):
    app = launch_app
    watches.watch(tutorial.owner, tutorial, events=["submission_failed"], channel="webhook",
                  target=webhook.url, config=app.config)
    db.session.commit()
    app.config["POMS_NOTIFY_BACKOFF"] = 1
    app.config["POMS_NOTIFY_RETRIES"] = 2
    webhook.fail_next = 1
    launch_failed(tutorial, "reco_fcl", app)
    watch_pass(app)
    row = db.session.query(Delivery).one()
    assert (row.state, row.attempts) == ("retrying", 1)
    assert "answered 500: down for maintenance" in row.error
    job = RQJob.fetch(f"deliver-{row.id}", connection=Queue(
        NOTIFICATIONS, connection=_redis(app)).connection)
    assert job.get_status() == "scheduled" and job.retries_left == 1
    time.sleep(1.2)
    run_worker(app, with_scheduler=True)
    row = db.session.get(Delivery, row.id)
    assert (row.state, row.attempts, row.error) == ("sent", 2, "")
    assert len(webhook.bodies) == 1


def _redis(app):
    return Redis.from_url(app.config["POMS_REDIS_URL"])


def test_a_mail_server_that_does_not_answer_fails_saying_why(launch_app, tutorial):
    app = launch_app
    app.config["POMS_SMTP_URL"] = "smtp://127.0.0.1:9"  # discard: nothing listens
    watches.watch(tutorial.owner, tutorial, events=["submission_failed"],
                  target="alice@example.org", config=app.config)
    db.session.commit()
    launch_failed(tutorial, "reco_fcl", app)
    ids = scan(app.config)
    assert len(ids) == 1
    with pytest.raises(DeliveryFailed):
        deliver_once(ids[0], app.config, final=True)
    row = db.session.get(Delivery, ids[0])
    assert row.state == "failed" and "127.0.0.1:9" in row.error
    # Queued again, a failed delivery is not sent twice.
    assert enqueue_deliveries(app.config["POMS_REDIS_URL"], [], [1]) == 0
    assert deliver_once(ids[0], app.config) == f"delivery {ids[0]}: failed already"


@pytest.mark.parametrize("channel, target, field", [
    ("email", "not an address", "target"),
    ("webhook", "ftp://example.org/hook", "target"),
    ("pigeon", "", "channel"),
])
def test_a_watch_that_cannot_work_is_refused_naming_the_field(launch_app, tutorial, channel,
                                                              target, field):
    with pytest.raises(watches.WatchError, match=f"^{field}:"):
        watches.watch(tutorial.owner, tutorial, channel=channel, target=target,
                      config=launch_app.config)
    with pytest.raises(watches.WatchError, match="^events:"):
        watches.watch(tutorial.owner, tutorial, events=["everything"],
                      config=launch_app.config)


def test_outside_dev_mode_a_webhook_may_not_reach_inside(launch_app, tutorial, webhook):
    production = {**launch_app.config, "POMS_AUTH": "kerberos"}
    for url in (webhook.url, "http://10.1.2.3/hooks/x", "http://169.254.169.254/latest"):
        with pytest.raises(watches.WatchError, match="internal network"):
            watches.watch(tutorial.owner, tutorial, channel="webhook", target=url,
                          config=production)
    allowed = {**production, "POMS_WEBHOOK_INTERNAL_HOSTS": ["127.0.0.1"]}
    row = watches.watch(tutorial.owner, tutorial, channel="webhook", target=webhook.url,
                        events=["submission_failed"], config=allowed)
    db.session.commit()
    assert row.target == webhook.url
    # Checked again when sending: the service's settings may have changed since.
    launch_failed(tutorial, "reco_fcl", launch_app)
    ids = scan(production)
    with pytest.raises(DeliveryFailed, match="POMS_WEBHOOK_INTERNAL_HOSTS must name it"):
        deliver_once(ids[0], production)
    assert webhook.bodies == []
