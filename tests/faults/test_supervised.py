"""The Procfile's and `make run`'s workers run under scripts/supervise: a worker that dies
is started again within seconds, and a stop stops both."""
from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

from tests.faults.conftest import FLASK, LAUNCHED, ROOT, session_pids, wait_for

SUPERVISE = ROOT / "scripts" / "supervise"


def _children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        found += [int(x) for x in (task / "children").read_text().split()]
    return found


def test_a_killed_worker_is_started_again_and_does_the_work(service):
    log = open(service.tmp / "supervised.log", "wb")
    supervisor = subprocess.Popen([str(SUPERVISE), *FLASK, "poms", "worker"], cwd=ROOT,
                                  env=service.env, stdout=log, stderr=subprocess.STDOUT,
                                  start_new_session=True)
    log.close()
    service.workers.append(supervisor)
    first = wait_for(lambda: _children(supervisor.pid), 30, "the worker to start")[0]
    os.kill(first, signal.SIGKILL)
    killed = time.monotonic()
    wait_for(lambda: [p for p in _children(supervisor.pid) if p != first], 30,
             "the worker to be started again")
    assert time.monotonic() - killed < 10
    submission_id = service.launch()
    wait_for(lambda: service.state(submission_id) in LAUNCHED, 60,
             "the new worker to launch")
    service.assert_launched_once(submission_id)
    said = (service.tmp / "supervised.log").read_text()
    assert "exited with status -9" in said or "exited with status 137" in said
    assert "starting it again in 1 s" in said
    # Stopping the supervisor stops its worker too.
    supervisor.send_signal(signal.SIGTERM)
    supervisor.wait(timeout=30)
    wait_for(lambda: not session_pids(supervisor.pid),
             30, "the worker to stop with its supervisor")
