"""The embedded batch engine: jobs as local processes, under a concurrency cap.

A spool directory holds everything (POMS_BATCH_DIR):

  next_cluster              the cluster counter (flock'd)
  slots/N.lock              the concurrency cap: a running job holds one slot's flock, so
                            the cap holds across every cluster and dies with its holder
  by_submission/SID         the clusters submitted for a POMS submission, one a line
  clusters/C/cluster.json   the request (executable, arguments, count, environment)
  clusters/C/input/         the request's -f files, copied into each job's $CONDOR_DIR_INPUT
  clusters/C/events.log     each job's state changes, appended as they happen by the runner
                            (app/batch/local_events.py): what tracking follows
  clusters/C/status.json    every job's state, a checkpoint written atomically by the runner
                            now and then, naming how much of events.log it holds
  clusters/C/control.json   hold/release/remove requests for the runner
  clusters/C/P/             job P's work directory (work/), stdout and stderr

Each cluster has one runner process (app/batch/local_runner.py, `python -m
batch.local_runner CLUSTER_DIR`), started
detached by submit(); it starts jobs as slots free up, records exit codes, applies control
requests, and is the only writer of events.log and status.json. A query reads the
checkpoint and the events after it; changes() reads only the events after a position.

A launch that runs as a launch account (app/batch/accounts.py) submits to that account's
own spool, its area POMS_LAUNCH_ACCOUNTS_DIR/ACCOUNT, under ids `C.0@local.ACCOUNT`: the
runner and the jobs run as the account. This service reads those spools without following
links (the account could point them at instance/), acts on them by running jobsub_rm,
jobsub_hold and jobsub_release as the account, and takes a cluster as a submission's only
when its cluster.json names that submission and it is in the account's area (confirm).
"""
from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from .accounts import Account, open_beneath, read_beneath
from .accounts import command as run_as
from .accounts import launch_python as find_launch_python
from .base import (
    COMPLETED,
    HELD,
    IDLE,
    LAUNCH_ACCOUNT_SETTINGS,
    LOG_TAIL_BYTES,
    REMOVED,
    RUNNING,
    BatchEngine,
    BatchError,
    ForeignBatchId,
    JobRequest,
    JobStatus,
    check_input_files,
    copy_input_files,
    split_job_id,
)
from .job_files import write_json_atomic
from .local_events import EVENTS, log_size, merge, now_text, read_events
from .local_runners import (
    RESTARTS_FILE,
    last_line,
    read_restarts,
    restarts_note,
    runner_gone,
    runner_pid,
    runner_stopped,
    stop_orphans,
)

SCHEDD = "local"
REPO_ROOT = Path(__file__).resolve().parents[2]
TOOLS_DIR = REPO_ROOT / "app" / "launching" / "tools"
_STATES = (IDLE, RUNNING, HELD, COMPLETED, REMOVED)


def account_schedd(account: str) -> str:
    """The name in a launch account's batch ids (`12.0@local.ACCOUNT`): its own spool."""
    return f"{SCHEDD}.{account}"


@dataclass(frozen=True)
class SpoolFile:
    """A file of a local-engine spool, read without following links (a launch account
    writes its own spool: app/batch/accounts.py open_beneath)."""

    spool: Path
    relative: str

    @property
    def path(self) -> Path:
        return self.spool / self.relative

    def open(self):
        return open_beneath(self.spool, self.relative)

    def exists(self) -> bool:
        try:
            with self.open():
                return True
        except OSError:
            return False

    def read_json(self):
        """The file's JSON, or None when missing, unsafe or unreadable."""
        try:
            with self.open() as fh:
                return json.loads(fh.read())
        except (OSError, ValueError):
            return None


