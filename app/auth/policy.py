"""Who may do what: the one table every view and command asks.

Plain Python so it can be read, and tested, as a table. A person acts in one experiment
with one role at a time (the header switcher picks it, their highest by default).
"""
from __future__ import annotations

ROLES = ("analysis", "production-shifter", "production", "superuser")


def rank(role: str | None) -> int:
    return ROLES.index(role) if role in ROLES else -1


def at_least(role: str | None, minimum: str) -> bool:
    return rank(role) >= rank(minimum)


def may_view(role: str | None) -> bool:
    return rank(role) >= 0


def may_create_campaign(role: str | None, poms_role: str) -> bool:
    """Analysis users make analysis campaigns; production ones need production."""
    if poms_role == "production":
        return at_least(role, "production")
    return may_view(role)


def may_edit_campaign(role: str | None, *, poms_role: str, is_owner: bool) -> bool:
    """Editing covers changing, cloning over, re-uploading and deleting a campaign."""
    if role == "superuser":
        return True
    if poms_role == "production":
        return role == "production"
    return is_owner and may_view(role)


def may_launch(role: str | None, *, poms_role: str, is_owner: bool) -> bool:
    """Shifters launch, kill, hold and release production work but do not edit it."""
    if poms_role == "production":
        return at_least(role, "production-shifter")
    return role == "superuser" or (is_owner and may_view(role))


def may_edit_shared(role: str | None, *, is_creator: bool) -> bool:
    """Job types and login setups are shared by the experiment's campaigns."""
    return at_least(role, "production") or (is_creator and may_view(role))


def may_create_shared(role: str | None) -> bool:
    """Any member may make a job type or login setup of their own (and then edit it)."""
    return may_view(role)


def may_manage_members(role: str | None, *, is_admin: bool = False) -> bool:
    return is_admin or role == "superuser"


def may_control_submission(role: str | None, *, poms_role: str, is_owner: bool) -> bool:
    """Kill, hold and release follow the launch rule: whoever may launch work may stop it."""
    return may_launch(role, poms_role=poms_role, is_owner=is_owner)


def may_read_audit(role: str | None, *, is_admin: bool = False) -> bool:
    return is_admin or role == "superuser"


def may_manage_experiments(*, is_admin: bool) -> bool:
    """Creating and deactivating experiments is for the administrators named in config."""
    return is_admin


# The credential a launch uses depends on the kind of campaign it serves.
CREDENTIAL_ROLES = ("analysis", "production")


def may_hold_credential(role: str | None, credential_role: str) -> bool:
    """Analysis work runs with the user's analysis credential; production work (launched by
    shifters too) with a production one."""
    if credential_role == "production":
        return at_least(role, "production-shifter")
    return credential_role == "analysis" and may_view(role)


def is_admin(username: str | None, admins: list[str]) -> bool:
    """POMS_ADMINS names principals (admin@FNAL.GOV) or user names (admin).

    A principal matches by its user part: every allowed realm maps alice@REALM to the
    experimenter alice, so the realm adds nothing once the sign-in accepted it.
    """
    if not username:
        return False
    for entry in admins:
        user, _at, _realm = entry.rpartition("@") if "@" in entry else (entry, "", "")
        if user == username:
            return True
    return False
