"""What changes when one version of a campaign replaces another: diff_campaigns, in
sentences a person reads (the upload's preview: store.upload_plan)."""
from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, fields
from typing import Any

from app.campaigns.spec import STAGE_KEYS, CampaignSpec

CHANGE_KINDS = (
    "campaign field changed",
    "stage added",
    "stage removed",
    "stage renamed",
    "field changed",
    "job type changed",
    "login setup changed",
    "dependency added",
    "dependency removed",
)


def _show(value: Any) -> str:
    if value is None or value == "":
        return "(empty)"
    if isinstance(value, list | dict):
        text = json.dumps(value, ensure_ascii=False)
    elif isinstance(value, str):
        text = repr(value)
    else:
        text = str(value)
    return text if len(text) <= 80 else text[:77] + "..."


@dataclass
class Change:
    """One difference between two versions of a campaign, for a person to read.

    kind is one of CHANGE_KINDS. subject is the campaign, stage, job type or login setup
    name (for dependencies: the stage that depends). field is the key that changed (for
    dependencies: the parent stage); for a job type or login setup added or removed it is
    None and before/after is None on the missing side. used_by names the other campaigns
    that use a job type or login setup that changes (it is the experiment's, shared), when
    the caller knows them (store.upload_plan).
    """

    kind: str
    subject: str
    field: str | None = None
    before: Any = None
    after: Any = None
    used_by: tuple[str, ...] = ()

    def __str__(self) -> str:
        if self.kind == "stage added":
            return f"Stage '{self.subject}' is added."
        if self.kind == "stage renamed":
            return f"Stage '{self.before}' is renamed '{self.after}'."
        if self.kind == "stage removed":
            return f"Stage '{self.subject}' is removed."
        if self.kind == "field changed":
            return (f"Stage '{self.subject}': {self.field} changes from {_show(self.before)} "
                    f"to {_show(self.after)}.")
        if self.kind == "campaign field changed":
            if self.field == "node_positions":
                return f"Campaign '{self.subject}': the graph layout changes."
            return (f"Campaign '{self.subject}': {self.field} changes from "
                    f"{_show(self.before)} to {_show(self.after)}.")
        if self.kind in ("job type changed", "login setup changed"):
            what = "Job type" if self.kind == "job type changed" else "Login setup"
            if self.field is None:
                added = self.before is None
                return f"{what} '{self.subject}' is {'added' if added else 'removed'}."
            also = ""
            if self.used_by:
                names = ", ".join(f"'{name}'" for name in self.used_by)
                also = (f" (campaign {names} uses it too)" if len(self.used_by) == 1
                        else f" (campaigns {names} use it too)")
            return (f"{what} '{self.subject}': {self.field} changes from {_show(self.before)} "
                    f"to {_show(self.after)}{also}.")
        if self.kind == "dependency added":
            return (f"Stage '{self.subject}' will depend on '{self.field}' "
                    f"(files matching {self.after!r}).")
        if self.kind == "dependency removed":
            return (f"Stage '{self.subject}' will no longer depend on '{self.field}' "
                    f"(files matching {self.before!r}).")
        return f"{self.kind}: {self.subject} {self.field or ''}".strip()


def diff_campaigns(old: CampaignSpec, new: CampaignSpec) -> list[Change]:
    """What changes when `new` replaces `old`, campaign fields first, then stages,
    dependencies, job types and login setups."""
    changes: list[Change] = []
    subject = new.name or old.name

    def campaign(field: str, before: Any, after: Any) -> None:
        if before != after:
            changes.append(Change("campaign field changed", subject, field, before, after))

    campaign("name", old.name, new.name)
    campaign("experiment", old.experiment, new.experiment)
    campaign("poms_role", old.poms_role, new.poms_role)
    campaign("state", old.state, new.state)
    campaign("tags", old.tags, new.tags)
    campaign("campaign_keywords", old.keywords, new.keywords)
    for key in STAGE_KEYS:
        campaign(f"campaign_defaults {key}", old.defaults.get(key), new.defaults.get(key))
    old_names = [s.name for s in old.stages]
    new_names = [s.name for s in new.stages]
    kept_old = [n for n in old_names if n in new_names]
    kept_new = [n for n in new_names if n in old_names]
    if kept_old != kept_new:
        campaign("campaign_stage_list", ", ".join(old_names), ", ".join(new_names))
    campaign("node_positions", old.node_positions, new.node_positions)

    for name in old_names:
        if name not in new_names:
            changes.append(Change("stage removed", name))
    for stage in new.stages:
        before = old.stage(stage.name)
        if before is None:
            changes.append(Change("stage added", stage.name))
            continue
        for key in STAGE_KEYS:
            if getattr(before, key) != getattr(stage, key):
                changes.append(Change("field changed", stage.name, key,
                                      getattr(before, key), getattr(stage, key)))

    # A stage may depend on one parent twice (two patterns): compare them as multisets.
    old_deps = Counter((d.child, d.parent, d.file_pattern) for d in old.dependencies)
    new_deps = Counter((d.child, d.parent, d.file_pattern) for d in new.dependencies)
    for child, parent, pattern in (old_deps - new_deps).elements():
        changes.append(Change("dependency removed", child, parent, pattern, None))
    for child, parent, pattern in (new_deps - old_deps).elements():
        changes.append(Change("dependency added", child, parent, None, pattern))

    changes += _diff_named("job type changed", old.job_types, new.job_types)
    changes += _diff_named("login setup changed", old.login_setups, new.login_setups)
    return changes


def _diff_named(kind: str, old: dict, new: dict) -> list[Change]:
    changes = []
    for name, item in old.items():
        if name not in new:
            changes.append(Change(kind, name, None, item, None))
    for name, item in new.items():
        before = old.get(name)
        if before is None:
            changes.append(Change(kind, name, None, None, item))
            continue
        for f in fields(item):
            if f.name != "name" and getattr(before, f.name) != getattr(item, f.name):
                changes.append(Change(kind, name, f.name, getattr(before, f.name),
                                      getattr(item, f.name)))
    return changes
