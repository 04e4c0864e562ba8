"""The circuit breaker on real jobs: a stage whose jobs fail on purpose (the local batch
engine runs them as real processes) trips, holds itself and its dependent stage, tells its
watchers by mail and shows why on its page; `poms resume-stage` releases it, audited. A
test launch never trips it, and a policy may not judge a handful of jobs."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from app import states
from app.extensions import db
from app.launching import service
from app.models import AuditEntry, Job, StageLaunchSettings, Submission
from app.overview import attention
from app.watching import breaker, watches
from app.watching.policy import policy_for, set_policy
from tests.e2e.support import change_through_store, drive
from tests.watching.support import stage, watch_pass
from workers.queues import enqueue_launch

JOBS = 12


def fail_on_purpose(spec):
    """reco_fcl's jobs run reco.sh, which finds no FCL file to read and exits 3."""
    for row in spec.stages:
        if row.name == "reco_fcl":
            for key in ("param_overrides", "test_param_overrides"):
                getattr(row, key).extend([["-Oglobal.basename=", "reco"],
                                          ["-Oglobal.njobs=", str(JOBS)]])


def _launch(campaign, app, *, test=False):
    sub = service.request_launch(stage(campaign, "reco_fcl"), campaign.owner, test=test,
                                 origin="test", config=app.config)
    db.session.commit()
    enqueue_launch(app.config["POMS_REDIS_URL"], sub.id)
    return sub


def _held(stage_row) -> bool:
    row = db.session.get(StageLaunchSettings, stage_row.id)
    return bool(row and row.held)


def test_a_failing_stage_trips_holds_tells_and_is_released(launch_app, tutorial, smtp_server,
                                                           dev_server, poms, member):
    app = launch_app
    change_through_store(tutorial, fail_on_purpose)
    set_policy(tutorial.experiment_id, None, window=10, percent=50, enabled=True,
               config=app.config)
    watches.watch(tutorial.owner, tutorial, events=["breaker_tripped"],
                  target="alice@example.org", config=app.config)
    db.session.commit()
    fcl, reco = stage(tutorial, "reco_fcl"), stage(tutorial, "reco")
    first = _launch(tutorial, app)

    def tripped():
        db.session.expire_all()
        return breaker.is_tripped(fcl)

    drive(app, tripped, timeout=90, what="the breaker of reco_fcl to trip")
    row = breaker.breaker_of(fcl)
    assert row.reason.startswith("10 of the last 10 finished jobs failed (100%, more than 50%")
    assert _held(fcl) and _held(reco), "the stage and its dependent stage are held"
    assert db.session.get(Submission, first.id).jobs_failed >= 10
    # First on the dashboard: both stages stopped, saying by what and why.
    said = {item.stage.name: item.detail
            for item in attention.needs_attention(tutorial.experiment_id)
            if item.stage is not None and item.action == "release-stage"}
    assert said["reco_fcl"] == f"held by its circuit breaker: {row.reason}", said
    assert said["reco"] == f"held by the circuit breaker of an upstream stage: {row.reason}"

    # A launch asked for now waits: the worker leaves it New.
    waiting = _launch(tutorial, app)
    drive(app, lambda: True)
    assert db.session.get(Submission, waiting.id).state == states.NEW

    # The watcher is told.
    watch_pass(app)
    subjects = [mail["Subject"] for _to, mail in smtp_server.messages]
    assert any("reco_fcl stopped by its circuit breaker" in s for s in subjects), subjects

    # The banner says why, with the failures by signature, on the stage's page.
    drive(app, lambda: sum(n for _s, n in breaker.failures_by_signature(row)) == row.failed
          and all(s != "log not analysed yet" for s, _n in breaker.failures_by_signature(row)),
          what="the failed jobs' logs to be analysed")
    answer = poms("--json", "breaker", tutorial.name, "reco_fcl")
    assert answer.code == 0 and answer.json["tripped"] is True
    assert sum(f["jobs"] for f in answer.json["failures_by_signature"]) == row.failed

    # Bob (analysis, not the owner) may not release it; alice may, from the command line.
    member("mu2e", "bob", "analysis")
    refused = poms("resume-stage", tutorial.name, "reco_fcl", env={"POMS_USER": "bob"})
    assert refused.code == 1 and "may not release" in refused.err
    assert tripped()
    done = poms("resume-stage", tutorial.name, "reco_fcl", env={"POMS_USER": "alice"})
    assert done.code == 0, done.err
    assert f"queued {waiting.id}" in done.out
    db.session.expire_all()
    assert not breaker.is_tripped(fcl) and not _held(fcl) and not _held(reco)
    entry = db.session.scalar(select(AuditEntry).where(
        AuditEntry.action == "circuit breaker released"))
    assert entry is not None and entry.experimenter.username == "alice"
    # The jobs it judged do not trip it again at once.
    assert breaker.check_recent(app.config) == []
    again = poms("resume-stage", tutorial.name, "reco_fcl")
    assert again.code == 1 and "is not tripped" in again.err

    # The launch that waited goes; its own jobs fail as well, and trip the breaker again.
    drive(app, tripped, timeout=90, what="the released launch's failures to trip it again")
    resumed = db.session.get(Submission, waiting.id)
    assert resumed.state != states.NEW and resumed.jobs_failed >= 10
    assert set(breaker.breaker_of(fcl).job_ids) <= {
        j.id for j in db.session.scalars(select(Job).where(Job.submission_id == waiting.id))}


def test_a_test_launch_never_trips_the_breaker(launch_app, tutorial):
    app = launch_app
    change_through_store(tutorial, fail_on_purpose)
    set_policy(tutorial.experiment_id, None, window=10, percent=10, enabled=True,
               config=app.config)
    db.session.commit()
    sub = _launch(tutorial, app, test=True)

    def ended():
        db.session.expire_all()
        done = db.session.get(Submission, sub.id)
        return done.jobs_failed == JOBS
    drive(app, ended, timeout=90, what="the test launch's jobs to fail")
    assert breaker.check_recent(app.config) == []
    assert not breaker.is_tripped(stage(tutorial, "reco_fcl"))


def test_a_policy_may_not_judge_a_handful_of_jobs(launch_app, tutorial):
    with pytest.raises(ValueError, match="at least 10 finished jobs"):
        set_policy(tutorial.experiment_id, None, window=3, percent=50, enabled=True,
                   config=launch_app.config)
    launch_app.config["POMS_BREAKER_MIN_JOBS"] = 25
    assert policy_for(stage(tutorial, "reco"), launch_app.config).window == 25
