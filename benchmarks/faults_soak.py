"""Faults soak: the tutorial's two-stage campaign (reco_fcl, then reco on its outputs) under
three supervised `poms worker` processes while faults of every kind are injected at random.

Prints:
  BENCH faults_doubled 0 count        submissions whose launch ran twice (more than one
                                      cluster submitted for it, or its script run twice)
  BENCH faults_stuck 0 count          submissions not in a settled, explained state once the
                                      faults stop and the service had POMS_BENCH_SOAK_SETTLE
                                      seconds (120) to finish: New, Idle or Running still,
                                      or LaunchFailed without a reason
  BENCH faults_worst_recovery_s N s   after each fault ends, a probe launch is asked for: the
                                      longest time until one was launched (out of New)
  BENCH faults_injected N count
`#` lines name each fault and its recovery time.

What is real: a redis-server of its own, `scripts/supervise flask --app wsgi poms worker`
three times (as the Procfile runs them), the launches (real launch scripts, the local
batch engine, the tutorial's jobs), tracking, chaining. The faults, one every
POMS_BENCH_SOAK_EVERY seconds (15) for POMS_BENCH_SOAK_SECONDS (600), chosen at random:
a worker's whole session killed (the supervisor starts it again), a local-engine runner
killed (-9), Redis stopped for 3 s and started empty, the database's write lock held for
8 s, the launch directory refusing writes for 5 s (chattr +i as root, else chmod) or full
for 5 s (a 64 MB tmpfs filled, as root), and on PostgreSQL the server stopped for 3 s. A
killed runner's recovery time is until its cluster had a runner again (or was done).
A reco_fcl launch is asked for every POMS_BENCH_SOAK_LAUNCH_EVERY seconds (5).
POMS_BENCH_SOAK_ONLY=runner,full injects only the faults whose names hold those words.
POMS_BENCH_DATABASES (sqlite,postgresql) picks the databases; figures are per database,
suffixed _sqlite / _postgresql, and the unsuffixed lines give the worst of them.
"""
from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import flask_migrate  # noqa: E402

from app.extensions import db  # noqa: E402
from app.processes import pid_alive  # noqa: E402
from benchmarks.support import DATABASES, ROOT  # noqa: E402
from tests.faults.conftest import (  # noqa: E402
    _service,
    full,
    kill_session,
    small_filesystem,
    unwritable,
    write_locked,
)
from tests.fixtures.app import _app  # noqa: E402
from tests.fixtures.postgres import start_postgres_server  # noqa: E402
from tests.fixtures.redis_server import start_redis_server  # noqa: E402

# The soak is 10 minutes per database; POMS_BENCH_SOAK_SECONDS=60 for a quick run.
SECONDS = float(os.environ.get("POMS_BENCH_SOAK_SECONDS", "600"))
EVERY = float(os.environ.get("POMS_BENCH_SOAK_EVERY", "15"))
LAUNCH_EVERY = float(os.environ.get("POMS_BENCH_SOAK_LAUNCH_EVERY", "5"))
SETTLE = float(os.environ.get("POMS_BENCH_SOAK_SETTLE", "120"))
SETTLED = ("Located", "Completed", "Failed", "Removed", "Cancelled", "LaunchFailed")


def _children(pid: int) -> list[int]:
    try:
        return [int(x) for task in Path(f"/proc/{pid}/task").iterdir()
                for x in (task / "children").read_text().split()]
    except OSError:
        return []


def _descendants(pid: int) -> list[int]:
    found, todo = [], _children(pid)
    while todo:
        child = todo.pop()
        found.append(child)
        todo += _children(child)
    return found


