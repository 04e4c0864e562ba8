"""A local-engine runner killed (-9) under running workers, mid-campaign: the tracking pass
that finds it gone starts a new runner, which stops the orphaned jobs and runs them again;
the submission completes by itself within a minute, launched once, and says what happened
(tests/faults/test_local_runner.py has the details, one pass at a time)."""
from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path

from app.processes import pid_alive
from tests.faults.conftest import wait_for

RECOVERY_S = 60


def test_a_killed_runner_is_replaced_and_its_submission_completes(service):
    service.execute("UPDATE campaign_stage SET param_overrides = :value WHERE name = "
                    "'reco_fcl'", value=json.dumps([["--stage ", "reco_fcl"],
                                                    ["-Oglobal.work_seconds=", "4"]]))
    submission_id = service.launch()
    service.worker()
    wait_for(lambda: service.state(submission_id) == "Running", RECOVERY_S,
             "the jobs to run")
    [batch_id] = service.clusters_of(submission_id)
    cluster = Path(service.env["POMS_BATCH_DIR"]) / "clusters" / batch_id.split(".")[0]
    status = json.loads((cluster / "status.json").read_text())
    orphans = [j["pid"] for j in status["jobs"].values() if j["state"] == "Running"]
    runner = int((cluster / "runner.pid").read_text())
    os.kill(runner, signal.SIGKILL)
    wait_for(lambda: not pid_alive(runner), 10, "the runner to die")
    fault_ended = time.monotonic()

    wait_for(lambda: service.state(submission_id) in ("Completed", "Located"), RECOVERY_S,
             "the submission to complete")
    assert time.monotonic() - fault_ended < RECOVERY_S
    assert not any(pid_alive(pid) for pid in orphans)
    service.assert_launched_once(submission_id)
    [(error, done, removed)] = service.query(
        "SELECT tracking_error, jobs_done, jobs_removed FROM submission WHERE id = :id",
        id=submission_id)
    assert (done, removed) == (len(status["jobs"]), 0)
    assert f"runner of cluster {batch_id} died once, last pid {runner} at " in error
    jobs = json.loads((cluster / "status.json").read_text())["jobs"].values()
    assert sum(j.get("restarts", 0) for j in jobs) == len(orphans)
