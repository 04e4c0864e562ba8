"""A worker killed mid-job (its whole session: worker, work horse, scheduler) leaves RQ's
job "started"; RQ alone finds it only after its heartbeat expires and its maintenance runs,
up to a quarter of an hour later. POMS sees the dead work horse at the next scheduler tick
and queues the job again: the work goes on within seconds, and still runs once."""
from __future__ import annotations

import json
import time

from redis import Redis
from rq.job import Job

from app.processes import pid_alive
from tests.faults.conftest import LAUNCHED, wait_for

RECOVERY_S = 60


def _started(redis_url: str, job_id: str):
    conn = Redis.from_url(redis_url)
    try:
        job = Job.fetch(job_id, connection=conn)
    except Exception:
        return False
    return job.get_status(refresh=True) == "started"


def test_a_worker_killed_before_its_launch_claimed_launches_it_at_once_and_once(
        service, redis_server):
    submission_id = service.launch()
    with service.locked():
        worker = service.worker("launches")
        # The work horse has the job and waits for the database at its claim: kill it there.
        wait_for(lambda: _started(redis_server.url, f"launch-{submission_id}"), 30,
                 "the launch to start in a work horse")
        time.sleep(0.5)
        service.kill(worker)
    assert service.query("SELECT state, launch_claimed_at FROM submission WHERE id = :id",
                         id=submission_id) == [("New", None)]
    assert _started(redis_server.url, f"launch-{submission_id}")  # as RQ left it

    began = time.monotonic()
    service.worker()
    wait_for(lambda: service.state(submission_id) in LAUNCHED, RECOVERY_S,
             "the launch to run on the new worker")
    assert time.monotonic() - began < 20
    service.assert_launched_once(submission_id)


def test_a_worker_killed_mid_tracking_pass_does_not_stop_tracking(service, redis_server):
    # Jobs that run a while: each pass has a Running submission to write (and so to wait
    # for the lock at); a pass with nothing to track would end before it could be killed
    # (on a busy machine 8 s jobs had ended by the time the lock was taken).
    service.execute("UPDATE campaign_stage SET param_overrides = :value WHERE name = "
                    "'reco_fcl'", value=json.dumps([["--stage ", "reco_fcl"],
                                                    ["-Oglobal.work_seconds=", "20"]]))
    # Tracking without job events: the full pass (job id tracking-pass) every tick, and no
    # event readings on the tracking queue that could wait at the lock ahead of it (on
    # PostgreSQL a reading waits there as long as the lock is held).
    full_pass = {"POMS_TRACKING_EVENTS_MS": "0"}
    submission_id = service.launch()
    first = service.worker(**full_pass)
    wait_for(lambda: service.state(submission_id) in LAUNCHED, RECOVERY_S, "the launch")
    service.kill(first)
    # Tracking's next writes wait for the lock; the pass is killed there.
    with service.locked():
        worker = service.worker("tracking", **full_pass)
        wait_for(lambda: _started(redis_server.url, "tracking-pass"), 30,
                 "a tracking pass to start")
        time.sleep(0.5)
        service.kill(worker)
    assert _started(redis_server.url, "tracking-pass")
    before = service.query("SELECT tracked_at FROM submission WHERE id = :id",
                           id=submission_id)[0][0]

    began = time.monotonic()
    service.worker(**full_pass)
    wait_for(lambda: service.query("SELECT tracked_at FROM submission WHERE id = :id",
                                   id=submission_id)[0][0] != before, RECOVERY_S,
             "a tracking pass after the fault")
    assert time.monotonic() - began < 20
    wait_for(lambda: service.state(submission_id) in ("Completed", "Located"), RECOVERY_S,
             "the submission to complete")
    service.assert_launched_once(submission_id)


def _launch_pid(service, submission_id) -> int | None:
    return service.query("SELECT launch_pid FROM submission WHERE id = :id",
                         id=submission_id)[0][0]


def test_a_hung_launch_whose_worker_was_killed_is_stopped_at_its_timeout(service):
    # A launch script runs in a session of its own, so it outlives its worker (tracking
    # then takes what it submits: the next test). One that hangs would keep its
    # submission New for ever: tracking stops it at POMS_LAUNCH_TIMEOUT, as its worker
    # would have, and says so.
    service.execute("UPDATE login_setup SET setup = 'sleep 300; ' || setup")
    submission_id = service.launch()
    worker = service.worker("launches")
    wait_for(lambda: _launch_pid(service, submission_id), 30, "the script to start")
    service.kill(worker)
    script = _launch_pid(service, submission_id)
    assert pid_alive(script)
    fault_ended = time.monotonic()
    service.worker(POMS_LAUNCH_TIMEOUT="6")
    wait_for(lambda: service.state(submission_id) == "LaunchFailed", RECOVERY_S,
             "the hung launch to be stopped")
    assert time.monotonic() - fault_ended < RECOVERY_S
    assert not pid_alive(script)
    [(error,)] = service.query("SELECT launch_error FROM submission WHERE id = :id",
                               id=submission_id)
    assert error.startswith("the launch was stopped after 6 s (POMS_LAUNCH_TIMEOUT) and "
                            "submitted no jobs")
    assert service.clusters_of(submission_id) == []


def test_a_worker_session_killed_after_its_script_submitted_keeps_the_jobs_once(service):
    # Killed after jobsub_submit answered, before the worker recorded the batch id:
    # tracking finds the cluster the launch submitted and takes it, never launching again.
    service.execute("UPDATE login_setup SET setup = setup || :wrap",
                    wrap=' fife_launch() { command fife_launch "$@"; rc=$?; sleep 8; '
                         'return $rc; };')
    submission_id = service.launch()
    worker = service.worker("launches")
    wait_for(lambda: service.clusters_of(submission_id), 60, "the script to submit")
    service.kill(worker)  # the script, in a session of its own, goes on
    assert service.state(submission_id) == "New"
    fault_ended = time.monotonic()
    service.worker()
    wait_for(lambda: service.state(submission_id) in LAUNCHED, RECOVERY_S,
             "tracking to take the submitted cluster")
    assert time.monotonic() - fault_ended < RECOVERY_S
    assert any("launch found by tracking (its worker stopped)" in cause
               for cause in service.causes(submission_id))
    wait_for(lambda: service.state(submission_id) in ("Completed", "Located"), RECOVERY_S,
             "the submission to complete")
    assert len(service.clusters_of(submission_id)) == 1
