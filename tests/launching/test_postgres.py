"""Launching's database work on a real PostgreSQL, whatever database the rest of the suite
runs on: split positions kept per purpose (launch / test, one locked row each), the new
split's end_time window (a JSON metadata text compared as a date), an approval's
dependents reading its input."""
from __future__ import annotations

from datetime import datetime

import pytest

from app.catalog.embedded import EmbeddedCatalog
from app.catalog.splits import next_slice
from app.chaining.hooks import after_tracking
from app.extensions import db
from app.launching import service
from app.launching.inputs import choose_input
from app.models import Submission
from app.tracking import actions
from tests.chaining.support import launched_from
from tests.chaining.test_postgres import pg_app  # noqa: F401  (the fixture)
from tests.fixtures.launching import import_tutorial

pytestmark = pytest.mark.postgres

FILES = [f"raw.{i:03d}.fcl" for i in range(5)]


def test_launching_on_postgresql(pg_app):  # noqa: F811
    tutorial = import_tutorial()
    catalog = EmbeddedCatalog(db.session, "mu2e")
    catalog.declare_files([{"name": n, "size": 1} for n in FILES])
    catalog.create_list_definition("raw_files", FILES)
    stage = next(s for s in tutorial.stages if s.name == "reco_fcl")
    stage.dataset_or_split_data = "raw_files"
    stage.cs_split_type = "nfiles(2)"
    stage.test_split_type = "nfiles(1)"
    db.session.commit()
    taken = []
    for test in (True, False, True):
        taken.append(sorted(choose_input(stage, config=pg_app.config, test=test).files))
        db.session.commit()
    assert taken == [FILES[:1], FILES[:2], FILES[1:2]]

    # new() windows by end_time: metadata text where the file has one, else create_date.
    catalog.declare_files([
        {"name": "t.raw", "create_date": datetime(2026, 1, 3),
         "metadata": {"data_tier": "raw", "end_time": "2026-01-01T05:00:00+00:00"}},
        {"name": "u.raw", "create_date": datetime(2026, 1, 1, 6), "metadata": {
            "data_tier": "raw"}}])
    catalog.create_definition("ds", "data_tier raw")
    start = int(datetime(2026, 1, 1).timestamp())
    got = next_slice(f"new(window=1d,fts=0,firsttime={start})", "ds", None, catalog,
                     datetime(2026, 2, 1))
    assert sorted(catalog.list_files(f"defname: {got.dataset}")) == ["t.raw", "u.raw"]

    # An approval: nothing runs; approved, its dependent reads its input's .fcl files.
    stage.stage_type = "approval"
    stage.cs_split_type = stage.test_split_type = ""
    db.session.commit()
    submission = service.request_launch(stage, tutorial.owner, test=False, origin="test",
                                        config=pg_app.config)
    db.session.commit()
    service.run_launch(submission.id, pg_app.config)
    db.session.expire_all()
    submission = db.session.get(Submission, submission.id)
    assert (submission.state, submission.dependents_dataset) == ("Awaiting Approval",
                                                                "raw_files")
    actions.approve(submission, tutorial.owner, approved=True)
    db.session.commit()
    after_tracking(pg_app.config)
    db.session.expire_all()
    (reco,) = launched_from(submission)
    assert sorted(catalog.list_files(f"defname: {reco.dataset}")) == FILES
