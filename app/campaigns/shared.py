"""Job types and login setups on their own: make one, change its fields, merge recoveries
into a job type, remove one no stage uses. Shared by the experiment's campaigns (the
definitions pages, the API, and through it the original client's job_type_edit,
launch_template_edit, job_type_rm, login_setup_rm, modify_job_type_recoveries).

Every value is INI text checked by the importer itself (app/campaigns/editing.py), so
nothing is stored that an upload would refuse. Each change is audited; the caller checks
the role (app/auth/policy.py) and commits: one action, one transaction.
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import func, select

from app.audit import audit
from app.campaigns import editing, store
from app.campaigns import login_setups as login_rules
from app.campaigns.spec import MAX_LENGTHS, InvalidCampaign, JobTypeSpec, LoginSetupSpec, Problem
from app.extensions import db
from app.models import (
    Campaign,
    CampaignStage,
    Experiment,
    Experimenter,
    JobType,
    JobTypeSnapshot,
    LoginSetup,
    LoginSetupSnapshot,
)


@dataclass(frozen=True)
class Kind:
    key: str  # "job_type" | "login_setup": the INI section word
    words: str  # "job type"
    model: type
    fields: tuple[str, ...]
    stage_column: Any  # the CampaignStage column naming it
    snapshot: type
    snapshot_column: str

    def spec(self, row):
        return store.job_type_spec(row) if self.model is JobType else store.login_setup_spec(row)

    def empty(self, name: str):
        return JobTypeSpec(name=name) if self.model is JobType else LoginSetupSpec(name=name)

    def set_field(self, spec, key: str, raw: str):
        if self.model is JobType:
            return editing.set_job_type_field(spec, key, raw)
        return editing.set_login_setup_field(spec, key, raw)

    def field_text(self, spec, key: str) -> str:
        if self.model is JobType:
            return editing.job_type_field_text(spec, key)
        return editing.login_setup_field_text(spec, key)


JOB_TYPE = Kind("job_type", "job type", JobType, editing.JOB_TYPE_FIELDS,
                CampaignStage.job_type_id, JobTypeSnapshot, "job_type_id")
LOGIN_SETUP = Kind("login_setup", "login setup", LoginSetup, editing.LOGIN_SETUP_FIELDS,
                   CampaignStage.login_setup_id, LoginSetupSnapshot, "login_setup_id")
KINDS = {"job_type": JOB_TYPE, "login_setup": LOGIN_SETUP}


class DefinitionExists(Exception):
    """The experiment already has a job type (or login setup) of that name."""


class DefinitionInUse(Exception):
    """Stages use it (named in `stages`), or past launches keep a snapshot of it."""

    def __init__(self, message: str, stages: list[str]):
        super().__init__(message)
        self.stages = stages


def find(experiment: Experiment, kind: Kind, name: str):
    return store._shared(kind.model, experiment, name)


def by_id(experiment: Experiment, kind: Kind, item_id: int):
    row = db.session.get(kind.model, item_id)
    return row if row is not None and row.experiment_id == experiment.id else None


def stages_using(row, kind: Kind) -> list[str]:
    """'campaign/stage' for every stage that uses it, by campaign then stage."""
    rows = db.session.execute(
        select(Campaign.name, CampaignStage.name)
        .join(Campaign, CampaignStage.campaign_id == Campaign.id)
        .where(kind.stage_column == row.id)
        .order_by(Campaign.name, CampaignStage.name)
    ).all()
    return [f"{campaign}/{stage}" for campaign, stage in rows]


def _problem(kind: Kind, name: str, key: str | None, reason: str) -> InvalidCampaign:
    return InvalidCampaign([Problem(f"{kind.words} {name}", f"{kind.key} {name}", key, reason)])


def _check_name(kind: Kind, name: str) -> str:
    name = name.strip() if isinstance(name, str) else ""
    limit = MAX_LENGTHS[kind.key]
    if not name:
        raise _problem(kind, "(no name)", "name", f"give the {kind.words} a name")
    if len(name) > limit or not name.isprintable() or any(c in name for c in "[]/"):
        raise _problem(kind, name, "name", f"a name is printable, at most {limit} "
                       "characters, without '[', ']' or '/'")
    return name


def _apply(kind: Kind, spec, fields: dict[str, str]):
    for key, raw in fields.items():
        if key not in kind.fields:
            raise _problem(kind, spec.name, key, f"a {kind.words} has no field {key!r}; its "
                           f"fields are {', '.join(kind.fields)}")
        if not isinstance(raw, str):
            raise _problem(kind, spec.name, key, "give the value as INI text")
        spec = kind.set_field(spec, key, raw)
    if kind is LOGIN_SETUP:
        problems = login_rules.address_problems(spec.host, spec.account)
        if problems:
            raise InvalidCampaign([Problem(f"login setup {spec.name}", None, key, reason)
                                   for key, reason in problems])
    return spec


def create(experiment: Experiment, kind: Kind, name: str, fields: dict[str, str],
           who: Experimenter, role: str | None = None):
    """A new job type or login setup, made by `who` (InvalidCampaign, DefinitionExists).
    A login setup belongs to `role` ("analysis" or "production": whose campaigns may launch
    with it, app/campaigns/login_setups.py); the caller checks who may give which."""
    name = _check_name(kind, name)
    if find(experiment, kind, name) is not None:
        raise DefinitionExists(f"{experiment.name} already has a {kind.words} named {name!r}")
    spec = _apply(kind, kind.empty(name), fields)
    if kind is JOB_TYPE and not spec.launch_script.strip():
        # As the original: a job type without a launch script launches nothing.
        raise _problem(kind, name, "launch_script", "a job type needs a launch_script")
    row = kind.model(experiment=experiment, name=name, creator=who)
    after = asdict(spec)
    if kind is LOGIN_SETUP:
        if role not in login_rules.ROLES:
            roles = " or ".join(login_rules.ROLES)
            raise _problem(kind, name, "role", f"a login setup is for {roles} work, not "
                           f"{role!r}")
        row.role = after["role"] = role
    _store(kind, row, spec)
    db.session.add(row)
    db.session.flush()
    audit(experiment, who, f"{kind.words} created", name, None, after)
    return row


def _store(kind: Kind, row, spec) -> None:
    for key in kind.fields:
        setattr(row, key, getattr(spec, key))


def edit(row, kind: Kind, fields: dict[str, str], who: Experimenter) -> bool:
    """Change some fields (each as INI text); False when nothing changed."""
    before = kind.spec(row)
    after = _apply(kind, kind.spec(row), fields)
    if after == before:
        return False
    _store(kind, row, after)
    changed = [k for k in kind.fields if getattr(before, k) != getattr(after, k)]
    audit(row.experiment, who, f"{kind.words} edited", row.name,
          {k: getattr(before, k) for k in changed}, {k: getattr(after, k) for k in changed})
    return True


def remove(row, kind: Kind, who: Experimenter) -> None:
    """Delete it; DefinitionInUse while a stage uses it or a launch's snapshot keeps it."""
    stages = stages_using(row, kind)
    if stages:
        raise DefinitionInUse(
            f"{kind.words} {row.name!r} is used by {len(stages)} stage"
            f"{'s' if len(stages) != 1 else ''}: {', '.join(stages)}; give them another "
            f"{kind.words} first", stages)
    column = getattr(kind.snapshot, kind.snapshot_column)
    launched = db.session.scalar(select(func.count()).select_from(kind.snapshot)
                                 .where(column == row.id))
    if launched:
        raise DefinitionInUse(
            f"{kind.words} {row.name!r} has launched submissions, which keep it as it was "
            "then; it cannot be removed", [])
    audit(row.experiment, who, f"{kind.words} removed", row.name, asdict(kind.spec(row)), None)
    db.session.delete(row)
    db.session.flush()


