"""Tracking writes its job rows straight through the driver: the same pass on PostgreSQL."""
from __future__ import annotations

from datetime import datetime

import pytest

pytestmark = pytest.mark.postgres


def test_a_tracking_pass_records_jobs_on_postgresql(postgres_server, tmp_path):
    import flask_migrate

    from app.batch.base import JobStatus
    from app.extensions import db
    from app.models import Job, Submission
    from app.tracking.tracker import PassResult, ingest
    from tests.fixtures.app import _app
    from tests.fixtures.launching import import_tutorial

    postgres_server.create_database("tracking_check")
    app = _app(postgres_server.url("tracking_check"), POMS_BATCH_DIR=str(tmp_path / "batch"),
               POMS_LAUNCH_DIR=str(tmp_path / "launches"))
    try:
        with app.app_context():
            flask_migrate.upgrade()
            campaign = import_tutorial()
            submission = Submission(campaign_stage_id=campaign.stages[0].id, state="Idle",
                                    batch_ids=["1.0@local"], batch_id="1.0@local")
            db.session.add(submission)
            db.session.commit()
            started = datetime(2026, 1, 1, 1, 2, 3, 4)
            ingest(submission, [JobStatus("1.0@local", "Running", None, "h", started)], True,
                   PassResult())
            db.session.commit()
            ingest(submission, [JobStatus("1.0@local", "Completed", 0, "h", started, started)],
                   True, PassResult())
            db.session.commit()
            db.session.expire_all()
            submission = db.session.get(Submission, submission.id)
            assert (submission.state, submission.jobs_done) == ("Completed", 1)
            job = db.session.query(Job).one()
            assert (job.state, job.exit_code, job.started_at) == ("Completed", 0, started)
            db.session.remove()
            db.engine.dispose()
    finally:
        postgres_server.drop_database("tracking_check")
