"""`flask --app wsgi poms add-member` / `remove-member`: what operators run."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from app.auth import members
from app.extensions import db
from app.models import AuditEntry


@pytest.fixture
def run(app):
    runner = app.test_cli_runner()

    def invoke(*args: str):
        result = runner.invoke(args=["poms", *args])
        db.session.remove()  # the command committed in its own session: read afresh
        return result

    return invoke


def role_of(experiment: str, username: str) -> str | None:
    exp = members.find_experiment(experiment)
    user = members.find_experimenter(username)
    if exp is None or user is None:
        return None
    row = members.membership(exp, user)
    return row.role if row else None


def test_add_member_creates_experiment_and_user(run):
    result = run("add-member", "nova", "alice@FNAL.GOV", "production")
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        "created experiment nova",
        "created experimenter alice",
        "added alice to nova as production",
    ]
    assert role_of("nova", "alice") == "production"
    entries = db.session.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()
    assert [(e.action, e.subject, e.experimenter) for e in entries] == [
        ("experiment created", "nova", None),
        ("member added", "alice in nova", None),
    ]


def test_add_member_changes_role_both_ways(run):
    run("add-member", "nova", "alice", "superuser")
    down = run("add-member", "nova", "alice", "analysis")
    assert down.exit_code == 0
    # An operator may take the last superuser's role away: they are the way back in.
    assert down.output.strip() == "changed alice's role in nova from superuser to analysis"
    assert role_of("nova", "alice") == "analysis"
    same = run("add-member", "nova", "alice", "analysis")
    assert same.output.strip() == "alice is already analysis in nova: nothing changed"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("nova", "alice", "boss"), "'boss' is not a role; the roles are analysis, "
                                    "production-shifter, production, superuser"),
        (("nova", "alice@EVIL.ORG", "analysis"), "realm EVIL.ORG is not one POMS accepts"),
        (("nova", "../etc", "analysis"), "is not a user name or principal"),
        (("Bad Name", "alice", "analysis"), "is not an experiment name"),
    ],
)
def test_add_member_refuses_bad_input(run, args, message):
    result = run("add-member", *args)
    assert result.exit_code == 1
    assert message in result.output
    assert members.find_experiment("nova") is None  # nothing written


def test_remove_member(run):
    run("add-member", "nova", "bob", "production-shifter")
    result = run("remove-member", "nova", "bob@FNAL.GOV")
    assert result.exit_code == 0
    assert result.output.strip() == "removed bob (production-shifter) from nova"
    assert role_of("nova", "bob") is None
    assert members.find_experimenter("bob") is not None  # the person stays

    again = run("remove-member", "nova", "bob")
    assert again.exit_code == 1
    assert "bob is not a member of nova" in again.output
    missing = run("remove-member", "nosuch", "bob")
    assert missing.exit_code == 1
    assert "no experiment 'nosuch'" in missing.output
