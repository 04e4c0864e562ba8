"""The jobsub engine: Fermilab's jobsub_submit / jobsub_q / jobsub_rm ... as subprocesses.

Ids look like `12345.0@jobsub01.fnal.gov` (cluster 12345, process 0, on that schedd).
jobsub_q lists the jobs still in the queue; a job that left it has ended (jobsub keeps no
exit code there, so it is reported Completed with no exit code; the log analysis reads
the real one). Every call has a timeout; a call that fails raises BatchError and tracking
changes nothing.
"""
from __future__ import annotations

import os
import re
import subprocess
import tempfile
from pathlib import Path

from .base import (
    COMPLETED,
    HELD,
    IDLE,
    REMOVED,
    RUNNING,
    BatchEngine,
    BatchError,
    JobRequest,
    JobStatus,
    split_job_id,
)

_ID = r"\d+\.\d+@[\w.-]+"
_SUBMIT_PATTERNS = (
    re.compile(rf"Use job id ({_ID}) to retrieve output", re.ASCII),
    re.compile(rf"JobsubJobId of first job: ({_ID})", re.ASCII),
)
_SUBMITTED = re.compile(r"(\d+) job\(s\) submitted to cluster (\d+)\.")
_Q_LINE = re.compile(rf"^({_ID})\s+\S+\s+.*?\s([IRHCXS<>])\s+\d+\s")
_Q_STATES = {"I": IDLE, "R": RUNNING, "H": HELD, "C": COMPLETED, "X": REMOVED,
             "S": HELD, "<": RUNNING, ">": RUNNING}


def parse_submit_output(text: str) -> list[str]:
    """Every cluster id a launch's output announces, in order, each once."""
    found: list[str] = []
    for line in text.splitlines():
        for pattern in _SUBMIT_PATTERNS:
            match = pattern.search(line)
            if match and match.group(1) not in found:
                try:
                    cluster, _proc, schedd = split_job_id(match.group(1))
                except ValueError:
                    continue  # not an id (too long): the engine could not have made it
                cluster_id = f"{cluster}.0@{schedd}"
                if cluster_id not in found:
                    found.append(cluster_id)
    return found


def parse_submitted_jobs(text: str) -> list[str]:
    """Every job id a launch's output announces: condor's "N job(s) submitted to cluster C."
    line gives each cluster's size, its id line the schedd. Knowing them all lets tracking
    account for jobs that leave the queue before its first look (jobsub_q shows no ended
    job)."""
    sizes = {int(cluster): int(count) for count, cluster in _SUBMITTED.findall(text)}
    jobs = []
    for cluster_id in parse_submit_output(text):
        cluster, _proc, schedd = split_job_id(cluster_id)
        jobs += [f"{cluster}.{proc}@{schedd}" for proc in range(sizes.get(cluster, 0))]
    return jobs


def parse_q_output(text: str) -> dict[str, str]:
    """{job id: state} from jobsub_q's table."""
    states = {}
    for line in text.splitlines():
        match = _Q_LINE.match(line.strip())
        if match:
            states[match.group(1)] = _Q_STATES[match.group(2)]
    return states


class JobsubEngine(BatchEngine):
    name = "jobsub"
    TIMEOUT_S = 120
    # jobsub_q lists queued jobs only: a known job missing from it has ended.
    lists_finished_jobs = False

    def __init__(self, group: str = "", bin_dir: str = ""):
        self.group = group
        self.bin_dir = bin_dir

    def _run(self, command: str, *args: str) -> str:
        program = os.path.join(self.bin_dir, command) if self.bin_dir else command
        argv = [program, *(["-G", self.group] if self.group else []), *args]
        try:
            done = subprocess.run(argv, capture_output=True, text=True, timeout=self.TIMEOUT_S)
        except (OSError, subprocess.TimeoutExpired) as err:
            raise BatchError(f"{command} did not answer: {err}") from None
        if done.returncode != 0:
            raise BatchError(f"{command} failed ({done.returncode}): {done.stderr.strip()[-500:]}")
        return done.stdout

    def submit(self, request: JobRequest) -> str:
        args = ["-N", str(request.count)]
        if request.role:
            args.append(f"--role={request.role}")
        if request.memory:
            args.append(f"--memory={request.memory}")
        if request.lifetime:
            args.append(f"--expected-lifetime={request.lifetime}")
        if request.dataset:
            args.append(f"--dataset_definition={request.dataset}")
        for name, value in request.env.items():
            args += ["-e", f"{name}={value}"]
        args += [f"file://{request.executable}", *request.arguments]
        ids = parse_submit_output(self._run("jobsub_submit", *args))
        if not ids:
            raise BatchError("jobsub_submit printed no job id")
        return ids[0]

    def query(self, batch_ids: list[str]) -> list[JobStatus]:
        if not batch_ids:
            return []
        states = parse_q_output(self._run("jobsub_q", f"--jobid={','.join(batch_ids)}"))
        clusters = {f"{split_job_id(b)[0]}.0@{split_job_id(b)[2]}" for b in batch_ids}
        result = []
        for job_id, state in states.items():
            cluster, _proc, schedd = split_job_id(job_id)
            if f"{cluster}.0@{schedd}" in clusters:
                result.append(JobStatus(job_id=job_id, state=state))
        return result

    def hold(self, batch_ids: list[str]) -> None:
        self._run("jobsub_hold", f"--jobid={','.join(batch_ids)}")

    def release(self, batch_ids: list[str]) -> None:
        self._run("jobsub_release", f"--jobid={','.join(batch_ids)}")

    def remove(self, batch_ids: list[str]) -> None:
        self._run("jobsub_rm", f"--jobid={','.join(batch_ids)}")

    def fetch_log(self, job_id: str) -> str:
        with tempfile.TemporaryDirectory() as tmp:
            self._run("jobsub_fetchlog", f"--jobid={job_id}", f"--destdir={tmp}")
            parts = []
            for path in sorted(Path(tmp).rglob("*")):
                if path.is_file() and path.suffix in (".out", ".err", ".log"):
                    parts.append(f"== {path.name} ==\n" + path.read_text(errors="replace"))
            return "\n".join(parts)

    def clusters_of_submission(self, submission_id: int) -> list[str]:
        out = self._run("jobsub_q", f"--constraint=POMS4_SUBMISSION_ID=={int(submission_id)}")
        clusters = []
        for job_id in parse_q_output(out):
            cluster, _proc, schedd = split_job_id(job_id)
            if f"{cluster}.0@{schedd}" not in clusters:
                clusters.append(f"{cluster}.0@{schedd}")
        return clusters