def job_file(config, batch_job_id: str, name: str, *, of_cluster: bool = False
             ) -> SpoolFile | None:
    """A file of a local-engine job (clusters/C/P/NAME), or of its cluster (clusters/C/NAME),
    in the service's spool or in the launch account's area the id names; None for another
    engine's id."""
    try:
        cluster, proc, schedd = split_job_id(batch_job_id)
    except ValueError:
        return None
    if schedd == SCHEDD:
        spool = config.get("POMS_BATCH_DIR")
    else:
        account = schedd[len(SCHEDD) + 1:] if schedd.startswith(SCHEDD + ".") else ""
        known = {config.get(setting) for setting in LAUNCH_ACCOUNT_SETTINGS.values()}
        base = config.get("POMS_LAUNCH_ACCOUNTS_DIR")
        spool = str(Path(base) / account) if account and account in known and base else None
    if not spool:
        return None
    where = f"clusters/{cluster}" if of_cluster else f"clusters/{cluster}/{proc}"
    return SpoolFile(Path(spool), f"{where}/{name}")


def install_tools(areas_dir: Path) -> Path:
    """A copy of the engine's code and tools (app/batch, app/launching/tools, examples/) in
    the launch accounts' directory, where they can read it (this repository may be in a
    directory closed to them). One copy per content, made once; returns its root
    (POMS_ROOT)."""
    # and the demo's cfg files and job scripts (fife_launch finds -c examples/... there)
    sources = (sorted((REPO_ROOT / "app" / "batch").glob("*.py")) + sorted(TOOLS_DIR.iterdir())
               + sorted(p for p in (REPO_ROOT / "examples").rglob("*") if p.is_file()))
    digest = hashlib.sha256()
    for path in sources:
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    root = Path(areas_dir) / ".poms-tools" / digest.hexdigest()[:16]
    if (root / ".complete").exists():
        return root
    building = root.with_name(f"{root.name}.{os.getpid()}.part")
    shutil.rmtree(building, ignore_errors=True)
    for path in sources:
        target = building / path.relative_to(REPO_ROOT)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target)
        target.chmod(0o755 if path.parent == TOOLS_DIR or path.suffix == ".sh" else 0o644)
    (building / ".complete").write_text("")
    for directory in [building, *[p for p in building.rglob("*") if p.is_dir()]]:
        directory.chmod(0o755)
    root.parent.mkdir(parents=True, exist_ok=True)
    root.parent.chmod(0o755)
    try:
        os.rename(building, root)
    except OSError:  # another worker made it first
        shutil.rmtree(building, ignore_errors=True)
    return root


def _parse_time(text: str | None) -> datetime | None:
    # fromisoformat: a C parser, ten times strptime's speed over 100,000 jobs.
    return datetime.fromisoformat(text) if text else None


def _number(value) -> float | None:
    """A usage figure from status.json; None when absent (a job still running)."""
    return None if value is None else float(value)


@contextmanager
def _locked(path: Path):
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield fh
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


