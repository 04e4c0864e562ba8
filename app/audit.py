"""The audit log: who changed what, when, with the values before and after.

Every change to members, experiments and credentials is written here, in the caller's
transaction (one user action, one commit); campaign edits land in the same table.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from app.extensions import db
from app.models import AuditEntry, Experiment, Experimenter


def audit(
    experiment: Experiment | None,
    who: Experimenter | None,
    action: str,
    subject: str,
    before=None,
    after=None,
) -> AuditEntry:
    """Add one entry to the current transaction (who=None: an operator's command)."""
    entry = AuditEntry(
        experiment=experiment,
        experimenter=who,
        action=action,
        subject=subject[:255],
        before=before,
        after=after,
    )
    db.session.add(entry)
    return entry


@dataclass
class AuditFilter:
    """What a reader narrowed the log to; empty fields do not filter."""

    action: str = ""
    person: str = ""
    subject: str = ""
    since: date | None = None
    until: date | None = None  # inclusive: the whole day

    def as_args(self) -> dict[str, str]:
        return {
            "action": self.action,
            "person": self.person,
            "subject": self.subject,
            "since": self.since.isoformat() if self.since else "",
            "until": self.until.isoformat() if self.until else "",
        }


def parse_day(text: str) -> date | None:
    """'2026-11-26' -> a date; anything else -> None (a bad date filters nothing)."""
    try:
        return date.fromisoformat(text.strip()) if text and text.strip() else None
    except ValueError:
        return None


def _filtered(query, experiment: Experiment | None, wanted: AuditFilter):
    if experiment is not None:
        query = query.where(AuditEntry.experiment_id == experiment.id)
    if wanted.action:
        query = query.where(AuditEntry.action == wanted.action)
    if wanted.person:
        if wanted.person.lower() in ("operator", "command line"):
            query = query.where(AuditEntry.experimenter_id.is_(None))
        else:
            query = query.where(
                AuditEntry.experimenter_id.in_(
                    select(Experimenter.id).where(Experimenter.username == wanted.person)
                )
            )
    if wanted.subject:
        query = query.where(AuditEntry.subject.icontains(wanted.subject, autoescape=True))
    if wanted.since:
        query = query.where(AuditEntry.at >= datetime.combine(wanted.since, time.min))
    if wanted.until:
        query = query.where(
            AuditEntry.at < datetime.combine(wanted.until + timedelta(days=1), time.min)
        )
    return query


def search(
    experiment: Experiment | None, wanted: AuditFilter, *, page: int, size: int
) -> tuple[list[AuditEntry], int]:
    """One page of entries, newest first, and how many match in all.

    experiment=None reads every experiment's entries and those of no experiment
    (experiments created or deactivated): the administrators' view.
    """
    query = _filtered(select(AuditEntry), experiment, wanted)
    total = db.session.scalar(select(func.count()).select_from(query.subquery()))
    rows = db.session.scalars(
        query.options(selectinload(AuditEntry.experimenter), selectinload(AuditEntry.experiment))
        .order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
        .limit(size)
        .offset((page - 1) * size)
    ).all()
    return list(rows), total


def people(experiment: Experiment | None, limit: int = 500) -> list[str]:
    """Who appears in the log (user names), for the person filter's suggestions."""
    query = (select(Experimenter.username).distinct()
             .join(AuditEntry, AuditEntry.experimenter_id == Experimenter.id)
             .order_by(Experimenter.username).limit(limit))
    if experiment is not None:
        query = query.where(AuditEntry.experiment_id == experiment.id)
    return list(db.session.scalars(query))


def actions(experiment: Experiment | None) -> list[str]:
    """The actions the log holds, for the filter's choices."""
    query = select(AuditEntry.action).distinct().order_by(AuditEntry.action)
    if experiment is not None:
        query = query.where(AuditEntry.experiment_id == experiment.id)
    return list(db.session.scalars(query))


# --- what changed, field by field -----------------------------------------------------------

_MISSING = object()
MAX_SHOWN = 300  # characters of one value shown
MAX_DEPTH = 3  # nested dictionaries are named field.sub.sub, no deeper


@dataclass(frozen=True)
class FieldChange:
    field: str  # "" when the entry's values are not a set of named fields
    before: str | None  # as shown; None: the field was not there
    after: str | None

    @property
    def kind(self) -> str:
        if self.before is None:
            return "added"
        return "removed" if self.after is None else "changed"


def _shown(value) -> str:
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True, default=str)
    return text if len(text) <= MAX_SHOWN else text[:MAX_SHOWN - 1] + "…"


def _flat(value: dict, prefix: str = "", depth: int = 1) -> dict[str, object]:
    flat: dict[str, object] = {}
    for key, inner in value.items():
        if isinstance(inner, dict) and inner and depth < MAX_DEPTH:
            flat.update(_flat(inner, f"{prefix}{key}.", depth + 1))
        else:
            flat[f"{prefix}{key}"] = inner
    return flat


def field_changes(before, after) -> list[FieldChange]:
    """An entry's before and after as one change per field that differs (values kept as
    the entry recorded them: a field the action did not touch is not listed)."""
    if not isinstance(before, dict | None) or not isinstance(after, dict | None):
        return [] if before == after else [FieldChange(
            "", None if before is None else _shown(before),
            None if after is None else _shown(after))]
    old, new = _flat(before or {}), _flat(after or {})
    changes = []
    for key in [*old, *(k for k in new if k not in old)]:
        was, now = old.get(key, _MISSING), new.get(key, _MISSING)
        if was == now:
            continue
        changes.append(FieldChange(key, None if was is _MISSING else _shown(was),
                                   None if now is _MISSING else _shown(now)))
    return changes
