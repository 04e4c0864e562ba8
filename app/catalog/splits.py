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
- ``byrun(low=..,high=..)``: one submission per run number from low up to, not including,
  high (defaults 1 and 999999), as the original's bounds.
- ``byexistingruns``: one submission per run.subrun found among the not yet processed files
  (``run_number 1234.0001``, as the original).
- ``new(window=..,round=..,fts=..,localtime=..,firsttime=..,lasttime=..)``: files new since the
  last submission, in time windows of the files' end_time; ``new_local`` is the same in
  local time instead of GMT, with the default arguments: as in the original, it ignores any
  arguments it is given (and with arguments it also keeps GMT). Values are numbers with an
  optional unit suffix w, d, h, m or s (default seconds).
- ``draining``: the same (draining/recursive) dataset every time.
- ``drainingn(n)``: at most n not yet delivered files each time, tracked by snapshots.
- ``stagedfiles(n)``: at most n files each time from those a staging project has consumed.
- ``multiparam``: the dataset field is a JSON list of lists; one submission per combination.
"""
from __future__ import annotations

import difflib
import json
import re
import time
from dataclasses import dataclass, field, replace
from datetime import datetime

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

    # byrun with low >= high is accepted, as the original accepts it: it has no run to
    # launch, which its first launch's dry run says.
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


# --- splitting: which files each submission gets -----------------------------------------
#
# Each split type is a plain function of (split type, the stage's dataset field, the
# splitter's stored state, the catalogue, now). `next_slice` returns either a Slice (the
# dataset for the next launch and the state after it) or Done (the splits ran out; `final`
# False means more may come later: new files, a later time window). The launcher stores
# Slice.state (app/catalog/split_state.py keeps it in stage_split_state) only once the
# launch is recorded. `preview` shows the next n slices and writes nothing; `reset` starts
# again. Definitions are named as the original names them (dataset_slice3_files100, ...).


@dataclass(frozen=True)
class SplitState:
    """Where a splitter stands.

    position: the counter (list, mod, nfiles, byrun, multiparam), the end of the last time
        window in epoch seconds (new), or the snapshot id of everything handed out so far
        (drainingn, stagedfiles, byexistingruns); None before the first slice.
    snapshots: the snapshot of each slice handed out (drainingn, stagedfiles, byexistingruns).
    excluded: during a preview only, dimensions of what the previewed slices took.
    """

    position: object = None
    snapshots: tuple[int, ...] = ()
    excluded: tuple[str, ...] = ()

    def to_json(self) -> dict:
        return {"position": self.position, "snapshots": list(self.snapshots)}

    @classmethod
    def from_json(cls, data: dict | None) -> SplitState:
        data = data or {}
        return cls(data.get("position"), tuple(data.get("snapshots") or ()))


@dataclass(frozen=True)
class Slice:
    """The next launch's input: `dataset` is what %(dataset)s becomes (a definition name, or
    the list/multiparam item); `dims` the definition's dimensions when one was made."""

    dataset: str
    state: SplitState
    dims: str | None = None
    description: str = ""


@dataclass(frozen=True)
class Done:
    reason: str
    final: bool = True


_BARE = re.compile(r"^[A-Za-z0-9_.\-+@~:#]+$")


def _name(dataset: str) -> str:
    dataset = dataset.strip()
    if not dataset:
        raise ValueError("this split type needs a dataset (a definition name) in the stage")
    return dataset if _BARE.match(dataset) else "'" + dataset.replace("'", "") + "'"


def _defname(dataset: str) -> str:
    return f"defname: {_name(dataset)}"


def _minus(state: SplitState) -> str:
    parts = []
    if state.position:
        parts.append(f"snapshot_id {int(state.position)}")
    parts.extend(state.excluded)
    return "".join(f" minus ({p})" for p in parts)


def _define(catalog, name: str, dims: str, commit: bool) -> None:
    if commit:
        catalog.create_definition(name, dims)


