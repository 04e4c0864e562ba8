"""Chaining on a real PostgreSQL, whatever database the rest of the suite runs on: the
guarded insert (INSERT ... ON CONFLICT DO NOTHING) with two workers at once, the located
rule's JSON metadata query, and the ledger's GROUP BY."""
from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select

from app.catalog.embedded import EmbeddedCatalog
from app.chaining import chain
from app.chaining.hooks import after_tracking
from app.chaining.ledger import stage_ledger
from app.extensions import db
from app.models import Submission
from app.models.chaining import ChainStep
from tests.chaining.support import fcl_done, finished, launched_from, report
from tests.fixtures.app import _app
from tests.fixtures.launching import import_tutorial

pytestmark = pytest.mark.postgres


@pytest.fixture
def pg_app(postgres_server, postgres_template, tmp_path, redis_server):
    name = f"chain_{abs(hash(str(tmp_path))) % 10**8}"
    postgres_server.drop_database(name)
    url = postgres_server.create_database(name, template=postgres_template)
    app = _app(url, POMS_REDIS_URL=redis_server.url, POMS_BATCH_DIR=str(tmp_path / "batch"),
               POMS_LAUNCH_DIR=str(tmp_path / "launches"), POMS_URL="http://localhost:5000")
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()
    postgres_server.drop_database(name)


def test_chaining_on_postgresql(pg_app, tmp_path):
    tutorial = import_tutorial()
    fcl, names = fcl_done(tutorial, pg_app, n=3)
    from app import states

    states.transition(fcl, states.LOCATED, "test")
    db.session.commit()
    barrier = threading.Barrier(2)
    outcomes = []

    def worker():
        with pg_app.app_context():
            try:
                submission = db.session.get(Submission, fcl.id)
                barrier.wait(timeout=10)
                outcomes.append(chain.settle(submission, pg_app.config).launched)
                db.session.commit()
            finally:
                db.session.remove()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    db.session.expire_all()
    assert sorted(len(o) for o in outcomes) == [0, 1]
    (reco,) = launched_from(fcl)
    assert db.session.scalar(select(func.count()).select_from(ChainStep).where(
        ChainStep.parent_submission_id == fcl.id, ChainStep.kind == "dependent")) == 1

    catalog = EmbeddedCatalog(db.session, "mu2e")
    catalog.create_list_definition("pg_fcl", names)
    db.session.commit()
    reco_stage = reco.stage
    reco_stage.completion_type = "located"
    db.session.commit()
    sub = finished(tutorial, "reco", pg_app, dataset="pg_fcl", tmp_path=tmp_path)
    report(catalog, sub, "4.0@local", consumed=names[:2], outputs=["p0.art"], location=None)
    report(catalog, sub, "4.1@local", failed=[names[2]])
    after_tracking(pg_app.config)
    db.session.expire_all()
    assert db.session.get(Submission, sub.id).state == "Completed"  # no output located
    ledger = stage_ledger(reco_stage)
    assert (ledger.input, ledger.processed, ledger.in_flight) == (3, 2, 1) and ledger.adds_up
    catalog.add_location("p0.art", "/data/out")
    db.session.commit()
    after_tracking(pg_app.config)
    db.session.expire_all()
    assert db.session.get(Submission, sub.id).state == "Located"
