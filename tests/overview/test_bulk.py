"""Bulk actions on a filtered list of submissions: the preview says what each would get,
the action does each as if alone, audited once per submission, and only where the person
may act."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from app import states
from app.extensions import db
from app.models import AuditEntry, BatchAction, Submission
from app.overview import bulk
from tests.fixtures.app import csrf_token, signed_in
from tests.fixtures.launching import work
from tests.overview.support import ask_launch, slow_tutorial, stage_of, text

pytestmark = pytest.mark.usefixtures("jobs_removed_after")  # held jobs are stopped processes


def launched_and_running(launch_app, n=2):
    campaign = slow_tutorial()
    rows = [ask_launch(campaign) for _ in range(n)]
    work(launch_app)
    for row in rows:
        db.session.refresh(row)
        assert row.state in (states.IDLE, states.RUNNING), row.state
    return campaign, rows


def test_the_preview_says_what_each_would_get_and_writes_nothing(launch_app):
    campaign, (a, b) = launched_and_running(launch_app)
    states.transition(b, states.FAILED, "test: it failed")  # (ended: nothing to hold)
    db.session.commit()
    rows = bulk.filtered(campaign.experiment_id, campaign_id=campaign.id, state="all")
    said = {v.submission.id: v for v in bulk.preview("hold", rows, launch_app.config)}
    assert said[a.id].applies and "unfinished jobs held" in said[a.id].says
    assert not said[b.id].applies and "only idle or running work can be held" in said[b.id].says
    assert db.session.scalars(select(BatchAction)).all() == []
    assert bulk.filtered(campaign.experiment_id, state="active") == [a]


def test_bulk_hold_from_the_page_requests_each_and_audits_each(client, launch_app):
    campaign, rows = launched_and_running(launch_app)
    signed_in(client, "alice")
    stage = stage_of(campaign, "reco_fcl")
    page = text(client.get(f"/e/mu2e/submissions/bulk?stage={stage.id}&state=active"
                           "&action=hold"))
    assert page.count('data-applies="yes"') == 2
    token = csrf_token(client, "/e/mu2e/submissions/bulk")
    response = client.post("/e/mu2e/submissions/bulk", data={
        "csrf_token": token, "action": "hold", "state": "active",
        "submission": [str(s.id) for s in rows]})
    assert response.status_code == 302
    requested = db.session.scalars(select(BatchAction)).all()
    assert sorted(r.submission_id for r in requested) == sorted(s.id for s in rows)
    audited = db.session.scalars(select(AuditEntry.subject).where(
        AuditEntry.action == "submission hold requested")).all()
    assert sorted(audited) == sorted(f"submission {s.id}" for s in rows)
    work(launch_app)  # a worker asks the engine for each
    for row in rows:
        db.session.refresh(row)
        assert row.state == states.HELD
    flashed = text(client.get("/e/mu2e/submissions/bulk"))
    assert all(f"Submission {s.id}: hold requested by alice" in flashed for s in rows)


def test_bulk_actions_only_where_the_person_may_act(client, launch_app, member):
    campaign, rows = launched_and_running(launch_app, n=1)
    member("mu2e", "bob", "analysis")  # not the owner of alice's analysis campaign
    signed_in(client, "bob")
    page = text(client.get("/e/mu2e/submissions/bulk?state=active&action=kill"))
    assert "you may not kill submissions of" in page and 'data-applies="yes"' not in page
    token = csrf_token(client, "/e/mu2e/submissions/bulk")
    client.post("/e/mu2e/submissions/bulk", data={
        "csrf_token": token, "action": "kill", "submission": [str(rows[0].id)]})
    assert db.session.scalars(select(BatchAction)).all() == []
    assert re.search(rf"Submission {rows[0].id}: not done: acting as analysis",
                     text(client.get("/e/mu2e/submissions/bulk")))


def test_a_kill_of_launches_not_started_cancels_them_at_once(tutorial, launch_app):
    stage = stage_of(tutorial, "reco_fcl")
    from app.tracking import actions

    actions.hold_stage(stage, tutorial.owner)
    db.session.commit()
    waiting = [ask_launch(tutorial) for _ in range(2)]
    out = bulk.apply("kill", waiting, tutorial.owner, launch_app.config)
    db.session.commit()
    assert [said for _, said in out.done] == ["cancelled before it launched"] * 2
    assert out.batch_actions == [] and out.refused == []
    assert {s.state for s in db.session.scalars(select(Submission))} == {states.CANCELLED}
