"""The local engine's runner (one process per cluster, the only writer of its status.json)
survives write errors (a full disk, a file size limit) and catches up once writes work.
A runner that is gone (killed -9 here) is noticed by tracking, which starts a new one: it
stops the jobs the dead one left running and runs them again, once, and the submission
says so. Past POMS_LOCAL_RUNNER_RESTARTS the orphans are stopped and the unfinished jobs
counted removed, saying why, instead of a submission Running for ever."""
from __future__ import annotations

import json
import os
import resource
import signal
import subprocess
import sys
import time
from pathlib import Path

from app import states
from app.batch.base import JobRequest
from app.batch.engines import engine_from_config
from app.extensions import db
from app.launching import service
from app.models import Experimenter, Submission
from app.models.base import utcnow
from app.processes import pid_alive
from app.tracking.tracker import track_pass
from tests.faults.conftest import full, small_filesystem
from tests.fixtures.launching import wait_for


def _submitted(launch_app, tutorial, tmp_path, script: str, count: int,
               file_limit: int | None = None) -> tuple[Submission, Path]:
    """A submission whose launch submitted `count` jobs of `script` to the local engine
    (its runner started under RLIMIT_FSIZE = file_limit when given); its cluster dir."""
    config = launch_app.config
    stage = next(s for s in tutorial.stages if s.name == "reco_fcl")
    alice = db.session.query(Experimenter).filter_by(username="alice").one()
    submission = service.request_launch(stage, alice, test=False, origin="test",
                                        config=config)
    db.session.commit()
    executable = tmp_path / "job.sh"
    executable.write_text(f"#!/bin/sh\n{script}\n")
    executable.chmod(0o755)
    engine = engine_from_config(config)
    request = JobRequest(executable=str(executable), count=count,
                         submission_id=submission.id)
    if file_limit is None:
        batch_id = engine.submit(request)
    else:
        # The runner inherits the limit; this process has it only while submitting.
        soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
        resource.setrlimit(resource.RLIMIT_FSIZE, (file_limit, hard))
        try:
            batch_id = engine.submit(request)
        finally:
            resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
    submission.batch_ids = [batch_id]
    submission.batch_id = batch_id
    submission.launch_claimed_at = submission.launch_finished_at = utcnow()
    states.transition(submission, states.IDLE, f"launched: batch id {batch_id}")
    db.session.commit()
    cluster = Path(config["POMS_BATCH_DIR"]) / "clusters" / batch_id.split(".")[0]
    return submission, cluster


def _status(cluster: Path) -> dict:
    return json.loads((cluster / "status.json").read_text())


def _kill_runner(cluster: Path) -> int:
    runner = int((cluster / "runner.pid").read_text())
    os.kill(runner, signal.SIGKILL)
    wait_for(lambda: not pid_alive(runner), what="the runner to die")
    return runner


def _running_pids(cluster: Path, count: int) -> list[int]:
    jobs = wait_for(lambda: [j for j in _status(cluster)["jobs"].values()
                             if j["state"] == "Running" and j.get("pid")][:count] or None
                    if sum(j["state"] == "Running"
                           for j in _status(cluster)["jobs"].values()) >= count else None,
                    what="the jobs to run")
    return [j["pid"] for j in jobs]


def test_a_killed_runner_is_replaced_and_its_jobs_run_again_once(launch_app, tutorial,
                                                                  tmp_path):
    # A job's first run waits (to be running when its runner is killed); a run after that
    # ends at once. Each run leaves a line in runs.PROCESS.
    marks = tmp_path / "marks"
    marks.mkdir()
    script = (f'echo run >> {marks}/runs.$PROCESS\n'
              f'[ "$(wc -l < {marks}/runs.$PROCESS)" -gt 1 ] && exit 0\n'
              'exec sleep 60')
    submission, cluster = _submitted(launch_app, tutorial, tmp_path, script, 3)
    job_pids = _running_pids(cluster, 3)
    old = _kill_runner(cluster)

    track_pass(launch_app.config)  # notices, and starts a new runner
    new = int((cluster / "runner.pid").read_text())
    assert new != old and pid_alive(new)
    # the old runner's jobs were stopped, not left running unwatched
    wait_for(lambda: not any(pid_alive(pid) for pid in job_pids), timeout=10,
             what="the orphaned jobs to be stopped")
    wait_for(lambda: _status(cluster)["done"], timeout=30, what="the jobs to run again")
    jobs = _status(cluster)["jobs"]
    assert {(j["state"], j["exit_code"], j["restarts"]) for j in jobs.values()} == {
        ("Completed", 0, 1)}
    assert [(marks / f"runs.{p}").read_text() for p in range(3)] == ["run\nrun\n"] * 3
    assert "was running under a runner that is gone (stopped): it runs again" in (
        cluster / "runner.log").read_text()

    track_pass(launch_app.config)
    db.session.expire_all()
    row = db.session.get(Submission, submission.id)
    assert (row.state, row.jobs_done, row.jobs_removed) == ("Completed", 3, 0)
    assert row.tracking_error.startswith(
        f"the local engine's runner of cluster {cluster.name}.0@local died once, last pid "
        f"{old} at ")
    assert row.tracking_error.endswith(
        "a new runner took over, and ran again the jobs it had left unfinished")


