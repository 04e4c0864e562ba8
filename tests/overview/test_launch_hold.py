"""The experiment-wide launch hold (the original's set_job_launches): who may turn it, that
every launch path waits under it and none is lost, and that releasing queues them."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from app import states
from app.extensions import db
from app.launching import launch_hold, service
from app.models import AuditEntry, Submission, SubmissionEvent
from app.tracking import actions
from app.tracking.tracker import stale_unclaimed
from tests.fixtures.app import csrf_token, signed_in
from tests.fixtures.launching import work
from tests.overview.support import ask_launch, stage_of, text


def test_only_production_or_superuser_may_hold_all_launches(tutorial):
    experiment = tutorial.experiment
    for role in ("analysis", "production-shifter"):
        with pytest.raises(launch_hold.HoldRefused, match="production or superuser"):
            launch_hold.hold_all(experiment, tutorial.owner, role)
    assert not launch_hold.held(experiment.id)
    launch_hold.hold_all(experiment, tutorial.owner, "production", "dCache downtime")
    db.session.commit()
    assert launch_hold.held(experiment.id)
    entry = db.session.scalars(select(AuditEntry).where(
        AuditEntry.action == "launches held")).one()
    assert entry.after == {"held": True, "reason": "dCache downtime"}


def test_launches_asked_while_held_wait_and_are_queued_on_release(tutorial, launch_app):
    experiment = tutorial.experiment
    launch_hold.hold_all(experiment, tutorial.owner, "superuser", "downtime")
    db.session.commit()
    waiting = ask_launch(tutorial)
    cause = db.session.scalars(select(SubmissionEvent.cause).where(
        SubmissionEvent.submission_id == waiting.id)).one()
    assert cause.endswith("waiting: every launch of mu2e is held")
    # The worker will not run it, and the scheduler does not queue it again.
    assert "every launch of mu2e is held" in service.run_launch(waiting.id, launch_app.config)
    waiting.created = waiting.created.replace(year=2000)  # long past the grace period
    db.session.commit()
    assert waiting.id not in stale_unclaimed(launch_app.config)
    # A held stage keeps its own launches after the switch is released.
    other = stage_of(tutorial, "reco_fcl")
    actions.hold_stage(other, tutorial.owner)
    db.session.commit()
    released = launch_hold.release_all(experiment, tutorial.owner, "production")
    db.session.commit()
    assert released == []  # reco_fcl is held itself: its launch waits for its stage
    actions.release_stage(other, tutorial.owner)
    db.session.commit()
    launch_hold.hold_all(experiment, tutorial.owner, "production")
    db.session.commit()
    assert launch_hold.release_all(experiment, tutorial.owner, "production") == [waiting.id]
    db.session.commit()
    assert waiting.id in stale_unclaimed(launch_app.config)
    service.run_launch(waiting.id, launch_app.config)
    db.session.refresh(waiting)
    assert waiting.state != states.NEW  # it launched once released
    actions_done = [e.action for e in db.session.scalars(select(AuditEntry))]
    assert actions_done.count("launches released") == 2


def test_the_switch_from_the_pages_checks_the_role_and_shows_a_banner(client, tutorial, member,
                                                                      launch_app):
    member("mu2e", "shifter", "production-shifter")
    member("mu2e", "prod", "production")
    signed_in(client, "shifter")
    token = csrf_token(client, "/e/mu2e/dashboard")
    assert "Hold all launches" not in text(client.get("/e/mu2e/dashboard"))
    assert client.post("/e/mu2e/launches/hold", data={"csrf_token": token}).status_code == 403
    assert not launch_hold.held(tutorial.experiment_id)

    signed_in(client, "prod")
    token = csrf_token(client, "/e/mu2e/dashboard")
    response = client.post("/e/mu2e/launches/hold",
                           data={"csrf_token": token, "reason": "dCache downtime"})
    assert response.status_code == 302
    for path in ("/e/mu2e/dashboard", "/e/mu2e/campaigns", f"/e/mu2e/campaign/{tutorial.id}"):
        page = text(client.get(path))
        assert 'id="launch-hold-banner"' in page, path
        assert "held by prod" in page and "dCache downtime" in page
    # A launch from the page is recorded and waits; the release queues it.
    stage = stage_of(tutorial, "reco_fcl")
    signed_in(client, "alice")  # the campaign's owner (an analysis campaign)
    token = csrf_token(client, "/e/mu2e/dashboard")
    response = client.post(f"/e/mu2e/stage/{stage.id}/launch",
                           data={"csrf_token": token, "test": "0"})
    waiting = db.session.scalars(select(Submission)).one()
    assert f"Every launch of mu2e is held: submission {waiting.id} waits" in text(
        client.get(response.location))
    assert client.post("/e/mu2e/launches/release",
                       data={"csrf_token": token}).status_code == 403  # alice: analysis
    signed_in(client, "prod")
    token = csrf_token(client, "/e/mu2e/dashboard")
    client.post("/e/mu2e/launches/release", data={"csrf_token": token})
    assert 'id="launch-hold-banner"' not in text(client.get("/e/mu2e/dashboard"))
    work(launch_app)
    db.session.refresh(waiting)
    assert waiting.state != states.NEW


def test_the_api_reads_and_turns_the_switch(client, tutorial, member):
    member("mu2e", "prod", "production")
    signed_in(client, "alice")  # analysis
    headers = {"X-CSRFToken": csrf_token(client, "/e/mu2e/dashboard")}
    assert client.get("/api/v1/experiments/mu2e/launches").get_json()["held"] is False
    refused = client.post("/api/v1/experiments/mu2e/launches/hold", json={"reason": "x"},
                          headers=headers)
    assert refused.status_code == 403
    assert "production or superuser" in refused.get_json()["error"]
    signed_in(client, "prod")
    headers = {"X-CSRFToken": csrf_token(client, "/e/mu2e/dashboard")}
    answer = client.post("/api/v1/experiments/mu2e/launches/hold",
                         json={"reason": "tape robot"}, headers=headers).get_json()
    assert answer.get("held") is True and answer["held_by"] == "prod", answer
    assert answer["reason"] == "tape robot"
    waiting = ask_launch(tutorial)
    answer = client.post("/api/v1/experiments/mu2e/launches/release",
                         headers=headers).get_json()
    assert answer["held"] is False and answer["released_submissions"] == [waiting.id]
