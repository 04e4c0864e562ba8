"""The HTCondor engine: a schedd spoken to through the official bindings (`htcondor2`).

Jobsub is a layer over HTCondor; this engine talks to a schedd directly, so a pool that
POMS can reach runs the same launch scripts the local engine runs (their `jobsub_submit`
lands here when POMS_BATCH_ENGINE=htcondor).

Batch ids keep the jobsub form: `CLUSTER.PROC@SCHEDD_NAME`, a cluster named by its first job.

Every submit gets its own directory under POMS_CONDOR_SUBMIT_DIR (a copy of the script, the
jobs' stdout/stderr `job.CLUSTER.PROC.out|err`, and the cluster's event log). The schedd,
and the shadows that write job output, must see that directory at the same path: on a
submit node it is local; the test pool bind-mounts it into its root.

Settings (from the app config, falling back to the environment):
  POMS_CONDOR_CONFIG          CONDOR_CONFIG for the bindings (collector, security); empty:
                              the bindings' usual lookup (CONDOR_CONFIG, /etc/condor/...)
  POMS_CONDOR_SUBMIT_DIR      where per-submission directories go (required)
  POMS_CONDOR_SCHEDD          the schedd's name; empty: the collector's only/first schedd
  POMS_CONDOR_SCHEDD_ADDRESS  a sinful string `<127.0.0.1:9618>` to skip the collector
  POMS_CONDOR_COLLECTOR       the collector's host:port (overrides COLLECTOR_HOST)
  POMS_CONDOR_OWNER           user[:group] to own the submit directories when POMS runs as
                              root (test pools, where root claims to be this user)

Jobs get the grid job environment the local engine gives (PROCESS, CLUSTER, JOBSUBJOBID,
JOBSUBJOBSECTION, GROUP/EXPERIMENT, SAM_DATASET) plus the request's; --memory becomes
request_memory, --expected-lifetime +JOB_EXPECTED_MAX_LIFETIME and a periodic_hold (subcode
LIFETIME_SUBCODE) for a job that runs longer, -G the accounting group group_EXPERIMENT, and
the POMS submission id the job attribute PomsSubmissionId (clusters_of_submission reads it).

A failed call to the collector or the schedd raises BatchError: tracking then records the
poll as failed and changes no job state. A schedd that is down fails at once; one that
accepts connections but answers nothing fails after the bindings' 20 s session timeout.
"""
from __future__ import annotations

import grp
import os
import pwd
import re
import secrets
import shutil
import sys
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from .base import (
    COMPLETED,
    HELD,
    IDLE,
    REMOVED,
    RUNNING,
    BatchEngine,
    BatchError,
    ForeignBatchId,
    JobRequest,
    JobStatus,
    check_input_files,
    copy_input_files,
    job_environment,
    job_identity,
    read_log_tails,
    split_job_id,
)
from .htcondor_events import read_job_events

REPO_ROOT = Path(__file__).resolve().parents[2]
TOOLS_DIR = REPO_ROOT / "app" / "launching" / "tools"

# HTCondor's JobStatus codes.
CONDOR_IDLE, CONDOR_RUNNING, CONDOR_REMOVED, CONDOR_COMPLETED = 1, 2, 3, 4
CONDOR_HELD, CONDOR_TRANSFERRING_OUTPUT, CONDOR_SUSPENDED = 5, 6, 7
STATE_OF_CODE = {
    CONDOR_IDLE: IDLE,
    CONDOR_RUNNING: RUNNING,
    CONDOR_REMOVED: REMOVED,
    CONDOR_COMPLETED: COMPLETED,
    CONDOR_HELD: HELD,
    # Output is being copied back: the job still occupies its slot; it is not finished yet.
    CONDOR_TRANSFERRING_OUTPUT: RUNNING,
    # Suspended by the machine's policy: still claimed, resumes by itself, needs no release.
    CONDOR_SUSPENDED: RUNNING,
}