def _count(catalog, name: str, dims: str, commit: bool) -> int:
    return catalog.count_files(f"defname: {name}" if commit else dims)


def _split_none(split, dataset, state, catalog, now, commit):
    return Slice(dataset.strip(), state, description="the whole dataset")


def _split_draining(split, dataset, state, catalog, now, commit):
    return Slice(dataset.strip(), state, description="the same (draining) dataset every time")


def _split_list(split, dataset, state, catalog, now, commit):
    items = [item.strip() for item in dataset.split(",") if item.strip()]
    k = int(state.position or 0)
    if k >= len(items):
        return Done(f"all {len(items)} datasets of the list were launched")
    return Slice(items[k], replace(state, position=k + 1),
                 description=f"item {k + 1} of {len(items)}")


def _split_multiparam(split, dataset, state, catalog, now, commit):
    try:
        lists = json.loads(dataset)
    except ValueError as err:
        raise ValueError(f"multiparam needs a JSON list of lists as its dataset: {err}") from None
    if not isinstance(lists, list) or not all(isinstance(x, list) for x in lists):
        raise ValueError("multiparam needs a JSON list of lists as its dataset")
    total = 1
    for values in lists:
        total *= len(values)
    k = int(state.position or 0)
    if not lists or total == 0:
        return Done("the lists give no combination (one of them is empty)")
    if k >= total:
        return Done(f"all {total} combinations were launched")
    # The first list varies fastest, as in the original.
    combo, rest = [], k
    for values in lists:
        combo.append(str(values[rest % len(values)]))
        rest //= len(values)
    return Slice("_".join(combo), replace(state, position=k + 1),
                 description=f"combination {k + 1} of {total}")


def _split_mod(split, dataset, state, catalog, now, commit):
    m = split.params["n"]
    k = int(state.position or 0)
    if k >= m:
        return Done(f"all {m} slices were launched")
    name = f"{dataset}_slice{k}_of_{m}"
    dims = f"{_defname(dataset)} with stride {m} offset {k}"
    _define(catalog, name, dims, commit)
    return Slice(name, replace(state, position=k + 1), dims, f"slice {k + 1} of {m}")


def _split_nfiles(split, dataset, state, catalog, now, commit):
    """Consecutive slices of n files. The position counts slices and files handed out;
    each launched slice is frozen in a snapshot, so a file that joins the dataset after a
    short slice was launched goes into the next slice instead of being lost."""
    n = split.params["n"]
    position = state.position
    if isinstance(position, dict):
        k, handed = int(position["slice"]), int(position["files"])
    else:
        k = int(position or 0)
        handed = k * n
    name = f"{dataset}_slice{k}_files{n}"
    dims = f"{_defname(dataset)} with limit {n} offset {handed}"
    if not commit:
        count = catalog.count_files(dims)
        if count == 0:
            return Done(f"the dataset's files are all handed out ({k} slices of {n})")
        return Slice(name, replace(state, position={"slice": k + 1, "files": handed + count}),
                     dims, f"files {handed + 1} to {handed + count}")
    catalog.create_definition(name, dims)
    if catalog.count_files(f"defname: {name}") == 0:
        return Done(f"the dataset's files are all handed out ({k} slices of {n})")
    snap = catalog.take_snapshot(name)
    frozen = f"snapshot_id {snap}"
    catalog.create_definition(name, frozen)
    count = catalog.count_files(frozen)
    new_state = SplitState({"slice": k + 1, "files": handed + count},
                           state.snapshots + (snap,))
    return Slice(name, new_state, frozen, f"files {handed + 1} to {handed + count}")


def _split_limitn(split, dataset, state, catalog, now, commit):
    n = split.params["n"]
    name = f"{dataset}_limit{n}"
    dims = f"{_defname(dataset)} with limit {n}"
    _define(catalog, name, dims, commit)
    if _count(catalog, name, dims, commit) == 0:
        return Done("the dataset is empty", final=False)
    return Slice(name, state, dims, f"at most {n} files")


