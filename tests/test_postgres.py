"""The migrations on a real PostgreSQL, whatever database the rest of the suite runs on.

`make test` runs the suite on SQLite and `make test-postgres` on PostgreSQL; these tests run
in both, so a plain `make test` still proves that `flask db upgrade` builds the production
database's schema, that it matches the models, and that every downgrade undoes its upgrade.
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from tests.fixtures.app import _app

pytestmark = pytest.mark.postgres

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def empty_database(postgres_server, request):
    name = f"migrate_{abs(hash(request.node.nodeid)) % 10**8}"
    postgres_server.drop_database(name)
    url = postgres_server.create_database(name)  # from template1: nothing in it
    yield url
    postgres_server.drop_database(name)


def flask_db(url: str, tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    """`flask --app wsgi db ...` as an operator runs it, on the database at `url`."""
    env = {**os.environ, "POMS_DATABASE_URL": url, "POMS_SECRET_KEY": "postgres-test"}
    done = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", "db", *args],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 0, f"flask db {' '.join(args)} failed:\n{done.stderr}"
    return done


def differences(url: str) -> list:
    from app.extensions import db

    app = _app(url)
    with app.app_context():
        try:
            with db.engine.connect() as connection:
                context = MigrationContext.configure(connection)
                return compare_metadata(context, db.metadata)
        finally:
            db.engine.dispose()


def tables(url: str) -> set[str]:
    engine = sa.create_engine(url)
    try:
        return set(sa.inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_flask_db_upgrade_builds_the_schema_the_models_describe(empty_database, tmp_path):
    flask_db(empty_database, tmp_path, "upgrade")
    found = differences(empty_database)
    assert found == [], (
        "on PostgreSQL the models and the migrations disagree; add an Alembic revision "
        f"(flask --app wsgi db migrate): {found}"
    )


def test_downgrade_to_base_undoes_every_upgrade(empty_database, tmp_path):
    flask_db(empty_database, tmp_path, "upgrade")
    flask_db(empty_database, tmp_path, "downgrade", "base")
    assert tables(empty_database) <= {"alembic_version"}
    flask_db(empty_database, tmp_path, "upgrade")  # and the way up works again after it
    assert differences(empty_database) == []
