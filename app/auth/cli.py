"""Operator commands for people and experiments: `flask --app wsgi poms add-member ...`.

They create what is missing (the experiment, the experimenter), say what they did, and
write the audit log with no person attached (an operator at the command line).
"""
from __future__ import annotations

import sys

import click
from flask import current_app

from app.auth import members
from app.auth.members import MemberError
from app.extensions import db


def _fail(message: str) -> None:
    click.echo(message, err=True)
    sys.exit(1)


def _username(user: str) -> str:
    try:
        return members.username_from(user, current_app.config["POMS_REALMS"])
    except MemberError as err:
        _fail(str(err))
        raise  # not reached


@click.command("add-member")
@click.argument("experiment")
@click.argument("user")
@click.argument("role")
def add_member_command(experiment: str, user: str, role: str) -> None:
    """Make USER (a name or principal) a member of EXPERIMENT with ROLE.

    An existing member gets ROLE, higher or lower than before; a missing experiment or
    experimenter is created.
    """
    try:
        members.check_role(role)
    except MemberError as err:
        _fail(str(err))
    username = _username(user)
    done = []
    try:
        exp = members.find_experiment(experiment)
        if exp is None:
            exp = members.create_experiment(experiment, "", None)
            done.append(f"created experiment {exp.name}")
        if members.find_experimenter(username) is None:
            done.append(f"created experimenter {username}")
        person = members.find_or_create_experimenter(username)
        row = members.membership(exp, person)
        if row is None:
            members.add_member(exp, username, role, None)
            done.append(f"added {username} to {exp.name} as {role}")
        elif row.role == role:
            done.append(f"{username} is already {role} in {exp.name}: nothing changed")
        else:
            before = row.role
            # The operator is the way out when no superuser is left: no last-superuser rule.
            members.change_role(row, role, None, keep_a_superuser=False)
            done.append(f"changed {username}'s role in {exp.name} from {before} to {role}")
        db.session.commit()
    except MemberError as err:
        db.session.rollback()
        _fail(str(err))
    for line in done:
        click.echo(line)


@click.command("remove-member")
@click.argument("experiment")
@click.argument("user")
def remove_member_command(experiment: str, user: str) -> None:
    """Take USER out of EXPERIMENT (the experimenter and their campaigns stay)."""
    username = _username(user)
    exp = members.find_experiment(experiment)
    if exp is None:
        _fail(f"no experiment {experiment!r}")
    person = members.find_experimenter(username)
    row = members.membership(exp, person) if person is not None else None
    if row is None:
        _fail(f"{username} is not a member of {exp.name}")
    role = row.role
    members.remove_member(row, None, keep_a_superuser=False)
    db.session.commit()
    click.echo(f"removed {username} ({role}) from {exp.name}")


COMMANDS = (add_member_command, remove_member_command)
