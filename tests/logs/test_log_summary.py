"""Summaries of many jobs' analyses, and the memory a recovery asks for."""
from __future__ import annotations

import dataclasses

import pytest

from app.logs.analysis import analyze_log
from app.logs.recovery import raised_memory_request
from app.logs.starting_set import starting_signatures
from app.logs.summary import summarize
from tests.logs.logfiles import FAILURES, clean_log, condor_event_log


@pytest.fixture(scope="module")
def analyses(tmp_path_factory):
    """400 jobs from real logs: 388 clean, 9 out of memory, 3 stage-in errors at one site."""
    tmp = tmp_path_factory.mktemp("logs")
    signatures = starting_signatures()

    def analyze(name, text, exit_code=None):
        path = tmp / name
        path.write_text(text)
        return analyze_log(path, exit_code=exit_code, signatures=signatures)

    clean = analyze("clean.log", clean_log())
    oom_text = (condor_event_log("(0) Abnormal termination (signal 9)", usage=2150)
                + "\tJob has gone over cgroup memory limit of 2048 megabytes. Peak usage: 2150 "
                  "megabytes.\n")
    oom = analyze("oom.log", oom_text)
    stage_in = analyze("in.log", FAILURES["art-input-unreadable"][0])
    return ([clean] * 388 + [dataclasses.replace(oom, memory_requested_mb=2048)] * 9
            + [dataclasses.replace(stage_in, site="UCSD")] * 3)


def test_the_sentence_the_submission_page_shows(analyses):
    summary = summarize(analyses)
    assert summary.sentence == ("12 of 400 jobs failed: 9 out of memory at 2.1 GB of 2.0 GB "
                                "requested, 3 stage-in errors at one site")
    assert (summary.jobs, summary.succeeded, summary.failed) == (400, 388, 12)
    assert summary.by_exit_code == {0: 388, 20: 3, 137: 9}
    assert [(s.name, s.count) for s in summary.by_signature] == [
        ("Out of memory", 9), ("Input file could not be read", 3)]
    assert summary.by_signature[1].sites == {"UCSD": 3}
    assert summary.by_category == {"memory": 9, "stage-in": 3}


def test_cpu_efficiency_and_memory_requested_against_used(analyses):
    summary = summarize(analyses, memory_requested_mb=2048)
    clean, oom = analyses[0], analyses[388]
    cpu = 388 * clean.cpu_time_s + 9 * oom.cpu_time_s
    wall = 388 * clean.wall_time_s + 9 * oom.wall_time_s
    assert summary.cpu_efficiency == pytest.approx(cpu / wall)
    assert sum(summary.efficiency_deciles) == 397  # the stage-in failures have no times
    assert summary.efficiency_deciles[9] == 388 and summary.efficiency_deciles[8] == 9
    assert summary.memory_requested_mb == 2048
    assert summary.memory_used_max_mb == 2150 and summary.over_request == 9


def test_sentences_for_no_jobs_all_good_and_unexplained_failures(analyses):
    assert summarize([]).sentence == "No job has finished yet."
    assert summarize(analyses[:5]).sentence == "All 5 jobs succeeded."
    unexplained = dataclasses.replace(analyses[0], exit_code=1)
    mixed = summarize([analyses[0], unexplained, analyses[-1]])
    assert mixed.sentence == ("2 of 3 jobs failed: 1 stage-in error, "
                              "1 with no known signature")


def test_memory_recovery_raises_by_the_factor_up_to_the_cap():
    raised = raised_memory_request(2000, 1.5, 8000)
    assert (raised.request_mb, raised.raised, raised.capped) == (3000, True, False)
    # The peak seen among the failures is the base when it is above the request.
    assert raised_memory_request(2000, 1.5, 8000, peak_mb=2150).request_mb == 3225
    capped = raised_memory_request(6000, 1.5, 8000)
    assert (capped.request_mb, capped.raised, capped.capped) == (8000, True, True)
    stuck = raised_memory_request(8000, 1.5, 8000)
    assert (stuck.request_mb, stuck.raised) == (8000, False)
    assert "cannot help" in stuck.reason
    with pytest.raises(ValueError, match="above 1"):
        raised_memory_request(2000, 1.0, 8000)
