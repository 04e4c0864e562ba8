"""The batch engine interface every engine implements, and how config picks one.

Batch ids are strings as jobsub writes them: a cluster is named by its first job,
`12345.0@jobsub01.fnal.gov`, and a job by its own id, `12345.3@jobsub01.fnal.gov`.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

# Job states an engine reports (HTCondor's words); exit codes tell done from failed.
IDLE, RUNNING, HELD, COMPLETED, REMOVED = "Idle", "Running", "Held", "Completed", "Removed"

_JOB_ID = re.compile(r"^(?P<cluster>\d+)\.(?P<proc>\d+)@(?P<schedd>[\w.-]+)$")


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


@dataclass
class JobStatus:
    job_id: str
    state: str  # IDLE, RUNNING, HELD, COMPLETED, REMOVED
    exit_code: int | None = None
    host: str = ""
    started: datetime | None = None
    ended: datetime | None = None


def split_job_id(job_id: str) -> tuple[int, int, str]:
    """(cluster, process, schedd) of `12345.0@jobsub01.fnal.gov`; ValueError otherwise."""
    found = _JOB_ID.match(job_id.strip())
    if not found:
        raise ValueError(f"{job_id!r} is not a batch job id like 12345.0@jobsub01.fnal.gov")
    return int(found["cluster"]), int(found["proc"]), found["schedd"]


def cluster_of(job_id: str) -> str:
    cluster, _proc, schedd = split_job_id(job_id)
    return f"{cluster}.0@{schedd}"


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

    def clusters_of_submission(self, submission_id: int) -> list[str]:
        """Clusters the engine knows were submitted for this POMS submission (the crash
        recovery path: a launch whose worker died still left its jobs behind)."""
        return []

    def launch_environment(self) -> dict[str, str]:
        """Extra environment a launch needs to reach this engine."""
        return {}


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


def engine_from_config(config: dict) -> BatchEngine:
    name = config.get("POMS_BATCH_ENGINE", "local")
    if name == "local":
        from app.batch.local import LocalEngine

        return LocalEngine(
            config["POMS_BATCH_DIR"], slots=int(config.get("POMS_LOCAL_SLOTS", 4))
        )
    if name == "jobsub":
        from app.batch.jobsub import JobsubEngine

        return JobsubEngine(group=config.get("POMS_JOBSUB_GROUP", ""),
                            bin_dir=config.get("POMS_JOBSUB_BIN", ""))
    if name == "htcondor":
        from .htcondor import HTCondorEngine

        return HTCondorEngine.from_config(config)
    raise BatchError(f"POMS_BATCH_ENGINE={name!r} is not one of local, jobsub, htcondor")


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
