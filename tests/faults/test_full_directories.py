"""Directories full for real (a small tmpfs filled to its last byte, as root): the launch
directory, where a launch's working directory and output go, and the local engine's spool,
where its runners write status and its jobs their logs. Each fault ends in an explained
state, and once there is room again the work finishes, launched once, within 60 s."""
from __future__ import annotations

import time
from pathlib import Path

from tests.faults.conftest import LAUNCHED, full, small_filesystem, wait_for

RECOVERY_S = 60


def test_a_full_launch_directory_is_named_and_the_launch_runs_once_there_is_room(service):
    launches = Path(service.env["POMS_LAUNCH_DIR"])
    with small_filesystem(launches, "4m"):
        submission_id = service.launch()
        with full(launches):
            service.worker()
            wait_for(lambda: service.launch_row(submission_id)[2] >= 1, 30, "a first attempt")
            state, error, _attempts, _claimed = service.launch_row(submission_id)
            assert state == "New", error
            assert f"the launch directory {launches / str(submission_id)} could not be " \
                   "written" in error and "No space left on device" in error
            fault_ended = time.monotonic()
        wait_for(lambda: service.state(submission_id) in LAUNCHED, RECOVERY_S,
                 "the launch once there is room")
        assert time.monotonic() - fault_ended < RECOVERY_S
        service.assert_launched_once(submission_id)
        wait_for(lambda: service.state(submission_id) in ("Completed", "Located"),
                 RECOVERY_S, "the submission to complete")
        service.close()  # nothing of the workers left in the directory at its unmount
