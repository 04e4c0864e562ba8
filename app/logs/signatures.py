r"""Failure signatures: what a known failure looks like in a job log, and the checks a pattern
must pass (the starting set is in starting_set.py).

A signature is a regular expression matched against one log line at a time (the first
LINE_CAP characters of each line), and optionally a list of exit codes. The analysis of a
job reports one signature, chosen in two tiers:

  1. of the signatures whose pattern matches some line, the root cause: the best-ranked
     category (precedence.py: authentication, memory, timeout, site, stage-in, software,
     stage-out), then table order; with the first line it matches; else
  2. the first signature, in that order, listing the job's exit code (no line).

So "out of memory / exit 137" catches a job killed at 137 with nothing in its log, while a
job whose log says why it died is named by what its log says.

Patterns are user input run over logs of hundreds of MB, so they run on RE2 (google-re2), a
linear-time engine: no pattern can backtrack, whatever it nests, and a line costs time in
proportion to its length (at most LINE_CAP characters are looked at). Patterns are written
in Python's syntax; `validate_pattern` refuses, each with its reason: patterns over
MAX_PATTERN characters, line breaks, what RE2 cannot run (back-references, look-around,
conditional and atomic groups, possessive repeats), and patterns that match an empty line
(they would match every log). One difference from Python's `re` remains: RE2's `\w`, `\d`,
`\s` and `\b` mean ASCII only (`[^\x00-\x7f]` matches any other character).

A pattern stored before this rule (the database keeps it as typed) is checked again each
time the analysis loads the table: one RE2 cannot run is skipped, with a warning in the
log, and its row on the signatures page says why until someone edits it
(app/logs/store.py).

Plain Python: no Flask, no database (app/logs/store.py keeps them per experiment).
"""
from __future__ import annotations

import re
import re._constants as sre_c
import re._parser as sre_parse
from dataclasses import dataclass, field

import re2

CATEGORIES = ("memory", "stage-in", "stage-out", "authentication", "software", "site", "timeout")
MAX_PATTERN = 500  # characters
MAX_NAME = 128
MAX_ACTION = 2000
LINE_CAP = 4096  # characters of each line a pattern sees
# A literal shorter than this is too common to narrow the search (see analysis.py).
MIN_LITERAL = 3


class InvalidSignature(ValueError):
    """A signature that cannot be saved, said so a person can fix it."""


@dataclass(frozen=True)
class Signature:
    """One signature as the analysis uses it (compiled once, shared across jobs)."""

    name: str
    pattern: str
    category: str
    action: str = ""
    exit_codes: tuple[int, ...] = ()
    id: int | None = None  # the database row, when it came from one
    key: str | None = None  # the starting-set key, when it came from the starting set
    compiled: Matcher | None = field(default=None, compare=False, repr=False)
    # Lower-cased ASCII byte strings one of which every match contains (None: no such set,
    # every line must be tried) and whether the pattern ignores case.
    literals: tuple[bytes, ...] | None = field(default=None, compare=False, repr=False)
    ignore_case: bool = field(default=False, compare=False, repr=False)

    @classmethod
    def build(cls, name, pattern, category, action="", exit_codes=(), id=None,
              key=None) -> Signature:
        compiled = validate_pattern(pattern) if pattern else None
        literals, icase = required_literals(pattern) if pattern else (None, False)
        return cls(name=name, pattern=pattern, category=category, action=action,
                   exit_codes=tuple(exit_codes), id=id, key=key, compiled=compiled,
                   literals=literals, ignore_case=icase)


# --- validation ----------------------------------------------------------------------


def parse_exit_codes(text: str) -> tuple[int, ...]:
    """'137, 124' -> (137, 124); exit codes are 0..255."""
    codes = []
    for part in re.split(r"[\s,]+", (text or "").strip()):
        if not part:
            continue
        if not part.isdigit() or not 0 <= int(part) <= 255:
            raise InvalidSignature(f"exit codes are numbers from 0 to 255, not {part!r}")
        if int(part) not in codes:
            codes.append(int(part))
    return tuple(codes)


