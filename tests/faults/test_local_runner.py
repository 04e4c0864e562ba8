"""The local engine's runner (one process per cluster, the only writer of its status.json)
survives write errors (a full disk, a file size limit) and catches up once writes work;
a runner that is gone is noticed by tracking, which says so on the submission and counts
its unfinished jobs removed instead of leaving the submission Running for ever."""
from __future__ import annotations

import json
import os
import resource
import signal
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


def test_a_runner_that_is_gone_is_said_and_its_jobs_counted_removed(launch_app, tutorial,
                                                                    tmp_path):
    submission, cluster = _submitted(launch_app, tutorial, tmp_path, "sleep 60", 2)
    wait_for(lambda: all(j["state"] == "Running" for j in _status(cluster)["jobs"].values()),
             what="the jobs to run")
    track_pass(launch_app.config)
    db.session.expire_all()
    assert db.session.get(Submission, submission.id).state == "Running"
    runner = int((cluster / "runner.pid").read_text())
    job_pids = [j["pid"] for j in _status(cluster)["jobs"].values()]
    os.kill(runner, signal.SIGKILL)
    wait_for(lambda: not pid_alive(runner), what="the runner to die")
    try:
        track_pass(launch_app.config)
        db.session.expire_all()
        row = db.session.get(Submission, submission.id)
        assert row.state == "Removed"
        assert row.jobs_removed == 2
        assert row.tracking_error == (
            f"the local engine's runner of cluster {cluster.name}.0@local (pid {runner}) is "
            "gone: its 2 unfinished jobs are counted removed")
    finally:
        for pid in job_pids:
            try:
                os.killpg(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


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
