"""Between a launch's claim and the start of its script nothing runs and nothing but the
claim is committed: a fault there (a launch directory that cannot be written, a worker
killed, a database error) gives the claim back and the launch is tried again, up to
POMS_LAUNCH_ATTEMPTS times; the submission says the real cause, never "(its worker
stopped)" for a directory that refused a write."""
from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import text

from app.extensions import db
from app.launching import service
from app.models import Experimenter, Submission
from app.tracking.tracker import stale_unclaimed
from tests.faults.conftest import LAUNCHED, ROOT, unwritable, wait_for

RECOVERY_S = 60


def test_a_launch_directory_that_refuses_writes_is_named_and_the_launch_retried(service):
    launches = Path(service.env["POMS_LAUNCH_DIR"])
    submission_id = service.launch()
    with unwritable(launches):
        service.worker()
        wait_for(lambda: service.launch_row(submission_id)[2] >= 1, 30, "a first attempt")
        state, error, _attempts, _claimed = service.launch_row(submission_id)
        assert state == "New"
        assert f"the launch directory {launches / str(submission_id)} could not be written" \
            in error
        assert "of 3 did not run" in error and "tried again" in error
        assert "worker stopped" not in error
        fault_ended = time.monotonic()
    wait_for(lambda: service.state(submission_id) in LAUNCHED, RECOVERY_S,
             "the launch once the directory takes writes")
    assert time.monotonic() - fault_ended < RECOVERY_S
    service.assert_launched_once(submission_id)
    assert any(f"earlier, attempt 1 of 3 did not run: the launch directory {launches}" in cause
               for cause in service.causes(submission_id))


def test_a_launch_directory_that_stays_unwritable_fails_the_launch_saying_why(service):
    launches = Path(service.env["POMS_LAUNCH_DIR"])
    submission_id = service.launch()
    with unwritable(launches):
        service.worker(POMS_LAUNCH_ATTEMPTS="2")
        wait_for(lambda: service.state(submission_id) == "LaunchFailed", RECOVERY_S,
                 "the launch to fail")
    _state, error, attempts, _claimed = service.launch_row(submission_id)
    assert attempts == 2
    assert error.startswith("launch not run (2 attempts): the launch directory "
                            f"{launches / str(submission_id)} could not be written (")
    assert any("could not be written" in cause for cause in service.causes(submission_id))
    assert service.clusters_of(submission_id) == []


CLAIM_AND_DIE = """
import sys
from app import create_app
from app.launching.service import _claim
app = create_app()
with app.app_context():
    assert _claim(int(sys.argv[1]))
"""


def test_a_worker_dead_between_claim_and_script_start_is_launched_again_once(service):
    submission_id = service.launch()
    # A process that claims the launch and dies before its script starts: what a worker
    # killed at that step leaves (its claim, with its host:pid).
    subprocess.run([sys.executable, "-c", CLAIM_AND_DIE, str(submission_id)], cwd=ROOT,
                   env=service.env, check=True, timeout=60)
    assert service.launch_row(submission_id)[3] is not None
    began = time.monotonic()
    service.worker()
    wait_for(lambda: service.state(submission_id) in LAUNCHED, RECOVERY_S,
             "the launch to be tried again")
    assert time.monotonic() - began < 30
    service.assert_launched_once(submission_id)
    state, error, attempts, _claimed = service.launch_row(submission_id)
    assert attempts == 1 and not error  # launched: its page shows no problem
    assert any("earlier, attempt 1 of 3 did not run: its worker stopped after claiming the "
               "launch, before the launch script started" in cause
               for cause in service.causes(submission_id))


def test_a_database_error_while_the_launch_is_prepared_is_retried_then_launches(
        launch_app, tutorial):
    """A real database error after the claim (the snapshot table gone for a moment): the
    claim is given back, the cause recorded; the database right again, it launches once."""
    config = launch_app.config
    stage = next(s for s in tutorial.stages if s.name == "reco_fcl")
    alice = db.session.query(Experimenter).filter_by(username="alice").one()
    submission_id = service.request_launch(stage, alice, test=False, origin="test",
                                           config=config).id
    db.session.commit()
    db.session.execute(text("ALTER TABLE login_setup_snapshot RENAME TO login_setup_away"))
    db.session.commit()
    try:
        said = service.run_launch(submission_id, config)
    finally:
        db.session.rollback()
        db.session.execute(text("ALTER TABLE login_setup_away RENAME TO login_setup_snapshot"))
        db.session.commit()
    row = db.session.get(Submission, submission_id)
    assert said.endswith("tried again"), said
    assert (row.state, row.launch_claimed_at, row.launch_attempts) == ("New", None, 1)
    assert row.launch_error.startswith("attempt 1 of 3 did not run: the database failed "
                                       "while the launch was prepared (")
    assert "login_setup_snapshot" in row.launch_error
    assert not row.command and not row.stage_snapshot_id  # nothing of it kept
    # The scheduler's next tick queues it again (a given-back launch waits no grace).
    assert submission_id in stale_unclaimed(config)
    service.run_launch(submission_id, config)
    db.session.expire_all()
    row = db.session.get(Submission, submission_id)
    assert row.state == "Idle" and not row.launch_error
    assert len(row.batch_ids) == 1
