"""What a failure signature may be, and that narrowing the search by literals never loses
a match a plain line-by-line search would find."""
from __future__ import annotations

import io
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.logs.analysis import analyze_log
from app.logs.signatures import (
    LINE_CAP,
    InvalidSignature,
    Signature,
    check_fields,
    parse_exit_codes,
    required_literals,
    validate_pattern,
)
from app.logs.starting_set import STARTING_SET, starting_signatures


@pytest.mark.parametrize("pattern, words", [
    ("(unclosed", "missing ), unterminated subpattern at position 0"),
    ("x" * 501, "the limit is 500"),
    (r"(x)\1", "back-references"),
    (r"(?P<a>x)(?P=a)", "back-references"),
    ("error(?= in)", "look-ahead and look-behind"),
    ("(?<!no )error", "negative look-ahead and look-behind"),
    ("(x)?(?(1)y|z)", "conditional groups"),
    ("(?>ab|a)c", "atomic groups"),
    ("a*+b", "possessive repeats"),
    ("a*", "matches an empty line"),
    ("^", "matches an empty line"),
    ("one\ntwo", "one line"),
])
def test_dangerous_or_broken_patterns_are_refused_with_a_reason(pattern, words):
    with pytest.raises(InvalidSignature) as refused:
        validate_pattern(pattern)
    assert words in str(refused.value)


@pytest.mark.parametrize("key, name, pattern, category, codes, action", STARTING_SET,
                         ids=[row[0] for row in STARTING_SET])
def test_the_starting_set_passes_its_own_checks(key, name, pattern, category, codes, action):
    assert check_fields(name, pattern, category, action, codes)[0] == name


def test_fields_are_checked():
    with pytest.raises(InvalidSignature, match="name"):
        check_fields(" ", "x+y", "memory", "", "")
    with pytest.raises(InvalidSignature, match="not one of"):
        check_fields("n", "xyz", "weather", "", "")
    with pytest.raises(InvalidSignature, match="0 to 255"):
        check_fields("n", "", "memory", "", "137, 300")
    with pytest.raises(InvalidSignature, match="regular expression, exit codes, or both"):
        check_fields("n", "", "memory", "", "")
    assert check_fields("n", "", "memory", "", "137 124,137") == ("n", "", "memory", "",
                                                                    (137, 124))
    assert parse_exit_codes("") == ()


def test_literals_are_lowered_and_shortest_kept():
    literals, icase = required_literals(r"(?i)proxy (?:has )?expired|expired proxy")
    assert icase and literals == (b"expired",)
    assert required_literals(r"\d+") == (None, False)  # nothing to narrow by
    assert required_literals(r"ab|cdef") == (None, False)  # "ab" is too short


def naive_first_line(pattern: str, text: str) -> int | None:
    rx = re.compile(pattern)
    for number, line in enumerate(text.split("\n"), 1):
        if rx.search(line.rstrip("\r"), 0, LINE_CAP):
            return number
    return None


WORDS = ["Killed", "killed by signal 9", "std::bad_alloc", "---- ProductNotFound BEGIN",
         "PROXY HAS EXPIRED", "proxy has expired", "Transfer input files failure", "ifdh cp",
         "failed", "No space left on device", "Memory", "signal 11", "caught signal 11",
         "Ä", "K", "é", "\u212a", " ", "x", "0", "BEGIN", "----"]
lines = st.lists(st.sampled_from(WORDS), max_size=5).map(" ".join)


@settings(max_examples=150)
@given(st.lists(lines, min_size=1, max_size=30), st.sampled_from(
    [s for s in starting_signatures()]
    + [Signature.build("user", r"(?i)k\w+ed", "site"),
       Signature.build("user2", r"^Killed$", "site"),
       Signature.build("user3", r"(?i)ä|é", "site")]))
def test_narrowed_search_finds_the_same_first_line_as_a_plain_one(log_lines, signature):
    text = "\n".join(log_lines) + "\n"
    result = analyze_log(io.BytesIO(text.encode()), signatures=[signature])
    expected = naive_first_line(signature.pattern, text)
    assert (result.signature.line if result.signature else None) == expected