# HoldReasonCode values (HTCondor's manual, "Job ClassAd attributes"): every hold is the
# Held state; the code says who or what held the job, and whether a release can help.
HOLD_USER = 1  # condor_hold / jobsub_hold / POMS hold
HOLD_PERIODIC = 3  # the job's periodic_hold expression (here: expected lifetime exceeded)
HOLD_TRANSFER_OUTPUT = 12  # the output could not be received or written
HOLD_TRANSFER_INPUT = 13  # the input (the executable too) could not be read or sent
HOLD_REASONS = {
    HOLD_USER: "held by a user",
    HOLD_PERIODIC: "held by the job's policy",
    6: "the executable could not be started",
    7: "the output or error file could not be opened",
    HOLD_TRANSFER_OUTPUT: "the job's output could not be transferred",
    HOLD_TRANSFER_INPUT: "the job's input could not be transferred",
    15: "submitted on hold",
    16: "waiting for input files to be spooled",
    26: "held by the pool's policy",
    34: "the job used more resources (memory) than it asked for",
}
# The subcode our periodic_hold gives a job that outlives its --expected-lifetime.
LIFETIME_SUBCODE = 46

_PROJECTION = [
    "ClusterId", "ProcId", "JobStatus", "ExitCode", "ExitBySignal", "ExitSignal",
    "HoldReason", "HoldReasonCode", "HoldReasonSubCode", "RemoteHost", "LastRemoteHost",
    "JobStartDate", "JobCurrentStartDate", "CompletionDate", "EnteredCurrentStatus",
    "TotalSubmitProcs", "Iwd", "Out", "Err",
]
_UNITS_MB = {"": 1, "K": 1 / 1024, "KB": 1 / 1024, "M": 1, "MB": 1, "G": 1024, "GB": 1024,
             "T": 1024 * 1024, "TB": 1024 * 1024}
_UNITS_S = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}
_LIFETIME_WORDS = {"short": 3 * 3600, "medium": 8 * 3600, "long": 24 * 3600}

# The bindings keep one process-wide configuration; changing it is serialised.
_CONFIG_LOCK = threading.Lock()


@dataclass
class CondorJobStatus(JobStatus):
    """A JobStatus with HTCondor's hold reason (tracking reads the base fields only)."""

    hold_reason: str = ""
    hold_reason_code: int | None = None
    hold_reason_subcode: int | None = None

    @property
    def hold_kind(self) -> str:
        """HoldReasonCode in words ("" when not held)."""
        if self.hold_reason_code is None:
            return ""
        if self.hold_reason_code == HOLD_PERIODIC and \
                self.hold_reason_subcode == LIFETIME_SUBCODE:
            return "the job ran longer than its expected lifetime"
        return HOLD_REASONS.get(self.hold_reason_code, f"hold code {self.hold_reason_code}")


def parse_memory_mb(text: str) -> int | None:
    """jobsub's --memory (`2000MB`, `2GB`, `2000`: megabytes) as whole megabytes."""
    text = (text or "").strip()
    if not text:
        return None
    found = re.fullmatch(r"(\d+(?:\.\d+)?)\s*([KMGT]?B?)", text, re.IGNORECASE)
    if not found:
        raise BatchError(f"--memory={text!r}: expected a size like 2000MB or 2GB")
    return max(1, int(float(found[1]) * _UNITS_MB[found[2].upper()]))


def parse_lifetime_s(text: str) -> int | None:
    """jobsub's --expected-lifetime (`3h`, `90m`, `3600`, `short|medium|long`) in seconds."""
    text = (text or "").strip()
    if not text:
        return None
    if text.lower() in _LIFETIME_WORDS:
        return _LIFETIME_WORDS[text.lower()]
    found = re.fullmatch(r"(\d+)\s*([smhd]?)", text)
    if not found:
        raise BatchError(f"--expected-lifetime={text!r}: expected e.g. 3h, 90m, 3600 or long")
    return int(found[1]) * _UNITS_S[found[2]]


