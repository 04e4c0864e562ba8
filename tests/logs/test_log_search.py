"""Search within one job log: the lines holding a text, counted as the analysis counts them."""
from __future__ import annotations

import io

import pytest

from app.logs.analysis import analyze_log
from app.logs.logsearch import MAX_QUERY, BadQuery, marked, search_log
from tests.logs.logfiles import FAILURES, art_events, clean_log, wrapper_end


def stream(text: str) -> io.BytesIO:
    return io.BytesIO(text.encode())


def test_the_lines_holding_the_text_whatever_its_case_numbered_as_the_analysis_numbers():
    text, _piece = FAILURES["out-of-memory"]
    found = search_log(stream(text), "STD::BAD_ALLOC")
    lines = text.splitlines()
    assert found.lines == [n for n, line in enumerate(lines, 1) if "std::bad_alloc" in line]
    assert found.matched == 2 and not found.truncated
    assert found.total_lines == len(lines)
    # The signature's matched line is one of them: a search and the analysis agree.
    assert analyze_log(stream(text)).signature.line == found.lines[0]


def test_many_matches_keep_the_first_lines_and_say_how_many_in_all():
    text = art_events(1, 5000) + wrapper_end(0)
    found = search_log(stream(text), "begin processing", max_hits=100)
    holding = [n for n, line in enumerate(text.splitlines(), 1) if "Begin processing" in line]
    assert found.matched == 5000 and found.lines == holding[:100] and found.truncated
    assert search_log(stream(text), "no such text").lines == []


def test_non_ascii_text_is_found_and_a_huge_line_does_not_break_the_count():
    text = "x" * 300_000 + "\nDétecteur: échec de la lecture\nfin\n"
    found = search_log(stream(text), "ÉCHEC")
    assert found.lines == [2] and found.total_lines == 3


@pytest.mark.parametrize("query,reason", [
    ("", "type some text"), ("   ", "type some text"), ("x" * (MAX_QUERY + 1), "at most"),
    ("a\nb", "one line"),
])
def test_a_search_that_cannot_run_says_why(query, reason):
    with pytest.raises(BadQuery, match=reason):
        search_log(stream(clean_log()), query)


def test_marked_cuts_a_line_around_every_match_keeping_its_case():
    assert marked("Out of MEMORY: memory limit", "memory") == [
        ("Out of ", False), ("MEMORY", True), (": ", False), ("memory", True),
        (" limit", False)]
    assert marked("<script>", "") == [("<script>", False)]
    assert "".join(piece for piece, _ in marked("abcabc", "c")) == "abcabc"
