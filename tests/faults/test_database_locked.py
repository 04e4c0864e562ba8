"""The database's write lock held from another connection (SQLite: BEGIN EXCLUSIVE; on the
PostgreSQL run, the submission and job tables locked) for POMS_TEST_LOCK_HOLD_S seconds (8;
the issue's runs held it 60) under running workers, while a launch and tracking run. The
workers here wait 2 s for SQLite's lock (POMS_SQLITE_BUSY_TIMEOUT_MS), so a short hold
outlasts their wait as a 60 s one outlasts the usual 30 s. During it: the launch page says
"busy" within seconds, writing nothing, and pages that read answer. After it, within 60 s:
the launch ran once, tracking goes on, no worker exited, nothing is left stuck."""
from __future__ import annotations

import json
import os
import time

from app.extensions import db
from tests.faults.conftest import LAUNCHED, wait_for
from tests.fixtures.app import _app, csrf_token, signed_in

RECOVERY_S = 60
HOLD_S = float(os.environ.get("POMS_TEST_LOCK_HOLD_S", "8"))
SETTLED = ("Completed", "Located")


def test_a_database_locked_under_running_workers_recovers_and_launches_once(service):
    service.execute("UPDATE campaign_stage SET param_overrides = :value WHERE name = "
                    "'reco_fcl'", value=json.dumps([["--stage ", "reco_fcl"],
                                                    ["-Oglobal.work_seconds=",
                                                     str(int(HOLD_S) + 6)]]))
    web = _app(service.url)
    client = web.test_client()
    signed_in(client, "alice")
    [(stage_id,)] = service.query("SELECT id FROM campaign_stage WHERE name = 'reco_fcl'")
    token = csrf_token(client, f"/e/mu2e/stage/{stage_id}/launch?test=0")
    with web.app_context():
        db.session.remove()  # the web app's own session holds nothing through the lock

    short_wait = {"POMS_SQLITE_BUSY_TIMEOUT_MS": "2000"}
    running = service.launch()
    workers = [service.worker("tracking", **short_wait), service.worker("launches")]
    wait_for(lambda: service.state(running) == "Running", RECOVERY_S, "the first launch")
    service.kill(workers.pop())  # launches from here on wait for the workers started locked
    # Only the first launch's jobs must outlast the lock; the queued one's can end at once
    # (it is launched after the lock, with the stage as it is then).
    service.execute("UPDATE campaign_stage SET param_overrides = :value WHERE name = "
                    "'reco_fcl'", value=json.dumps([["--stage ", "reco_fcl"],
                                                    ["-Oglobal.work_seconds=", "0"]]))
    queued = service.launch()
    count = "SELECT count(*) FROM submission"
    [(submissions,)] = service.query(count)

    with service.locked():
        locked_at = time.monotonic()
        # Two launch workers race for the queued launch; both meet the lock at its claim.
        workers += [service.worker(**short_wait), service.worker(**short_wait)]
        began = time.monotonic()
        response = client.post(f"/e/mu2e/stage/{stage_id}/launch",
                               data={"csrf_token": token, "test": "0"})
        assert response.status_code == 503 and time.monotonic() - began < 10
        assert "The database is busy" in response.get_data(as_text=True)
        assert service.query(count) == [(submissions,)]  # nothing written
        began = time.monotonic()
        page = client.get(f"/e/mu2e/submission/{running}")
        assert page.status_code == 200 and time.monotonic() - began < 10
        time.sleep(max(0.0, HOLD_S - (time.monotonic() - locked_at)))
        assert service.state(queued) == "New"
    released = time.monotonic()

    wait_for(lambda: service.state(queued) in LAUNCHED, RECOVERY_S,
             "the queued launch after the lock")
    # Both are tracked to the end, and the chaining after them launches the campaign's
    # second stage: tracking and chaining go on.
    settled = f"SELECT count(*) FROM submission WHERE state IN {SETTLED}"
    wait_for(lambda: service.query(settled) == [(4,)], RECOVERY_S,
             "both launches and the second stage after each to complete")
    assert time.monotonic() - released < RECOVERY_S
    rows = service.query("SELECT id, launch_error, tracking_error FROM submission")
    assert [(sid, error or "", said or "") for sid, error, said in rows] == [
        (sid, "", "") for sid, _error, _said in rows]
    for sid, _error, _said in rows:
        service.assert_launched_once(sid)
    assert all(worker.poll() is None for worker in workers), "a worker exited"
    with web.app_context():
        db.session.remove()
        db.engine.dispose()
