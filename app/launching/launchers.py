"""Launchers: where and as whom a launch script runs. One interface, chosen in config.

  local  a bash here, as the launch account of the campaign's role (app/launching/
         isolation.py), with a clean environment, in the account's own area; in dev mode
         without launch accounts, as the service's user in the submission's work directory
  ssh    `ssh -- account@host bash -s` with the script on standard input, as the original
         POMS launches through ssh to the login setup's host (production)

Either way the script travels as a file or on stdin, never as a command-line string, and
the launch's output (stdout and stderr together) goes to one file as it is written, so a
page can show it live. The launch runs in its own session: a worker that dies does not take
the launch with it, and the next tracking pass finds what the launch did.
"""
from __future__ import annotations

import os
import shlex
import signal
import socket
import subprocess
from dataclasses import dataclass
from pathlib import Path

from app.batch.accounts import Account
from app.batch.accounts import command as run_as
from app.processes import pid_alive


@dataclass
class Started:
    process: subprocess.Popen
    host: str  # where the launch runs, for the submission page
    stopped_after: float | None = None  # seconds, when wait() stopped it (its timeout)

    @property
    def pid(self) -> int:
        return self.process.pid

    def wait(self, timeout: float) -> int:
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            kill_group(self.process.pid)
            self.process.wait()
            self.stopped_after = timeout
            return -signal.SIGKILL


def kill_group(pid: int) -> None:
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def this_process() -> str:
    """"host:pid" of this process, as a claim records it (process_alive reads it)."""
    return f"{socket.gethostname()}:{os.getpid()}"


def process_alive(host_pid: str) -> bool | None:
    """Whether the process "host:pid" runs; None when it is another machine's (only that
    machine can tell)."""
    host, _colon, pid = (host_pid or "").rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return None
    return pid_alive(int(pid))


class Launcher:
    kind = "base"

    def argv(self, account: str, host: str) -> list[str]:
        raise NotImplementedError

    def where(self, account: str, host: str) -> str:
        raise NotImplementedError

    def start(self, script: Path, workdir: Path, output: Path, *, account: str = "",
              host: str = "", run_as_account: Account | None = None) -> Started:
        """Run `script` (on standard input); its output goes to `output`. `account` and
        `host` are the login setup's (ssh); `run_as_account`: the launch account a local
        launch runs as, in `workdir` (its area)."""
        if run_as_account is None:
            workdir.mkdir(parents=True, exist_ok=True)
        argv, options = self.argv(account, host), {"env": self.environment()}
        if run_as_account is not None:
            argv, options = run_as(run_as_account, argv, run_as_account.environment())
        with open(script, "rb") as stdin, open(output, "ab") as out:
            process = subprocess.Popen(
                argv, cwd=workdir, stdin=stdin, stdout=out, stderr=subprocess.STDOUT,
                start_new_session=True, close_fds=True, **options,
            )
        where = self.where(account, host)
        if run_as_account is not None:
            where = f"{run_as_account.name}@{where}"
        return Started(process=process, host=where)

    def environment(self) -> dict[str, str]:
        # Dev mode's launches (as this service) and the ssh client: the launch script
        # exports everything it needs; keep the service's own settings (database URL,
        # secret key) out of it.
        return {k: v for k, v in os.environ.items()
                if not k.startswith("POMS_") and k not in ("SECRET_KEY",)}


class LocalLauncher(Launcher):
    kind = "local"

    def argv(self, account: str, host: str) -> list[str]:
        return ["/bin/bash", "-s"]

    def where(self, account: str, host: str) -> str:
        return socket.gethostname()


class SshLauncher(Launcher):
    kind = "ssh"

    def __init__(self, options: str = ""):
        self.options = shlex.split(options)

    def argv(self, account: str, host: str) -> list[str]:
        if not host:
            raise ValueError("the login setup has no host to ssh to")
        target = f"{account}@{host}" if account else host
        # BatchMode: never wait for a password; -T: no terminal, the script is on stdin;
        # `--`: the destination is never read as an option, whatever the login setup says.
        return ["ssh", "-T", "-o", "BatchMode=yes", *self.options, "--", target, "bash -s"]

    def where(self, account: str, host: str) -> str:
        return f"{account}@{host}" if account else host


def launcher_from_config(config) -> Launcher:
    kind = config.get("POMS_LAUNCHER", "local")
    if kind == "ssh":
        return SshLauncher(config.get("POMS_SSH_OPTIONS", ""))
    return LocalLauncher()
