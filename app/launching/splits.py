"""Split types: how a stage's dataset is cut across its submissions.

A stage's ``cs_split_type`` is a short text such as ``nfiles(10000)`` or
``new(window=6h,fts=30m)``. This module reads that text into a SplitType and writes it back
in canonical form. The splitting itself (which files each submission gets) will live beside
the syntax here: one function per type, registered under the same names as SYNTAX.

Meanings, as the original POMS (webservice/split_types/) gives them:

- ``none``: the whole dataset in one submission (also written ``None`` or left empty).
- ``list``: the dataset field is a comma-separated list of datasets, one per submission.
- ``mod(n)``: n slices of the dataset by stride/offset, one per submission.
- ``nfiles(n)``: consecutive slices of n files each until the dataset is used up.
- ``limitn(n)``: one submission over at most n files of the dataset.
- ``byrun(low=..,high=..)``: one submission per run number from low to high.
- ``byexistingruns``: one submission per run found among the not yet processed files.
- ``new(window=..,round=..,fts=..,localtime=..,firsttime=..,lasttime=..)``: files new since the
  last submission, in time windows; ``new_local`` is the same in local time instead of GMT.
  Values are numbers with an optional unit suffix w, d, h, m or s (default seconds).
- ``draining``: the same (draining/recursive) dataset every time.
- ``drainingn(n)``: at most n not yet delivered files each time, tracked by snapshots.
- ``stagedfiles(n)``: at most n files each time from those a staging project has consumed.
- ``multiparam``: the dataset field is a JSON list of lists; one submission per combination.
"""
from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field

# How each type takes its arguments:
#   "none":  no arguments; empty parentheses are tolerated on input, never written back
#   "count": exactly one positive integer, mod(4)
#   "keywords": optional name=value arguments from a fixed list, byrun(low=1,high=9)
_NO_ARGS = "none"
_COUNT = "count"
_KEYWORDS = "keywords"

_TIME_KEYWORDS = ("window", "round", "fts", "localtime", "firsttime", "lasttime")

# name -> (how it takes arguments, keyword names in canonical order)
SYNTAX: dict[str, tuple[str, tuple[str, ...]]] = {
    "none": (_NO_ARGS, ()),
    "list": (_NO_ARGS, ()),
    "mod": (_COUNT, ()),
    "nfiles": (_COUNT, ()),
    "limitn": (_COUNT, ()),
    "byrun": (_KEYWORDS, ("low", "high")),
    "byexistingruns": (_NO_ARGS, ()),
    "new": (_KEYWORDS, _TIME_KEYWORDS),
    "new_local": (_KEYWORDS, _TIME_KEYWORDS),
    "draining": (_NO_ARGS, ()),
    "drainingn": (_COUNT, ()),
    "stagedfiles": (_COUNT, ()),
    "multiparam": (_NO_ARGS, ()),
}

SPLIT_TYPE_NAMES = tuple(SYNTAX)

_FORM = re.compile(r"^(?P<name>[A-Za-z_][A-Za-z0-9_]*)\s*(?:\((?P<args>[^()]*)\))?$")
_POSITIVE = re.compile(r"^\+?[0-9]+$")
_DURATION = re.compile(r"^(?P<number>[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?P<unit>[wdhms]?)$")
_UNIT_SECONDS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


@dataclass(frozen=True)
class SplitType:
    """A parsed split type: its name and its arguments.

    Count types keep their number under ``n`` (``nfiles(10)`` -> params ``{"n": 10}``);
    ``byrun`` keeps ``low``/``high`` as integers; ``new``/``new_local`` keep each given
    argument as written (``{"window": "6h"}``), since the unit suffix is part of the value.
    """

    name: str
    params: dict = field(default_factory=dict, hash=False)

    def __str__(self) -> str:
        kind, keywords = SYNTAX.get(self.name, (_NO_ARGS, ()))
        if kind == _COUNT:
            return f"{self.name}({self.params['n']})"
        if kind == _KEYWORDS and self.params:
            # No space after the comma: the original splits its arguments on "," alone.
            args = ",".join(f"{k}={self.params[k]}" for k in keywords if k in self.params)
            return f"{self.name}({args})"
        return self.name

    @property
    def is_none(self) -> bool:
        return self.name == "none"


