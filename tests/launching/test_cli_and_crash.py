"""The operator commands and a real worker process, run as an operator runs them:
`flask --app wsgi poms launch|status|worker`. Also the crash: a worker killed mid-launch
leaves a submission the next tracking pass resolves, and nothing launches twice."""
from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from tests.fixtures.launching import wait_for

ROOT = Path(__file__).resolve().parents[2]
FLASK = [sys.executable, "-m", "flask", "--app", "wsgi"]


@pytest.fixture
def operator(tmp_path, redis_server, redis_conn, migrated_template):
    db_path = tmp_path / "poms.db"
    # The migrated schema and the tutorial campaign, made in this process (each `flask`
    # command costs a second or more; the ones under test run as real commands below).
    shutil.copy(migrated_template, db_path)
    from tests.fixtures.app import _app
    from tests.fixtures.launching import import_tutorial

    setup_app = _app(f"sqlite:///{db_path}")
    with setup_app.app_context():
        import_tutorial("alice", quick=True)
        from app.extensions import db

        db.session.remove()
        db.engine.dispose()
    env = {
        **os.environ,
        "POMS_DATABASE_URL": f"sqlite:///{db_path}",
        "POMS_SECRET_KEY": "cli-test",
        "POMS_REDIS_URL": redis_server.url,
        "POMS_BATCH_DIR": str(tmp_path / "batch"),
        "POMS_LAUNCH_DIR": str(tmp_path / "launches"),
        "POMS_LAUNCH_GRACE": "3",
        "POMS_TRACKING_INTERVAL": "1",
        "POMS_LOCAL_SLOTS": "4",
    }

    class Operator:
        def __init__(self):
            self.env = env
            self.db = db_path
            self.workers: list[subprocess.Popen] = []

        def run(self, *args: str, timeout: int = 120) -> subprocess.CompletedProcess:
            return subprocess.run([*FLASK, *args], cwd=ROOT, env=env, capture_output=True,
                                  text=True, timeout=timeout)

        def worker(self, *queues: str) -> subprocess.Popen:
            log = open(db_path.parent / f"worker-{len(self.workers)}.log", "wb")
            options = [arg for name in queues for arg in ("--queue", name)]
            process = subprocess.Popen([*FLASK, "poms", "worker", *options], cwd=ROOT, env=env,
                                       stdout=log, stderr=subprocess.STDOUT,
                                       start_new_session=True)
            log.close()
            self.workers.append(process)
            return process

        def query(self, sql: str, *params):
            with sqlite3.connect(self.db) as conn:
                return conn.execute(sql, params).fetchall()

    op = Operator()
    yield op
    for process in op.workers:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def test_launch_from_the_command_line_runs_and_status_reports_it(operator):
    done = operator.run("poms", "launch", "mu2e", "srsoleti_tutorial", "reco_fcl")
    assert done.returncode == 0, done.stderr
    submission_id = int(done.stdout.strip().splitlines()[-1])
    operator.worker()
    # Completed; the chaining of issue 5 may move it on to Located and launch `reco`.
    wait_for(lambda: operator.query("SELECT state FROM submission WHERE id=?",
                                    submission_id)[0][0] in ("Completed", "Located"),
             timeout=90, interval=0.3, what="the submission to complete")
    status = operator.run("poms", "status", "mu2e", "srsoleti_tutorial", "--json")
    assert status.returncode == 0, status.stderr
    document = json.loads(status.stdout)
    assert document["campaign"] == "srsoleti_tutorial"
    assert [stage["name"] for stage in document["stages"]] == ["reco_fcl", "reco"]
    first = document["stages"][0]["submissions"]
    assert len(first) == 1
    assert first[0]["state"] in ("Completed", "Located")
    assert {k: v for k, v in first[0].items() if k != "state"} == {
        "id": submission_id, "recovery_of": None,
        "jobs": {"total": 3, "running": 0, "done": 3, "failed": 0},
    }
    for stage in document["stages"]:
        for entry in stage["submissions"]:
            assert set(entry) == {"id", "state", "recovery_of", "jobs"}
            assert set(entry["jobs"]) == {"total", "running", "done", "failed"}