def _kill_worker(supervisor: subprocess.Popen) -> None:
    """The supervised worker and everything under it (scheduler, work horse), hard."""
    for pid in _descendants(supervisor.pid):
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def main() -> int:
    results: dict[str, dict] = {}
    status = 0
    workdir = Path(tempfile.mkdtemp(prefix="poms-soak-"))
    binary = shutil.which("redis-server")
    if not binary:
        print("faults_soak: redis-server is needed", file=sys.stderr)
        return 1
    for kind in DATABASES:
        tmp = workdir / kind
        tmp.mkdir()
        server = None
        if kind == "postgresql":
            try:
                server = start_postgres_server()
            except BaseException as err:  # pytest's outcomes are BaseExceptions
                print(f"faults_soak: PostgreSQL could not be started ({err!r})",
                      file=sys.stderr)
                status = 1
                continue
            url = server.create_database("soak")
        else:
            url = f"sqlite:///{tmp / 'poms.db'}"
        app = _app(url)
        with app.app_context():
            flask_migrate.upgrade()
            db.session.remove()
            db.engine.dispose()
        redis = [start_redis_server(binary, tmp)]  # restarted on the same port
        try:
            service = _service(url, tmp, redis[0])
            results[kind] = _run(service, redis, binary, tmp, server)
        finally:
            redis[-1].stop()
            if server is not None:
                server.stop()
    shutil.rmtree(workdir, ignore_errors=True)
    if not results:
        return 1
    for name in ("doubled", "stuck"):
        for kind, found in results.items():
            print(f"BENCH faults_{name}_{kind} {found[name]} count")
        print(f"BENCH faults_{name} {max(r[name] for r in results.values())} count")
    for kind, found in results.items():
        print(f"BENCH faults_worst_recovery_s_{kind} {found['worst']:.1f} s")
        print(f"BENCH faults_injected_{kind} {found['injected']} count")
    print(f"BENCH faults_worst_recovery_s {max(r['worst'] for r in results.values()):.1f} s")
    print(f"BENCH faults_injected {sum(r['injected'] for r in results.values())} count")
    return status


def _run(service, redis: list, binary: str, tmp: Path, server) -> dict:
    env = service.env
    env["POMS_TRACKING_INTERVAL"] = "2"
    env["POMS_LAUNCH_GRACE"] = "10"
    supervisors = []
    for n in range(3):
        log = open(tmp / f"worker-{n}.log", "wb")
        supervisors.append(subprocess.Popen(
            [str(ROOT / "scripts" / "supervise"), sys.executable, "-m", "flask", "--app",
             "wsgi", "poms", "worker"], cwd=ROOT, env=env, stdout=log,
            stderr=subprocess.STDOUT, start_new_session=True))
        log.close()
    launches = Path(env["POMS_LAUNCH_DIR"])
    launches.mkdir(parents=True, exist_ok=True)
    with ExitStack() as stack:
        try:
            stack.enter_context(small_filesystem(launches, "64m"))
            fills = True
        except AssertionError as err:
            print(f"# no full-directory faults: {err}", flush=True)
            fills = False
        return _soak(service, redis, binary, tmp, server, supervisors, launches, fills)


def _kill_runner(batch: Path) -> float:
    """A running local-engine runner killed; seconds until its cluster had a runner again
    (0 when none ran)."""
    alive = []
    for pid_file in batch.glob("clusters/*/runner.pid"):
        try:
            pid = int(pid_file.read_text())
        except (OSError, ValueError):
            continue
        if pid_alive(pid):
            alive.append((pid_file, pid))
    if not alive:
        return 0.0
    pid_file, pid = random.choice(alive)
    os.kill(pid, signal.SIGKILL)
    killed = time.monotonic()
    status = pid_file.with_name("status.json")
    while time.monotonic() - killed < 120:
        try:
            runner = int(pid_file.read_text())
            if '"done": true' in status.read_text() or (runner != pid and pid_alive(runner)):
                break
        except (OSError, ValueError):
            pass
        time.sleep(0.2)
    return time.monotonic() - killed


