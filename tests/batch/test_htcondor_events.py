"""Tracking follows HTCondor's job event logs (app/batch/htcondor_events.py): a job's end is
taken from the event the shadow writes when the job ends, on a real personal pool
(tests/fixtures/htcondor_pool.py); a log that cannot be parsed does not stop tracking."""
from __future__ import annotations

from pathlib import Path

import pytest

from app.batch.base import JobRequest
from app.batch.htcondor_events import read_job_events
from app.tracking.events import changed_submissions, track_changes
from tests.fixtures.launching import wait_for

# Job 0 fails at once; job 1 waits for the gate (in the submit directory, which the pool
# sees at the same path).
GATED = ('[ "$PROCESS" = 0 ] && exit 3\n'
         'while [ ! -e "{gate}" ]; do sleep 0.1; done\n')


def test_a_log_that_cannot_be_parsed_is_skipped_not_fatal(tmp_path):
    # why here: the bindings read CONDOR_CONFIG when they load (the engine sets it first
    # when a pool test runs); parsing a file needs no configuration.
    import htcondor2

    log = tmp_path / "condor.log"
    log.write_text("005 (this is not\n an event at all\n...\n\x00\x01garbage\n")
    found, position = read_job_events(htcondor2, log, 0, "schedd.test")
    assert found == [] and position == log.stat().st_size
    # and a log that is gone is nothing new, and not looked at again
    assert read_job_events(htcondor2, tmp_path / "missing.log", 7, "s") == ([], 0)


@pytest.mark.htcondor
def test_a_jobs_end_reaches_poms_from_the_job_event_log(htcondor_pool, launch_app, tutorial,
                                                        tmp_path):
    from app.extensions import db
    from app.models import Job, Submission

    engine = htcondor_pool.engine()
    config = {**launch_app.config, **htcondor_pool.engine_config()}
    submission = Submission(campaign_stage_id=tutorial.stages[0].id,
                            experiment_id=tutorial.experiment_id, state="Idle",
                            engine="htcondor")
    db.session.add(submission)
    db.session.commit()
    gate = Path(engine.submit_dir) / f"gate-{submission.id}"
    job = tmp_path / "job.sh"
    job.write_text("#!/bin/sh\n" + GATED.format(gate=gate))
    job.chmod(0o755)
    batch_id = engine.submit(JobRequest(executable=str(job), count=2,
                                        submission_id=submission.id))
    submission.batch_id, submission.batch_ids = batch_id, [batch_id]
    db.session.commit()
    cluster = batch_id.split(".")[0]

    def jobs():
        db.session.expire_all()
        return {j.batch_job_id.split("@")[0]: (j.state, j.exit_code)
                for j in db.session.query(Job).filter_by(submission_id=submission.id)}

    def follow_until(wanted):
        def caught_up():
            if submission.id in changed_submissions(config, engine):
                track_changes([submission.id], config, engine)
            return jobs() == wanted
        try:
            wait_for(caught_up, timeout=90, interval=0.1, what=str(wanted))
        except AssertionError:
            raise AssertionError(f"never {wanted}: {jobs()}") from None

    try:
        follow_until({f"{cluster}.0": ("Failed", 3), f"{cluster}.1": ("Running", None)})
        ended = db.session.query(Job).filter_by(batch_job_id=f"{cluster}.0@"
                                                + batch_id.split("@")[1]).one()
        assert ended.ended_at is not None and ended.started_at is not None
        gate.touch()
        follow_until({f"{cluster}.0": ("Failed", 3), f"{cluster}.1": ("Completed", 0)})
        db.session.expire_all()
        row = db.session.get(Submission, submission.id)
        assert (row.jobs_failed, row.jobs_done, row.jobs_running) == (1, 1, 0)
        # The full pass, from the schedd's queue and history, agrees.
        assert sorted((s.job_id.split("@")[0], s.state, s.exit_code)
                      for s in engine.query([batch_id])) == [
            (f"{cluster}.0", "Completed", 3), (f"{cluster}.1", "Completed", 0)]
    finally:
        gate.touch()
        engine.remove([batch_id])
