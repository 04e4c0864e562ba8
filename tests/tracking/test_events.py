"""Event-driven tracking on the local engine, for real: a cluster's runner appends each job's
change to its events.log, and tracking reads only what is new (app/tracking/events.py);
the full pass stays the safety net for an event that is lost, and a garbled line in the
log breaks nothing."""
from __future__ import annotations

import os
from pathlib import Path

from rq import Queue

from app import states
from app.batch.base import JobRequest
from app.batch.engines import engine_from_config
from app.batch.local_events import EVENTS
from app.extensions import db
from app.launching import service
from app.models import Experimenter, Job, Submission
from app.models.base import utcnow
from app.tracking.events import changed_submissions, track_changes
from app.tracking.tracker import track_pass
from tests.fixtures.launching import wait_for
from workers.main import look_for_events
from workers.queues import TRACKING

# Job 0 ends at once; the others wait until the test opens the gate.
GATED = '[ "$PROCESS" = 0 ] || while [ ! -e "{gate}" ]; do sleep 0.05; done\n'


def _launched(config, tutorial, tmp_path: Path, count: int) -> tuple[Submission, Path, Path]:
    """A submission whose launch put `count` gated jobs on the local engine: (it, its
    cluster's directory, the gate to open)."""
    stage = next(s for s in tutorial.stages if s.name == "reco_fcl")
    alice = db.session.query(Experimenter).filter_by(username="alice").one()
    submission = service.request_launch(stage, alice, test=False, origin="test",
                                        config=config)
    db.session.commit()
    gate = tmp_path / "gate"
    script = tmp_path / "job.sh"
    script.write_text("#!/bin/sh\n" + GATED.format(gate=gate))
    script.chmod(0o755)
    batch_id = engine_from_config(config).submit(JobRequest(
        executable=str(script), count=count, submission_id=submission.id))
    service.remember_batch_ids(submission, [batch_id])
    submission.launch_claimed_at = submission.launch_finished_at = utcnow()
    states.transition(submission, states.IDLE, f"launched: batch id {batch_id}")
    db.session.commit()
    return submission, Path(config["POMS_BATCH_DIR"]) / "clusters" / batch_id.split(".")[0], gate


def _jobs(submission_id: int) -> dict[str, str]:
    db.session.expire_all()
    return {j.batch_job_id.split("@")[0]: j.state
            for j in db.session.query(Job).filter_by(submission_id=submission_id)}


def _follow_until(config, submission_id: int, wanted: dict[str, str]) -> None:
    """What the scheduler does: look for new events, read them; until the jobs are so."""
    def caught_up():
        if submission_id in changed_submissions(config):
            track_changes([submission_id], config)
        return _jobs(submission_id) == wanted
    wait_for(caught_up, timeout=30, interval=0.05, what=f"the jobs to be {wanted}")


def test_a_jobs_end_reaches_poms_by_its_event_alone(launch_app, tutorial, tmp_path):
    config = launch_app.config
    submission, cluster, gate = _launched(config, tutorial, tmp_path, 3)
    c = cluster.name
    _follow_until(config, submission.id,
                  {f"{c}.0": "Completed", f"{c}.1": "Running", f"{c}.2": "Running"})
    db.session.expire_all()
    row = db.session.get(Submission, submission.id)
    assert (row.state, row.jobs_done, row.jobs_running) == ("Running", 1, 2)
    # Read up to the end of its log: nothing more to read until a job changes again.
    assert submission.id not in changed_submissions(config)
    assert track_changes([submission.id], config).job_updates == 0
    gate.touch()
    _follow_until(config, submission.id, {f"{c}.{p}": "Completed" for p in range(3)})
    db.session.expire_all()
    row = db.session.get(Submission, submission.id)
    assert row.state in ("Completed", "Located") and row.jobs_done == 3
    assert all(j.ended_at is not None
               for j in db.session.query(Job).filter_by(submission_id=submission.id))


def test_the_full_pass_catches_an_end_whose_event_was_lost(launch_app, tutorial, tmp_path):
    config = launch_app.config
    submission, cluster, gate = _launched(config, tutorial, tmp_path, 2)
    c = cluster.name
    _follow_until(config, submission.id, {f"{c}.0": "Completed", f"{c}.1": "Running"})
    # The log is lost (the runner goes on writing to the unlinked file): no event of the
    # last job's end reaches POMS.
    (cluster / EVENTS).unlink()
    gate.touch()
    wait_for(lambda: '"done": true' in (cluster / "status.json").read_text(), timeout=30,
             what="the runner's last checkpoint")
    track_changes([submission.id], config)
    assert _jobs(submission.id)[f"{c}.1"] == "Running"
    assert submission.id not in changed_submissions(config)  # not read again and again
    track_pass(config)  # the slow full pass: every job's state from the checkpoint
    assert _jobs(submission.id) == {f"{c}.0": "Completed", f"{c}.1": "Completed"}
    db.session.expire_all()
    assert db.session.get(Submission, submission.id).jobs_done == 2


def test_a_garbled_event_line_breaks_nothing(launch_app, tutorial, tmp_path):
    config = launch_app.config
    submission, cluster, gate = _launched(config, tutorial, tmp_path, 3)
    c = cluster.name
    _follow_until(config, submission.id,
                  {f"{c}.0": "Completed", f"{c}.1": "Running", f"{c}.2": "Running"})
    # A torn line, a line that is not JSON, a job state no engine has, a job of no cluster.
    fd = os.open(cluster / EVENTS, os.O_WRONLY | os.O_APPEND)
    os.write(fd, b'{"p":1,"state":"Compl\n\x00\xffnot json\n{"p":2,"state":"Exploded"}\n'
                 b'{"p":99,"state":"Completed","exit_code":0}\n')
    os.close(fd)
    gate.touch()
    _follow_until(config, submission.id, {f"{c}.{p}": "Completed" for p in range(3)})
    # The full pass reads the same log after the checkpoint: it too goes on.
    result = track_pass(config)
    assert not result.errors
    db.session.expire_all()
    row = db.session.get(Submission, submission.id)
    assert row.jobs_done == 3 and row.jobs_total == 3 and not row.tracking_error


def test_the_scheduler_queues_one_reading_of_new_events(launch_app, tutorial, tmp_path,
                                                        redis_conn):
    config = launch_app.config
    queue = Queue(TRACKING, connection=redis_conn)
    assert not look_for_events(launch_app, redis_conn, engine_from_config(config))
    submission, cluster, gate = _launched(config, tutorial, tmp_path, 2)
    wait_for(lambda: (cluster / EVENTS).exists(), what="the first event")
    redis_conn.delete("poms:scheduler:follow")
    assert look_for_events(launch_app, redis_conn, engine_from_config(config))
    redis_conn.delete("poms:scheduler:follow")
    # Another look while that reading waits queues nothing more: the waiting one reads all.
    assert not look_for_events(launch_app, redis_conn, engine_from_config(config))
    assert [job.func_name for job in queue.jobs] == ["workers.jobs.follow"]
    gate.touch()


def test_between_full_passes_a_tick_looks_at_unfinished_launches_only(launch_app, redis_conn):
    from workers.main import tick

    queue = Queue(TRACKING, connection=redis_conn)
    assert "tracking pass queued" in tick(launch_app, redis_conn)
    redis_conn.delete("poms:scheduler:tick")  # the next interval
    done = tick(launch_app, redis_conn)
    assert "launches' tracking queued" in done and "tracking pass queued" not in done
    assert sorted(queue.job_ids) == ["tracking-launches", "tracking-pass"]
