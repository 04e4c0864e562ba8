"""The batch engine interface every engine implements, and how config picks one.

Batch ids are strings as jobsub writes them: a cluster is named by its first job,
`12345.0@jobsub01.fnal.gov`, and a job by its own id, `12345.3@jobsub01.fnal.gov`.
"""
from __future__ import annotations

import os
import re
import shutil
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

# Job states an engine reports (HTCondor's words); exit codes tell done from failed.
IDLE, RUNNING, HELD, COMPLETED, REMOVED = "Idle", "Running", "Held", "Completed", "Removed"

# ASCII only, bounded: an id comes from launch output and job wrappers, and is parsed once
# at the door so nothing further on meets a malformed one.
_JOB_ID = re.compile(
    r"(?P<cluster>\d{1,12})\.(?P<proc>\d{1,9})@(?P<schedd>[A-Za-z0-9_][\w.-]{0,200})", re.ASCII)


class BatchError(RuntimeError):
    """The engine did not answer or refused; nothing about job states may be concluded."""


@dataclass
class JobRequest:
    """What jobsub_submit asks for: N copies of one script with its arguments."""

    executable: str  # a local path (jobsub's file://PATH)
    arguments: list[str] = field(default_factory=list)
    count: int = 1
    env: dict[str, str] = field(default_factory=dict)
    group: str = ""
    role: str = ""
    memory: str = ""
    lifetime: str = ""
    dataset: str = ""
    submission_id: int | None = None
    # jobsub's -f: local files taken at submission, each job finds them in $CONDOR_DIR_INPUT
    input_files: list[str] = field(default_factory=list)


@dataclass
class JobStatus:
    job_id: str
    state: str  # IDLE, RUNNING, HELD, COMPLETED, REMOVED
    exit_code: int | None = None
    host: str = ""
    started: datetime | None = None
    ended: datetime | None = None
    # What the job used, where the engine measures it (the local engine: the kernel's
    # rusage of the job's process tree); None where it does not say.
    cpu_time_s: float | None = None
    wall_time_s: float | None = None
    peak_memory_mb: float | None = None  # MiB, resident


def split_job_id(job_id: str) -> tuple[int, int, str]:
    """(cluster, process, schedd) of `12345.0@jobsub01.fnal.gov`; ValueError otherwise."""
    found = _JOB_ID.fullmatch(job_id.strip()) if isinstance(job_id, str) else None
    if not found:
        raise ValueError(f"{job_id!r} is not a batch job id like 12345.0@jobsub01.fnal.gov")
    return int(found["cluster"]), int(found["proc"]), found["schedd"]


def cluster_of(job_id: str) -> str:
    cluster, _proc, schedd = split_job_id(job_id)
    return f"{cluster}.0@{schedd}"


class ForeignBatchId(BatchError):
    """An id of another batch system (another schedd, another engine): this engine was not
    asked anything, so it says nothing about whether the engine answers."""