def _soak(service, redis: list, binary: str, tmp: Path, server, supervisors: list,
          launches: Path, fills: bool) -> dict:
    env = service.env
    # Jobs of 20 s: a runner is running (to kill) most of the time.
    service.execute("UPDATE campaign_stage SET param_overrides = :value WHERE name = "
                    "'reco_fcl'", value=json.dumps([["--stage ", "reco_fcl"],
                                                    ["-Oglobal.work_seconds=", "20"]]))

    def launch() -> int | None:
        done = service.run("poms", "launch", "mu2e", "srsoleti_tutorial", "reco_fcl")
        if done.returncode != 0:
            print(f"# launch refused: {done.stderr.strip()[-200:]}", flush=True)
            return None
        return int(done.stdout.strip().splitlines()[-1])

    def restart_redis():
        redis[-1].stop()
        time.sleep(3)
        redis.append(start_redis_server(binary, tmp, port=redis[-1].port))

    def lock_database():
        with write_locked(service.engine):
            time.sleep(8)

    def close_launch_dir():
        with unwritable(launches):
            time.sleep(5)

    def restart_postgresql():
        server.pg_ctl("stop", "-m", "fast", "-w", "-t", "30")
        time.sleep(3)
        server.start()

    def fill_launch_dir():
        with full(launches):
            time.sleep(5)

    runner_recovery = [0.0]

    def kill_runner():
        runner_recovery[0] = _kill_runner(Path(env["POMS_BATCH_DIR"]))
        print("# " + (f"its cluster had a runner again in {runner_recovery[0]:.1f} s"
                      if runner_recovery[0] else "no runner was running"), flush=True)

    faults = {"kill a worker": lambda: _kill_worker(random.choice(supervisors)),
              "kill a local-engine runner": kill_runner,
              "restart Redis empty": restart_redis, "lock the database": lock_database,
              "launch directory refuses writes": close_launch_dir}
    if fills:
        faults["launch directory full"] = fill_launch_dir
    if server is not None:
        faults["restart PostgreSQL"] = restart_postgresql
    only = os.environ.get("POMS_BENCH_SOAK_ONLY", "")  # e.g. "runner,full": those alone
    if only:
        faults = {name: fault for name, fault in faults.items()
                  if any(word and word in name for word in only.split(","))}
    injected, worst = 0, 0.0
    try:
        began = last_launch = time.monotonic()
        next_fault = began + EVERY
        while time.monotonic() - began < SECONDS:
            if time.monotonic() >= last_launch + LAUNCH_EVERY:
                launch()
                last_launch = time.monotonic()
            if time.monotonic() >= next_fault:
                name = random.choice(sorted(faults))
                runner_recovery[0] = 0.0
                faults[name]()
                injected += 1
                ended = time.monotonic()
                probe = launch()
                while probe is not None and time.monotonic() - ended < 120:
                    try:
                        if service.state(probe) != "New":
                            break
                    except Exception:  # the database still coming back
                        pass
                    time.sleep(0.5)
                took = max(time.monotonic() - ended, runner_recovery[0])
                worst = max(worst, took)
                print(f"# fault {injected}: {name}; a launch after it was out of New in "
                      f"{took:.1f} s", flush=True)
                next_fault = time.monotonic() + EVERY
            time.sleep(0.5)
        deadline = time.monotonic() + SETTLE
        while time.monotonic() < deadline and _unsettled(service):
            time.sleep(2)
        stuck = _unsettled(service)
        doubled = [sid for (sid,) in service.query("SELECT id FROM submission")
                   if len(service.clusters_of(sid)) > 1
                   or service.launch_output(sid).count("== process_id:") > 1]
        for sid, state, error in stuck:
            print(f"# stuck: submission {sid} {state} {error[:200]!r}", flush=True)
        for sid in doubled:
            print(f"# doubled: submission {sid}", flush=True)
        return {"doubled": len(doubled), "stuck": len(stuck), "worst": worst,
                "injected": injected}
    finally:
        for supervisor in supervisors:
            kill_session(supervisor.pid)
            supervisor.wait()
        service.engine.dispose()


def _unsettled(service) -> list:
    rows = service.query("SELECT id, state, launch_error FROM submission")
    return [(sid, state, error or "") for sid, state, error in rows
            if state not in SETTLED or (state == "LaunchFailed" and not error)]


if __name__ == "__main__":
    sys.exit(main())
