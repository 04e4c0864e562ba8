"""The migrations are the schema: `flask db upgrade` on an empty database builds all of it."""
from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from app.extensions import db


def test_upgraded_database_matches_the_models(app):
    # The `app` fixture's database was built by `flask db upgrade`, never create_all.
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"render_as_batch": True})
        differences = compare_metadata(context, db.metadata)
    assert differences == [], (
        "the models and the migrations disagree; add an Alembic revision "
        f"(flask --app wsgi db migrate): {differences}"
    )
