"""Redis restarted empty under a running worker: `poms worker` stays up, connects again, and
what the lost Redis held is found again from the database (a queued launch, the tracking
pass)."""
from __future__ import annotations

import shutil
import time

import pytest

from tests.faults.conftest import LAUNCHED, wait_for
from tests.fixtures.redis_server import start_redis_server

RECOVERY_S = 60


@pytest.fixture
def own_redis(tmp_path):
    """A Redis of this test's own, to restart (the session's is shared)."""
    binary = shutil.which("redis-server")
    assert binary, "a real Redis is needed: apt-get install redis-server"
    directory = tmp_path / "redis"
    directory.mkdir()
    servers = [start_redis_server(binary, directory)]

    def stop():
        servers[-1].stop()

    def start_empty():
        servers.append(start_redis_server(binary, directory, port=servers[-1].port))

    def restart_empty():
        stop()
        start_empty()

    servers[0].stop_now, servers[0].start_empty = stop, start_empty
    servers[0].restart_empty = restart_empty
    yield servers[0]
    servers[-1].stop()


def test_the_worker_survives_redis_restarted_empty_mid_launch_and_carries_on(
        service, own_redis):
    service.env["POMS_REDIS_URL"] = own_redis.url
    service.execute("UPDATE login_setup SET setup = 'sleep 2; ' || setup")
    first = service.launch()
    worker = service.worker()
    wait_for(lambda: service.query("SELECT launch_pid FROM submission WHERE id = :id",
                                   id=first)[0][0], 30, "the launch to start")
    # Redis goes away in the middle of the launch, stays away while the work horse ends
    # it, and comes back empty.
    own_redis.stop_now()
    wait_for(lambda: service.state(first) in LAUNCHED, RECOVERY_S, "the first launch")
    time.sleep(2)
    own_redis.start_empty()
    fault_ended = time.monotonic()
    # Work queued after the restart is done by the same worker process.
    second = service.launch()
    wait_for(lambda: service.state(second) in LAUNCHED, RECOVERY_S, "the second launch")
    assert worker.poll() is None, "the worker exited"
    for submission_id in (first, second):
        wait_for(lambda sid=submission_id: service.state(sid) in ("Completed", "Located"),
                 RECOVERY_S, "the submissions to complete")
        service.assert_launched_once(submission_id)
    assert time.monotonic() - fault_ended < 2 * RECOVERY_S


def test_a_launch_queued_before_redis_restarted_empty_still_runs_once(service, own_redis):
    service.env["POMS_REDIS_URL"] = own_redis.url
    submission_id = service.launch()  # queued; no worker yet
    own_redis.restart_empty()  # the queued job is gone
    began = time.monotonic()
    worker = service.worker()
    wait_for(lambda: service.state(submission_id) in LAUNCHED, RECOVERY_S,
             "the scheduler to queue the lost launch")
    assert time.monotonic() - began < 20
    assert worker.poll() is None
    service.assert_launched_once(submission_id)

