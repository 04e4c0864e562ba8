"""Whether a local-engine cluster's runner (the one process that starts its jobs and writes
its status.json) is still there. A runner that died (killed, out of memory) leaves its
jobs Idle or Running in status.json for ever: the engine reports them removed instead, and
says why, so tracking can show it. Read without following links (a launch account writes
its own spool)."""
from __future__ import annotations

import os
from pathlib import Path

from .accounts import read_beneath

UNFINISHED = ("Idle", "Running", "Held")


def _alive(pid: int) -> bool:
    # app.processes.pid_alive's rule, written again: the runner runs as `python -m
    # batch.local` from app/ (in a launch account's sandbox), where `app` is not importable.
    try:
        with open(f"/proc/{pid}/stat") as stat:
            if stat.read().rpartition(")")[2].split()[0] in ("Z", "X"):
                return False  # exited; only waiting to be reaped
    except FileNotFoundError:
        return False
    except OSError:
        pass
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # a launch account's runner
    return True


def _last_line(spool: Path, relative: str) -> str:
    try:
        text = read_beneath(spool, relative)[-2000:].decode("utf-8", "replace")
    except OSError:
        return ""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1][:300] if lines else ""


def runner_gone(spool: Path, cluster: int, schedd: str, status: dict) -> str:
    """Why the cluster's runner is gone while jobs are unfinished, or "" when all is well
    (the cluster is done, or its runner runs, or is still starting)."""
    if status.get("done"):
        return ""
    jobs = status.get("jobs") or {}
    unfinished = sum(1 for job in jobs.values()
                     if isinstance(job, dict) and job.get("state") in UNFINISHED)
    if not unfinished:
        return ""
    try:
        pid = int(read_beneath(spool, f"clusters/{cluster}/runner.pid").decode().strip())
    except (OSError, ValueError):
        return ""  # not started yet
    if _alive(pid):
        return ""
    said = _last_line(spool, f"clusters/{cluster}/runner.log")
    return (f"the local engine's runner of cluster {cluster}.0@{schedd} (pid {pid}) is gone: "
            f"its {unfinished} unfinished job{'s' if unfinished != 1 else ''} "
            f"{'are' if unfinished != 1 else 'is'} counted removed"
            + (f"; its log ends: {said}" if said else ""))
