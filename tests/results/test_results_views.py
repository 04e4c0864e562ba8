"""The other results views: stage results, files from the catalogue, the campaign's time
bars, the calendar, and the links that lead to them."""
from __future__ import annotations

import csv
import io
import json
import re

from sqlalchemy import func, select

from app.catalog.embedded import EmbeddedCatalog
from app.extensions import db
from app.models import Submission
from app.models.logs import JobAnalysis
from tests.fixtures.app import signed_in


def text(response) -> str:
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


def test_stage_results_add_up_its_submissions(launch_app, ran_submission):
    first = ran_submission(["ok90", "oom"])
    second = ran_submission(["stagein", "ok50", "ok80"])
    alice = signed_in(launch_app.test_client(), "alice")
    stage_id = first.campaign_stage_id
    page = text(alice.get(f"/e/mu2e/results/stage/{stage_id}"))
    sentence = re.search(r'id="summary-sentence">([^<]*)<', page)[1]
    assert sentence == ("2 of 5 jobs failed: 1 stage-in error, "
                        "1 out of memory at 2.1 GB of 2.0 GB requested")
    for submission, analysed, failed in ((first, 2, 1), (second, 3, 1)):
        assert re.search(rf'data-submission="{submission.id}">.*?<td class="n">'
                         rf'{submission.jobs_total}</td><td class="n">{analysed}</td>'
                         rf'<td class="n">{failed}</td>', page, re.S)
    data = json.loads(text(alice.get(f"/e/mu2e/results/stage/{stage_id}/summary.json")))
    in_db = db.session.scalar(select(func.count()).select_from(JobAnalysis).where(
        JobAnalysis.campaign_stage_id == stage_id))
    assert data["jobs_analysed"] == in_db == 5
    rows = list(csv.DictReader(io.StringIO(
        text(alice.get(f"/e/mu2e/results/stage/{stage_id}/summary.csv")))))
    assert {r["submission"] for r in rows} == {str(first.id), str(second.id)}
    # The stage page and the submission page lead here.
    stage_page = text(alice.get(f"/e/mu2e/stage/{stage_id}"))
    assert f'href="/e/mu2e/results/stage/{stage_id}"' in stage_page
    show = text(alice.get(f"/e/mu2e/submission/{first.id}"))
    # (its results summary rides along with the submission's own: ?rides=1)
    assert f'hx-get="/e/mu2e/results/submission/{first.id}/summary?rides=1"' in show
    assert 'href="/e/mu2e/signatures"' in show  # the navigation


def test_files_consumed_produced_and_not_processed_from_the_catalogue(launch_app,
                                                                      ran_submission):
    submission = ran_submission(["ok90", "oom"])
    catalog = EmbeddedCatalog(db.session, "mu2e")
    for name in ("in.0.art", "in.1.art", "in.2.art"):
        catalog.declare_file(name, size=100)
    catalog.create_list_definition("test_input", ["in.0.art", "in.1.art", "in.2.art"])
    project = f"poms_{submission.id}"
    catalog.start_project(project, "test_input")
    catalog.deliver(project, "1.0@local", "in.0.art")
    catalog.set_file_status(project, "1.0@local", "in.0.art", "consumed")
    catalog.deliver(project, "1.1@local", "in.1.art")
    catalog.set_file_status(project, "1.1@local", "in.1.art", "failed")
    catalog.declare_file("out.0.art", size=50, parents=["in.0.art"],
                         metadata={"poms_task_id": str(submission.id)})
    catalog.add_location("out.0.art", "/pnfs/mu2e/scratch/out")
    db.session.commit()
    alice = signed_in(launch_app.test_client(), "alice")
    base = f"/e/mu2e/results/submission/{submission.id}/files"
    page = text(alice.get(base))
    assert 'id="consumed-count">1<' in page and 'id="not-processed-count">2<' in page
    assert 'id="produced-count">1<' in page and "/pnfs/mu2e/scratch/out" in page
    data = json.loads(text(alice.get(f"{base}.json")))
    assert {f["name"]: f["status"] for f in data["not_processed"]} == {
        "in.1.art": "failed", "in.2.art": "not delivered"}
    assert data["produced"] == [{"name": "out.0.art", "status": "declared", "process": "",
                                 "locations": ["/pnfs/mu2e/scratch/out"]}]
    rows = list(csv.DictReader(io.StringIO(text(alice.get(f"{base}.csv")))))
    assert sorted((r["kind"], r["name"]) for r in rows) == [
        ("consumed", "in.0.art"), ("not processed", "in.1.art"),
        ("not processed", "in.2.art"), ("produced", "out.0.art")]
    # Per stage: each submission's counts and the totals.
    stage_files = f"/e/mu2e/results/stage/{submission.campaign_stage_id}/files"
    page = text(alice.get(stage_files))
    assert re.search(r'id="stage-files-total"><th>Total</th><th></th><td class="n">3</td>'
                     r'<td class="n">1</td><td class="n">2</td><td class="n">1</td>', page)
    data = json.loads(text(alice.get(f"{stage_files}?format=json")))
    assert data["submissions"] == [{"submission": submission.id, "state": submission.state,
                                    "input": 3, "consumed": 1, "not_processed": 2,
                                    "produced": 1}]


def test_campaign_time_bars_and_calendar(launch_app, ran_submission):
    first = ran_submission(["ok90"])
    second = ran_submission(["oom"])
    alice = signed_in(launch_app.test_client(), "alice")
    campaign_id = first.stage.campaign_id
    page = text(alice.get(f"/e/mu2e/results/campaign/{campaign_id}"))
    bars = re.findall(r'<a href="/e/mu2e/results/submission/(\d+)"[^>]*><rect[^>]*'
                      r'data-state="([^"]+)"', page)
    states = {int(i): s for i, s in bars}
    db.session.expire_all()
    assert states == {s.id: s.state for s in db.session.scalars(select(Submission))}
    assert states[second.id] in ("Failed", "Completed")
    svg = alice.get(f"/e/mu2e/results/campaign/{campaign_id}?format=svg")
    assert svg.mimetype == "image/svg+xml" and svg.get_data(as_text=True).startswith("<svg")
    campaign_page = text(alice.get(f"/e/mu2e/campaign/{campaign_id}"))
    assert f'href="/e/mu2e/results/campaign/{campaign_id}"' in campaign_page

    calendar = text(alice.get("/e/mu2e/results/calendar"))
    day = first.created.date().isoformat()
    assert re.search(rf'data-date="{day}" data-count="2"', calendar)
    data = json.loads(text(alice.get("/e/mu2e/results/calendar?format=json")))
    assert data["per_day"] == {day: 2}
    listed = text(alice.get(f"/e/mu2e/results/calendar?day={day}"))
    assert listed.count('href="/e/mu2e/results/submission/') == 2
