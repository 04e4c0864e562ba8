"""The live fragments only read (app/extensions.py `reads_only`): on PostgreSQL they run
without a transaction (no BEGIN and ROLLBACK round trips on every fetch of every open
page), and a write in one fails instead of being done outside a transaction."""
from __future__ import annotations

import time

import pytest
from sqlalchemy import select, text

from app.auth.members import find_or_create_experimenter
from app.extensions import db, reads_only
from app.models import Experimenter
from tests.fixtures.app import _app


@pytest.fixture
def pg_web(postgres_server, postgres_template, tmp_path):
    """An app on PostgreSQL with no app context pushed, so each request is its own, as in
    a web process."""
    name = f"reading_{abs(hash(str(tmp_path))) % 10**8}"
    postgres_server.drop_database(name)
    app = _app(postgres_server.create_database(name, template=postgres_template))
    yield app
    with app.app_context():
        db.engine.dispose()
    postgres_server.drop_database(name)


def _probes(app) -> None:
    def alone() -> str:
        """Whether a query after another one is a transaction of its own."""
        db.session.execute(text("SELECT 1"))
        time.sleep(0.01)
        return str(db.session.scalar(text(
            "SELECT transaction_timestamp() = statement_timestamp()")))

    app.add_url_rule("/probe/reading", "probe_reading", reads_only(alone))
    app.add_url_rule("/probe/usual", "probe_usual", lambda: alone())

    @app.get("/probe/reading-writes")
    @reads_only
    def reading_writes():
        db.session.scalar(select(Experimenter)).first_name = "changed"
        db.session.commit()
        return "written"


@pytest.mark.postgres
def test_a_reading_page_on_postgresql_runs_each_query_on_its_own(pg_web):
    _probes(pg_web)
    client = pg_web.test_client()
    client.get("/probe/usual")  # a connection's first request sets its lock wait
    for _ in range(3):
        assert client.get("/probe/reading").get_data(as_text=True) == "True"
        assert client.get("/probe/usual").get_data(as_text=True) == "False"


def test_a_reading_page_that_writes_fails_and_writes_nothing(app):
    find_or_create_experimenter("alice")
    db.session.commit()
    _probes(app)
    app.config["PROPAGATE_EXCEPTIONS"] = False
    response = app.test_client().get("/probe/reading-writes")
    assert response.status_code == 500
    db.session.rollback()
    assert db.session.scalar(select(Experimenter.first_name)) == ""
