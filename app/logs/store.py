"""An experiment's failure signatures in the database.

The starting set is installed on first use (the signatures page, or the analysis of the
experiment's first job): `ensure_starting_signatures` is idempotent, and a starting
signature someone deleted stays deleted (SignatureSeeding remembers what was installed).

Every function works inside the caller's transaction and never commits; every change writes
an audit entry.
"""
from __future__ import annotations

import logging
from collections.abc import Iterable

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from app.audit import audit
from app.extensions import db
from app.logs.signatures import (
    InvalidSignature,
    Signature,
    check_fields,
    parse_exit_codes,
    validate_pattern,
)
from app.logs.starting_set import STARTING_SET, starting_signatures
from app.models import Experiment, Experimenter
from app.models.base import utcnow
from app.models.logs import FailureSignature, SignatureSeeding

log = logging.getLogger(__name__)

FIELDS = ("name", "pattern", "category", "action", "exit_codes")


def ensure_starting_signatures(experiment: Experiment) -> int:
    """Install the starting signatures this experiment has never had; returns how many."""
    seeding = db.session.get(SignatureSeeding, experiment.id)
    installed = list(seeding.installed) if seeding else []
    missing = [row for row in STARTING_SET if row[0] not in installed]
    if not missing:
        return 0
    taken = set(db.session.scalars(
        select(FailureSignature.name).where(FailureSignature.experiment_id == experiment.id)
    ))
    position = _next_position(experiment)
    added = 0
    for key, name, pattern, category, codes, action in missing:
        installed.append(key)
        if name in taken:
            continue  # someone made their own signature of that name: theirs wins
        db.session.add(FailureSignature(
            experiment_id=experiment.id, name=name, pattern=pattern, category=category,
            action=action, exit_codes=codes, position=position, starting_key=key,
        ))
        position += 1
        added += 1
    if seeding is None:
        db.session.add(SignatureSeeding(experiment_id=experiment.id, installed=installed))
    else:
        seeding.installed = installed
    if added:
        audit(experiment, None, "failure signatures installed", f"{added} starting signatures")
    db.session.flush()
    return added


def experiment_signatures(experiment: Experiment) -> list[FailureSignature]:
    return list(db.session.scalars(
        select(FailureSignature)
        .where(FailureSignature.experiment_id == experiment.id)
        .order_by(FailureSignature.position, FailureSignature.id)
    ))


def to_signature(row: FailureSignature) -> Signature:
    return Signature.build(row.name, row.pattern, row.category, row.action,
                           parse_exit_codes(row.exit_codes), id=row.id, key=row.starting_key)


def signatures_for(experiment: Experiment | None) -> list[Signature]:
    """What the analysis of this experiment's jobs uses: its table if it has one, else the
    starting set."""
    rows = experiment_signatures(experiment) if experiment is not None else []
    if not rows:
        return starting_signatures()
    usable = []
    for row in rows:
        try:
            usable.append(to_signature(row))
        except InvalidSignature as err:  # saved before today's rules: skip, say so
            log.warning("failure signature %s of %s skipped: %s", row.name,
                        experiment.name, err)
    return usable


def pattern_problem(pattern: str | None) -> str | None:
    """Why the analysis cannot use this stored pattern (None: it can). Patterns saved
    before the linear-time engine may use what it cannot run; they stay in the table, are
    skipped by the analysis, and their row says so until someone edits them."""
    if not pattern:
        return None
    try:
        validate_pattern(pattern)
    except InvalidSignature as err:
        return str(err)
    return None


def analysis_signatures(experiment: Experiment) -> list[Signature]:
    """For the RQ analysis job: the experiment's table, installing the starting set on its
    first use so every hit has a row to count on."""
    ensure_starting_signatures(experiment)
    return signatures_for(experiment)


def find_signature(experiment: Experiment, signature_id: int) -> FailureSignature | None:
    row = db.session.get(FailureSignature, signature_id)
    return row if row is not None and row.experiment_id == experiment.id else None


def _next_position(experiment: Experiment) -> int:
    last = db.session.scalar(
        select(func.max(FailureSignature.position))
        .where(FailureSignature.experiment_id == experiment.id)
    )
    return 0 if last is None else last + 1


def _check_name_free(experiment: Experiment, name: str, row_id: int | None = None) -> None:
    clash = db.session.scalar(
        select(FailureSignature.id).where(
            FailureSignature.experiment_id == experiment.id, FailureSignature.name == name
        )
    )
    if clash is not None and clash != row_id:
        raise InvalidSignature(f"{experiment.name} already has a signature named {name!r}")


def _values(row: FailureSignature) -> dict:
    return {field: getattr(row, field) for field in FIELDS}


def create_signature(experiment: Experiment, who: Experimenter | None,
                     form: dict) -> FailureSignature:
    name, pattern, category, action, codes = check_fields(
        form.get("name", ""), form.get("pattern", ""), form.get("category", ""),
        form.get("action", ""), form.get("exit_codes", ""),
    )
    _check_name_free(experiment, name)
    row = FailureSignature(
        experiment_id=experiment.id, name=name, pattern=pattern, category=category,
        action=action, exit_codes=", ".join(map(str, codes)),
        position=_next_position(experiment), creator_id=who.id if who else None,
    )
    db.session.add(row)
    _flush_or_refuse(experiment, name)
    audit(experiment, who, "failure signature added", name, None, _values(row))
    return row


def update_signature(row: FailureSignature, who: Experimenter | None, form: dict) -> None:
    before = _values(row)
    merged = {**before, **{k: v for k, v in form.items() if k in FIELDS}}
    name, pattern, category, action, codes = check_fields(
        merged["name"], merged["pattern"], merged["category"], merged["action"],
        merged["exit_codes"],
    )
    _check_name_free(row.experiment, name, row.id)
    row.name, row.pattern, row.category, row.action = name, pattern, category, action
    row.exit_codes = ", ".join(map(str, codes))
    _flush_or_refuse(row.experiment, name)
    after = _values(row)
    if after != before:
        audit(row.experiment, who, "failure signature changed", row.name,
              {k: v for k, v in before.items() if after[k] != v},
              {k: v for k, v in after.items() if before[k] != v})


def delete_signature(row: FailureSignature, who: Experimenter | None) -> None:
    audit(row.experiment, who, "failure signature deleted", row.name, _values(row), None)
    db.session.delete(row)
    db.session.flush()


def move_signature(row: FailureSignature, direction: str) -> None:
    """Swap with the neighbour above ('up') or below ('down') in matching order."""
    rows = experiment_signatures(row.experiment)
    for position, each in enumerate(rows):  # make positions dense first
        each.position = position
    index = rows.index(row)
    other = index - 1 if direction == "up" else index + 1
    if 0 <= other < len(rows):
        rows[index].position, rows[other].position = rows[other].position, rows[index].position
    db.session.flush()


def record_hits(signature_ids: Iterable[int | None]) -> None:
    """Count one hit for each signature that named a job (the analysis job calls this)."""
    for signature_id in signature_ids:
        if signature_id is None:
            continue
        db.session.execute(
            update(FailureSignature)
            .where(FailureSignature.id == signature_id)
            .values(hits=FailureSignature.hits + 1, last_hit=utcnow())
        )


def _flush_or_refuse(experiment: Experiment, name: str) -> None:
    try:
        with db.session.begin_nested():
            db.session.flush()
    except IntegrityError:
        raise InvalidSignature(
            f"{experiment.name} already has a signature named {name!r}"
        ) from None
