"""Whether a local-engine cluster's runner (the one process that starts its jobs and writes
its status.json) is still there, and what is done when it is not.

A runner that died (killed, out of memory) would leave its jobs Idle or Running in
status.json for ever, and the jobs it had started running on, unwatched. As HTCondor's
schedd does when it comes back, the engine starts a new runner for the cluster (at most
POMS_LOCAL_RUNNER_RESTARTS times): it stops the jobs the dead one had running (their
exit would be lost) and runs them again with the cluster's Idle ones; the submission says
so. Past that limit, or in a launch account's spool (its files are the account's), the
orphans are stopped and the unfinished jobs reported removed, saying why, so a recovery
launch can run them again. Spools are read without following links (a launch account
writes its own)."""
from __future__ import annotations

import json
import os
import signal
from pathlib import Path

from .accounts import read_beneath

UNFINISHED = ("Idle", "Running", "Held")
RESTARTS_FILE = "runner_restarts.json"  # clusters/C/: one entry per runner found gone


def _alive(pid: int) -> bool:
    # app.processes.pid_alive's rule, written again: the runner runs as `python -m
    # batch.local_runner` from app/ (in a launch account's sandbox), where `app` is not
    # importable.
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


def last_line(spool: Path, relative: str) -> str:
    try:
        text = read_beneath(spool, relative)[-2000:].decode("utf-8", "replace")
    except OSError:
        return ""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1][:300] if lines else ""


def _session_of(pid: int) -> list[int]:
    """Every process of the session `pid` leads (a job runs in a session of its own, so
    this is the job and whatever it started)."""
    found = []
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat") as stat:
                fields = stat.read().rpartition(")")[2].split()
        except OSError:
            continue
        if int(fields[3]) == pid and fields[0] not in ("Z", "X"):
            found.append(int(entry.name))
    return found


def _is_job(pid: int, job_id: str) -> bool:
    # The job's own environment names it (JOBSUBJOBID): a pid reused since is left alone.
    try:
        with open(f"/proc/{pid}/environ", "rb") as fh:
            return f"JOBSUBJOBID={job_id}".encode() in fh.read().split(b"\0")
    except OSError:
        return False


def stop_orphans(status: dict, cluster: int, schedd: str) -> list[str]:
    """Kill the processes of the cluster's jobs that a dead runner left running (each
    job's session, when one of its processes still says it is that job). Returns the job
    ids stopped."""
    stopped = []
    for proc, job in (status.get("jobs") or {}).items():
        if not isinstance(job, dict) or job.get("state") not in UNFINISHED:
            continue
        try:
            leader = int(job.get("pid") or 0)
        except (TypeError, ValueError):
            continue
        job_id = f"{cluster}.{proc}@{schedd}"
        members = _session_of(leader) if leader > 0 else []
        if not any(_is_job(pid, job_id) for pid in members):
            continue
        for pid in members:
            try:
                os.kill(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        stopped.append(job_id)
    return stopped


def read_restarts(spool: Path, cluster: int) -> list[dict]:
    try:
        found = json.loads(read_beneath(spool, f"clusters/{cluster}/{RESTARTS_FILE}"))
    except (OSError, ValueError):
        return []
    return [r for r in found if isinstance(r, dict)] if isinstance(found, list) else []


def restarts_note(spool: Path, cluster: int, schedd: str) -> str:
    """What the submission says of its cluster's runners that died and were replaced."""
    restarts = read_restarts(spool, cluster)
    if not restarts:
        return ""
    last = restarts[-1]
    times = "once" if len(restarts) == 1 else f"{len(restarts)} times"
    said = f" (its log ended: {last['said']})" if last.get("said") else ""
    return (f"the local engine's runner of cluster {cluster}.0@{schedd} died {times}, last "
            f"pid {last.get('pid')} at {str(last.get('at', ''))[:19]}{said}: a new runner "
            f"took over, and ran again the jobs it had left unfinished")


def runner_pid(spool: Path, cluster: int) -> int | None:
    try:
        return int(read_beneath(spool, f"clusters/{cluster}/runner.pid").decode().strip())
    except (OSError, ValueError):
        return None


def runner_stopped(spool: Path, cluster: int) -> bool:
    """Whether the cluster's runner started and no longer runs (cheap: no status read)."""
    pid = runner_pid(spool, cluster)
    return pid is not None and not _alive(pid)


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
    pid = runner_pid(spool, cluster)
    if pid is None:
        return ""  # not started yet
    if _alive(pid):
        return ""
    said = last_line(spool, f"clusters/{cluster}/runner.log")
    return (f"the local engine's runner of cluster {cluster}.0@{schedd} (pid {pid}) is gone: "
            f"its {unfinished} unfinished job{'s' if unfinished != 1 else ''} "
            f"{'are' if unfinished != 1 else 'is'} counted removed"
            + (f"; its log ends: {said}" if said else ""))