class BatchEngine:
    """One batch system. Every method takes many ids at once where it can."""

    name = "base"
    # True when query() reports finished jobs too; otherwise a known job that query() no
    # longer lists has ended (tracking marks it so).
    lists_finished_jobs = True

    def submit(self, request: JobRequest) -> str:
        """Queue the jobs; the cluster's batch id."""
        raise NotImplementedError

    def query(self, batch_ids: list[str]) -> list[JobStatus]:
        """Every job of the given clusters, in one question to the engine."""
        raise NotImplementedError

    def hold(self, batch_ids: list[str]) -> None:
        raise NotImplementedError

    def release(self, batch_ids: list[str]) -> None:
        raise NotImplementedError

    def remove(self, batch_ids: list[str]) -> None:
        raise NotImplementedError

    def fetch_log(self, job_id: str) -> str:
        raise NotImplementedError

    # True when the engine logs its jobs' changes as they happen (app/tracking/events.py):
    # tracking then follows event_marks and changes, and polls only as a safety net.
    follows_events = False

    def event_marks(self, submission_id: int, batch_ids: list[str]) -> dict[str, object]:
        """{cluster id: a mark of how far its event log has grown}; cheap, asked often."""
        return {}

    def changes(self, submission_id: int, batch_ids: list[str], since: dict
                ) -> tuple[list[JobStatus], dict]:
        """(the states of the jobs that changed after the positions `since`, the new
        positions, comparable to event_marks). Without a log: every job, as query()."""
        return self.query(batch_ids), dict(since)

    def notes(self, batch_ids: list[str]) -> list[str]:
        """What the last query() found wrong with these clusters (for the submission's
        page), beyond their jobs' states: e.g. a local runner that is gone."""
        return []

    def clusters_of_submission(self, submission_id: int) -> list[str]:
        """Clusters the engine knows were submitted for this POMS submission (the crash
        recovery path: a launch whose worker died still left its jobs behind)."""
        return []

    def launch_environment(self) -> dict[str, str]:
        """Extra environment a launch needs to reach this engine."""
        return {}

    def launch_environment_for(self, account) -> dict[str, str]:
        """The same for a launch that runs as a launch account (app/batch/accounts.py)."""
        return self.launch_environment()

    def confirm(self, submission_id: int, batch_ids: list[str],
                account: str = "") -> tuple[list[str], list[str]]:
        """(cluster ids the engine confirms were submitted for this submission's launch,
        the others with why). A launch's output, or a job wrapper's report, only claims an
        id; the engine's own record of the POMS task id on the cluster decides, so no one
        can take over (and then kill) another submission's jobs by naming their id.

        Engines that record the task id (jobsub's POMS4_SUBMISSION_ID, HTCondor's
        PomsSubmissionId) answer through clusters_of_submission; the local engine reads its
        own record, and also which account's area the cluster is in."""
        known = set(self.clusters_of_submission(submission_id))
        confirmed, refused = [], []
        for batch_id in batch_ids:
            try:
                cluster = cluster_of(batch_id)
            except ValueError as err:
                refused.append(str(err))
                continue
            if cluster in known:
                if cluster not in confirmed:
                    confirmed.append(cluster)
            else:
                refused.append(f"{batch_id}: {self.name} has no cluster {cluster} carrying "
                               f"POMS task id {submission_id}")
        return confirmed, refused


def job_environment(request_env: dict[str, str], group: str, dataset: str) -> dict[str, str]:
    """What every job of a request sees, on any engine that runs jobs itself: the request's
    variables, GROUP and EXPERIMENT from -G, SAM_DATASET from --dataset."""
    env = dict(request_env)
    # -G wins over a GROUP/EXPERIMENT the launch passed on; both are always set, so a job
    # script running under `set -u` may read them.
    env["GROUP"] = group or env.get("GROUP", "")
    env["EXPERIMENT"] = group or env.get("EXPERIMENT", "")
    if dataset:
        env["SAM_DATASET"] = dataset
    return env


def job_identity(process: str, cluster: str, schedd: str) -> dict[str, str]:
    """Which job this is, as jobsub tells a job. Strings, not numbers: HTCondor fills them in
    per job from submit macros ($(Process)), the local engine from its own counters."""
    return {
        "PROCESS": process,
        "CLUSTER": cluster,
        "JOBSUBJOBID": f"{cluster}.{process}@{schedd}",
        "JOBSUBJOBSECTION": process,
    }


def check_input_files(paths: list[str]) -> None:
    """BatchError naming the first -f file that is not a readable file."""
    for path in paths:
        if not os.path.isfile(path) or not os.access(path, os.R_OK):
            raise BatchError(f"-f {path}: no such file (or not readable)")


def copy_input_files(paths: list[str], directory: Path) -> list[str]:
    """Copy the -f files into `directory` as jobsub's dropbox takes them at submission (a
    later edit or removal does not change queued jobs); their names, a later file of the
    same name replacing an earlier one."""
    names: list[str] = []
    for path in paths:
        directory.mkdir(parents=True, exist_ok=True)
        name = Path(path).name
        shutil.copyfile(path, directory / name)
        names = [n for n in names if n != name] + [name]
    return names


LAUNCH_ACCOUNT_SETTINGS = {"analysis": "POMS_LOCAL_LAUNCH_USER",
                           "production": "POMS_LOCAL_PRODUCTION_LAUNCH_USER"}


LOG_TAIL_BYTES = 512 * 1024


def read_log_tails(files: list[tuple[str, Path]]) -> list[str]:
    """`== label ==` and the last LOG_TAIL_BYTES of each file that exists: a job's failure is
    at the end of its log, and a runaway log must not fill the worker's memory."""
    parts = []
    for label, path in files:
        if path.exists():
            with open(path, "rb") as fh:
                fh.seek(max(0, path.stat().st_size - LOG_TAIL_BYTES))
                parts.append(f"== {label} ==\n" + fh.read().decode("utf-8", "replace"))
    return parts
