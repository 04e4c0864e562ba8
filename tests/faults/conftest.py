"""Faults for real: a POMS service (real `poms worker` processes, a real Redis, the app's
database: SQLite, or PostgreSQL on the PostgreSQL run) and the means to hurt it.

  service          the tutorial campaign on a fresh database; .run(...) runs a `flask --app
                   wsgi` command, .worker() starts `poms worker` in a session of its own,
                   .kill(worker) kills that whole session (worker, work horse, scheduler:
                   nothing records anything), .query(sql, **params), .state(id)
  service.locked() a context holding the database's write lock (SQLite: BEGIN EXCLUSIVE;
                   PostgreSQL: LOCK TABLE submission, job), so a worker blocks at its next
                   write, where the test chooses to kill it
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError

ROOT = Path(__file__).resolve().parents[2]
FLASK = [sys.executable, "-m", "flask", "--app", "wsgi"]
LAUNCHED = ("Idle", "Running", "Completed", "Located")


def session_pids(sid: int) -> list[int]:
    """Every process of session `sid` (RQ puts each work horse in a process group of its
    own, so a process group is not enough)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rpartition(")")[2].split()
        except OSError:
            continue
        if int(fields[3]) == sid and fields[0] not in ("Z", "X"):
            found.append(int(entry.name))
    return found


def kill_session(sid: int) -> None:
    for pid in session_pids(sid):
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def wait_for(check, timeout: float, what: str, interval: float = 0.1):
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"waited {timeout} s for {what}")
        time.sleep(interval)


@contextmanager
def write_locked(engine):
    """The database's write lock, held: readers go on, every writer waits (SQLite: BEGIN
    EXCLUSIVE; PostgreSQL: the submission and job tables locked)."""
    with engine.connect() as conn:
        for attempt in range(10):
            try:
                if engine.dialect.name == "sqlite":
                    conn.exec_driver_sql("BEGIN EXCLUSIVE")
                else:
                    conn.exec_driver_sql("BEGIN")
                    conn.exec_driver_sql("LOCK TABLE submission, job IN EXCLUSIVE MODE")
                break
            except OperationalError:
                # PostgreSQL may call it a deadlock with a worker's transaction: again
                conn.rollback()
                if attempt == 9:
                    raise
                time.sleep(0.2)
        try:
            yield
        finally:
            conn.exec_driver_sql("ROLLBACK")


class Service:
    def __init__(self, url: str, env: dict, tmp: Path):
        self.url, self.env, self.tmp = url, env, tmp
        self.engine = create_engine(url)
        self.workers: list[subprocess.Popen] = []

    def run(self, *args: str, timeout: int = 120, **extra_env) -> subprocess.CompletedProcess:
        return subprocess.run([*FLASK, *args], cwd=ROOT, env={**self.env, **extra_env},
                              capture_output=True, text=True, timeout=timeout)

    def launch(self, stage: str = "reco_fcl") -> int:
        done = self.run("poms", "launch", "mu2e", "srsoleti_tutorial", stage)
        assert done.returncode == 0, done.stderr
        return int(done.stdout.strip().splitlines()[-1])

    def worker(self, *queues: str, **extra_env) -> subprocess.Popen:
        log = open(self.tmp / f"worker-{len(self.workers)}.log", "wb")
        options = [arg for name in queues for arg in ("--queue", name)]
        process = subprocess.Popen([*FLASK, "poms", "worker", *options], cwd=ROOT,
                                   env={**self.env, **extra_env}, stdout=log,
                                   stderr=subprocess.STDOUT, start_new_session=True)
        log.close()
        self.workers.append(process)
        return process

    def kill(self, process: subprocess.Popen) -> None:
        kill_session(process.pid)
        process.wait()
        wait_for(lambda: not session_pids(process.pid), 10, "the session to end")

    def query(self, sql: str, **params):
        with self.engine.connect() as conn:
            return conn.execute(text(sql), params).fetchall()

    def execute(self, sql: str, **params) -> None:
        with self.engine.begin() as conn:
            conn.execute(text(sql), params)

    def launch_row(self, submission_id: int) -> tuple:
        """(state, launch_error, launch_attempts, launch_claimed_at) of a submission."""
        return self.query("SELECT state, launch_error, launch_attempts, launch_claimed_at "
                          "FROM submission WHERE id = :id", id=submission_id)[0]

    def state(self, submission_id: int) -> str:
        return self.query("SELECT state FROM submission WHERE id = :id", id=submission_id)[0][0]

    def causes(self, submission_id: int) -> list[str]:
        return [c for (c,) in self.query(
            "SELECT cause FROM submission_event WHERE submission_id = :id ORDER BY id",
            id=submission_id)]

    def clusters_of(self, submission_id: int) -> list[str]:
        path = Path(self.env["POMS_BATCH_DIR"]) / "by_submission" / str(submission_id)
        return path.read_text().split() if path.exists() else []

    def launch_output(self, submission_id: int) -> str:
        path = Path(self.env["POMS_LAUNCH_DIR"]) / str(submission_id) / "output.log"
        return path.read_text() if path.exists() else ""

    def assert_launched_once(self, submission_id: int) -> None:
        assert len(self.clusters_of(submission_id)) == 1, self.clusters_of(submission_id)
        assert self.launch_output(submission_id).count("== process_id:") == 1

    def locked(self):
        return write_locked(self.engine)

    def close(self) -> None:
        for process in self.workers:
            if process.poll() is None:
                kill_session(process.pid)
                process.wait()
        self.engine.dispose()


