"""The SQL aggregates say what the Python summary says over the same analyses (the issue's
400-job example), the SVG plots escape their text, and the log window stays bounded."""
from __future__ import annotations

import dataclasses
import re
import tracemalloc
from datetime import date, datetime

import pytest
from sqlalchemy import update

from app.extensions import db
from app.logs.analysis import analyze_log
from app.logs.joblog import log_window
from app.logs.jobs import row_for
from app.logs.starting_set import starting_signatures
from app.logs.summary import summarize
from app.models import Job, Submission
from app.models.logs import JobAnalysis
from app.results import svg
from app.results.aggregate import results_for
from app.results.cache import cache_for
from app.results.jobtable import JobFilter, job_page
from tests.fixtures.launching import import_tutorial
from tests.logs.logfiles import FAILURES, clean_log, condor_event_log


@pytest.fixture
def four_hundred(app, tmp_path):
    """400 analysed jobs of one submission: 388 clean, 9 out of memory, 3 stage-in errors
    at one site; returns (submission, the LogAnalysis values)."""
    signatures = starting_signatures()

    def analyze(name, text):
        path = tmp_path / name
        path.write_text(text)
        return analyze_log(path, signatures=signatures)

    clean = analyze("clean.log", clean_log())
    oom = analyze("oom.log", condor_event_log("(0) Abnormal termination (signal 9)", usage=2150)
                  + "\tJob has gone over cgroup memory limit of 2048 megabytes. Peak usage: "
                    "2150 megabytes.\n")
    stage_in = dataclasses.replace(analyze("in.log", FAILURES["art-input-unreadable"][0]),
                                   site="UCSD")
    analyses = [clean] * 388 + [dataclasses.replace(oom, memory_requested_mb=2048)] * 9 \
        + [stage_in] * 3
    campaign = import_tutorial()
    stage = campaign.stages[0]
    submission = Submission(campaign_stage_id=stage.id, experiment_id=campaign.experiment_id)
    db.session.add(submission)
    db.session.flush()
    for n, analysis in enumerate(analyses):
        job = Job(submission_id=submission.id, batch_job_id=f"7.{n}@local",
                  state="Completed" if analysis.succeeded else "Failed",
                  exit_code=analysis.exit_code)
        db.session.add(job)
        db.session.flush()
        db.session.add(row_for(job, submission, analysis, True))
    db.session.commit()
    return submission, analyses


def test_sql_aggregates_agree_with_the_python_summary(four_hundred):
    submission, analyses = four_hundred
    expected = summarize(analyses)
    got = results_for(submission_ids=[submission.id])
    assert got.summary.sentence == expected.sentence == (
        "12 of 400 jobs failed: 9 out of memory at 2.1 GB of 2.0 GB requested, "
        "3 stage-in errors at one site")
    assert (got.summary.jobs, got.summary.succeeded, got.summary.failed) == (400, 388, 12)
    assert got.summary.by_exit_code == expected.by_exit_code
    assert [(c.name, c.count) for c in got.summary.by_signature] == [
        (c.name, c.count) for c in expected.by_signature]
    assert got.summary.cpu_efficiency == pytest.approx(expected.cpu_efficiency)
    assert got.histogram == expected.efficiency_deciles
    assert got.summary.over_request == expected.over_request
    assert results_for(stage_id=submission.campaign_stage_id).summary.sentence == \
        expected.sentence


def test_aggregates_are_computed_once_per_change_of_the_analyses(four_hundred):
    submission, analyses = four_hundred
    cache = cache_for(db.engine)
    first = results_for(submission_ids=[submission.id])
    computed = cache.computed
    again = results_for(submission_ids=[submission.id])
    assert cache.computed == computed and again == first  # nothing changed: kept
    again.summary.jobs = -1  # what a caller gets is its own
    assert results_for(submission_ids=[submission.id]).summary.jobs == 400

    # A job analysed (a new row): counted on the next ask, for the submission and the stage.
    job = Job(submission_id=submission.id, batch_job_id="7.400@local", state="Failed",
              exit_code=137)
    db.session.add(job)
    db.session.flush()
    db.session.add(row_for(job, submission, analyses[-4], True))  # out of memory
    db.session.commit()
    grown = results_for(submission_ids=[submission.id])
    assert (grown.summary.jobs, grown.summary.failed) == (401, 13)
    assert results_for(stage_id=submission.campaign_stage_id).summary.jobs == 401
    # A row changed in place (as a re-labelling does), by the ORM and by a bulk UPDATE.
    row = db.session.get(JobAnalysis, job.id)
    row.signature, row.category = "Renamed", "other"
    db.session.commit()
    assert "Renamed" in [c.name for c in results_for(
        submission_ids=[submission.id]).summary.by_signature]
    db.session.execute(update(JobAnalysis).where(JobAnalysis.job_id == job.id)
                       .values(signature="Renamed again"))
    db.session.commit()
    assert "Renamed again" in [c.name for c in results_for(
        stage_id=submission.campaign_stage_id).summary.by_signature]


def test_job_table_pages_of_100(four_hundred):
    submission, _ = four_hundred
    first = job_page(submission.id, JobFilter())
    assert (first.total, first.pages, len(first.rows)) == (400, 4, 100)
    last = job_page(submission.id, JobFilter(page=4))
    assert [j.batch_job_id for j, _ in last.rows][-1] == "7.399@local"
    beyond = job_page(submission.id, JobFilter(page=99))
    assert beyond.page == 4
    oom = job_page(submission.id, JobFilter(signature="Out of memory", exit_code="137"))
    assert oom.total == 9


def test_plots_escape_every_name():
    evil = '<script>alert("x")</script>'
    bars = [svg.Bar(label=evil, start=datetime(2026, 1, 1), end=datetime(2026, 1, 2), state=evil,
                    href='/x?a=1&b="2"', tip=evil)]
    for drawing in (svg.time_bars(bars), svg.efficiency_histogram([1, 2], title=evil),
                    svg.memory_plot([(2000.0, 2100.0, 3)], [2000.0], title=evil)):
        assert "<script" not in drawing and "&lt;script&gt;" in drawing
        assert drawing.startswith('<svg xmlns="http://www.w3.org/2000/svg"')
    assert 'href="/x?a=1&amp;b=&quot;2&quot;"' in svg.time_bars(bars)
    cal = svg.calendar({date(2026, 11, 20): 3}, today=date(2026, 11, 26))
    assert re.search(r'data-date="2026-11-20" data-count="3"', cal)


def test_log_window_is_bounded_whatever_the_size_of_the_log(tmp_path):
    path = tmp_path / "big.log"
    line = b"Begin processing the record. run: 1210 subRun: 12 event: 123456789 pad pad pad\n"
    with open(path, "wb") as fh:
        block = line * 10_000
        for _ in range(40):  # 400,000 lines, ~32 MB
            fh.write(block)
        fh.write(b"the <b>matched</b> line\n")
        fh.write(block)
    tracemalloc.start()
    with open(path, "rb") as stream:
        window = log_window(stream, 400_001, before=40, after=60)
    _current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert window.first == 399_961 and len(window.lines) == 101
    assert window.lines[40] == "the <b>matched</b> line"
    assert window.more_before and window.more_after
    assert peak < 8 * 1024 * 1024, peak
