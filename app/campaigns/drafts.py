"""The campaign editor's changes: a list of operations applied to a campaign's spec, each
checked by the importer as an INI upload is.

An operation is a dict with "op" and its arguments:

  add_stage          name, fields {key: INI text}    (what fields leaves out: the defaults)
  rename_stage       stage, name                     (the stage keeps its submissions)
  remove_stage       stage
  set_fields         stage, fields {key: INI text}
  add_dependency     child, parent, file_pattern
  remove_dependency  child, parent                   (every dependency of child on parent)
  place              stage, x, y                     ([node_positions], the graph layout)
                     or positions {stage: [x, y]}    (several at once)

The pages' graphical editor and the API send the same list. Every operation goes through
app/campaigns/editing.py (the campaign written as INI, changed, read back by parse_ini), so
the editor can store nothing an upload would refuse; app/campaigns/draft_plan.py says what
saving changes (the upload's diff) and saves it.
"""
from __future__ import annotations

import copy
import math
from dataclasses import dataclass, field

from app.campaigns import editing, store
from app.campaigns.ini import export_ini, parse_ini
from app.campaigns.spec import (
    DEFAULT_MAX_STAGES,
    MAX_LENGTHS,
    CampaignSpec,
    InvalidCampaign,
    Problem,
)
from app.models import Experiment

OPERATIONS = ("add_stage", "rename_stage", "remove_stage", "set_fields", "add_dependency",
              "remove_dependency", "place")


@dataclass
class Draft:
    spec: CampaignSpec
    renamed: dict[str, str] = field(default_factory=dict)  # stored name -> new name


def _refuse(number: int, op: dict, reason: str, key: str | None = None) -> InvalidCampaign:
    return InvalidCampaign([Problem(f"change {number} ({op.get('op')})", None, key, reason)])


def _text(op: dict, key: str, number: int) -> str:
    value = op.get(key)
    if not isinstance(value, str) or not value.strip():
        raise _refuse(number, op, f"give {key} as text", key)
    return value.strip()


def _fields(op: dict, number: int) -> dict[str, str]:
    fields = op.get("fields") or {}
    if not isinstance(fields, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in fields.items()
    ):
        raise _refuse(number, op, "fields: {key: INI text}", "fields")
    return fields


def _stage(spec: CampaignSpec, op: dict, number: int, key: str = "stage") -> str:
    name = _text(op, key, number)
    if spec.stage(name) is None:
        raise _refuse(number, op, f"campaign {spec.name} has no stage {name!r}", key)
    return name


def _reread(spec: CampaignSpec, typed) -> CampaignSpec:
    """The spec written as INI and read back by the importer; a warning `typed` accepts is
    about what the person changed, and refuses the change."""
    limit = max(DEFAULT_MAX_STAGES, len(spec.stages))
    new_spec, warnings = parse_ini(export_ini(spec), f"campaign {spec.name}", max_stages=limit)
    said = [w for w in warnings if typed(w)]
    if said:
        raise InvalidCampaign(said, [w for w in warnings if w not in said])
    return new_spec


def _check_name(spec: CampaignSpec, name: str, number: int, op: dict) -> None:
    if "," in name or not name.isprintable() or len(name) > MAX_LENGTHS["stage"]:
        raise _refuse(number, op, "a stage name is printable, without commas, at most "
                      f"{MAX_LENGTHS['stage']} characters", "name")
    if spec.stage(name) is not None:
        raise _refuse(number, op, f"campaign {spec.name} already has a stage {name!r}", "name")


def rename_stage(spec: CampaignSpec, old: str, new: str) -> CampaignSpec:
    """The campaign with stage `old` called `new`: its dependencies both ways and its
    place in the graph follow it."""
    spec = copy.deepcopy(spec)
    spec.stage(old).name = new
    for dep in spec.dependencies:
        dep.child = new if dep.child == old else dep.child
        dep.parent = new if dep.parent == old else dep.parent
    spec.node_positions = {new if k == old else k: v for k, v in spec.node_positions.items()}
    # Only a warning about the name refuses it: the stage's values are as they were.
    return _reread(spec, lambda w: w.section == f"campaign_stage {new}" and w.key is None)


def place(spec: CampaignSpec, positions: dict[str, tuple[float, float]]) -> CampaignSpec:
    spec = copy.deepcopy(spec)
    for stage, (x, y) in positions.items():
        spec.node_positions[stage] = {"x": x, "y": y}
    # The numbers and names are checked above; a warning about a position kept from the
    # original's editor (its campaign's own box) is not this change's.
    return _reread(spec, lambda w: False)


