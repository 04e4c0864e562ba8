"""The embedded SQLite shared by several processes: pages read while a worker writes."""
from __future__ import annotations

import shutil
import sqlite3
import time

from sqlalchemy import text


def test_pages_read_while_another_process_holds_the_write_lock(migrated_template, tmp_path):
    from app.extensions import db
    from tests.fixtures.app import _app

    path = tmp_path / "poms.db"
    shutil.copy(migrated_template, path)
    app = _app(f"sqlite:///{path}")
    with app.app_context():
        db.session.execute(text("SELECT 1"))  # the app's first connection sets the mode
        db.session.remove()
    # A worker in the middle of a big tracking write: the strongest lock SQLite has.
    writer = sqlite3.connect(path, isolation_level=None)
    writer.execute("BEGIN EXCLUSIVE")
    writer.execute("CREATE TABLE uncommitted (x)")
    try:
        started = time.monotonic()
        with app.app_context():
            db.session.scalars(text("SELECT name FROM experiment")).all()
            names = db.session.scalars(text("SELECT name FROM sqlite_master")).all()
        assert time.monotonic() - started < 5, "the reader waited for the writer"
        assert "uncommitted" not in names
    finally:
        writer.execute("ROLLBACK")
        writer.close()


def test_a_writer_waits_for_the_lock_instead_of_failing(migrated_template, tmp_path):
    from app.extensions import db
    from tests.fixtures.app import _app

    path = tmp_path / "poms.db"
    shutil.copy(migrated_template, path)
    app = _app(f"sqlite:///{path}")
    with app.app_context():
        timeout_ms = db.session.execute(text("PRAGMA busy_timeout")).scalar()
    # Longer than the driver's 5 s default: a 100,000-job tracking pass can hold it that long.
    assert timeout_ms >= 30000