def check_fields(name: str, pattern: str, category: str, action: str,
                 exit_codes: str) -> tuple[str, str, str, str, tuple[int, ...]]:
    """Every field of a signature, checked; returns them cleaned. Raises InvalidSignature."""
    name = (name or "").strip()
    pattern = (pattern or "").strip("\r\n")
    action = (action or "").strip()
    if not name:
        raise InvalidSignature("give the signature a name")
    if len(name) > MAX_NAME:
        raise InvalidSignature(f"the name is longer than {MAX_NAME} characters")
    if category not in CATEGORIES:
        raise InvalidSignature(
            f"category {category!r} is not one of {', '.join(CATEGORIES)}"
        )
    if len(action) > MAX_ACTION:
        raise InvalidSignature(f"the suggested action is longer than {MAX_ACTION} characters")
    codes = parse_exit_codes(exit_codes)
    if not pattern and not codes:
        raise InvalidSignature("give a regular expression, exit codes, or both")
    if pattern:
        validate_pattern(pattern)
    return name, pattern, category, action, codes


def validate_pattern(pattern: str) -> Matcher:
    """Compile a user's pattern for the linear-time engine. Raises InvalidSignature."""
    if len(pattern) > MAX_PATTERN:
        raise InvalidSignature(
            f"the regular expression is {len(pattern)} characters; the limit is {MAX_PATTERN}"
        )
    if "\n" in pattern or "\r" in pattern:
        raise InvalidSignature("a signature matches one line: it cannot contain a line break")
    try:
        tree = sre_parse.parse(pattern)
    except re.error as err:
        where = f" at position {err.pos}" if err.pos is not None else ""
        raise InvalidSignature(f"not a regular expression: {err.msg}{where}") from None
    except (RecursionError, OverflowError):
        raise InvalidSignature("not a regular expression this service can run") from None
    _refuse_what_re2_cannot_run(tree.data)
    try:
        compiled = re2.compile(_for_re2(pattern), _RE2_OPTIONS)
    except re2.error as err:
        reason = err.args[0].decode("utf-8", "replace") if err.args and isinstance(
            err.args[0], bytes) else str(err)
        raise InvalidSignature(
            f"not a regular expression the linear-time engine (RE2) can run: {reason}"
        ) from None
    matcher = Matcher(compiled)
    if matcher.search("") is not None:
        raise InvalidSignature(
            "the regular expression matches an empty line, so it would match every log"
        )
    return matcher


class Matcher:
    """A compiled signature pattern: `search(line)` in time linear in the line (RE2), on
    the first LINE_CAP characters of the line, whatever the pattern."""

    __slots__ = ("_regexp",)

    def __init__(self, regexp):
        self._regexp = regexp

    def search(self, line: str, pos: int = 0, endpos: int = LINE_CAP):
        # Cutting first keeps RE2's UTF-8 encoding of the line to the part it may look at.
        return self._regexp.search(line[:min(endpos, LINE_CAP)], pos)


_RE2_OPTIONS = re2.Options()
_RE2_OPTIONS.log_errors = False  # a refused pattern is said to its author, not to stderr

_NOT_IN_RE2 = {
    sre_c.GROUPREF: "back-references (\\1, (?P=name))",
    sre_c.GROUPREF_EXISTS: "conditional groups ((?(1)...))",
    sre_c.ASSERT: "look-ahead and look-behind ((?=...), (?<=...))",
    sre_c.ASSERT_NOT: "negative look-ahead and look-behind ((?!...), (?<!...))",
    sre_c.ATOMIC_GROUP: "atomic groups ((?>...))",
    sre_c.POSSESSIVE_REPEAT: "possessive repeats (a*+, a++)",
}


