"""Snapshots shared until a definition changes; stage hold; scheduled launches; submission
hold and release; approval stages."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from app.batch.engines import engine_from_config
from app.extensions import db
from app.launching import schedule, service
from app.models import StageSnapshot, Submission
from app.models.base import utcnow
from app.tracking import actions
from app.tracking.tracker import track_pass
from app.uploads.store import save_uploads
from tests.credentials import makers
from tests.fixtures.launching import wait_for, work
from workers.main import tick
from workers.queues import connection, enqueue_launch


def launch(app, stage, user, **kw) -> Submission:
    submission = service.request_launch(stage, user, test=kw.pop("test", False), origin="test",
                                        config=app.config, **kw)
    db.session.commit()
    enqueue_launch(app.config["POMS_REDIS_URL"], submission.id)
    return submission


def reco_fcl(campaign):
    return next(s for s in campaign.stages if s.name == "reco_fcl")


def test_one_snapshot_is_shared_until_the_stage_changes(launch_app, tutorial):
    stage, user = reco_fcl(tutorial), tutorial.owner
    first, second = launch(launch_app, stage, user), launch(launch_app, stage, user)
    work(launch_app)
    stage.software_version = "MDC2020u"
    db.session.commit()
    third = launch(launch_app, stage, user)
    work(launch_app)
    a, b, c = (db.session.get(Submission, s.id) for s in (first, second, third))
    assert a.stage_snapshot_id == b.stage_snapshot_id != c.stage_snapshot_id
    assert a.job_type_snapshot_id == c.job_type_snapshot_id  # the job type did not change
    assert a.stage_snapshot.data["software_version"] == "MDC2020t"  # the past is kept
    assert c.stage_snapshot.data["software_version"] == "MDC2020u"
    assert db.session.scalar(select(func.count()).select_from(StageSnapshot)) == 2


def test_a_held_stage_keeps_launches_waiting_until_released(launch_app, tutorial):
    stage, user = reco_fcl(tutorial), tutorial.owner
    actions.hold_stage(stage, user)
    db.session.commit()
    waiting = launch(launch_app, stage, user)
    work(launch_app)
    assert db.session.get(Submission, waiting.id).state == "New"
    assert db.session.get(Submission, waiting.id).launch_claimed_at is None
    ids = actions.release_stage(stage, user)
    db.session.commit()
    assert ids == [waiting.id]
    for submission_id in ids:
        enqueue_launch(launch_app.config["POMS_REDIS_URL"], submission_id)
    work(launch_app)
    assert db.session.get(Submission, waiting.id).state in ("Idle", "Running", "Completed",
                                                          "Located")


def test_a_due_schedule_launches_once_and_waits_for_its_next_time(launch_app, tutorial):
    stage, user = reco_fcl(tutorial), tutorial.owner
    schedule.set_schedule(stage, "*/5 * * * *", user)
    db.session.commit()
    settings = service.stage_settings(stage)
    settings.schedule_next_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    conn = connection(launch_app.config["POMS_REDIS_URL"])
    tick(launch_app, conn, force=True)
    tick(launch_app, conn, force=True)
    db.session.expire_all()
    submissions = db.session.scalars(select(Submission)).all()
    assert [(s.origin, s.launcher.username) for s in submissions] == [("schedule", "alice")]
    assert service.stage_settings(stage).schedule_next_at > utcnow()
    work(launch_app)
    assert db.session.get(Submission, submissions[0].id).batch_id


def test_a_bad_cron_expression_is_refused(launch_app, tutorial):
    import pytest

    with pytest.raises(schedule.ScheduleError, match="not a cron expression"):
        schedule.set_schedule(reco_fcl(tutorial), "every tuesday", tutorial.owner)


def test_hold_and_release_a_running_submission(launch_app, tutorial):
    stage, user = reco_fcl(tutorial), tutorial.owner
    stage.param_overrides = [["--stage ", "reco_fcl"], ["-Oglobal.work_seconds=", "3"]]
    db.session.commit()
    submission = launch(launch_app, stage, user)
    work(launch_app)
    submission = db.session.get(Submission, submission.id)
    engine = engine_from_config(launch_app.config)
    actions.hold(submission, user, engine)
    db.session.commit()
    assert submission.state == "Held" and submission.jobs_held == 3
    wait_for(lambda: {j.state for j in engine.query(submission.batch_ids)} == {"Held"},
             what="the engine to hold the jobs")
    track_pass(launch_app.config)
    db.session.expire_all()
    assert db.session.get(Submission, submission.id).state == "Held"
    actions.release(db.session.get(Submission, submission.id), user, engine)
    db.session.commit()

    def completed():
        track_pass(launch_app.config)
        db.session.expire_all()
        return db.session.get(Submission, submission.id).state in ("Completed", "Located")

    wait_for(completed, timeout=30, what="released jobs to complete")


def test_an_approval_stage_waits_for_a_person(launch_app, tutorial):
    stage, user = reco_fcl(tutorial), tutorial.owner
    stage.stage_type = "approval"
    db.session.commit()
    submission = launch(launch_app, stage, user)
    work(launch_app)
    submission = db.session.get(Submission, submission.id)
    assert submission.state == "Awaiting Approval" and not submission.batch_id
    actions.approve(submission, user, approved=True)
    db.session.commit()
    assert db.session.get(Submission, submission.id).state == "Completed"


def test_an_unknown_placeholder_refuses_the_launch_and_writes_nothing(launch_app, tutorial):
    import pytest

    from app.launching.command import LaunchError

    stage = reco_fcl(tutorial)
    stage.param_overrides = [["--stage ", "%(stagename)s"]]
    db.session.commit()
    with pytest.raises(LaunchError, match="stagename"):
        service.request_launch(stage, tutorial.owner, test=False, origin="test",
                               config=launch_app.config)
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(Submission)) == 0


def test_the_launcher_s_uploaded_token_is_handed_to_the_launch(launch_app, tutorial):
    stage = reco_fcl(tutorial)
    shown = service.preview(stage, tutorial.owner, test=False, config=launch_app.config)
    assert "BEARER_TOKEN_FILE" not in shown.plan.env  # none stored: left unset
    token = makers.token()
    save_uploads(tutorial.experiment, tutorial.owner,
                 [("bt_u1000", token.encode()), ("reco.cfg", b"")],
                 acting_role="analysis", directory=launch_app.config["POMS_UPLOADS_DIR"],
                 quota=launch_app.config["POMS_UPLOADS_QUOTA_BYTES"])
    db.session.commit()
    shown = service.preview(stage, tutorial.owner, test=False, config=launch_app.config)
    # The launch gets a copy of each uploaded file in its own sandbox ($UPLOADS), never
    # the stored file's path; the dry run names the copies and shows none of the token.
    names = sorted(name for name, _path in shown.sandbox.files)
    assert names == ["bt_u1000", "reco.cfg"]
    assert shown.sandbox.credential == ("BEARER_TOKEN_FILE", "bt_u1000")
    assert 'export BEARER_TOKEN_FILE="$UPLOADS"/bt_u1000' in shown.script
    assert launch_app.config["POMS_UPLOADS_DIR"] not in shown.script
    assert token not in shown.script and "X509_USER_PROXY" not in shown.script


def test_a_schedule_that_names_no_real_day_is_refused_with_a_reason():
    from datetime import datetime

    import pytest

    from app.launching.schedule import ScheduleError, next_time

    with pytest.raises(ScheduleError, match="never comes"):
        next_time("0 0 30 2 *", datetime(2026, 1, 1))
    assert next_time("0 6 * * *", datetime(2026, 1, 1, 7)) == datetime(2026, 1, 2, 6)