class LocalEngine(BatchEngine):
    name = "local"

    def __init__(self, spool: str | Path, slots: int = 4, *, schedd: str = SCHEDD,
                 areas: dict[str, Account] | None = None, areas_dir: str | Path = "",
                 launch_python: str = "", runner_restarts: int = 3):
        """`spool` and `schedd`: where this engine submits (a launch account's submits go
        to its own area). `areas`: the launch accounts whose areas (areas_dir/ACCOUNT) the
        service also reads and acts on, as `local.ACCOUNT` ids. `runner_restarts`: how
        many times a cluster's runner found gone is replaced (app/batch/local_runners.py)."""
        self.spool = Path(spool)
        self.slots = max(1, int(slots))
        self.schedd = schedd
        self.spools: dict[str, Path] = {schedd: self.spool}
        self.accounts: dict[str, Account] = {}
        self.areas_dir = Path(areas_dir) if areas_dir else None
        self.launch_python = find_launch_python(launch_python)
        self.runner_restarts = max(0, int(runner_restarts))
        self._notes: dict[str, str] = {}  # cluster id -> what the last query found wrong
        self._counts: dict[tuple[str, int], int] = {}  # (schedd, cluster) -> its job count
        for account in (areas or {}).values():
            name = account_schedd(account.name)
            self.spools[name] = Path(areas_dir) / account.name
            self.accounts[name] = account

    # --- layout ---------------------------------------------------------------------

    def cluster_dir(self, cluster: int) -> Path:
        return self.spool / "clusters" / str(cluster)

    def _where(self, batch_id: str) -> tuple[int, int, str, Path]:
        """(cluster, process, schedd, spool) of an id of this engine; BatchError otherwise."""
        try:
            cluster, proc, schedd = split_job_id(batch_id)
        except ValueError as err:
            raise BatchError(str(err)) from None
        spool = self.spools.get(schedd)
        if spool is None:
            raise ForeignBatchId(f"{batch_id} does not belong to the local engine")
        return cluster, proc, schedd, spool

    def _cluster(self, batch_id: str) -> int:
        return self._where(batch_id)[0]

    def _next_cluster(self) -> int:
        with _locked(self.spool / "next_cluster") as fh:
            fh.seek(0)
            text = fh.read().strip()
            number = int(text) + 1 if text else 1
            fh.seek(0)
            fh.truncate()
            fh.write(str(number))
            fh.flush()
        return number

    # --- the interface ------------------------------------------------------------------

    def submit(self, request: JobRequest) -> str:
        if request.count < 1:
            raise BatchError("-N must be at least 1")
        source = Path(request.executable)
        if not source.is_file():
            raise BatchError(f"file://{request.executable}: no such file")
        check_input_files(request.input_files)
        cluster = self._next_cluster()
        directory = self.cluster_dir(cluster)
        directory.mkdir(parents=True)
        # As jobsub does, the script is copied: later edits do not change queued jobs.
        executable = directory / source.name
        shutil.copy2(source, executable)
        executable.chmod(executable.stat().st_mode | 0o755)
        inputs = copy_input_files(request.input_files, directory / "input")
        spec = {
            "cluster": cluster,
            "submission_id": request.submission_id,
            "count": request.count,
            "executable": str(executable),
            "arguments": list(request.arguments),
            "input_files": inputs,
            "env": dict(request.env),
            "group": request.group,
            "role": request.role,
            "memory": request.memory,
            "lifetime": request.lifetime,
            "dataset": request.dataset,
            "slots_dir": str(self.spool / "slots"),
            "slots": self.slots,
            "outputs_dir": str(self.spool / "outputs"),
            "schedd": self.schedd,
            # who submitted: the launch account (or this service, in dev mode)
            "owner_uid": os.geteuid(),
            "submitted": now_text(),
        }
        write_json_atomic(directory / "cluster.json", spec, indent=None)
        write_json_atomic(
            directory / "status.json",
            {"jobs": {str(p): {"state": IDLE} for p in range(request.count)}, "done": False,
             "events_at": 0},
            indent=None,
        )
        if request.submission_id is not None:
            with _locked(self.spool / "by_submission" / str(request.submission_id)) as fh:
                fh.write(f"{cluster}.0@{self.schedd}\n")
        self._start_runner(directory)
        return f"{cluster}.0@{self.schedd}"

    def _start_runner(self, directory: Path) -> None:
        log = open(directory / "runner.log", "ab")
        env = dict(os.environ)
        # The batch modules import nothing of the app: run them as the top-level package
        # `batch` so a runner starts without importing Flask and SQLAlchemy.
        env["PYTHONPATH"] = str(REPO_ROOT / "app") + (
            os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else ""
        )
        # Detached: the runner outlives the launch that submitted it, as grid jobs outlive
        # jobsub_submit.
        process = subprocess.Popen(
            [sys.executable, "-m", "batch.local_runner", str(directory)],
            stdin=subprocess.DEVNULL, stdout=log, stderr=log, env=env,
            start_new_session=True, close_fds=True,
        )
        log.close()
        (directory / "runner.pid").write_text(str(process.pid))

    def _read_json(self, spool: Path, relative: str):
        """A JSON file of a spool, or None when missing. A launch account writes its own
        spool, so nothing there is followed (open_beneath) or trusted to parse."""
        try:
            return json.loads(read_beneath(spool, relative))
        except FileNotFoundError:
            return None
        except json.JSONDecodeError:
            return None  # being replaced right now (or broken): as if not written yet
        except OSError as err:
            raise BatchError(f"{spool}/{relative}: {err}") from None

    def _status(self, cluster: int, schedd: str | None = None) -> dict | None:
        """Every job's state: the runner's checkpoint with the events after it."""
        spool = self.spools[schedd or self.schedd]
        status = self._read_json(spool, f"clusters/{cluster}/status.json")
        if not isinstance(status, dict):
            return status
        try:
            since = int(status.get("events_at") or 0)
            events, _end = read_events(spool, cluster, since)
        except (OSError, ValueError) as err:
            raise BatchError(f"{spool}/clusters/{cluster}/{EVENTS}: {err}") from None
        return merge(status, events)

    # --- following events (tracking's prompt path) ------------------------------------

    follows_events = True

    def event_marks(self, submission_id: int, batch_ids: list[str]) -> dict[str, int]:
        """{cluster id: how far its event log has grown}: cheap (one lstat a cluster),
        asked often; a mark that moved says changes() has something new."""
        marks = {}
        for schedd, cluster in self._clusters_of(batch_ids):
            # A dead runner logs nothing more: -1 (never a position) sends its cluster to
            # changes(), which replaces the runner at once instead of at the next full pass.
            marks[f"{cluster}.0@{schedd}"] = -1 if self._runner_lost(cluster, schedd) \
                else log_size(self.spools[schedd], cluster)
        return marks

    def _runner_lost(self, cluster: int, schedd: str) -> bool:
        """The cluster's runner is gone with jobs unfinished (its status read only then)."""
        spool = self.spools[schedd]
        if not runner_stopped(spool, cluster):
            return False
        try:
            status = self._status(cluster, schedd)
        except BatchError:
            return False  # the full pass says what is wrong with it
        return isinstance(status, dict) and bool(runner_gone(spool, cluster, schedd, status))

    def changes(self, submission_id: int, batch_ids: list[str], since: dict[str, int]
                ) -> tuple[list[JobStatus], dict[str, int]]:
        """(the jobs whose state changed after the positions `since`, the new positions):
        only the event log's new lines are read."""
        found: list[JobStatus] = []
        positions = dict(since)
        for schedd, cluster in self._clusters_of(batch_ids):
            cluster_id = f"{cluster}.0@{schedd}"
            if self._runner_lost(cluster, schedd):
                # the whole cluster, as the full pass reads it: a new runner, or its jobs removed
                found.extend(self.query([cluster_id]))
                positions[cluster_id] = log_size(self.spools[schedd], cluster)
                continue
            try:
                events, positions[cluster_id] = read_events(
                    self.spools[schedd], cluster, int(since.get(cluster_id) or 0),
                    self._job_count(schedd, cluster))
            except (OSError, ValueError) as err:
                raise BatchError(f"cluster {cluster_id}: its {EVENTS}: {err}") from None
            for proc, job in events.items():
                try:
                    found.append(self._job_status(cluster, schedd, proc, job, ""))
                except (KeyError, TypeError, ValueError, AttributeError):
                    continue  # not a job's state: the full pass reads the checkpoint
        return found, positions

    def _job_count(self, schedd: str, cluster: int) -> int:
        """How many jobs the cluster has (its cluster.json; read once)."""
        key = (schedd, cluster)
        if key not in self._counts:
            spec = self._read_json(self.spools[schedd], f"clusters/{cluster}/cluster.json")
            try:
                self._counts[key] = int(spec["count"])
            except (TypeError, KeyError, ValueError):
                raise BatchError(f"cluster {cluster}.0@{schedd}: no cluster.json of the "
                                 "local engine") from None
        return self._counts[key]

    def _clusters_of(self, batch_ids: list[str]) -> list[tuple[str, int]]:
        return sorted({(where[2], where[0]) for where in map(self._where, batch_ids)})

    @staticmethod
    def _job_status(cluster: int, schedd: str, proc, job: dict, gone: str) -> JobStatus:
        if job["state"] not in _STATES:
            raise ValueError(f"job state {job['state']!r}")
        exit_code = job.get("exit_code")
        return JobStatus(
            job_id=f"{cluster}.{int(proc)}@{schedd}",
            # nobody will start or record the end of a dead runner's jobs
            state=REMOVED if gone and job["state"] in (IDLE, RUNNING, HELD) else job["state"],
            exit_code=None if exit_code is None else int(exit_code),
            host=str(job.get("host", "")),
            started=_parse_time(job.get("started")),
            ended=_parse_time(job.get("ended")),
            cpu_time_s=_number(job.get("cpu_time_s")),
            wall_time_s=_number(job.get("wall_time_s")),
            peak_memory_mb=_number(job.get("peak_memory_mb")),
        )

    def query(self, batch_ids: list[str]) -> list[JobStatus]:
        found: list[JobStatus] = []
        for schedd, cluster in self._clusters_of(batch_ids):
            status = self._status(cluster, schedd)
            if status is None:
                continue
            cluster_id = f"{cluster}.0@{schedd}"
            gone = runner_gone(self.spools[schedd], cluster, schedd, status) \
                if isinstance(status, dict) else ""
            if gone:
                gone = self._runner_gone(cluster, schedd, status, gone)
            note = "; ".join(n for n in (gone, restarts_note(self.spools[schedd], cluster,
                                                             schedd)) if n)
            if note:
                self._notes[cluster_id] = note
            else:
                self._notes.pop(cluster_id, None)
            try:
                for proc, job in status["jobs"].items():
                    found.append(self._job_status(cluster, schedd, proc, job, gone))
            except (KeyError, TypeError, ValueError, AttributeError) as err:
                raise BatchError(f"cluster {cluster}.0@{schedd}: its status file is not "
                                 f"the local engine's ({err})") from None
        return found

    def _runner_gone(self, cluster: int, schedd: str, status: dict, gone: str) -> str:
        """A new runner for the cluster (""), or, past the restart limit or in a launch
        account's spool, `gone` with its orphaned jobs stopped."""
        if schedd in self.accounts:
            return gone  # the account's own processes and files: not the service's to touch
        if self._restart_runner(cluster):
            return ""
        stopped = stop_orphans(status, cluster, schedd)
        restarts = len(read_restarts(self.spool, cluster))
        if restarts:
            gone += f" (after {restarts} new runner{'s' if restarts != 1 else ''})"
        if stopped:
            gone += f"; the processes of {', '.join(stopped)} were stopped"
        return gone

    def _restart_runner(self, cluster: int) -> bool:
        """Start a new runner for a cluster whose runner is gone: False when the limit is
        reached or it cannot be started (a full disk)."""
        directory = self.cluster_dir(cluster)
        try:
            # Several workers track at once: one restarts, the others find it running.
            with _locked(directory / "restart.lock"):
                status = self._status(cluster)
                if not isinstance(status, dict) or \
                        not runner_gone(self.spool, cluster, self.schedd, status):
                    return True
                restarts = read_restarts(self.spool, cluster)
                if len(restarts) >= self.runner_restarts:
                    return False
                restarts.append({"at": now_text(), "pid": runner_pid(self.spool, cluster),
                                 "said": last_line(self.spool,
                                                   f"clusters/{cluster}/runner.log")})
                write_json_atomic(directory / RESTARTS_FILE, restarts, indent=None)
                # The old runner's "ready": a poke (SIGUSR1) before the new one listens
                # would end it.
                (directory / "runner.ready").unlink(missing_ok=True)
                self._start_runner(directory)
        except (OSError, BatchError):
            return False
        return True

    def notes(self, batch_ids: list[str]) -> list[str]:
        found = []
        for batch_id in batch_ids:
            try:
                cluster, _proc, schedd = split_job_id(batch_id)
            except ValueError:
                continue
            note = self._notes.get(f"{cluster}.0@{schedd}")
            if note and note not in found:
                found.append(note)
        return found

    def _control(self, batch_ids: list[str], action: str) -> None:
        # A cluster id (proc 0 as the first job's id) means the whole cluster, as
        # jobsub_rm/hold/release take it.
        by_schedd: dict[str, list[str]] = {}
        for batch_id in batch_ids:
            cluster, _proc, schedd, _spool = self._where(batch_id)
            by_schedd.setdefault(schedd, []).append(f"{cluster}.0@{schedd}")
        for schedd, ids in by_schedd.items():
            if schedd in self.accounts:
                # The account's own files: changed by the account, never by the service.
                self._control_as(self.accounts[schedd], schedd, ids, action)
            else:
                self._control_here(sorted({self._cluster(b) for b in ids}), action)

    def _control_as(self, account: Account, schedd: str, ids: list[str], action: str) -> None:
        tool = {"remove": "rm", "hold": "hold", "release": "release"}[action]
        tools = install_tools(self.areas_dir)
        env = account.environment({
            "POMS_BATCH_DIR": str(self.spools[schedd]), "POMS_LOCAL_SCHEDD": schedd,
            "PYTHONPATH": str(tools / "app")})
        argv, options = run_as(account, [self.launch_python, "-m", "batch.jobsub_cli", tool,
                                         f"--jobid={','.join(ids)}"], env)
        try:
            done = subprocess.run(argv, capture_output=True, text=True, timeout=60,
                                  cwd="/", stdin=subprocess.DEVNULL, **options)
        except (OSError, subprocess.TimeoutExpired) as err:
            raise BatchError(f"jobsub_{tool} as {account.name} did not run: {err}") from None
        if done.returncode != 0:
            raise BatchError(f"jobsub_{tool} as {account.name} failed: "
                             f"{(done.stderr or done.stdout).strip()[-500:]}")

    def _control_here(self, clusters: list[int], action: str) -> None:
        for cluster in clusters:
            directory = self.cluster_dir(cluster)
            if not directory.is_dir():
                raise BatchError(f"no cluster {cluster} in the local engine")
            with _locked(directory / "control.lock"):
                path = directory / "control.json"
                requests = json.loads(path.read_text()) if path.exists() else []
                requests.append({"action": action, "at": now_text()})
                write_json_atomic(path, requests, indent=None)
            self._poke(directory)

    def _poke(self, directory: Path) -> None:
        # Only a runner that said it listens: SIGUSR1 would end one still starting up.
        if not (directory / "runner.ready").exists():
            return
        try:
            os.kill(int((directory / "runner.pid").read_text()), signal.SIGUSR1)
        except (FileNotFoundError, ValueError, ProcessLookupError, PermissionError):
            pass

    def hold(self, batch_ids: list[str]) -> None:
        self._control(batch_ids, "hold")

    def release(self, batch_ids: list[str]) -> None:
        self._control(batch_ids, "release")

    def remove(self, batch_ids: list[str]) -> None:
        self._control(batch_ids, "remove")

    def fetch_log(self, job_id: str) -> str:
        cluster, proc, _schedd, spool = self._where(job_id)
        parts = []
        for name in ("stdout", "stderr"):
            try:
                with open_beneath(spool, f"clusters/{cluster}/{proc}/{name}") as fh:
                    size = os.fstat(fh.fileno()).st_size
                    fh.seek(max(0, size - LOG_TAIL_BYTES))
                    parts.append(f"== {name} ==\n" + fh.read().decode("utf-8", "replace"))
            except FileNotFoundError:
                continue
            except OSError as err:
                raise BatchError(f"no log for {job_id}: {err}") from None
        if not parts:
            raise BatchError(f"no log for {job_id}")
        return "\n".join(parts)

    def job_directory(self, job_id: str) -> tuple[Path, str] | None:
        """(spool, path of the job's directory inside it), to read with open_beneath; None
        for an id of no spool of this engine."""
        try:
            cluster, proc, _schedd, spool = self._where(job_id)
        except BatchError:
            return None
        return spool, f"clusters/{cluster}/{proc}"

    def clusters_of_submission(self, submission_id: int) -> list[str]:
        found: list[str] = []
        for schedd, spool in self.spools.items():
            try:
                text = read_beneath(spool, f"by_submission/{int(submission_id)}").decode()
            except FileNotFoundError:
                continue
            except (OSError, UnicodeDecodeError) as err:
                raise BatchError(f"{spool}/by_submission/{submission_id}: {err}") from None
            for line in text.splitlines():
                try:
                    cluster, _proc, named = split_job_id(line)
                except ValueError:
                    continue  # an account may write anything in its own spool
                batch_id = f"{cluster}.0@{named}"
                if named == schedd and batch_id not in found:
                    found.append(batch_id)
        return found

    def confirm(self, submission_id: int, batch_ids: list[str],
                account: str = "") -> tuple[list[str], list[str]]:
        """The local engine knows each cluster's submission (cluster.json, written when the
        launch submitted it) and whose area it is in: a cluster is the submission's when
        both match the launch (its account's area, or this service's spool in dev mode)."""
        schedd = account_schedd(account) if account else self.schedd
        confirmed, refused = [], []
        for batch_id in batch_ids:
            try:
                cluster, _proc, named, spool = self._where(batch_id)
            except BatchError as err:
                refused.append(f"{batch_id}: {err}")
                continue
            cluster_id = f"{cluster}.0@{named}"
            if named != schedd:
                refused.append(f"{batch_id}: not submitted by this launch's account "
                               f"({account or 'this service'})")
                continue
            spec = self._read_json(spool, f"clusters/{cluster}/cluster.json")
            if not isinstance(spec, dict):
                refused.append(f"{batch_id}: the local engine has no such cluster")
            elif spec.get("submission_id") != int(submission_id):
                refused.append(f"{batch_id}: the cluster was submitted for "
                               f"submission {spec.get('submission_id')}, not "
                               f"{submission_id}")
            elif cluster_id not in confirmed:
                confirmed.append(cluster_id)
        return confirmed, refused

    def launch_environment_for(self, account: Account | None) -> dict[str, str]:
        env = self.launch_environment()
        schedd = account_schedd(account.name) if account else ""
        if schedd in self.spools:
            # The account submits to its own area, under ids of its own.
            env.update(POMS_BATCH_DIR=str(self.spools[schedd]), POMS_LOCAL_SCHEDD=schedd)
        return env

    def launch_environment(self) -> dict[str, str]:
        return {
            "POMS_TOOLS_DIR": str(TOOLS_DIR),
            "POMS_BATCH_DIR": str(self.spool),
            "POMS_LOCAL_SLOTS": str(self.slots),
            "POMS_PYTHON": sys.executable,
            "POMS_ROOT": str(REPO_ROOT),
            # fife_launch looks for a relative -c cfg here too (FIFE_LAUNCH_PATH), so the demo's
            # examples/mu2e/reco.cfg is found from any work directory.
            "FIFE_LAUNCH_PATH": str(REPO_ROOT),
        }


# --- the runner: one process per cluster ------------------------------------------------