def _refuse_what_re2_cannot_run(items) -> None:
    for op, av in items:
        if op in _NOT_IN_RE2:
            raise InvalidSignature(
                f"{_NOT_IN_RE2[op]} are not supported: signatures run on a linear-time "
                "engine (RE2), so one pattern can never stall the log analysis; rewrite the "
                "pattern without them"
            )
        if op in (sre_c.MAX_REPEAT, sre_c.MIN_REPEAT):
            _refuse_what_re2_cannot_run(av[2].data)
        elif op == sre_c.SUBPATTERN:
            _refuse_what_re2_cannot_run(av[3].data)
        elif op == sre_c.BRANCH:
            for branch in av[1]:
                _refuse_what_re2_cannot_run(branch.data)


# Python's end-of-text \Z is RE2's \z (an escaped backslash before a Z is left alone).
_END_OF_TEXT = re.compile(r"(?<!\\)((?:\\\\)*)\\Z")


def _for_re2(pattern: str) -> str:
    return _END_OF_TEXT.sub(lambda m: m.group(1) + "\\z", pattern)


# --- required literals (to narrow the search) ------------------------------------------

_REPEATS = {sre_c.MAX_REPEAT, sre_c.MIN_REPEAT, sre_c.POSSESSIVE_REPEAT}


def required_literals(pattern: str) -> tuple[tuple[bytes, ...] | None, bool]:
    """Strings one of which every match must contain, lower-cased (ASCII) as bytes.

    Returns (literals or None, ignores_case). None means no useful set exists and every
    line must be tried.
    """
    try:
        tree = sre_parse.parse(pattern)
    except re.error:
        return None, False
    icase = bool(tree.state.flags & sre_c.SRE_FLAG_IGNORECASE) or _scoped_icase(tree.data)
    found = _literals(tree.data)
    if not found or min(len(s) for s in found) < MIN_LITERAL:
        return None, icase
    if icase and not all(text.isascii() for text in found):
        return None, icase  # Unicode case folding: no byte-level shortcut
    lowered = {text.encode("utf-8").lower() for text in found}
    # A literal that contains another is found wherever that one is: keep the shorter.
    kept = sorted(b for b in lowered if not any(a != b and a in b for a in lowered))
    return tuple(kept), icase


def _scoped_icase(items) -> bool:
    for op, av in items:
        if op == sre_c.SUBPATTERN:
            if av[1] & sre_c.SRE_FLAG_IGNORECASE or _scoped_icase(av[3].data):
                return True
        elif op in _REPEATS and _scoped_icase(av[2].data):
            return True
        elif op == sre_c.BRANCH and any(_scoped_icase(b.data) for b in av[1]):
            return True
        elif op in (sre_c.ASSERT, sre_c.ASSERT_NOT) and _scoped_icase(av[1].data):
            return True
        elif op == sre_c.ATOMIC_GROUP and _scoped_icase(av.data):
            return True
    return False


def _score(found: set[str] | None) -> tuple[int, int]:
    if not found:
        return (-1, 0)
    return (min(len(s) for s in found), -len(found))


def _literals(items) -> set[str] | None:
    """The best set of strings one of which a match of this sequence must contain."""
    candidates: list[set[str]] = []
    run: list[str] = []

    def close_run():
        if run:
            candidates.append({"".join(run)})
            run.clear()

    for op, av in items:
        if op == sre_c.LITERAL:
            run.append(chr(av))
            continue
        close_run()
        sub = None
        if op == sre_c.SUBPATTERN:
            sub = _literals(av[3].data)
        elif op == sre_c.ATOMIC_GROUP:
            sub = _literals(av.data)
        elif op in _REPEATS and av[0] >= 1:
            sub = _literals(av[2].data)
        elif op == sre_c.BRANCH:
            parts = [_literals(b.data) for b in av[1]]
            if all(parts):
                sub = set().union(*parts)
        if sub:
            candidates.append(sub)
    close_run()
    if not candidates:
        return None
    return max(candidates, key=_score)
