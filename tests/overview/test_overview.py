"""The campaign overview, the coloured graph, what needs attention and the campaign list,
on submissions launched for real (the local engine, a real RQ worker)."""
from __future__ import annotations

import re
from datetime import datetime, timedelta

from sqlalchemy import select

from app import states
from app import work as queue
from app.campaigns import store
from app.extensions import db
from app.models import Submission
from app.overview.attention import needs_attention
from app.overview.graph import FILL
from app.overview.grid import campaign_grid, estimate_finish
from app.tracking import actions
from tests.fixtures.app import csrf_token, signed_in
from tests.fixtures.launching import work
from tests.overview.support import ask_launch, launch_failed, slow_tutorial, stage_of, text

NOON = datetime(2026, 12, 5, 12, 0)


def test_the_finish_estimate_follows_the_recent_job_rate():
    per_hour, at = estimate_finish(jobs_left=30, ended_in_window=60, now=NOON)
    assert per_hour == 60 and at == NOON + timedelta(minutes=30)
    assert estimate_finish(30, 0, NOON) == (0, None)  # nothing ended lately: no guess
    assert estimate_finish(0, 60, NOON)[1] is None  # nothing left


def test_the_grid_shows_each_stage_by_its_recent_submissions(launch_app):
    tutorial = slow_tutorial(30)  # its jobs still run as the grid is read: nothing chained
    first = ask_launch(tutorial)
    work(launch_app)  # launched for real: jobs on the local engine
    failed = launch_failed(tutorial)
    rows = {r.stage.name: r for r in campaign_grid(tutorial)}
    reco = rows["reco_fcl"]
    assert [s.id for s in reco.cells] == [first.id, failed.id]  # oldest first
    assert reco.latest_state == states.LAUNCH_FAILED and reco.failed == 1
    assert reco.last_launch == failed.created
    others = [r for name, r in rows.items() if name != "reco_fcl"]
    assert others and all(r.cells == [] and r.latest_state == "" for r in others)
    actions.hold_stage(stage_of(tutorial, "reco_fcl"), tutorial.owner)
    db.session.commit()
    assert campaign_grid(tutorial)[0].held_why == "stage reco_fcl is held"


def test_the_overview_page_colours_the_graph_and_offers_the_stage_actions(client, tutorial,
                                                                         launch_app):
    submission = ask_launch(tutorial)
    work(launch_app)
    signed_in(client, "alice")
    page = text(client.get(f"/e/mu2e/campaign/{tutorial.id}/overview"))
    assert 'class="live-stamp' in page and "updated" in page
    stage = stage_of(tutorial, "reco_fcl")
    row = re.search(rf'<tr id="stage-row-{stage.id}".*?</tr>', page, re.S).group(0)
    assert f'data-submission="{submission.id}"' in row
    # The graph: the stage's node is coloured by its state and links to its actions.
    db.session.refresh(submission)
    assert f"#stage-row-{stage.id}" in page
    assert re.search(r'<svg[^>]*class="stage-graph"', page)
    assert submission.state in page.split("</svg>")[0]  # its state is on the node
    # The stage's actions: launch and test launch through the dry run, hold, kill all and
    # recover now through the bulk preview.
    assert f"/e/mu2e/stage/{stage.id}/launch?test=0" in page
    assert f"/e/mu2e/stage/{stage.id}/launch?test=1" in page
    assert f"/e/mu2e/stage/{stage.id}/hold" in page
    assert "action=kill" in page and "action=recover" in page
    # Hold from the overview comes back to it.
    token = csrf_token(client, f"/e/mu2e/campaign/{tutorial.id}/overview")
    back = client.post(f"/e/mu2e/stage/{stage.id}/hold",
                       data={"csrf_token": token,
                             "next": f"/e/mu2e/campaign/{tutorial.id}/overview"})
    assert back.location.endswith(f"/campaign/{tutorial.id}/overview")
    live = text(client.get(f"/e/mu2e/campaign/{tutorial.id}/overview/live"))
    assert "stage reco_fcl is held" in live and f"/e/mu2e/stage/{stage.id}/release" in live


def test_the_campaign_pages_graph_is_coloured_by_state_and_polls(client, tutorial,
                                                                 launch_app):
    launch_failed(tutorial)
    signed_in(client, "alice")
    page = text(client.get(f"/e/mu2e/campaign/{tutorial.id}"))
    assert f"/e/mu2e/campaign/{tutorial.id}/graph" in page
    graph = text(client.get(f"/e/mu2e/campaign/{tutorial.id}/graph"))
    assert 'hx-trigger="sse:campaign-' in graph and 'data-live="5"' in graph  # live
    assert 'class="live-stamp' in graph
    assert "LaunchFailed · 1 failed" in graph and "not launched" in graph
    assert FILL[states.LAUNCH_FAILED] in graph  # the failed stage's node is red
    stage = stage_of(tutorial, "reco_fcl")
    assert f"/e/mu2e/stage/{stage.id}" in graph  # each node leads to the stage's actions


