"""PostgreSQL stopped and started again under running workers (on every run: a fault of
PostgreSQL only): the workers' next ticks, passes and launches find it back, nothing is
launched twice, and no worker exits."""
from __future__ import annotations

import time

import pytest

from tests.faults.conftest import LAUNCHED, wait_for

RECOVERY_S = 60

@pytest.mark.postgres
def test_postgresql_restarted_mid_campaign_the_workers_carry_on(request, postgres_service,
                                                               postgres_server):
    service, server = postgres_service, postgres_server
    first = service.launch()
    worker = service.worker()
    wait_for(lambda: service.state(first) in LAUNCHED, RECOVERY_S, "the first launch")
    request.getfixturevalue("postgres_databases").settle()
    service.engine.dispose()
    server.pg_ctl("stop", "-m", "fast", "-w", "-t", "30")
    time.sleep(3)  # the workers' ticks and passes meet a database that does not answer
    assert server.start().returncode == 0
    fault_ended = time.monotonic()
    second = service.launch()
    wait_for(lambda: service.state(second) in LAUNCHED, RECOVERY_S, "a launch after it")
    for submission_id in (first, second):
        wait_for(lambda sid=submission_id: service.state(sid) in ("Completed", "Located"),
                 RECOVERY_S, "the submissions to complete")
        service.assert_launched_once(submission_id)
    assert worker.poll() is None
    assert time.monotonic() - fault_ended < 2 * RECOVERY_S