@pytest.fixture
def service(new_database, tmp_path, redis_server, redis_conn):
    made = _service(new_database(), tmp_path, redis_server)
    yield made
    made.close()


@pytest.fixture
def postgres_service(postgres_server, postgres_databases, tmp_path, redis_server, redis_conn):
    """The same service on PostgreSQL whatever POMS_TEST_DATABASE says (a PostgreSQL
    restart is a fault of PostgreSQL only)."""
    name = postgres_databases.take()
    made = _service(postgres_server.url(name), tmp_path, redis_server)
    yield made
    made.close()
    postgres_databases.release(name)


def _service(url: str, tmp_path: Path, redis_server) -> Service:
    from app.extensions import db
    from tests.fixtures.app import _app
    from tests.fixtures.launching import import_tutorial

    setup_app = _app(url)
    with setup_app.app_context():
        import_tutorial("alice", quick=True)
        db.session.remove()
        db.engine.dispose()
    env = {
        **os.environ,
        "POMS_DATABASE_URL": url,
        "POMS_SECRET_KEY": "faults-test",
        "POMS_REDIS_URL": redis_server.url,
        "POMS_BATCH_DIR": str(tmp_path / "batch"),
        "POMS_LAUNCH_DIR": str(tmp_path / "launches"),
        "POMS_UPLOADS_DIR": str(tmp_path / "uploads"),
        "POMS_LAUNCH_GRACE": "3",
        "POMS_TRACKING_INTERVAL": "1",
        "POMS_LOCAL_SLOTS": "4",
        "POMS_UCONDB_FCL_UPLOADS": "0",
    }
    return Service(url, env, tmp_path)


@contextmanager
def unwritable(directory: Path):
    """`directory` refuses every write while the context lasts: chmod for an ordinary user;
    for root, whom modes do not stop, the immutable attribute (chattr +i)."""
    directory.mkdir(parents=True, exist_ok=True)
    if os.geteuid() != 0:
        directory.chmod(0o555)
        try:
            yield
        finally:
            directory.chmod(0o755)
        return
    made = subprocess.run(["chattr", "+i", str(directory)], capture_output=True, text=True)
    assert made.returncode == 0, f"chattr +i {directory} (root needs it to refuse writes): " \
                                 f"{made.stderr}"
    try:
        yield
    finally:
        subprocess.run(["chattr", "-i", str(directory)], check=True)


@contextmanager
def small_filesystem(directory: Path, size: str = "16m"):
    """`directory` on a filesystem of its own of `size` (a tmpfs, mounted as root), to fill
    for real (`full`)."""
    directory.mkdir(parents=True, exist_ok=True)
    made = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size},mode=0755", "tmpfs",
                           str(directory)], capture_output=True, text=True)
    assert made.returncode == 0, f"mount -t tmpfs on {directory} (a full disk for real " \
                                 f"needs root): {made.stderr}"
    try:
        yield directory
    finally:
        subprocess.run(["umount", "-l", str(directory)], check=True)


@contextmanager
def full(directory: Path):
    """The filesystem of `directory` full (a file takes every free block) while the
    context lasts: writes there fail with "No space left on device"."""
    filler = directory / ".filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        for size in (1 << 20, 1 << 12, 1):  # down to the last byte
            block = b"\0" * size
            try:
                while os.write(fd, block):
                    pass
            except OSError:
                continue
    finally:
        os.close(fd)
    try:
        yield
    finally:
        filler.unlink()
