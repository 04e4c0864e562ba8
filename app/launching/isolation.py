"""No launch runs as this service, and no campaign runs as an account its role does not own.

The service's account can read instance/ (the database, the secret key, everyone's
credentials, the UconDB writer's password): a launch script is anyone's shell text, so it
never runs as that account outside dev mode.

  local launcher  each launch runs as the launch account of its campaign's role
                  (POMS_LOCAL_LAUNCH_USER for analysis, POMS_LOCAL_PRODUCTION_LAUNCH_USER
                  for production; app/batch/accounts.py), in its own area
                  POMS_LAUNCH_ACCOUNTS_DIR/ACCOUNT, with a clean environment. Dev mode
                  without an account runs launches as the service (as it always did; every
                  page says dev mode trusts whoever signs in).
  ssh launcher    the login setup's account@host, where the login setup is of the
                  campaign's role (app/campaigns/login_setups.py) and the host one that role
                  launches on: analysis campaigns on POMS_ANALYSIS_LAUNCH_HOSTS, production
                  campaigns elsewhere (the experiment's own nodes), as the original.

    check_config(config, instance_path)     at start: ConfigError for a set-up that would
                                            run launches as the service
    local_account(config, poms_role)        the Account a local launch runs as (or None)
    prepare_area(config, account)           the account's area, made or checked
    tool_environment(config)                where a launch account finds the embedded tools
    check_launch_host(config, ...)          LaunchError for a host the role may not use
"""
from __future__ import annotations

import grp
import logging
import os
import stat
from pathlib import Path
from urllib.parse import urlsplit

from app.batch.accounts import (
    Account,
    AccountError,
    launch_python,
    lookup,
    sudoers_line,
)
from app.batch.base import LAUNCH_ACCOUNT_SETTINGS
from app.batch.local import install_tools
from app.config import ConfigError
from app.launching.command import LaunchError

log = logging.getLogger(__name__)


def _role(poms_role: str | None) -> str:
    return "production" if poms_role == "production" else "analysis"


def check_config(config, instance_path: Path) -> None:
    """ConfigError when launches would run as this service outside dev mode, or a launch
    account cannot be used."""
    names = {role: config.get(setting) or "" for role, setting in
             LAUNCH_ACCOUNT_SETTINGS.items()}
    local = config.get("POMS_LAUNCHER", "local") == "local"
    if local and config.get("POMS_AUTH", "dev") != "dev" and not any(names.values()):
        raise ConfigError(
            f"POMS_AUTH={config.get('POMS_AUTH')} with the local launcher needs a launch "
            "account: set POMS_LOCAL_LAUNCH_USER (and POMS_LOCAL_PRODUCTION_LAUNCH_USER for "
            "production campaigns) to unprivileged accounts of their own, and "
            "POMS_LAUNCH_ACCOUNTS_DIR; otherwise every launch would run as this service and "
            "could read instance/ (the database, the secret key, every credential). Or use "
            "POMS_LAUNCHER=ssh (see the README's Security model)")
    if not any(names.values()):
        return
    accounts = {}
    for role, name in names.items():
        if name:
            try:
                accounts[role] = lookup(name, LAUNCH_ACCOUNT_SETTINGS[role])
            except AccountError as err:
                raise ConfigError(str(err)) from None
    if len(accounts) == 2 and accounts["analysis"].uid == accounts["production"].uid:
        raise ConfigError(
            "POMS_LOCAL_LAUNCH_USER and POMS_LOCAL_PRODUCTION_LAUNCH_USER name the same "
            "account: an analysis launch could then reach production's jobs and credentials; "
            "give production an account of its own")
    directory = config.get("POMS_LAUNCH_ACCOUNTS_DIR") or ""
    if not directory or not os.path.isabs(directory):
        raise ConfigError(
            f"POMS_LAUNCH_ACCOUNTS_DIR={directory!r}: with launch accounts, name the absolute "
            "directory (outside instance/, e.g. /var/lib/poms/launch) where each account "
            "works")
    resolved, instance = Path(directory).resolve(), Path(instance_path).resolve()
    if resolved == instance or instance in resolved.parents:
        raise ConfigError(f"POMS_LAUNCH_ACCOUNTS_DIR={directory} is inside instance/, which "
                          "the launch accounts must not reach")
    redis = urlsplit(config.get("POMS_REDIS_URL") or "")
    if local and redis.scheme in ("redis", "rediss") and not redis.password:
        # Not refused (the embedded Redis has none), but said: a launch account on this
        # machine can reach a Redis without a password, and the workers run what it holds.
        log.warning("POMS_REDIS_URL has no password: launches running here as %s can reach "
                    "the queues; give Redis a password (redis://:PASSWORD@host:port/0) or a "
                    "socket only POMS may open", ", ".join(n for n in names.values() if n))


