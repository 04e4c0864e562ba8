"""Login setups belong to a role: who may launch with them, and what a host and account may be.

A login setup says where and as whom a launch runs (`account@host`). As the original POMS
(its login setups carry `creator_role`, and only analysis launch hosts take analysis
launches), each login setup here carries the role whose campaigns may launch with it:

  analysis     the setup of an analysis campaign (an analysis person's own account)
  production   the setup of production campaigns (the experiment's production account)

A campaign's stages may use only setups of the campaign's own role, so an analysis
campaign can never launch as the production account, nor carry its values into a script
that runs there. The rule is checked at upload, at every edit, and again at launch.

A login setup made by an upload takes the uploading campaign's role (the original's
`creator_role`: the role its creator acted in); INI files do not carry it.

Host and account become ssh's destination: one starting with `-` would be read as an
option. They may hold the original's placeholders (`%(experiment)spro`); at launch, after
expansion, they must be a plain host name and account name.
"""
from __future__ import annotations

import re

ROLES = ("analysis", "production")

_LAUNCH_HOST = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,252}|[0-9A-Fa-f:.]{2,45}")
_LAUNCH_ACCOUNT = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}")


def role_of_campaign(poms_role: str | None) -> str:
    """The login setup role a campaign of `poms_role` launches with."""
    return "production" if poms_role == "production" else "analysis"


def may_use(setup_role: str | None, poms_role: str | None) -> bool:
    return (setup_role or "analysis") == role_of_campaign(poms_role)


def refusal(stage: str, setup: str, setup_role: str | None, poms_role: str | None) -> str:
    return (f"stage {stage!r} may not use login setup {setup!r}: it is a "
            f"{setup_role or 'analysis'} login setup, and a {role_of_campaign(poms_role)} "
            f"campaign launches only with {role_of_campaign(poms_role)} login setups "
            f"(its account is the {setup_role or 'analysis'} role's)")


def address_problems(host: str, account: str) -> list[tuple[str, str]]:
    """(key, reason) for a host or account that ssh would misread, as stored text."""
    problems = []
    for key, value in (("host", host or ""), ("account", account or "")):
        if value.startswith("-"):
            problems.append((key, f"{key} {value!r} starts with '-', which ssh would take "
                                  "for an option"))
        elif any(c.isspace() or not c.isprintable() for c in value):
            problems.append((key, f"{key} {value!r} holds a blank or a control character"))
    return problems


def check_destination(host: str, account: str, where: str) -> None:
    """ValueError unless `account@host` (placeholders expanded) is a plain destination."""
    if not _LAUNCH_HOST.fullmatch(host or ""):
        raise ValueError(f"{where}: host {host!r} is not a host name (letters, digits, "
                         "'.', '-', '_'; the original's shell expansion of `...` or $VAR "
                         "is not done: name the host)")
    if account and not _LAUNCH_ACCOUNT.fullmatch(account):
        raise ValueError(f"{where}: account {account!r} is not an account name (letters, "
                         "digits, '.', '-', '_'; the original's shell expansion of $VAR is "
                         "not done: name the account)")
