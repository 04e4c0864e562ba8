"""Experiments, experimenters and memberships: the changes the admin pages and the
operator commands make.

Every function works inside the caller's transaction and never commits (one user action,
one transaction); every change writes an audit entry. Refusals are MemberError, in words
the page or the command shows as they are.
"""
from __future__ import annotations

import re

from sqlalchemy import func, select
from sqlalchemy.orm import contains_eager

from app.audit import audit
from app.auth import policy
from app.auth.spnego import split_principal
from app.extensions import db
from app.models import Experiment, Experimenter, Membership

# A user name is the principal's user part: letters, digits, '.', '_' or '-'.
USERNAME = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
# Experiment names appear in URLs (/e/<name>/...) and in file names of the original POMS.
EXPERIMENT_NAME = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,63}$")


class MemberError(ValueError):
    """A change that cannot be made, said so a person can act on it."""


def username_from(principal_or_name: str, realms: list[str]) -> str:
    """'alice@FNAL.GOV' -> 'alice' (the realm must be allowed); 'alice' -> 'alice'."""
    text = principal_or_name.strip()
    user, realm = split_principal(text)
    if "@" in text:
        if not realm or realm not in realms:
            allowed = ", ".join(realms) or "none"
            raise MemberError(
                f"{text}: realm {realm or '(empty)'} is not one POMS accepts ({allowed})"
            )
    if not USERNAME.match(user):
        raise MemberError(
            f"{text!r} is not a user name or principal (letters, digits, '.', '_', '-'; "
            "optionally @REALM)"
        )
    return user


def check_role(role: str) -> str:
    if role not in policy.ROLES:
        raise MemberError(f"{role!r} is not a role; the roles are {', '.join(policy.ROLES)}")
    return role


# --- finding and creating ------------------------------------------------------------


def find_experiment(name: str) -> Experiment | None:
    return db.session.scalar(select(Experiment).where(Experiment.name == name))


def find_experimenter(username: str) -> Experimenter | None:
    return db.session.scalar(select(Experimenter).where(Experimenter.username == username))


def find_or_create_experiment(name: str) -> Experiment:
    experiment = find_experiment(name)
    if experiment is None:
        experiment = Experiment(name=name)
        db.session.add(experiment)
        db.session.flush()
    return experiment


def find_or_create_experimenter(username: str) -> Experimenter:
    user = find_experimenter(username)
    if user is None:
        user = Experimenter(username=username)
        db.session.add(user)
        db.session.flush()
    return user


def membership(experiment: Experiment, user: Experimenter) -> Membership | None:
    return db.session.scalar(
        select(Membership).where(
            Membership.experiment_id == experiment.id, Membership.experimenter_id == user.id
        )
    )


def members(experiment: Experiment) -> list[Membership]:
    return list(
        db.session.scalars(
            select(Membership)
            .join(Experimenter)
            .options(contains_eager(Membership.experimenter))  # one query for the table
            .where(Membership.experiment_id == experiment.id)
            .order_by(Experimenter.username)
        )
    )


def ensure_member(experiment: Experiment, user: Experimenter, role: str) -> Membership:
    """Make `user` a member with at least `role` (an existing higher role is kept)."""
    found = membership(experiment, user)
    if found is None:
        found = Membership(experiment=experiment, experimenter=user, role=role)
        db.session.add(found)
    elif policy.rank(found.role) < policy.rank(role):
        found.role = role
    db.session.flush()
    return found


# --- members ---------------------------------------------------------------------------


def _superusers(experiment: Experiment) -> int:
    return db.session.scalar(
        select(func.count())
        .select_from(Membership)
        .where(Membership.experiment_id == experiment.id, Membership.role == "superuser")
    )


def _keep_a_superuser(row: Membership, new_role: str | None) -> None:
    # Only superusers manage members; an experiment without one needs an administrator.
    if row.role == "superuser" and new_role != "superuser" and _superusers(row.experiment) <= 1:
        raise MemberError(
            f"{row.experimenter.username} is the last superuser of {row.experiment.name}; "
            "make someone else superuser first"
        )


def _subject(row: Membership) -> str:
    return f"{row.experimenter.username} in {row.experiment.name}"


def add_member(
    experiment: Experiment, username: str, role: str, who: Experimenter | None
) -> Membership:
    """A new member (the experimenter is created if POMS has never seen them)."""
    check_role(role)
    user = find_or_create_experimenter(username)
    existing = membership(experiment, user)
    if existing is not None:
        raise MemberError(
            f"{username} is already a member of {experiment.name} as {existing.role}; "
            "change the role instead"
        )
    row = Membership(experiment=experiment, experimenter=user, role=role)
    db.session.add(row)
    db.session.flush()
    audit(experiment, who, "member added", _subject(row), None, {"role": role})
    return row


def end_sessions(user: Experimenter) -> None:
    """End every session `user` has: the cookies signed before this are refused from now on
    (the user loader compares the epoch they carry). API tokens are not sessions: they act
    with the owner's roles as they are at each request, and are revoked on their own."""
    user.session_epoch = (user.session_epoch or 0) + 1
    db.session.flush()


def change_role(
    row: Membership, role: str, who: Experimenter | None, *, keep_a_superuser: bool = True
) -> bool:
    """Give a member another role; False when it was already theirs."""
    check_role(role)
    if row.role == role:
        return False
    if keep_a_superuser:
        _keep_a_superuser(row, role)
    before = row.role
    row.role = role
    end_sessions(row.experimenter)
    audit(row.experiment, who, "role changed", _subject(row), {"role": before}, {"role": role})
    return True


def remove_member(
    row: Membership, who: Experimenter | None, *, keep_a_superuser: bool = True
) -> None:
    if keep_a_superuser:
        _keep_a_superuser(row, None)
    audit(row.experiment, who, "member removed", _subject(row), {"role": row.role}, None)
    end_sessions(row.experimenter)
    db.session.delete(row)
    db.session.flush()


# --- experiments -----------------------------------------------------------------------


def create_experiment(
    name: str,
    description: str,
    who: Experimenter | None,
    *,
    first_superuser: str | None = None,
) -> Experiment:
    name = name.strip()
    if not EXPERIMENT_NAME.match(name):
        raise MemberError(
            f"{name!r} is not an experiment name (lower-case letters, digits, '.', '_', '-')"
        )
    if find_experiment(name) is not None:
        raise MemberError(f"experiment {name} exists already")
    experiment = Experiment(name=name, description=description.strip()[:255])
    db.session.add(experiment)
    db.session.flush()
    audit(experiment, who, "experiment created", name, None,
          {"description": experiment.description})
    if first_superuser:
        add_member(experiment, first_superuser, "superuser", who)
    return experiment


def set_experiment_active(experiment: Experiment, active: bool, who: Experimenter | None) -> bool:
    """Deactivate (or bring back) an experiment: its pages and data are kept, but closed."""
    if experiment.active == active:
        return False
    experiment.active = active
    db.session.flush()
    audit(experiment, who, "experiment reactivated" if active else "experiment deactivated",
          experiment.name, {"active": not active}, {"active": active})
    return True