def local_account(config, poms_role: str | None) -> Account | None:
    """The account a local launch of a `poms_role` campaign runs as; None: as this service
    (dev mode without accounts). LaunchError when the role has none outside dev mode."""
    role = _role(poms_role)
    setting = LAUNCH_ACCOUNT_SETTINGS[role]
    name = config.get(setting) or ""
    if not name:
        if config.get("POMS_AUTH", "dev") == "dev" and not any(
                config.get(s) for s in LAUNCH_ACCOUNT_SETTINGS.values()):
            return None
        raise LaunchError(f"{role} campaigns cannot launch here: no launch account for them "
                          f"({setting} is not set), and launches never run as POMS itself")
    try:
        return lookup(name, setting)
    except AccountError as err:
        raise LaunchError(str(err)) from None


def _install_hint(config, account: Account, area: Path) -> str:
    group = os.getegid()
    try:
        group = grp.getgrgid(group).gr_name
    except KeyError:
        pass
    return (f"create it: install -d -o {account.name} -g {group} -m 2750 {area}; and let "
            f"this service start launches as it, in /etc/sudoers.d/poms: "
            f"{sudoers_line(account.name)}")


def prepare_area(config, account: Account) -> Path:
    """POMS_LAUNCH_ACCOUNTS_DIR/ACCOUNT: the account's own (its launches' working
    directories, its batch spool), readable by this service. Made when running as root;
    otherwise checked, with what to run when it is not right."""
    base = Path(config["POMS_LAUNCH_ACCOUNTS_DIR"])
    area = base / account.name
    root = os.geteuid() == 0
    if root:
        base.mkdir(parents=True, exist_ok=True)
        base.chmod(0o755)
    info = os.lstat(base)
    if info.st_uid not in (0, os.geteuid()) or info.st_mode & 0o022:
        raise LaunchError(f"{base} must belong to this service (or root) and be writable by "
                          "no one else: a launch account could otherwise replace another's "
                          "area")
    if root and not os.path.lexists(area):
        area.mkdir(mode=0o700)
        os.chown(area, account.uid, account.gid)
    try:
        info = os.lstat(area)
    except FileNotFoundError:
        raise LaunchError(f"{area} does not exist: {_install_hint(config, account, area)}") \
            from None
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != account.uid:
        raise LaunchError(f"{area} is not a directory of {account.name}'s: "
                          f"{_install_hint(config, account, area)}")
    if not root and not (info.st_gid in os.getgroups() or info.st_gid == os.getegid()) \
            or not root and (info.st_mode & 0o050) != 0o050:
        raise LaunchError(f"this service cannot read {area} (its group must be this "
                          f"service's, mode 2750): {_install_hint(config, account, area)}")
    return area


def tool_environment(config) -> dict[str, str]:
    """Where a launch account finds the embedded jobsub_submit, fife_launch, ... and the
    Python to run them: a copy beside the accounts' areas (this repository and this
    service's Python may be closed to them)."""
    root = install_tools(Path(config["POMS_LAUNCH_ACCOUNTS_DIR"]))
    return {
        "POMS_ROOT": str(root),
        "POMS_TOOLS_DIR": str(root / "app" / "launching" / "tools"),
        "POMS_PYTHON": launch_python(config.get("POMS_LAUNCH_PYTHON") or ""),
        "FIFE_LAUNCH_PATH": str(root),
    }


def check_launch_host(config, *, poms_role: str | None, experiment: str, host: str,
                      where: str) -> None:
    """The original's per-role launch hosts (ssh launcher): analysis campaigns launch only
    on POMS_ANALYSIS_LAUNCH_HOSTS; production campaigns not on those (unless the host is
    the experiment's own node, named after it)."""
    hosts = list(config.get("POMS_ANALYSIS_LAUNCH_HOSTS") or [])
    if _role(poms_role) == "analysis":
        if hosts and host not in hosts:
            raise LaunchError(f"{where}: {host} is not an analysis launch host "
                              f"(POMS_ANALYSIS_LAUNCH_HOSTS: {', '.join(hosts)})")
        if not hosts and config.get("POMS_AUTH", "dev") != "dev":
            raise LaunchError(f"{where}: analysis campaigns launch only on analysis launch "
                              "hosts, and none is configured (POMS_ANALYSIS_LAUNCH_HOSTS)")
        return
    if host in hosts and experiment not in host and experiment != "samdev":
        raise LaunchError(f"{where}: {host} is an analysis launch host, not a {experiment} "
                          "node: production campaigns launch on the experiment's own nodes")
