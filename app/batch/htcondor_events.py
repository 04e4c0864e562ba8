"""HTCondor's job event log, read as it grows: what the HTCondor engine's changes() gives
tracking (app/tracking/events.py). Each submit writes its cluster's events to condor.log
in its own directory (app/batch/htcondor.py); the shadow appends a job's end there the
moment it ends, before the schedd moves the job to its history, so the end is taken from
the event itself (exit code, time), never from a query that may still say Running.

The bindings' JobEventLog reads the events; its position (what pickling it keeps) is where
tracking left off. Only the state is taken from events: what they do not say (the slot's
host name) stays as the last full pass recorded it.
"""
from __future__ import annotations

import logging
import os
from datetime import UTC, datetime
from pathlib import Path

from .base import COMPLETED, HELD, IDLE, REMOVED, RUNNING, JobStatus

log = logging.getLogger(__name__)


def _when(event) -> datetime | None:
    try:
        return datetime.fromtimestamp(int(event.timestamp), UTC).replace(tzinfo=None)
    except (TypeError, ValueError, OverflowError, OSError):
        return None


def _exit_code(event) -> int | None:
    if event.get("TerminatedNormally", True):
        value = event.get("ReturnValue")
        return None if value is None else int(value)
    return 128 + int(event.get("TerminatedBySignal", 0) or 0)


def _apply(htcondor, event, job: dict) -> bool:
    """Change `job` ({state, exit_code, started, ended}) by one event; False when the
    event says nothing about the job's state."""
    kind = htcondor.JobEventType
    if event.type == kind.SUBMIT:
        job.update(state=IDLE)
    elif event.type in (kind.EXECUTE, kind.JOB_UNSUSPENDED, kind.JOB_SUSPENDED):
        # suspended: still claimed, resumes by itself (as the engine's query says)
        job.update(state=RUNNING)
        if event.type == kind.EXECUTE:
            job["started"] = _when(event)
    elif event.type == kind.JOB_TERMINATED:
        job.update(state=COMPLETED, exit_code=_exit_code(event), ended=_when(event))
    elif event.type == kind.JOB_ABORTED:
        job.update(state=REMOVED, ended=_when(event))
    elif event.type == kind.JOB_HELD:
        job.update(state=HELD)
    elif event.type in (kind.JOB_RELEASED, kind.JOB_EVICTED):
        job.update(state=IDLE)
    else:
        return False
    return True


def read_job_events(htcondor, path: Path, offset: int, schedd_name: str
                    ) -> tuple[list[JobStatus], int]:
    """(the latest state of each job the events after `offset` changed, the position after
    them). A log that cannot be parsed further is skipped to its end (the full pass reads
    those jobs from the schedd), so one bad event never holds the others back."""
    try:
        size = os.stat(path).st_size
    except FileNotFoundError:
        return [], 0  # as event_marks says of it: nothing to look at again
    if offset > size:
        offset = 0  # not the log we were reading
    reader = htcondor.JobEventLog.__new__(htcondor.JobEventLog)
    # what unpickling a JobEventLog does: open the log, resume at the offset kept
    reader.__setstate__(({"_deadline": 0, "_filename": str(path)}, int(offset)))
    jobs: dict[tuple[int, int], dict] = {}
    try:
        for event in reader.events(stop_after=0):
            key = (int(event.cluster), int(event.proc))
            job = jobs.get(key, {})
            if _apply(htcondor, event, job):
                jobs[key] = job
        offset = reader.__getstate__()[1]
    except StopIteration:
        offset = reader.__getstate__()[1]
    except Exception as err:  # the bindings' parse errors have no common class
        log.warning("%s: an event that cannot be read (%s); skipped to its end", path, err)
        offset = size
    finally:
        reader.close()
    found = [JobStatus(job_id=f"{cluster}.{proc}@{schedd_name}", state=job["state"],
                       exit_code=job.get("exit_code"), started=job.get("started"),
                       ended=job.get("ended"))
             for (cluster, proc), job in sorted(jobs.items())]
    return found, offset