def _literal(value: str) -> str:
    """Text the submit language leaves alone: `$` would start a macro."""
    if "\n" in value or "\r" in value or "\0" in value:
        raise BatchError("a job argument or environment value may not hold a newline")
    return value.replace("$", "$(DOLLAR)")


def quote_arguments(arguments: list[str]) -> str:
    """The submit file's `arguments` in the new syntax: each one exactly one argument."""
    parts = []
    for arg in arguments:
        arg = _literal(arg)
        parts.append("'" + arg.replace("'", "''").replace('"', '""') + "'")
    return '"' + " ".join(parts) + '"'


def quote_environment(env: dict[str, str], macros: dict[str, str] | None = None) -> str:
    """The submit file's `environment` in the new syntax (values may hold spaces, quotes).
    `env` values are taken literally; `macros` values may use submit macros ($(Cluster))."""
    parts = []
    values = {name: _literal(value) for name, value in env.items()}
    values.update(macros or {})
    for name, value in values.items():
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
            raise BatchError(f"environment variable name {name!r} is not valid")
        value = value.replace('"', '""').replace("'", "''")
        parts.append(f"{name}='{value}'")
    return '"' + " ".join(parts) + '"'


def _time(seconds) -> datetime | None:
    try:
        seconds = int(seconds)
    except (TypeError, ValueError):
        return None
    if seconds <= 0:
        return None
    return datetime.fromtimestamp(seconds, UTC).replace(tzinfo=None)


def _host(ad) -> str:
    host = ad.get("RemoteHost") or ad.get("LastRemoteHost") or ""
    return str(host).split("@")[-1]


