"""What the benchmarks share (a package, so `make bench` does not run it as a benchmark)."""
from __future__ import annotations

import importlib.util
import os
import sys
from collections.abc import Callable
from pathlib import Path

# POMS_BENCH_DATABASES (sqlite,postgresql) picks the databases a benchmark measures.
DATABASES = os.environ.get("POMS_BENCH_DATABASES", "sqlite,postgresql").split(",")
BENCHMARKS = Path(__file__).resolve().parents[1]


def bench(name: str, value: float, unit: str) -> None:
    """One figure, as `make bench` prints them: `BENCH <name> <value> <unit>`."""
    print(f"BENCH {name} {value:.4g} {unit}", flush=True)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))]


def sibling(name: str):
    """Another benchmark file as a module: its data set-up is reused, not copied."""
    spec = importlib.util.spec_from_file_location(f"bench_{name}", BENCHMARKS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def each_database(name: str, workdir: Path, measure: Callable[[str, str, Path], None]) -> int:
    """measure(kind, database_url, directory) on SQLite, then on a PostgreSQL started here
    (tests/fixtures/postgres.py), each with a directory of its own under `workdir` (not yet
    made). Returns the exit status: 1 when PostgreSQL could not be started, which is said
    on stderr after the SQLite figures, never skipped in silence."""
    from tests.fixtures.postgres import start_postgres_server

    if "sqlite" in DATABASES:
        measure("sqlite", f"sqlite:///{workdir / 'poms-sqlite.db'}", workdir / "sqlite")
    if "postgresql" in DATABASES:
        try:
            server = start_postgres_server()
        except BaseException as err:  # pytest's skip/fail outcomes are BaseExceptions
            if isinstance(err, KeyboardInterrupt):
                raise
            print(f"{name}: PostgreSQL could not be started ({err!r}); no _postgresql "
                  "figures", file=sys.stderr)
            return 1
        try:
            measure("postgresql", server.create_database("bench"), workdir / "postgresql")
        finally:
            server.stop()
    return 0


# --- the Procfile's workers, as the 100,000-job benchmarks run them -------------------

ROOT = Path(__file__).resolve().parents[2]


def procfile_workers() -> list[tuple[str, list[str]]]:
    """The Procfile's `poms worker` lines: (name, argv), the worker command itself (not
    its scripts/supervise: a benchmark runs the command in a process it watches)."""
    import shlex

    found = []
    for line in (ROOT / "Procfile").read_text().splitlines():
        name, colon, command = line.partition(":")
        if line.startswith("#") or not colon:
            continue
        argv = shlex.split(command)
        if argv[:1] == ["scripts/supervise"]:
            argv = argv[1:]
        if argv[:1] == ["flask"] and "worker" in argv:
            found.append((name.strip(), argv))
    if not found:
        raise SystemExit("the Procfile has no `flask ... poms worker` line")
    return found


def start_workers(script: Path, env: dict, logs: Path, probe: Path, redis_url: str) -> list:
    """Each Procfile worker as `script --worker PROBE argv...` (the script wraps the worker
    command with its probes), each in a session of its own; back once all have registered
    with Redis."""
    import subprocess
    import time

    from redis import Redis
    from rq import Worker

    workers = [
        subprocess.Popen([sys.executable, str(script), "--worker", str(probe), *argv],
                         cwd=ROOT, env=env, stdout=open(logs / f"worker-{name}.log", "wb"),
                         stderr=subprocess.STDOUT, start_new_session=True)
        for name, argv in procfile_workers()
    ]
    connection = Redis.from_url(redis_url)
    deadline = time.monotonic() + 60
    while len(Worker.all(connection=connection)) < len(workers):
        if time.monotonic() > deadline or any(w.poll() is not None for w in workers):
            stop_processes(workers)
            raise SystemExit(f"{script.stem}: the workers did not start; see "
                             f"{logs}/worker-*.log")
        time.sleep(0.2)
    return workers


def session_members(leader: int) -> list[int]:
    """The processes of the session `leader` started (start_new_session): an RQ worker, its
    scheduler and its work horse, which RQ puts in a process group of its own."""
    members = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rpartition(")")[2].split()
        except OSError:  # gone meanwhile
            continue
        if int(fields[3]) == leader:  # after "pid (comm)": state ppid pgrp session ...
            members.append(int(stat.parent.name))
    return members


def kill_session(leader: int, sig: int) -> None:
    for pid in session_members(leader):
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            pass


def stop_processes(processes: list) -> None:
    """End the processes a benchmark started, each with everything in its session."""
    import signal
    import subprocess
    import time

    for process in processes:
        kill_session(process.pid, signal.SIGTERM)
    deadline = time.monotonic() + 5  # the figures are taken: no need to let work finish
    for process in processes:
        try:
            process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            pass
        kill_session(process.pid, signal.SIGKILL)  # what is left: a horse mid-job
        process.wait(timeout=10)
