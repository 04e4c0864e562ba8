"""Launch accounts: the unprivileged OS accounts launches and their local jobs run as.

A launch never runs as this service's own account (which can read instance/: the database,
the secret key, every person's credentials). With the local launcher each launch runs as
the launch account of its campaign's role (POMS_LOCAL_LAUNCH_USER,
POMS_LOCAL_PRODUCTION_LAUNCH_USER), with a clean environment:

  as root          Popen(user=, group=, extra_groups=[]): no other groups, no sudo needed
  as another user  sudo -n -u ACCOUNT -- /usr/bin/env -i NAME=VALUE ... PROGRAM ARGS,
                   allowed by the one sudoers line `sudoers_line()` prints

The local batch engine works for an account in the account's own area
(POMS_LAUNCH_ACCOUNTS_DIR/ACCOUNT): its launches' working directories and its batch spool.
This module imports nothing of the app (the engine's tools run it without Flask).
"""
from __future__ import annotations

import os
import pwd
import re
import stat
import sys
from dataclasses import dataclass
from pathlib import Path

# What useradd accepts (lower case), and nothing a command line could take for an option.
ACCOUNT_NAME = re.compile(r"[a-z_][a-z0-9_.-]{0,31}")
ENV_BIN = "/usr/bin/env"
SUDO = "sudo"
SAFE_PATH = "/usr/local/bin:/usr/bin:/bin"


class AccountError(ValueError):
    """A launch account that cannot be used; the message names it and says why."""


@dataclass(frozen=True)
class Account:
    name: str
    uid: int
    gid: int
    home: str

    def environment(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        """All a process started as this account sees: who it is, a plain PATH, and
        `extra`. Nothing of the service's environment (its database URL, its keys)."""
        env = {
            "HOME": self.home or "/",
            "USER": self.name,
            "LOGNAME": self.name,
            "SHELL": "/bin/bash",
            "PATH": SAFE_PATH,
            "LANG": "C.UTF-8",
        }
        env.update(extra or {})
        return env


def lookup(name: str, setting: str = "POMS_LOCAL_LAUNCH_USER") -> Account:
    """The account `name`, or AccountError when it is missing, privileged or this service."""
    if not ACCOUNT_NAME.fullmatch(name or ""):
        raise AccountError(f"{setting}={name!r} is not an account name (letters, digits, "
                           "'_', '.', '-'; not starting with '-')")
    try:
        entry = pwd.getpwnam(name)
    except KeyError:
        raise AccountError(f"{setting}={name}: no such account on this machine "
                           f"(create it: useradd --system --create-home {name})") from None
    if entry.pw_uid == 0:
        raise AccountError(f"{setting}={name} is root: launches must run unprivileged")
    if entry.pw_uid == os.geteuid():
        raise AccountError(f"{setting}={name} is this service's own account: a launch "
                           "running as it could read instance/ (the database, the secret "
                           "key, every credential); name an account of its own")
    return Account(name=name, uid=entry.pw_uid, gid=entry.pw_gid, home=entry.pw_dir)


def service_name() -> str:
    try:
        return pwd.getpwuid(os.geteuid()).pw_name
    except KeyError:
        return str(os.geteuid())


def sudoers_line(account: str, service: str | None = None) -> str:
    """The sudoers line a service not running as root needs to start launches as
    `account` (and nothing else: only as that account, only through env)."""
    return f"{service or service_name()} ALL=({account}) NOPASSWD: {ENV_BIN}"


def command(account: Account, argv: list[str], env: dict[str, str],
            as_root: bool | None = None) -> tuple[list[str], dict]:
    """(argv, Popen keyword arguments) that run `argv` as `account` with exactly `env`.

    The caller adds cwd, stdin, stdout, ... The process has no supplementary groups and
    none of the service's environment, whichever way it starts.
    """
    as_root = os.geteuid() == 0 if as_root is None else as_root
    if as_root:
        return list(argv), {"user": account.uid, "group": account.gid, "extra_groups": [],
                            "env": dict(env)}
    assignments = [f"{name}={value}" for name, value in env.items()]
    # -n: never ask for a password (a worker has no one to ask); `env -i` clears whatever
    # sudo would keep, so the launch sees `env` and nothing else.
    return ([SUDO, "-n", "-u", account.name, "--", ENV_BIN, "-i", *assignments, *argv],
            {"env": {"PATH": SAFE_PATH}})


def others_can_run(path: str) -> bool:
    """True when an account with no special groups can execute `path` (every directory on
    the way open to others)."""
    real = Path(os.path.realpath(path))
    try:
        if not real.is_file() or (real.stat().st_mode & 0o005) != 0o005:
            return False
        return all(p.stat().st_mode & 0o001 for p in real.parents)
    except OSError:
        return False


def launch_python(configured: str = "") -> str:
    """The Python launch accounts run the embedded tools with: the configured one, else this
    service's when others can run it, else the system's (the tools need only the standard
    library of Python 3.11)."""
    if configured:
        return configured
    if others_can_run(sys.executable):
        return sys.executable
    if others_can_run("/usr/bin/python3"):
        return "/usr/bin/python3"
    return sys.executable


# --- the account's area, as the service reads it ------------------------------------------


class UnsafePath(OSError):
    """A file in a launch account's area that is not a plain file of that area (a symbolic
    link, a pipe, ...): the service does not follow it."""


def open_beneath(root: Path, relative: str | Path, mode: str = "rb"):
    """Open `root/relative` for reading without following a symbolic link on the way.

    The directories under `root` and the file may belong to a launch account, which could
    make any of them a link to the service's own files (instance/secret_key) or a pipe that
    never answers. Each step is opened with O_NOFOLLOW; the end must be a regular file.
    Raises FileNotFoundError when a part is missing, UnsafePath when a part is not plain.
    """
    # str.split, not pathlib: this runs once per finished job when their files are recorded
    text = relative if isinstance(relative, str) else str(relative)
    parts = [p for p in text.split("/") if p not in ("", ".")]
    if not parts or text.startswith("/") or ".." in parts:
        raise UnsafePath(f"{relative}: not a path inside {root}")
    flags_dir = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
    fd = os.open(root, flags_dir)
    try:
        for part in parts[:-1]:
            try:
                next_fd = os.open(part, flags_dir, dir_fd=fd)
            except OSError as err:
                if err.errno in (40, 20):  # ELOOP (a link), ENOTDIR
                    raise UnsafePath(f"{root}/{relative}: {part} is not a directory") \
                        from None
                raise
            os.close(fd)
            fd = next_fd
        try:
            file_fd = os.open(parts[-1], os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK
                              | os.O_CLOEXEC, dir_fd=fd)
        except OSError as err:
            if err.errno == 40:  # ELOOP
                raise UnsafePath(f"{root}/{relative} is a symbolic link") from None
            raise
    finally:
        os.close(fd)
    if not stat.S_ISREG(os.fstat(file_fd).st_mode):
        os.close(file_fd)
        raise UnsafePath(f"{root}/{relative} is not a regular file")
    os.set_blocking(file_fd, True)
    return os.fdopen(file_fd, mode)


def read_beneath(root: Path, relative: str | Path, limit: int | None = None) -> bytes:
    with open_beneath(root, relative) as fh:
        return fh.read() if limit is None else fh.read(limit)
