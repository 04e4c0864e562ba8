"""The audit log: who changed what, when, with the values before and after.

Every change to members, experiments and credentials is written here, in the caller's
transaction (one user action, one commit); campaign edits land in the same table.
"""
from __future__ import annotations

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


def actions(experiment: Experiment | None) -> list[str]:
    """The actions the log holds, for the filter's choices."""
    query = select(AuditEntry.action).distinct().order_by(AuditEntry.action)
    if experiment is not None:
        query = query.where(AuditEntry.experiment_id == experiment.id)
    return list(db.session.scalars(query))