def _split_byrun(split, dataset, state, catalog, now, commit):
    low = split.params.get("low", 1)
    high = split.params.get("high", 999999)
    run = int(state.position or low)
    if run >= high:  # as the original: high itself is not launched
        if low >= high:
            return Done(f"byrun(low={low},high={high}) has no run to launch: it stops "
                        "before high, as the original's byrun")
        return Done(f"runs {low} to {high - 1} were all launched (byrun stops before "
                    f"high={high}, as the original's)")
    name = f"{dataset}_run_{run}"
    dims = f"{_defname(dataset)} and run_number {run}"
    _define(catalog, name, dims, commit)
    return Slice(name, replace(state, position=run + 1), dims, f"run {run}")


def _snapshot_slice(catalog, name, dims, state, now, commit, describe):
    """drainingn / stagedfiles / byexistingruns: hand out the slice and remember it in
    the state's snapshot (everything handed out so far)."""
    if not commit:
        count = catalog.count_files(dims)
        if count == 0:
            return None
        excluded = state.excluded + (catalog.frozen_dims(dims),)
        return Slice(name, replace(state, excluded=excluded), dims, describe(count))
    catalog.create_definition(name, dims)
    if catalog.count_files(f"defname: {name}") == 0:
        return None
    snap1 = catalog.take_snapshot(name)
    # The launched slice is exactly what was snapshotted, whatever the dataset does later.
    catalog.create_definition(name, f"snapshot_id {snap1}")
    last = int(state.position or 0)
    if last:
        full = f"{name.replace('_slice_', '_full_', 1)}_{int(now.timestamp())}"
        catalog.create_definition(full, f"snapshot_id {last} or snapshot_id {snap1}")
        snap = catalog.take_snapshot(full)
    else:
        snap = snap1
    count = catalog.count_files(f"snapshot_id {snap1}")
    return Slice(name, SplitState(snap, state.snapshots + (snap1,)), f"snapshot_id {snap1}",
                 describe(count))


def _split_drainingn(split, dataset, state, catalog, now, commit):
    n = split.params["n"]
    last = int(state.position or 0)
    name = f"{dataset}_slice_{last}_stage_{n}"
    dims = f"({_defname(dataset)}{_minus(state)}) with limit {n}"
    got = _snapshot_slice(catalog, name, dims, state, now, commit,
                          lambda c: f"{c} files not handed out before")
    return got or Done("no files left that were not handed out before", final=False)


def _split_stagedfiles(split, dataset, state, catalog, now, commit):
    n = split.params["n"]
    last = int(state.position or 0)
    project = _name(dataset)
    name = f"{dataset}_slice_{last}_stage_{n}"
    dims = (f"((project_name {project} and consumed_status consumed){_minus(state)}) "
            f"with limit {n}")
    got = _snapshot_slice(catalog, name, dims, state, now, commit,
                          lambda c: f"{c} files staged by project {dataset}")
    return got or Done(f"no newly staged files in project {dataset}", final=False)


def _run_of(metadata: dict) -> str | None:
    """The file's first run as the original names it: run.subrun, `1234.0001`."""
    if metadata.get("runs"):
        first = metadata["runs"][0]
        if isinstance(first, list | tuple):
            run, subrun = int(first[0]), int(first[1]) if len(first) > 1 else 0
        else:
            run, subrun = int(first), 0
        return f"{run}.{subrun:04d}"
    if metadata.get("run_number") is not None:
        run, _, subrun = str(metadata["run_number"]).partition(".")
        return f"{int(run)}.{int(subrun or 0):04d}"
    return None


