"""The runner of one local-engine cluster (app/batch/local.py): the one process that starts
its jobs as slots free up, reaps them, applies hold, release and remove requests, appends
each job's change to events.log and checkpoints status.json. LocalEngine.submit starts it
detached, as `python -m batch.local_runner CLUSTER_DIR` (app/ on the path, nothing of the
app imported: it starts fast, and runs in a launch account's copy of app/batch)."""
from __future__ import annotations

import fcntl
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from .base import COMPLETED, HELD, IDLE, REMOVED, RUNNING, job_environment, job_identity
from .job_files import write_json_atomic
from .local import SCHEDD
from .local_events import EVENTS, event_line, now_text
from .local_runners import stop_orphans
from .usage import reap


def _say(text: str) -> None:
    """A line in runner.log, if the disk takes it."""
    try:
        print(f"runner: {text}", file=sys.stderr, flush=True)
    except OSError:
        pass


class Runner:
    POLL_S = 0.05
    # The checkpoint (status.json) costs in proportion to the cluster: rewritten at most
    # every WRITE_EVERY_S, and no more often than CHECKPOINT_S_PER_JOB per job (a
    # 100,000-job cluster every 5 s); events.log carries every change in between.
    WRITE_EVERY_S = 0.2
    CHECKPOINT_S_PER_JOB = 0.00005
    # A status.json that cannot be written (a full disk, a file size limit) is tried again
    # every loop; the last one, with every job ended, for this long before the runner
    # gives up (and tracking says its runner is gone).
    FINAL_WRITE_S = float(os.environ.get("POMS_LOCAL_FINAL_WRITE_S", "600"))

    def __init__(self, directory: Path):
        self.dir = directory
        self.spec = json.loads((directory / "cluster.json").read_text())
        self.cluster = self.spec["cluster"]
        status = json.loads((directory / "status.json").read_text())
        self.jobs: dict[int, dict] = {int(p): j for p, j in status["jobs"].items()}
        self.order = sorted(self.jobs)
        self.idle_from = 0  # no Idle job before this index of self.order
        self.changed: dict[int, None] = {}  # jobs whose change is not in events.log yet
        self.events = None  # events.log, opened for appending
        self.events_at = int(status.get("events_at") or 0)
        self.torn = False  # the last append was cut short: start the next on a new line
        self.events_failing = ""
        self.write_every = max(self.WRITE_EVERY_S, self.CHECKPOINT_S_PER_JOB * len(self.jobs))
        self.procs: dict[int, subprocess.Popen] = {}
        self.began: dict[int, float] = {}  # monotonic start of each running job
        self.slot_files: dict[int, object] = {}
        self.control_seen = 0
        self.dirty = True
        self.last_write = 0.0
        self.poked = False
        self.host = socket.gethostname()
        self.held_all = False
        self.removing: dict[int, float] = {}
        self.write_failing = ""  # why the last status.json write failed, said once

    def _on_poke(self, _signum, _frame):
        self.poked = True

    # slots: a flock per running job, across every runner on the machine
    def _take_slot(self):
        slots = Path(self.spec["slots_dir"])
        slots.mkdir(parents=True, exist_ok=True)
        for i in range(int(self.spec["slots"])):
            fh = open(slots / f"{i}.lock", "a")
            try:
                fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return fh
            except BlockingIOError:
                fh.close()
        return None

    def _job_env(self, proc: int, work: Path) -> dict[str, str]:
        env = {
            k: os.environ[k] for k in ("PATH", "HOME", "USER", "LANG", "LOGNAME", "SHELL")
            if k in os.environ
        }
        env.update(job_environment(self.spec["env"], self.spec.get("group") or "",
                                   self.spec.get("dataset") or ""))
        env.update(job_identity(str(proc), str(self.cluster), self.spec.get("schedd", SCHEDD)))
        env.update(
            GRID_USER=os.environ.get("USER", "poms"),
            _CONDOR_SCRATCH_DIR=str(work),
            TMPDIR=str(work),
            CONDOR_DIR_INPUT=str(work / "input"),
            POMS_OUTPUT_DIR=str(self.spec["outputs_dir"]),
        )
        return env

    def _start(self, proc: int, slot) -> None:
        try:
            self._start_job(proc, slot)
        except OSError as err:
            # Its directory or log files could not be made (a full disk): the job fails,
            # saying why, instead of the runner.
            slot.close()
            self.jobs[proc].update(state=COMPLETED, exit_code=1, ended=now_text(),
                                   error=f"the job could not start: {err}")
            _say(f"job {proc} could not start: {err}")
            self.mark(proc)

    def mark(self, proc: int) -> None:
        """Job `proc` changed: an event to append, a checkpoint to write."""
        self.changed[proc] = None
        self.dirty = True

    def _start_job(self, proc: int, slot) -> None:
        job_dir = self.dir / str(proc)
        work = job_dir / "work"
        (work / "input").mkdir(parents=True, exist_ok=True)
        # As jobsub's job wrapper: each job its own copy of the -f files, executable.
        for name in self.spec.get("input_files", []):
            target = work / "input" / name
            shutil.copyfile(self.dir / "input" / name, target)
            target.chmod(0o750)
        with open(job_dir / "stdout", "ab") as out, open(job_dir / "stderr", "ab") as err:
            process = subprocess.Popen(
                [self.spec["executable"], *self.spec["arguments"]],
                cwd=work, env=self._job_env(proc, work), stdin=subprocess.DEVNULL,
                stdout=out, stderr=err, start_new_session=True, close_fds=True,
            )
        self.procs[proc] = process
        self.began[proc] = time.monotonic()
        self.slot_files[proc] = slot
        self.jobs[proc].update(state=RUNNING, started=now_text(), host=self.host, pid=process.pid)
        self.mark(proc)

    def _signal(self, proc: int, sig: int) -> None:
        process = self.procs.get(proc)
        if process is not None:
            try:
                os.killpg(process.pid, sig)
            except ProcessLookupError:
                pass

    def _apply_control(self) -> None:
        path = self.dir / "control.json"
        if not path.exists():
            return
        try:
            requests = json.loads(path.read_text())
        except json.JSONDecodeError:
            return
        for request in requests[self.control_seen:]:
            action = request["action"]
            for proc, job in self.jobs.items():
                state = job["state"]
                if action == "hold" and state in (IDLE, RUNNING):
                    if state == RUNNING:
                        self._signal(proc, signal.SIGSTOP)
                    job["state"] = HELD
                    job["was_running"] = state == RUNNING
                elif action == "release" and state == HELD:
                    if job.pop("was_running", False):
                        self._signal(proc, signal.SIGCONT)
                        job["state"] = RUNNING
                    else:
                        job["state"] = IDLE
                elif action == "remove" and state in (IDLE, RUNNING, HELD):
                    if proc in self.procs:
                        self._signal(proc, signal.SIGCONT)
                        self._signal(proc, signal.SIGTERM)
                        self.removing[proc] = time.monotonic()
                    job["state"] = REMOVED
                    job["ended"] = now_text()
                else:
                    continue
                self.mark(proc)
            self.idle_from = 0  # a released job is Idle again
        self.control_seen = len(requests)

    def _reaped(self, proc: int, process):
        """The job's exit status and the kernel's count of its usage; None while it runs."""
        return reap(process.pid)

    def _reap(self) -> None:
        for proc, process in list(self.procs.items()):
            reaped = self._reaped(proc, process)
            if reaped is None:
                started = self.removing.get(proc)
                if started is not None and time.monotonic() - started > 3:
                    self._signal(proc, signal.SIGKILL)
                continue
            process.returncode = reaped.exit_code  # reaped here, not by subprocess
            del self.procs[proc]
            wall = time.monotonic() - self.began.pop(proc, time.monotonic())
            self.removing.pop(proc, None)
            slot = self.slot_files.pop(proc, None)
            if slot is not None:
                slot.close()  # frees the slot's flock
            job = self.jobs[proc]
            usage = reaped.as_status(wall)
            if job["state"] == REMOVED:
                usage.pop("exit_code")
                job.update(usage)
            else:
                job.update(state=COMPLETED, ended=now_text(), **usage)
            self.mark(proc)

    def _fill_slots(self) -> None:
        # From the first job that may be Idle: a 100,000-job cluster is not scanned whole
        # each round.
        for index in range(self.idle_from, len(self.order)):
            proc = self.order[index]
            if self.jobs[proc]["state"] != IDLE or proc in self.procs:
                if index == self.idle_from:
                    self.idle_from += 1
                continue
            slot = self._take_slot()
            if slot is None:
                return
            self._start(proc, slot)
            if index == self.idle_from and self.jobs[proc]["state"] != IDLE:
                self.idle_from += 1

    def _finished(self) -> bool:
        ended = (COMPLETED, REMOVED)
        return not self.procs and all(j["state"] in ended for j in self.jobs.values())

    def _write_last(self) -> None:
        deadline = time.monotonic() + self.FINAL_WRITE_S
        self._append_events()
        self._write(force=True)
        while (self.dirty or self.changed) and time.monotonic() < deadline:
            time.sleep(min(1.0, self.WRITE_EVERY_S * 5))
            self._append_events()
            self.dirty = True  # the checkpoint says done only once every event is written
            self._write(force=True)

    def _append_events(self) -> None:
        """The changed jobs' states, appended to events.log in one write."""
        if not self.changed:
            return
        data = b"".join(event_line(p, self.jobs[p]) for p in self.changed)
        if self.torn:
            data = b"\n" + data  # what was cut short stays a line of its own, skipped
        try:
            if self.events is None:
                self.events = os.open(self.dir / EVENTS,
                                      os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC,
                                      0o644)
            written = os.write(self.events, data)
        except OSError as err:
            if str(err) != self.events_failing:
                _say(f"could not write {EVENTS} (tried again): {err}")
            self.events_failing = str(err)
            return
        self.events_at += written
        if written < len(data):  # a file size limit: the rest is tried again, whole
            self.torn = True
            return
        if self.events_failing:
            _say(f"{EVENTS} written again")
        self.events_failing = ""
        self.torn = False
        self.changed.clear()

    def _write(self, force: bool = False) -> None:
        now = time.monotonic()
        if not self.dirty or (not force and now - self.last_write < self.write_every):
            return
        jobs = {
            str(p): {k: v for k, v in j.items() if k != "was_running"}
            for p, j in self.jobs.items()
        }
        try:
            # events_at: what the events.log holds up to here is in this checkpoint (the
            # changes not appended yet are in it too: a reader applies them twice, harmless)
            write_json_atomic(self.dir / "status.json",
                              {"jobs": jobs, "done": self._finished() and not self.changed,
                               "events_at": self.events_at}, indent=None)
        except OSError as err:
            if str(err) != self.write_failing:
                _say(f"could not write status.json (tried again): {err}")
            self.write_failing = str(err)
            self.last_write = now
            return
        if self.write_failing:
            _say("status.json written again")
        self.write_failing = ""
        self.dirty = False
        self.last_write = now

    def _take_over(self) -> None:
        """Jobs a runner before this one left Running (or Held while running): it is gone
        (this one was started in its place), so nobody will see them end. Their processes
        are stopped and they run again, as HTCondor runs again a job whose shadow died."""
        left = {p: j for p, j in self.jobs.items()
                if j.get("pid") and j["state"] in (RUNNING, HELD)}
        if not left:
            return
        schedd = self.spec.get("schedd", SCHEDD)
        stopped = stop_orphans({"jobs": {str(p): j for p, j in left.items()}}, self.cluster,
                               schedd)
        for proc, job in left.items():
            was = job["state"]
            for key in ("pid", "host", "started"):
                job.pop(key, None)
            job["restarts"] = int(job.get("restarts", 0)) + 1
            if was == RUNNING:
                job["state"] = IDLE  # a Held one runs again when released
            killed = "stopped" if f"{self.cluster}.{proc}@{schedd}" in stopped \
                else "already ended"
            _say(f"job {proc} was {was.lower()} under a runner that is gone ({killed}): "
                 "it runs again")
        self.dirty = True

    def run(self) -> None:
        # One runner per cluster: a second one (two workers restarting a dead one at once)
        # ends here.
        try:
            self.lock = open(self.dir / "runner.lock", "a")
            fcntl.flock(self.lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            _say(f"another runner runs cluster {self.cluster}: pid {os.getpid()} ends")
            return
        except OSError as err:  # no room for the lock file: run (restarts are locked too)
            _say(f"could not lock runner.lock: {err}")
        self._take_over()
        signal.signal(signal.SIGUSR1, self._on_poke)
        try:
            (self.dir / "runner.ready").write_text(str(os.getpid()))
        except OSError as err:  # without it, hold and release wait for the next poll
            _say(f"could not write runner.ready: {err}")
        while True:
            self._apply_control()
            self._reap()
            self._fill_slots()
            if self._finished():
                self._write_last()
                return
            self._append_events()
            self._write()
            if not self.poked:
                time.sleep(self.POLL_S)
            self.poked = False


if __name__ == "__main__":
    Runner(Path(sys.argv[1])).run()
