import contextlib

import pytest
from sqlalchemy import select

from app.batch.base import BatchError
from app.batch.local import LocalEngine
from app.extensions import db
from app.models import Submission


@pytest.fixture
def app(launch_app):
    """The overview's tests launch for real: Redis, the local engine, a real RQ worker."""
    return launch_app


@pytest.fixture
def jobs_removed_after(launch_app):
    """Held jobs are stopped processes: remove every job the test launched when it ends."""
    yield
    db.session.rollback()
    engine = LocalEngine(launch_app.config["POMS_BATCH_DIR"])
    for batch_ids in db.session.scalars(select(Submission.batch_ids)):
        with contextlib.suppress(BatchError, ValueError, OSError):
            engine.remove(list(batch_ids or []))