def test_the_coloured_graph_follows_a_state_change_at_once(client, tutorial, launch_app):
    """The drawing is reused only while the stages' states are the same: never stale."""
    signed_in(client, "alice")
    url = f"/e/mu2e/campaign/{tutorial.id}/graph"
    before = text(client.get(url))
    assert FILL[states.LAUNCH_FAILED] not in before and "LaunchFailed" not in before
    assert text(client.get(url)).split("<svg")[1] == before.split("<svg")[1]
    launch_failed(tutorial)
    after = text(client.get(url))
    assert "LaunchFailed · 1 failed" in after and FILL[states.LAUNCH_FAILED] in after


def test_someone_outside_the_experiment_sees_no_overview(client, tutorial, member):
    member("dune", "bob", "production")
    signed_in(client, "bob")
    assert client.get(f"/e/mu2e/campaign/{tutorial.id}/overview").status_code in (403, 404)
    assert client.get(f"/e/dune/campaign/{tutorial.id}/overview").status_code == 404


def test_needs_attention_lists_failures_first_and_each_goes_once_dealt_with(tutorial,
                                                                           launch_app):
    failed = launch_failed(tutorial)
    items = needs_attention(tutorial.experiment_id)
    assert [(i.kind, i.action) for i in items] == [("launch-failed", "relaunch")]
    assert "Connection refused" in items[0].detail
    stage = stage_of(tutorial, "reco_fcl")
    actions.hold_stage(stage, tutorial.owner)
    db.session.commit()
    ask_launch(tutorial)  # waits for the held stage
    kinds = [i.kind for i in needs_attention(tutorial.experiment_id)]
    assert kinds == ["launch-failed", "held-launches"]
    # Releasing the stage launches the waiting one, which deals with the LaunchFailed too.
    waiting = actions.release_stage(stage, tutorial.owner)
    db.session.commit()
    queue.queue_launches(launch_app.config, waiting)
    work(launch_app)
    assert needs_attention(tutorial.experiment_id) == []
    assert failed.state == states.LAUNCH_FAILED  # it stays, for its history


def test_a_launch_failed_is_launched_again_after_its_dry_run(client, tutorial, launch_app):
    failed = launch_failed(tutorial)
    signed_in(client, "alice")
    attention = text(client.get("/e/mu2e/attention"))
    assert f"submission {failed.id} did not launch" in attention
    assert f"/e/mu2e/submission/{failed.id}/relaunch" in attention
    summary = text(client.get(f"/e/mu2e/submission/{failed.id}/summary"))
    assert 'id="launch-again"' in summary and ">Kill<" not in summary
    preview = text(client.get(f"/e/mu2e/submission/{failed.id}/relaunch"))
    assert "fife_launch -c examples/mu2e/reco.cfg --stage reco_fcl" in preview
    assert db.session.scalars(select(Submission)).all() == [failed]  # the dry run wrote nothing
    token = csrf_token(client, f"/e/mu2e/submission/{failed.id}/relaunch")
    response = client.post(f"/e/mu2e/submission/{failed.id}/relaunch",
                           data={"csrf_token": token})
    again_id = int(re.search(r"/submission/(\d+)", response.location).group(1))
    assert again_id != failed.id
    work(launch_app)
    again = db.session.get(Submission, again_id)
    assert again.state not in (states.NEW, states.LAUNCH_FAILED)
    assert again.origin.startswith(f"launched again from {failed.id}")
    summary = text(client.get(f"/e/mu2e/submission/{failed.id}/summary"))
    assert 'id="submission-launched-again"' in summary and f">{again_id}<" in summary
    # A submission that launched is not launched again.
    assert client.post(f"/e/mu2e/submission/{again_id}/relaunch",
                       data={"csrf_token": token}).status_code == 302
    assert "only a launch that failed" in text(client.get(f"/e/mu2e/submission/{again_id}"))


def test_the_submission_actions_follow_its_state(client, tutorial, launch_app):
    submission = ask_launch(tutorial)
    signed_in(client, "alice")
    summary = text(client.get(f"/e/mu2e/submission/{submission.id}/summary"))
    assert ">Kill<" in summary and 'data-live="2"' in summary  # pushed, else polled
    states.transition(submission, states.FAILED, "test: its jobs failed")
    db.session.commit()
    summary = text(client.get(f"/e/mu2e/submission/{submission.id}/summary"))
    assert ">Kill<" not in summary and ">Hold<" not in summary
    assert 'data-live="10"' in summary  # still live: recoveries may come


def test_the_campaign_list_shows_state_and_sorts_and_filters_by_it(client, tutorial,
                                                                   launch_app):
    quiet = store.clone_campaign(tutorial, "quiet_copy", tutorial.owner)
    db.session.commit()
    launch_failed(tutorial)
    signed_in(client, "alice")
    page = text(client.get("/e/mu2e/campaigns?sort=failures"))
    names = re.findall(r'<tr data-campaign="([^"]+)" data-activity="([^"]+)"', page)
    assert names == [(tutorial.name, "needs attention"), (quiet.name, "never launched")]
    filtered = text(client.get("/e/mu2e/campaigns?activity=never+launched"))
    assert re.findall(r'<tr data-campaign="([^"]+)"', filtered) == [quiet.name]
    # The dashboard's campaigns: those that launched, the ones needing a look first.
    glance = text(client.get("/e/mu2e/campaigns/at-a-glance"))
    assert re.findall(r'<tr data-campaign="([^"]+)" data-activity="([^"]+)"', glance) == \
        [(tutorial.name, "needs attention")]
    assert 'class="live-stamp' in glance