def _positions(spec: CampaignSpec, op: dict, number: int) -> dict[str, tuple[float, float]]:
    if "positions" not in op:
        return {_stage(spec, op, number): (_number(op, "x", number), _number(op, "y", number))}
    given = op["positions"]
    if not isinstance(given, dict):
        raise _refuse(number, op, "positions: {stage: [x, y]}", "positions")
    found = {}
    for name, at in given.items():
        if not isinstance(at, list | tuple) or len(at) != 2:
            raise _refuse(number, op, f"positions: {name}: [x, y]", "positions")
        one = {"stage": name, "x": at[0], "y": at[1]}
        found[_stage(spec, one, number)] = (_number(one, "x", number), _number(one, "y", number))
    return found


def _dependencies(spec: CampaignSpec, child: str) -> list[tuple[str, str]]:
    deps = sorted((d for d in spec.dependencies if d.child == child), key=lambda d: d.position)
    return [(d.parent, d.file_pattern) for d in deps]


def _number(op: dict, key: str, number: int) -> float:
    value = op.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise _refuse(number, op, f"{key} is a number", key)
    return round(value)


def apply_one(spec: CampaignSpec, op: dict, number: int, shared: tuple,
              renamed: dict[str, str]) -> CampaignSpec:
    kind = op.get("op") if isinstance(op, dict) else None
    if kind not in OPERATIONS:
        raise _refuse(number, op if isinstance(op, dict) else {}, f"op is one of "
                      f"{', '.join(OPERATIONS)}", "op")
    if kind == "add_stage":
        name = _text(op, "name", number)
        return editing.add_stage(spec, name, _fields(op, number), [], *shared)
    if kind == "rename_stage":
        old, new = _stage(spec, op, number), _text(op, "name", number)
        if new == old:
            return spec
        _check_name(spec, new, number, op)
        stored = next((k for k, v in renamed.items() if v == old), old)
        renamed[stored] = new
        return rename_stage(spec, old, new)
    if kind == "remove_stage":
        name = _stage(spec, op, number)
        spec = editing.remove_stage(spec, name)
        spec.node_positions.pop(name, None)
        return spec
    if kind == "set_fields":
        name = _stage(spec, op, number)
        for key, raw in _fields(op, number).items():
            spec = editing.set_stage_field(spec, name, key, raw, *shared)
        return spec
    if kind == "place":
        return place(spec, _positions(spec, op, number))
    child, parent = _stage(spec, op, number, "child"), _stage(spec, op, number, "parent")
    depends = _dependencies(spec, child)
    if kind == "add_dependency":
        pattern = op.get("file_pattern")
        if not isinstance(pattern, str):
            raise _refuse(number, op, "give file_pattern as text (% matches any name)",
                          "file_pattern")
        depends.append((parent, pattern.strip() or "%"))
    else:
        kept = [d for d in depends if d[0] != parent]
        if len(kept) == len(depends):
            raise _refuse(number, op, f"stage {child} does not depend on {parent}")
        depends = kept
    return editing.set_stage_dependencies(spec, child, depends)


def apply_operations(experiment: Experiment, spec: CampaignSpec, operations: list) -> Draft:
    """The campaign after every operation, in order (InvalidCampaign naming the first
    refused one and the importer's reason)."""
    if not isinstance(operations, list):
        raise InvalidCampaign([Problem("changes", None, None, "give a list of operations")])
    shared = store.shared_definitions(experiment)
    stored = {s.name for s in spec.stages}
    renamed: dict[str, str] = {}
    for number, op in enumerate(operations, start=1):
        try:
            spec = apply_one(spec, op, number, shared, renamed)
        except InvalidCampaign as err:
            if err.problems and err.problems[0].file.startswith("change "):
                raise
            raise InvalidCampaign([
                Problem(f"change {number} ({op.get('op')})", p.section, p.key, p.reason)
                for p in err.problems
            ], err.warnings) from None
        # What saving would refuse, said at the change that brings it: a login setup the
        # campaign's role may not launch with.
        if isinstance(op, dict) and op.get("op") in ("add_stage", "set_fields"):
            problems = store.login_setup_problems(experiment, spec, f"change {number}")
            if problems:
                raise InvalidCampaign(problems)
    renamed = {old: new for old, new in renamed.items() if old != new and old in stored}
    return Draft(spec, renamed)
