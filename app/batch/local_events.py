"""The local engine's event log: each cluster's runner appends a line to
clusters/C/events.log whenever one of its jobs changes state, so tracking learns of a job's
end when it happens, by reading only what was added since it last looked.

  {"p": PROC, "state": "Completed", "exit_code": 0, "started": ..., "ended": ..., ...}

status.json is the runner's checkpoint of every job (rewritten seldom: its cost grows with
the cluster) and says up to which byte of events.log it holds (`events_at`); a cluster's
whole state is the checkpoint with the events after it applied. A line that does not parse
(a torn write on a full disk, a hand edit) is skipped: the line after it, or the next
checkpoint, carries the job's state again. Stdlib only: the runner imports it alone.
"""
from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path

from .accounts import open_beneath
from .base import COMPLETED, HELD, IDLE, REMOVED, RUNNING

_STATES = frozenset((IDLE, RUNNING, HELD, COMPLETED, REMOVED))

EVENTS = "events.log"
# Whole lines only: what the runner has not finished writing is read next time.
_NEWLINE = b"\n"


def now_text() -> str:
    """The engine's clock as its files write times (UTC, to the microsecond)."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")


def event_line(proc: int, job: dict) -> bytes:
    """One job's state as an events.log line (the runner's private keys left out)."""
    record = {"p": proc}
    record.update((k, v) for k, v in job.items() if k != "was_running")
    return json.dumps(record, separators=(",", ":")).encode() + _NEWLINE


def parse_events(data: bytes, count: int | None = None) -> dict[int, dict]:
    """{proc: its latest state} of the complete lines in `data`; lines that are not the
    state of a job of the cluster (0 <= proc < count) are skipped."""
    latest: dict[int, dict] = {}
    for line in data.split(_NEWLINE):
        if not line:
            continue
        try:
            record = json.loads(line)
            proc = int(record.pop("p"))
        except (ValueError, KeyError, TypeError, AttributeError):
            continue
        if record.get("state") in _STATES and proc >= 0 and (count is None or proc < count):
            latest[proc] = record
    return latest


def read_events(spool: Path, cluster: int, since: int = 0,
                count: int | None = None) -> tuple[dict[int, dict], int]:
    """({proc: latest state} of the events of the cluster after byte `since`, the byte
    after the last whole line read). A log shorter than `since` (made again) is read from
    its start. Missing: nothing, at position 0 (as its event marks say, so a lost log is
    not looked at again and again). Not followed through links."""
    try:
        with open_beneath(spool, f"clusters/{cluster}/{EVENTS}") as fh:
            size = os.fstat(fh.fileno()).st_size
            if size < since:
                since = 0
            fh.seek(since)
            data = fh.read(size - since)
    except FileNotFoundError:
        return {}, 0
    end = data.rfind(_NEWLINE) + 1
    return parse_events(data[:end], count), since + end


def merge(status: dict, events: dict[int, dict]) -> dict:
    """The checkpoint `status` with later job states applied (jobs it does not list are
    ignored: a line naming no job of the cluster is not one of its events)."""
    jobs = status.get("jobs")
    if isinstance(jobs, dict):
        for proc, record in events.items():
            if str(proc) in jobs:
                jobs[str(proc)] = record
    return status


def log_size(spool: Path, cluster: int) -> int:
    """How far the cluster's events.log has grown (0 when it has none): a change says there
    is something new to read. lstat: a link made in a launch account's spool is never
    followed for reading; its size only makes tracking look."""
    try:
        return os.lstat(spool / "clusters" / str(cluster) / EVENTS).st_size
    except OSError:
        return 0
