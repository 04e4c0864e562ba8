"""The watching pages: the watch form on a campaign's and a stage's page, my watches, the
deliveries page, the breaker banner with its release and policy, each checking the role."""
from __future__ import annotations

from sqlalchemy import select

from app.extensions import db
from app.models import AuditEntry, Job, StageLaunchSettings, Submission
from app.models.watching import BreakerPolicy, Delivery, Watch
from app.tracking.actions import release_stage
from app.watching import breaker, watches
from app.watching.policy import set_policy
from tests.fixtures.app import csrf_token, signed_in
from tests.watching.support import stage


def _trip(campaign, app, failed=10):
    """A real submission with `failed` failed jobs of 10, judged by the breaker."""
    fcl = stage(campaign, "reco_fcl")
    sub = Submission(campaign_stage_id=fcl.id, experiment_id=campaign.experiment_id,
                     state="Running", launcher_id=campaign.owner_id, origin="test")
    db.session.add(sub)
    db.session.flush()
    for n in range(10):
        db.session.add(Job(submission_id=sub.id, batch_job_id=f"{n}.0@local",
                           state="Failed" if n < failed else "Completed",
                           exit_code=3 if n < failed else 0))
    db.session.commit()
    app.config["POMS_BREAKER_MIN_JOBS"] = 10
    set_policy(campaign.experiment_id, None, window=10, percent=50, enabled=True,
               config=app.config)
    trips, why, jobs = breaker.judge(fcl, app.config)
    assert trips, why
    breaker.trip(fcl, why, jobs, app.config)
    db.session.commit()
    return fcl


def test_watch_and_unwatch_from_the_stage_page(app, client, tutorial):
    signed_in(client, "alice")
    reco = stage(tutorial, "reco")
    page = client.get(f"/e/mu2e/stage/{reco.id}").get_data(as_text=True)
    assert f"/e/mu2e/watch?stage_id={reco.id}" in page
    form = client.get(f"/e/mu2e/watch?stage_id={reco.id}").get_data(as_text=True)
    assert "You do not watch it." in form
    token = csrf_token(client, f"/e/mu2e/stage/{reco.id}")
    answer = client.post("/e/mu2e/watch", data={
        "csrf_token": token, "stage_id": reco.id, "event": ["submission_failed", "finished"],
        "channel": "webhook", "target": "http://chat.example.org/hooks/abc",
        "cadence": "daily"}, headers={"HX-Request": "true"})
    assert answer.status_code == 200
    assert "webhook to <code>http://chat.example.org/hooks/abc</code>, daily" in \
        answer.get_data(as_text=True)
    row = db.session.scalar(select(Watch))
    assert (row.campaign_stage_id, row.events) == (reco.id, ["submission_failed", "finished"])
    bad = client.post("/e/mu2e/watch", data={
        "csrf_token": token, "stage_id": reco.id, "event": "finished", "channel": "email",
        "target": "not an address"})
    assert bad.status_code == 422
    assert "Not saved: target: &#39;not an address&#39; is not one email address" in \
        bad.get_data(as_text=True)
    assert "http://chat.example.org/hooks/abc" in client.get("/e/mu2e/watches").get_data(
        as_text=True)
    gone = client.post(f"/e/mu2e/watch/{row.id}/delete", data={"csrf_token": token})
    assert gone.status_code == 302 and db.session.scalar(select(Watch)) is None


def test_nobody_else_may_remove_my_watch_or_read_my_deliveries(app, client, tutorial, member):
    row = watches.watch(tutorial.owner, tutorial, target="alice@example.org",
                        config=app.config)
    db.session.add(Delivery(experiment_id=tutorial.experiment_id,
                            experimenter_id=tutorial.owner_id, watch_id=row.id,
                            channel="email", target="alice@example.org",
                            subject="[POMS mu2e] secret", state="failed",
                            error="mail to alice@example.org: connection refused"))
    db.session.commit()
    member("mu2e", "bob", "analysis")
    signed_in(client, "bob")
    token = csrf_token(client, "/e/mu2e/watches")
    assert client.post(f"/e/mu2e/watch/{row.id}/delete",
                       data={"csrf_token": token}).status_code == 404
    assert "secret" not in client.get("/e/mu2e/deliveries").get_data(as_text=True)
    member("mu2e", "pat", "production")
    client = signed_in(app.test_client(), "pat")
    everyone = client.get("/e/mu2e/deliveries?all=1").get_data(as_text=True)
    assert "secret" in everyone and "connection refused" in everyone
    member("dune", "carol", "production")  # not a member of mu2e
    client = signed_in(app.test_client(), "carol")
    assert client.get("/e/mu2e/watches").status_code in (403, 404)


