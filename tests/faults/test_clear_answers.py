"""Clear answers while something is wrong: a locked or absent database, a Redis that does
not answer, a launch that runs past POMS_LAUNCH_TIMEOUT."""
from __future__ import annotations

import contextlib
import re
import time

import pytest
from sqlalchemy import create_engine, func, select

from app.extensions import db
from app.models import Submission
from tests.faults.conftest import LAUNCHED, unwritable, wait_for, write_locked
from tests.fixtures.app import csrf_token, database_kind, signed_in
from tests.fixtures.redis_server import free_port, not_redis

RECOVERY_S = 60


def _count() -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(Submission))


def _reco_fcl(tutorial) -> int:
    return next(s.id for s in tutorial.stages if s.name == "reco_fcl")


def test_a_web_launch_while_the_database_is_locked_says_busy_within_seconds(
        launch_app, tutorial):
    client = launch_app.test_client()
    signed_in(client, "alice")
    sid = _reco_fcl(tutorial)
    token = csrf_token(client, f"/e/mu2e/stage/{sid}/launch?test=0")
    engine = create_engine(launch_app.config["SQLALCHEMY_DATABASE_URI"])
    db.session.rollback()  # the test's own session holds no lock of its own
    with write_locked(engine):
        began = time.monotonic()
        response = client.post(f"/e/mu2e/stage/{sid}/launch",
                               data={"csrf_token": token, "test": "0"})
        waited = time.monotonic() - began
    engine.dispose()
    assert response.status_code == 503
    assert waited < 10
    page = response.get_data(as_text=True)
    assert "The database is busy" in page and "nothing was changed" in page
    assert "Try again" in page
    assert _count() == 0
    # The lock gone, the same launch goes through.
    response = client.post(f"/e/mu2e/stage/{sid}/launch",
                           data={"csrf_token": token, "test": "0"})
    assert response.status_code == 302
    assert _count() == 1


def test_pages_say_the_database_is_not_answering_and_recover(request, app, client, member,
                                                             tmp_path):
    member("mu2e", "alice", "production")
    signed_in(client, "alice")
    assert client.get("/e/mu2e/campaigns").status_code == 200
    if database_kind() == "postgresql":
        server = request.getfixturevalue("postgres_server")
        request.getfixturevalue("postgres_databases").settle()
        # A fast stop (a checkpoint: this test server commits without waiting for its WAL).
        server.pg_ctl("stop", "-m", "fast", "-w", "-t", "30")
        try:
            response = client.get("/e/mu2e/campaigns")
        finally:
            assert server.start().returncode == 0
    else:
        # The database file gone and its directory closed to writes: SQLite cannot open it.
        path = tmp_path / "poms.db"
        away = tmp_path.parent / f"{tmp_path.name}-away.db"
        db.session.remove()
        db.engine.dispose()
        path.rename(away)
        try:
            with unwritable(tmp_path):
                response = client.get("/e/mu2e/campaigns")
        finally:
            db.engine.dispose()
            away.rename(path)
    page = response.get_data(as_text=True)
    assert response.status_code == 503, page
    assert "The database is not answering" in page and "Werkzeug" not in page
    assert "Traceback" not in page
    # The database back: the next request is served (the session was rolled back).
    db.engine.dispose()
    wait_for(lambda: client.get("/e/mu2e/campaigns").status_code == 200, RECOVERY_S,
             "pages to answer again")


def test_poms_launch_with_redis_down_says_it_is_recorded_and_exits_0(service):
    down = f"redis://127.0.0.1:{free_port()}/0"
    done = service.run("poms", "launch", "mu2e", "srsoleti_tutorial", "reco_fcl",
                       POMS_REDIS_URL=down)
    assert done.returncode == 0, done.stderr
    submission_id = int(done.stdout.strip().splitlines()[-1])
    assert "Traceback" not in done.stderr
    assert (f"launch {submission_id} is recorded and will start when the queue is back"
            in done.stderr)
    assert len(done.stderr.strip().splitlines()) <= 2
    # The queue back (a worker on the real Redis): the scheduler launches it, once.
    service.worker()
    wait_for(lambda: service.state(submission_id) in LAUNCHED, RECOVERY_S, "the launch")
    service.assert_launched_once(submission_id)


def test_a_launch_stopped_by_the_timeout_says_so(service):
    service.execute("UPDATE login_setup SET setup = 'sleep 30; ' || setup")
    submission_id = service.launch()
    service.worker(POMS_LAUNCH_TIMEOUT="2")
    wait_for(lambda: service.state(submission_id) == "LaunchFailed", RECOVERY_S,
             "the launch to be stopped")
    (error,) = service.query("SELECT launch_error FROM submission WHERE id = :id",
                             id=submission_id)[0]
    assert error.startswith("the launch was stopped after 2 s (POMS_LAUNCH_TIMEOUT) and "
                            "submitted no jobs")
    assert "status -9" not in error


def test_a_launch_that_submitted_and_was_then_stopped_says_both(service):
    # The script submits, then lingers (its parameters follow the launch_script).
    service.execute("""UPDATE job_type SET launch_script = 'trap "sleep 30" EXIT; ' """
                    "|| launch_script")
    submission_id = service.launch()
    service.worker(POMS_LAUNCH_TIMEOUT="4")
    wait_for(lambda: service.state(submission_id) in LAUNCHED, RECOVERY_S, "the launch")
    (error,) = service.query("SELECT launch_error FROM submission WHERE id = :id",
                             id=submission_id)[0]
    assert re.fullmatch(r"it submitted batch id \d+\.0@local, then the launch was stopped "
                        r"after 4 s \(POMS_LAUNCH_TIMEOUT\)", error), error
    assert any("then the launch was stopped after 4 s" in cause
               for cause in service.causes(submission_id))
    service.assert_launched_once(submission_id)


@pytest.mark.parametrize("at_the_address", ["nothing", "a server that is not Redis"])
def test_a_web_launch_without_its_queue_is_recorded_and_says_so(launch_app, tutorial,
                                                                at_the_address):
    client = launch_app.test_client()
    signed_in(client, "alice")
    sid = _reco_fcl(tutorial)
    token = csrf_token(client, f"/e/mu2e/stage/{sid}/launch?test=0")
    redis_url = launch_app.config["POMS_REDIS_URL"]
    with contextlib.ExitStack() as stack:
        launch_app.config["POMS_REDIS_URL"] = (
            f"redis://127.0.0.1:{free_port()}/0" if at_the_address == "nothing"
            else stack.enter_context(not_redis()))
        stack.callback(launch_app.config.__setitem__, "POMS_REDIS_URL", redis_url)
        response = client.post(f"/e/mu2e/stage/{sid}/launch",
                               data={"csrf_token": token, "test": "0"}, follow_redirects=True)
    page = response.get_data(as_text=True)
    assert response.status_code == 200, page
    assert ("The queue is not answering: the launch is recorded and will start when the "
            "workers are back.") in page
    db.session.rollback()
    assert db.session.scalars(select(Submission.state)).all() == ["New"]