def test_workers_split_by_queue_each_serve_only_their_own(operator, redis_conn):
    from rq import Queue

    done = operator.run("poms", "launch", "mu2e", "srsoleti_tutorial", "reco_fcl")
    assert done.returncode == 0, done.stderr
    submission_id = int(done.stdout.strip().splitlines()[-1])
    operator.worker("tracking", "analysis", "uploads")
    # Its scheduler ticks and its tracking passes run, but the launch is not its job.
    wait_for(lambda: Queue("tracking", connection=redis_conn).finished_job_registry.count > 0,
             timeout=30, interval=0.2, what="a tracking pass by the tracking worker")
    assert Queue("launches", connection=redis_conn).count == 1
    assert operator.query("SELECT state, batch_id FROM submission WHERE id=?",
                          submission_id) == [("New", "")]
    operator.worker("launches")
    wait_for(lambda: operator.query("SELECT state FROM submission WHERE id=?",
                                    submission_id)[0][0] in ("Completed", "Located"),
             timeout=90, interval=0.3, what="the submission to complete")


def test_a_worker_on_an_unknown_queue_is_refused_with_the_queue_names(operator):
    done = operator.run("poms", "worker", "--queue", "launch")
    assert done.returncode == 2
    assert ("'launch' is not one of 'launches', 'tracking', 'chaining', 'analysis', 'uploads'"
            in done.stderr)


def test_dry_run_shows_the_command_and_writes_nothing(launch_app, tutorial):
    from sqlalchemy import func, select

    from app.extensions import db
    from app.models import Submission

    result = launch_app.test_cli_runner().invoke(
        args=["poms", "launch", "mu2e", "srsoleti_tutorial", "reco_fcl", "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "fife_launch -c examples/mu2e/reco.cfg --stage reco_fcl" in result.output
    assert "POMS4_CAMPAIGN_STAGE_NAME=reco_fcl" in result.output
    assert db.session.scalar(select(func.count()).select_from(Submission)) == 0


def test_launch_of_an_unknown_stage_exits_1_and_says_so(launch_app, tutorial):
    result = launch_app.test_cli_runner().invoke(
        args=["poms", "launch", "mu2e", "srsoleti_tutorial", "nosuchstage"])
    assert result.exit_code == 1
    assert "no stage 'nosuchstage'" in result.output


def _children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        text = (task / "children").read_text().split()
        found += [int(x) for x in text]
    return found


def test_a_worker_killed_mid_launch_never_launches_twice(operator):
    # A slow login setup: the launch is still running when the worker is killed.
    operator.query("UPDATE login_setup SET setup = 'sleep 3; ' || setup")
    done = operator.run("poms", "launch", "mu2e", "srsoleti_tutorial", "reco_fcl")
    submission_id = int(done.stdout.strip().splitlines()[-1])
    worker = operator.worker()
    wait_for(lambda: operator.query("SELECT launch_pid FROM submission WHERE id=?",
                                    submission_id)[0][0], timeout=60, interval=0.1,
             what="the launch to start")
    # Kill the worker and its work horse, hard: no chance to record anything.
    horses = _children(worker.pid)
    os.kill(worker.pid, signal.SIGKILL)
    for pid in horses:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    worker.wait()
    assert operator.query("SELECT state, launch_finished_at FROM submission WHERE id=?",
                          submission_id) == [("New", None)]

    # A new worker: its tracking finds what the orphaned launch submitted.
    operator.worker()
    launched = ("Idle", "Running", "Completed", "Located")
    wait_for(lambda: operator.query("SELECT state FROM submission WHERE id=?",
                                    submission_id)[0][0] in launched,
             timeout=90, interval=0.3, what="tracking to resolve the launch")
    (batch_ids,) = operator.query("SELECT batch_ids FROM submission WHERE id=?",
                                  submission_id)[0]
    assert json.loads(batch_ids) == ["1.0@local"]
    # Exactly one cluster was submitted for it, and the launch script ran once.
    by_submission = Path(operator.env["POMS_BATCH_DIR"]) / "by_submission" / str(submission_id)
    assert by_submission.read_text().split() == ["1.0@local"]
    output = (Path(operator.env["POMS_LAUNCH_DIR"]) / str(submission_id) / "output.log").read_text()
    assert output.count("== process_id:") == 1
    causes = [c for (c,) in operator.query(
        "SELECT cause FROM submission_event WHERE submission_id=? ORDER BY id", submission_id)]
    assert any("its worker stopped" in c for c in causes)