def test_the_banner_says_why_and_only_who_may_control_releases(app, client, tutorial,
                                                               member):
    fcl = _trip(tutorial, app)
    assert [b.campaign_stage_id for b in breaker.tripped_in(tutorial.experiment_id)] == [fcl.id]
    member("mu2e", "bob", "analysis")
    signed_in(client, "bob")
    banner = client.get(f"/e/mu2e/stage/{fcl.id}/breaker").get_data(as_text=True)
    assert "is stopped by its circuit breaker" in banner
    assert "10 of the last 10 finished jobs failed" in banner
    assert "log not analysed yet" in banner and "you may not release it" in banner
    token = csrf_token(client, f"/e/mu2e/stage/{fcl.id}")
    assert client.post(f"/e/mu2e/stage/{fcl.id}/breaker/release",
                       data={"csrf_token": token}).status_code == 403
    assert breaker.is_tripped(fcl)
    client = signed_in(app.test_client(), "alice")
    token = csrf_token(client, f"/e/mu2e/stage/{fcl.id}")
    assert "Release the breaker" in client.get(f"/e/mu2e/stage/{fcl.id}/breaker").get_data(
        as_text=True)
    done = client.post(f"/e/mu2e/stage/{fcl.id}/breaker/release", data={"csrf_token": token})
    assert done.status_code == 302
    db.session.expire_all()
    assert not breaker.is_tripped(fcl)
    assert breaker.tripped_in(tutorial.experiment_id) == []
    assert db.session.scalar(select(AuditEntry).where(
        AuditEntry.action == "circuit breaker released")).experimenter.username == "alice"


def test_the_experiment_default_is_for_production_and_n_has_a_minimum(app, client, tutorial,
                                                                     member):
    fcl = stage(tutorial, "reco_fcl")
    signed_in(client, "alice")
    token = csrf_token(client, f"/e/mu2e/stage/{fcl.id}")
    form = {"csrf_token": token, "scope": "experiment", "window": "30", "percent": "40",
            "enabled": "on"}
    assert client.post(f"/e/mu2e/stage/{fcl.id}/breaker/policy", data=form).status_code == 403
    member("mu2e", "pat", "production")
    client = signed_in(app.test_client(), "pat")
    form["csrf_token"] = csrf_token(client, f"/e/mu2e/stage/{fcl.id}")
    assert client.post(f"/e/mu2e/stage/{fcl.id}/breaker/policy", data=form).status_code == 302
    row = db.session.scalar(select(BreakerPolicy))
    assert (row.job_type_id, row.window, row.percent) == (None, 30, 40)
    small = client.post(f"/e/mu2e/stage/{fcl.id}/breaker/policy",
                        data={**form, "window": "3"}, follow_redirects=True)
    assert "Not saved: window: judge at least 10 finished jobs" in small.get_data(as_text=True)
    assert db.session.scalar(select(BreakerPolicy)).window == 30


def test_releasing_the_stage_hold_by_hand_releases_the_breaker(app, tutorial):
    fcl = _trip(tutorial, app)
    reco = stage(tutorial, "reco")
    assert db.session.get(StageLaunchSettings, reco.id).held
    release_stage(fcl, tutorial.owner)  # the stage page's "Release stage"
    db.session.commit()
    assert breaker.check_recent(app.config) == []
    db.session.expire_all()
    assert not breaker.is_tripped(fcl)
    assert not db.session.get(StageLaunchSettings, reco.id).held
    assert db.session.scalar(select(AuditEntry).where(
        AuditEntry.action == "circuit breaker released with the stage hold")) is not None