def merge_recoveries(row: JobType, recoveries: list, who: Experimenter) -> list:
    """The original's modify_job_type_recoveries: each [type, [[key, value], ...]] given
    updates that recovery type's parameters (by key) or is added after the others; the
    job type's other recoveries stay as they are. Returns the job type's recoveries."""
    if not isinstance(recoveries, list):
        raise _problem(JOB_TYPE, row.name, "recoveries",
                       "give a list of [recovery_type, [[key, value], ...]] entries")
    merged = [[kind, [list(p) for p in params]] for kind, params in row.recoveries or []]
    for number, entry in enumerate(recoveries, start=1):
        if isinstance(entry, str):
            entry = [entry, []]
        if not (isinstance(entry, list | tuple) and len(entry) == 2 and isinstance(entry[0], str)
                and isinstance(entry[1], list | tuple)):
            raise _problem(JOB_TYPE, row.name, "recoveries",
                           f"recovery {number} must be [recovery_type, [[key, value], ...]], "
                           f"not {json.dumps(entry, ensure_ascii=False, default=str)}")
        rtype, params = entry
        current = next((r for r in merged if r[0] == rtype), None)
        if current is None:
            merged.append([rtype, [list(p) if isinstance(p, list | tuple) else p
                                   for p in params]])
            continue
        for pair in params:
            if not (isinstance(pair, list | tuple) and len(pair) == 2):
                current[1].append(pair)  # the importer says what is wrong with it
                continue
            same = next((p for p in current[1] if p[0] == pair[0]), None)
            if same is None:
                current[1].append(list(pair))
            else:
                same[1] = pair[1]
    edit(row, JOB_TYPE, {"recoveries": json.dumps(merged, ensure_ascii=False)}, who)
    return row.recoveries