def duration_seconds(value: str) -> float:
    """Seconds meant by a ``new(...)`` argument such as ``6h`` or ``1497934800``."""
    match = _DURATION.match(value)
    if not match:
        raise ValueError(f"'{value}' is not a number with an optional unit w, d, h, m or s")
    return float(match["number"]) * _UNIT_SECONDS[match["unit"]]


def parse_split_type(text: str | None) -> SplitType:
    """Read a cs_split_type text; raise ValueError saying what is wrong with it."""
    text = (text or "").strip()
    if text in ("", "None", "none"):
        return SplitType("none")
    match = _FORM.match(text)
    if not match:
        raise ValueError(
            f"'{text}' is not a split type: write a name such as nfiles, optionally with "
            "arguments in parentheses, e.g. nfiles(100) or byrun(low=1,high=10)"
        )
    name, args = match["name"], match["args"]
    if name not in SYNTAX:
        close = difflib.get_close_matches(name, SPLIT_TYPE_NAMES, n=1)
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        raise ValueError(
            f"unknown split type '{name}'{hint}; known types are {', '.join(SPLIT_TYPE_NAMES)}"
        )
    kind, keywords = SYNTAX[name]
    arg_list = [] if args is None or not args.strip() else [a.strip() for a in args.split(",")]

    if kind == _NO_ARGS:
        if arg_list:
            raise ValueError(f"split type '{name}' takes no arguments, but was given '{args}'")
        return SplitType(name)

    if kind == _COUNT:
        if len(arg_list) != 1:
            got = "none" if not arg_list else f"{len(arg_list)}"
            raise ValueError(
                f"split type '{name}' needs exactly one positive whole number, "
                f"as in {name}(100); got {got}"
            )
        return SplitType(name, {"n": _positive(name, arg_list[0])})

    params: dict = {}
    for arg in arg_list:
        key, equals, value = arg.partition("=")
        key, value = key.strip(), value.strip()
        if not equals or not key:
            raise ValueError(
                f"split type '{name}' takes name=value arguments "
                f"({', '.join(keywords)}); '{arg}' is not one"
            )
        if key not in keywords:
            close = difflib.get_close_matches(key, keywords, n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            raise ValueError(
                f"split type '{name}' has no argument '{key}'{hint}; "
                f"it takes {', '.join(keywords)}"
            )
        if key in params:
            raise ValueError(f"split type '{name}' is given '{key}' twice")
        if not value:
            raise ValueError(f"split type '{name}': '{key}=' needs a value")
        params[key] = _keyword_value(name, key, value)

    if name == "byrun" and "low" in params and "high" in params:
        if params["low"] > params["high"]:
            raise ValueError(
                f"split type 'byrun': low={params['low']} is above high={params['high']}"
            )
    return SplitType(name, params)


def _positive(name: str, value: str) -> int:
    if not _POSITIVE.match(value) or int(value) < 1:
        raise ValueError(f"split type '{name}' needs a positive whole number, not '{value}'")
    return int(value)


def _keyword_value(name: str, key: str, value: str):
    if name == "byrun":
        if not _POSITIVE.match(value):
            raise ValueError(
                f"split type 'byrun': {key} must be a run number (a whole number), not '{value}'"
            )
        return int(value)
    # new / new_local
    try:
        seconds = duration_seconds(value)
    except ValueError as err:
        raise ValueError(f"split type '{name}': {key}: {err}") from None
    if key in ("window", "round") and seconds < 1:
        raise ValueError(f"split type '{name}': {key} must be at least one second, not '{value}'")
    return value