class HTCondorEngine(BatchEngine):
    name = "htcondor"
    # Finished jobs are read from the schedd's history, so every job is always reported.
    lists_finished_jobs = True

    def __init__(self, submit_dir: str | Path, *, condor_config: str = "", schedd: str = "",
                 schedd_address: str = "", collector: str = "", owner: str = ""):
        if not submit_dir:
            raise BatchError("POMS_CONDOR_SUBMIT_DIR is not set: where do job files go?")
        self.submit_dir = Path(submit_dir)
        self.condor_config = condor_config
        self.schedd_name = schedd
        self.schedd_address = schedd_address
        self.collector = collector
        self.owner = owner
        self._htcondor = None

    @classmethod
    def from_config(cls, config) -> HTCondorEngine:
        def get(key: str) -> str:
            value = config.get(key) if hasattr(config, "get") else None
            return str(value if value not in (None, "") else os.environ.get(key, ""))

        return cls(
            get("POMS_CONDOR_SUBMIT_DIR"),
            condor_config=get("POMS_CONDOR_CONFIG"),
            schedd=get("POMS_CONDOR_SCHEDD"),
            schedd_address=get("POMS_CONDOR_SCHEDD_ADDRESS"),
            collector=get("POMS_CONDOR_COLLECTOR"),
            owner=get("POMS_CONDOR_OWNER"),
        )

    # --- the bindings -----------------------------------------------------------------

    def _bindings(self):
        if self._htcondor is not None:
            return self._htcondor
        with _CONFIG_LOCK:
            if self.condor_config and os.environ.get("CONDOR_CONFIG") != self.condor_config:
                os.environ["CONDOR_CONFIG"] = self.condor_config
                if "htcondor2" in sys.modules:
                    sys.modules["htcondor2"].reload_config()
            try:
                # why: the bindings read CONDOR_CONFIG when they load, so only after it is
                # set above; and they are optional (only this engine needs them), and this
                # package also runs as the launch accounts' stdlib-only tools.
                import htcondor2
            except ImportError as err:
                raise BatchError(f"the HTCondor bindings are not installed: {err}") from None
            if self.collector and htcondor2.param.get("COLLECTOR_HOST") != self.collector:
                htcondor2.param["COLLECTOR_HOST"] = self.collector
        self._htcondor = htcondor2
        return htcondor2

    def _schedd(self):
        """The schedd, located afresh each call (its address changes when it restarts)."""
        htcondor = self._bindings()
        try:
            if self.schedd_address:
                # why: part of the bindings, loaded with them above (see _bindings).
                import classad2

                ad = classad2.ClassAd({
                    "MyType": "Scheduler", "MyAddress": self.schedd_address,
                    "Name": self.schedd_name or "schedd",
                    # Unknown without the collector: the bindings' own version stands in.
                    "CondorVersion": htcondor.version(),
                })
                return htcondor.Schedd(ad), str(ad["Name"])
            collector = htcondor.Collector()
            if self.schedd_name:
                ad = collector.locate(htcondor.DaemonType.Schedd, self.schedd_name)
            else:
                ads = collector.query(htcondor.AdType.Schedd, projection=["Name", "MyAddress"])
                if not ads:
                    raise BatchError("the collector knows no schedd")
                ads = sorted(ads, key=lambda a: str(a.get("Name", "")))
                ad = collector.locate(htcondor.DaemonType.Schedd, str(ads[0]["Name"]))
        except BatchError:
            raise
        except Exception as err:  # the bindings raise HTCondorException, ValueError, ...
            raise BatchError(f"HTCondor collector did not answer: {err}") from None
        if ad is None:
            raise BatchError(f"the collector knows no schedd named {self.schedd_name!r}")
        return htcondor.Schedd(ad), str(ad["Name"])

    def _check_name(self, name: str) -> str:
        if not re.fullmatch(r"[\w.-]+", name):
            raise BatchError(f"schedd name {name!r} cannot be part of a jobsub-style batch id "
                             "(name the schedd with letters, digits, '.', '-' only)")
        return name

    # --- submit -------------------------------------------------------------------------

    def _make_dir(self, request: JobRequest) -> Path:
        sub = str(request.submission_id) if request.submission_id is not None else "none"
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
        directory = self.submit_dir / sub / f"{stamp}-{secrets.token_hex(3)}"
        directory.mkdir(parents=True)
        if self.owner and os.geteuid() == 0:
            user, _, group = self.owner.partition(":")
            uid = int(user) if user.isdigit() else pwd.getpwnam(user).pw_uid
            gid = (int(group) if group.isdigit() else grp.getgrnam(group).gr_gid) if group \
                else uid
            for path in (directory, directory.parent):
                os.chown(path, uid, gid)
        return directory

    def submit_description(self, request: JobRequest, directory: Path, executable: Path,
                           schedd_name: str) -> dict[str, str]:
        env = job_environment(request.env, request.group, request.dataset)
        macros = job_identity("$(Process)", "$(Cluster)", schedd_name)
        description = {
            "universe": "vanilla",
            "executable": str(executable),
            "initialdir": str(directory),
            "output": "job.$(Cluster).$(Process).out",
            "error": "job.$(Cluster).$(Process).err",
            "log": "condor.log",
            "should_transfer_files": "YES",
            "when_to_transfer_output": "ON_EXIT_OR_EVICT",
            "environment": quote_environment(env, macros),
            "+PomsSubmissionId": str(request.submission_id)
            if request.submission_id is not None else "undefined",
        }
        if request.arguments:
            description["arguments"] = quote_arguments(request.arguments)
        if request.input_files:
            # the -f files (copied into DIRECTORY/input at submission) arrive as the job's
            # input/ directory, where fife_wrap and the job files look ($CONDOR_DIR_INPUT)
            description["transfer_input_files"] = "input"
        if request.group:
            if not re.fullmatch(r"[\w.-]+", request.group):
                raise BatchError(f"-G {request.group!r} is not a group name")
            # As jobsub names it: the pool's fair share goes by group_EXPERIMENT.
            description["accounting_group"] = f"group_{request.group}"
            description["+Jobsub_Group"] = f'"{request.group}"'
        if request.role:
            if not re.fullmatch(r"[\w.-]+", request.role):
                raise BatchError(f"--role {request.role!r} is not a role name")
            description["+Jobsub_Role"] = f'"{request.role}"'
        memory = parse_memory_mb(request.memory)
        if memory:
            description["request_memory"] = str(memory)
        lifetime = parse_lifetime_s(request.lifetime)
        if lifetime:
            # As jobsub does: the job says how long it expects to run, and a job running
            # longer is held (HoldReasonCode 3, subcode 46) rather than left running.
            description["+JOB_EXPECTED_MAX_LIFETIME"] = str(lifetime)
            description["periodic_hold"] = (
                f"(JobStatus == 2) && (time() - JobCurrentStartDate > {lifetime})"
            )
            description["periodic_hold_reason"] = (
                f'"job ran longer than its expected lifetime ({lifetime} s)"'
            )
            description["periodic_hold_subcode"] = str(LIFETIME_SUBCODE)
        return description

    def submit(self, request: JobRequest) -> str:
        if request.count < 1:
            raise BatchError("-N must be at least 1")
        source = Path(request.executable)
        if not source.is_file():
            raise BatchError(f"file://{request.executable}: no such file")
        check_input_files(request.input_files)
        schedd, schedd_name = self._schedd()
        self._check_name(schedd_name)
        directory = self._make_dir(request)
        # As jobsub does, the script is copied: later edits do not change queued jobs.
        executable = directory / source.name
        shutil.copy2(source, executable)
        executable.chmod(executable.stat().st_mode | 0o755)
        inputs = directory / "input"
        for name in copy_input_files(request.input_files, inputs):
            (inputs / name).chmod(0o755)  # jobsub's job wrapper makes them executable
        if inputs.exists():
            inputs.chmod(0o755)
        description = self.submit_description(request, directory, executable, schedd_name)
        htcondor = self._bindings()
        try:
            result = schedd.submit(htcondor.Submit(description), count=request.count)
        except Exception as err:
            raise BatchError(f"HTCondor schedd {schedd_name} refused the submit: {err}") \
                from None
        cluster = int(result.cluster())
        (directory / "cluster").write_text(f"{cluster}.0@{schedd_name}\n")
        return f"{cluster}.0@{schedd_name}"

    # --- query --------------------------------------------------------------------------

    def _clusters(self, batch_ids: list[str], schedd_name: str) -> list[int]:
        clusters = set()
        for batch_id in batch_ids:
            cluster, _proc, name = split_job_id(batch_id)
            if name != schedd_name:
                raise ForeignBatchId(f"{batch_id} does not belong to schedd {schedd_name}")
            clusters.add(cluster)
        return sorted(clusters)

    @staticmethod
    def _constraint(clusters: list[int]) -> str:
        if len(clusters) == 1:
            return f"ClusterId == {clusters[0]}"
        return "member(ClusterId, {" + ", ".join(str(c) for c in clusters) + "})"

    def _status(self, ad, schedd_name: str) -> CondorJobStatus:
        code = int(ad.get("JobStatus", 0))
        state = STATE_OF_CODE.get(code)
        if state is None:
            raise BatchError(f"HTCondor reported JobStatus {code}, which POMS does not know")
        exit_code = None
        if code == CONDOR_COMPLETED:
            if ad.get("ExitBySignal") is True:
                exit_code = 128 + int(ad.get("ExitSignal", 0) or 0)
            elif ad.get("ExitCode") is not None:
                exit_code = int(ad["ExitCode"])
        hold_code = ad.get("HoldReasonCode")
        subcode = ad.get("HoldReasonSubCode")
        return CondorJobStatus(
            job_id=f"{int(ad['ClusterId'])}.{int(ad['ProcId'])}@{schedd_name}",
            state=state,
            exit_code=exit_code,
            host=_host(ad),
            started=_time(ad.get("JobStartDate")),
            ended=_time(ad.get("CompletionDate")) if code == CONDOR_COMPLETED else (
                _time(ad.get("EnteredCurrentStatus")) if code == CONDOR_REMOVED else None),
            hold_reason=str(ad.get("HoldReason", "")) if code == CONDOR_HELD else "",
            hold_reason_code=int(hold_code) if code == CONDOR_HELD and hold_code is not None
            else None,
            hold_reason_subcode=int(subcode) if code == CONDOR_HELD and subcode is not None
            else None,
        )

    def query_ads(self, batch_ids: list[str], projection: list[str] | None = None):
        """(schedd name, {(cluster, proc): ad}) from the queue, plus the history for
        clusters whose jobs are not all in the queue any more."""
        if not batch_ids:
            return "", {}
        schedd, schedd_name = self._schedd()
        clusters = self._clusters(batch_ids, schedd_name)
        projection = projection or _PROJECTION
        try:
            queued = schedd.query(constraint=self._constraint(clusters), projection=projection)
        except Exception as err:
            raise BatchError(f"HTCondor schedd {schedd_name} did not answer: {err}") from None
        ads = {(int(ad["ClusterId"]), int(ad["ProcId"])): ad for ad in queued}
        in_queue: dict[int, int] = {}
        total: dict[int, int] = {}
        for ad in queued:
            cluster = int(ad["ClusterId"])
            in_queue[cluster] = in_queue.get(cluster, 0) + 1
            total[cluster] = int(ad.get("TotalSubmitProcs", 0) or 0)
        # A cluster with every job still queued needs no history search.
        left = [c for c in clusters if c not in total or in_queue[c] < total[c]]
        if left:
            try:
                history = schedd.history(constraint=self._constraint(left),
                                         projection=projection, match=-1)
                for ad in history:
                    key = (int(ad["ClusterId"]), int(ad["ProcId"]))
                    ads.setdefault(key, ad)  # the queue's word is the newer one
            except Exception as err:
                raise BatchError(f"HTCondor schedd {schedd_name} history did not answer: "
                                 f"{err}") from None
        return schedd_name, ads

    def query(self, batch_ids: list[str]) -> list[JobStatus]:
        schedd_name, ads = self.query_ads(batch_ids)
        return [self._status(ads[key], schedd_name) for key in sorted(ads)]

    # --- following the job event logs (app/batch/htcondor_events.py) -------------------

    follows_events = True

    def _event_logs(self, submission_id: int, batch_ids: list[str]) -> dict[str, Path]:
        """{cluster id: its condor.log} of the submission's submit directories."""
        wanted = set()
        for batch_id in batch_ids:
            cluster, _proc, schedd = split_job_id(batch_id)
            wanted.add(f"{cluster}.0@{schedd}")
        logs = {}
        for named in (self.submit_dir / str(int(submission_id))).glob("*/cluster"):
            try:
                cluster_id = named.read_text().strip()
            except OSError:
                continue
            if cluster_id in wanted:
                logs[cluster_id] = named.parent / "condor.log"
        return logs

    def event_marks(self, submission_id: int, batch_ids: list[str]) -> dict[str, int]:
        marks = {}
        for cluster_id, path in self._event_logs(submission_id, batch_ids).items():
            try:
                marks[cluster_id] = os.stat(path).st_size
            except OSError:
                marks[cluster_id] = 0
        return marks

    def changes(self, submission_id: int, batch_ids: list[str], since: dict
                ) -> tuple[list[JobStatus], dict]:
        """The jobs whose events came after the positions `since`: read from each
        cluster's event log, not asked of the schedd. Positions are bytes of the log read
        (the bindings' own offsets), so they compare with event_marks."""
        htcondor = self._bindings()
        found, positions = [], dict(since)
        for cluster_id, path in self._event_logs(submission_id, batch_ids).items():
            statuses, positions[cluster_id] = read_job_events(
                htcondor, path, int(since.get(cluster_id) or 0), cluster_id.split("@", 1)[1])
            found += statuses
        return found, positions

    # --- hold / release / remove ------------------------------------------------------------

    def _act(self, batch_ids: list[str], action: str, reason: str) -> None:
        if not batch_ids:
            return
        schedd, schedd_name = self._schedd()
        htcondor = self._bindings()
        # A cluster id (CLUSTER.0) means the whole cluster, as jobsub_rm/hold/release take it.
        clusters = self._clusters(batch_ids, schedd_name)
        kind = {"hold": htcondor.JobAction.Hold, "release": htcondor.JobAction.Release,
                "remove": htcondor.JobAction.Remove}[action]
        try:
            # (The bindings drop a reason given as a plain string: a (text, code) pair it is.)
            result = schedd.act(kind, self._constraint(clusters), (reason, 0))
        except Exception as err:
            raise BatchError(f"HTCondor schedd {schedd_name} refused {action}: {err}") \
                from None
        if result is not None and int(result.get("TotalPermissionDenied", 0) or 0):
            raise BatchError(f"HTCondor schedd {schedd_name}: permission denied to {action} "
                             f"{', '.join(batch_ids)}")

    def hold(self, batch_ids: list[str]) -> None:
        self._act(batch_ids, "hold", "held by POMS")

    def release(self, batch_ids: list[str]) -> None:
        self._act(batch_ids, "release", "released by POMS")

    def remove(self, batch_ids: list[str]) -> None:
        self._act(batch_ids, "remove", "removed by POMS")

    # --- logs -------------------------------------------------------------------------------

    def fetch_log(self, job_id: str) -> str:
        cluster, proc, _name = split_job_id(job_id)
        _schedd_name, ads = self.query_ads([f"{cluster}.0@{_name}"],
                                           ["ClusterId", "ProcId", "Iwd", "Out", "Err",
                                            "TotalSubmitProcs"])
        ad = ads.get((cluster, proc))
        if ad is None:
            raise BatchError(f"no job {job_id} in the schedd's queue or history")
        iwd = Path(str(ad.get("Iwd", "")))
        files = []
        for label, attr in (("stdout", "Out"), ("stderr", "Err")):
            name = str(ad.get(attr) or "")
            if name and name != "/dev/null":
                files.append((label, Path(name) if name.startswith("/") else iwd / name))
        parts = read_log_tails(files)
        if not parts:
            raise BatchError(f"no log for {job_id} yet (in {iwd})")
        return "\n".join(parts)

    # --- crash recovery -----------------------------------------------------------------

    def clusters_of_submission(self, submission_id: int) -> list[str]:
        schedd, schedd_name = self._schedd()
        constraint = f"PomsSubmissionId == {int(submission_id)}"
        projection = ["ClusterId", "ProcId"]
        try:
            ads = list(schedd.query(constraint=constraint, projection=projection))
            ads += list(schedd.history(constraint=constraint, projection=projection,
                                       match=-1))
        except Exception as err:
            raise BatchError(f"HTCondor schedd {schedd_name} did not answer: {err}") from None
        return [f"{c}.0@{schedd_name}" for c in sorted({int(ad["ClusterId"]) for ad in ads})]

    def launch_environment(self) -> dict[str, str]:
        env = {
            "POMS_BATCH_ENGINE": "htcondor",
            "POMS_CONDOR_SUBMIT_DIR": str(self.submit_dir),
            "POMS_TOOLS_DIR": str(TOOLS_DIR),
            "POMS_PYTHON": sys.executable,
            "POMS_ROOT": str(REPO_ROOT),
            "FIFE_LAUNCH_PATH": str(REPO_ROOT),
        }
        for key, value in (("POMS_CONDOR_CONFIG", self.condor_config),
                           ("CONDOR_CONFIG", self.condor_config),
                           ("POMS_CONDOR_SCHEDD", self.schedd_name),
                           ("POMS_CONDOR_SCHEDD_ADDRESS", self.schedd_address),
                           ("POMS_CONDOR_COLLECTOR", self.collector),
                           ("POMS_CONDOR_OWNER", self.owner)):
            if value:
                env[key] = value
        return env