def test_one_runner_per_cluster(launch_app, tutorial, tmp_path):
    # Two workers replacing the same dead runner at once: the second runner ends at once.
    _submission, cluster = _submitted(launch_app, tutorial, tmp_path, "exec sleep 60", 1)
    job_pid = _running_pids(cluster, 1)[0]
    try:
        env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2] / "app")}
        second = subprocess.run([sys.executable, "-m", "batch.local_runner", str(cluster)],
                                env=env, capture_output=True, text=True, timeout=60)
        assert second.returncode == 0
        assert f"another runner runs cluster {cluster.name}" in second.stderr
        assert pid_alive(job_pid)  # the first runner's job is left alone
    finally:
        os.killpg(job_pid, signal.SIGKILL)


def test_a_runner_gone_past_its_restarts_is_said_its_jobs_stopped_and_counted_removed(
        launch_app, tutorial, tmp_path):
    launch_app.config["POMS_LOCAL_RUNNER_RESTARTS"] = 0
    submission, cluster = _submitted(launch_app, tutorial, tmp_path, "exec sleep 60", 2)
    job_pids = _running_pids(cluster, 2)
    track_pass(launch_app.config)
    db.session.expire_all()
    assert db.session.get(Submission, submission.id).state == "Running"
    runner = _kill_runner(cluster)
    track_pass(launch_app.config)
    db.session.expire_all()
    row = db.session.get(Submission, submission.id)
    assert row.state == "Removed"
    assert row.jobs_removed == 2
    assert row.tracking_error == (
        f"the local engine's runner of cluster {cluster.name}.0@local (pid {runner}) is "
        "gone: its 2 unfinished jobs are counted removed; the processes of "
        f"{cluster.name}.0@local, {cluster.name}.1@local were stopped")
    wait_for(lambda: not any(pid_alive(pid) for pid in job_pids), timeout=10,
             what="the orphaned jobs to be stopped")
    assert int((cluster / "runner.pid").read_text()) == runner  # no new runner


def test_a_runner_that_cannot_write_its_status_carries_on_and_catches_up(
        launch_app, tutorial, tmp_path):
    # status.json outgrows the file size limit once the jobs have started and ended.
    submission, cluster = _submitted(launch_app, tutorial, tmp_path, "exit 0", 30,
                                     file_limit=1500)
    runner = int((cluster / "runner.pid").read_text())
    log = cluster / "runner.log"
    wait_for(lambda: "could not write status.json (tried again)" in log.read_text(),
             what="a status write to fail")
    assert "File too large" in log.read_text()
    assert pid_alive(runner), "the runner died of a write error"
    assert not _status(cluster)["done"]
    # The fault ends: the runner's writes fit again.
    resource.prlimit(runner, resource.RLIMIT_FSIZE,
                     (resource.RLIM_INFINITY, resource.RLIM_INFINITY))
    wait_for(lambda: _status(cluster)["done"], timeout=30, what="the runner to catch up")
    jobs = _status(cluster)["jobs"]
    assert len(jobs) == 30
    assert {(j["state"], j["exit_code"]) for j in jobs.values()} == {("Completed", 0)}
    assert "status.json written again" in log.read_text()
    track_pass(launch_app.config)
    db.session.expire_all()
    row = db.session.get(Submission, submission.id)
    assert row.state == "Completed" and row.jobs_done == 30 and not row.tracking_error


def test_a_runner_on_a_full_disk_carries_on_and_catches_up(launch_app, tutorial, tmp_path):
    spool = Path(launch_app.config["POMS_BATCH_DIR"])
    with small_filesystem(spool, "4m"):
        submission, cluster = _submitted(launch_app, tutorial, tmp_path, "exec sleep 1", 3)
        job_pids = _running_pids(cluster, 3)
        runner = int((cluster / "runner.pid").read_text())
        with full(spool):
            # The jobs end while not a byte can be written: status.json cannot say so.
            wait_for(lambda: not any(pid_alive(pid) for pid in job_pids), timeout=30,
                     what="the jobs to end")
            time.sleep(1)  # the runner's writes (every 0.2 s) meet the full disk
            assert pid_alive(runner), "the runner died of a full disk"
            assert not _status(cluster)["done"]
        wait_for(lambda: _status(cluster)["done"], timeout=30, what="the runner to catch up")
        assert {(j["state"], j["exit_code"]) for j in _status(cluster)["jobs"].values()} \
            == {("Completed", 0)}
        assert "status.json written again" in (cluster / "runner.log").read_text()
        track_pass(launch_app.config)
        db.session.expire_all()
        row = db.session.get(Submission, submission.id)
        assert (row.state, row.jobs_done, row.tracking_error) == ("Completed", 3, "")