def _split_byexistingruns(split, dataset, state, catalog, now, commit):
    remaining = f"{_defname(dataset)}{_minus(state)}"
    first = catalog.list_files(f"({remaining}) with limit 1")
    if not first:
        return Done("every file of the dataset was handed out", final=False)
    run = _run_of(catalog.get_metadata(first[0]))
    if run is None:
        return Done(f"file {first[0]} has no run number", final=False)
    last = int(state.position or 0)
    name = f"{dataset}_slice_{last}_run_{run}"
    dims = f"({remaining}) and run_number {run}"
    got = _snapshot_slice(catalog, name, dims, state, now, commit,
                          lambda c: f"run {run}: {c} files")
    return got or Done("every file of the dataset was handed out", final=False)


def _split_new(split, dataset, state, catalog, now, commit):
    # As the original: new_local reads no arguments; bare it works in local time, with
    # arguments (ignored) in GMT.
    p = {} if split.name == "new_local" else split.params
    seconds = {k: duration_seconds(v) for k, v in p.items()}
    window = seconds.get("window", 604800.0)
    rounding = max(int(seconds.get("round", 1)), 1)
    fts = seconds.get("fts", 1800.0)
    if split.name == "new_local":
        localtime = not split.params
    else:
        localtime = bool(seconds.get("localtime", 0))
    firsttime = seconds.get("firsttime")
    lasttime = seconds.get("lasttime")
    window = int(window) - int(window) % rounding
    end = lasttime if lasttime is not None else now.timestamp()
    bound = end - fts - window
    bound = int(bound) - int(bound) % rounding
    if state.position is None:
        start = firsttime if firsttime is not None else bound
    else:
        start = float(state.position)
        if start > bound:
            if lasttime is not None:
                return Done(f"reached lasttime {int(lasttime)}")
            return Done("no complete time window since the last one yet", final=False)
    stop = start + window
    fmt = time.localtime if localtime else time.gmtime
    first = time.strftime("%Y-%m-%dT%H:%M:%S", fmt(start))
    last = time.strftime("%Y-%m-%dT%H:%M:%S", fmt(stop))
    name = f"{dataset}_time_{int(start)}__{int(stop)}"
    dims = f"{_defname(dataset)} and end_time > '{first}' and end_time <= '{last}'"
    _define(catalog, name, dims, commit)
    described = f"files ending from {first} to {last}"
    if split.name == "new_local" and split.params:
        described += f" ({split} ignores its arguments, as the original's)"
    return Slice(name, replace(state, position=stop), dims, described)


SPLITTERS = {
    "none": _split_none,
    "list": _split_list,
    "mod": _split_mod,
    "nfiles": _split_nfiles,
    "limitn": _split_limitn,
    "byrun": _split_byrun,
    "byexistingruns": _split_byexistingruns,
    "new": _split_new,
    "new_local": _split_new,
    "draining": _split_draining,
    "drainingn": _split_drainingn,
    "stagedfiles": _split_stagedfiles,
    "multiparam": _split_multiparam,
}


def next_slice(split, dataset: str, state: SplitState | None, catalog, now: datetime,
               *, commit: bool = True) -> Slice | Done:
    """The next launch's input for a stage: split is a SplitType or its text, dataset the
    stage's dataset field, state where the splitter stands (None: at the start).

    With commit (the launcher's case) the slice's definition and snapshots are made in the
    catalogue; without, nothing is written (previews).
    """
    if not isinstance(split, SplitType):
        split = parse_split_type(split)
    return SPLITTERS[split.name](split, dataset or "", state or SplitState(), catalog, now,
                                 commit)


def preview(split, dataset: str, state: SplitState | None, catalog, now: datetime,
            n: int = 5) -> list[Slice | Done]:
    """The next n slices (ending with a Done if they run out first); writes nothing and
    leaves the stored state as it is."""
    out: list[Slice | Done] = []
    state = state or SplitState()
    for _ in range(n):
        got = next_slice(split, dataset, state, catalog, now, commit=False)
        out.append(got)
        if isinstance(got, Done):
            break
        if got.state == state:  # none, draining, limitn: the same slice every time
            break
        state = got.state
    return out


def reset() -> SplitState:
    """The state of a splitter that starts again from the beginning."""
    return SplitState()
