"""Chaining runs on a worker of its own (the `chaining` queue): job ends reach POMS while
chaining waits or is stuck, and a chaining job killed mid-way loses nothing and launches
nothing twice (the next chaining job, queued by the next tracking pass, does its work)."""
from __future__ import annotations

import time

from redis import Redis
from rq import Queue
from rq.registry import StartedJobRegistry

from tests.faults.conftest import wait_for

RECOVERY_S = 60


def _count(service, sql: str, **params) -> int:
    return service.query(sql, **params)[0][0]


def test_job_ends_are_tracked_while_chaining_waits_and_a_killed_chaining_job_is_redone(
        service, redis_server):
    redis = Redis.from_url(redis_server.url)
    chaining = Queue("chaining", connection=redis)
    service.worker("launches", "uploads")
    service.worker("tracking")
    fcl = service.launch()  # reco_fcl: its jobs write the FCL files reco depends on
    # No chaining worker yet: tracking alone records every job's end.
    wait_for(lambda: service.state(fcl) == "Completed", RECOVERY_S,
             "the jobs' ends to be tracked with chaining held up")
    jobs = _count(service, "SELECT count(*) FROM job WHERE submission_id = :id AND state = "
                           "'Completed'", id=fcl)
    assert jobs > 0
    assert _count(service, "SELECT count(*) FROM chain_job_record") == 0
    # Every event reading and pass asked for chaining; one chaining job waits for all.
    assert chaining.count == 1, chaining.job_ids

    # A chaining worker killed in its job: blocked at its first write (the database's
    # write lock held here), then its whole session killed.
    registry = StartedJobRegistry("chaining", connection=redis)
    with service.locked():
        worker = service.worker("chaining")
        wait_for(lambda: registry.get_job_ids(cleanup=False), 30,
                 "the chaining job to start")
        time.sleep(0.5)
        service.kill(worker)
    assert service.state(fcl) == "Completed"
    assert _count(service, "SELECT count(*) FROM chain_step") == 0

    began = time.monotonic()
    service.worker("chaining")
    wait_for(lambda: _count(service, "SELECT count(*) FROM submission s JOIN campaign_stage "
                                     "c ON c.id = s.campaign_stage_id WHERE c.name = 'reco'"),
             RECOVERY_S, "the next chaining job to launch the dependent stage")
    assert time.monotonic() - began < 30
    assert service.state(fcl) == "Located"
    # Each job's files recorded once; the dependent stage launched once.
    assert _count(service, "SELECT count(*) FROM chain_job_record WHERE submission_id = :id",
                  id=fcl) == jobs
    assert _count(service, "SELECT count(*) FROM chain_step WHERE parent_submission_id = :id "
                           "AND kind = 'dependent'", id=fcl) == 1
    time.sleep(2)  # any second chaining job (the ticks queue them) has had its chance
    assert _count(service, "SELECT count(*) FROM submission s JOIN campaign_stage c ON "
                           "c.id = s.campaign_stage_id WHERE c.name = 'reco'") == 1
