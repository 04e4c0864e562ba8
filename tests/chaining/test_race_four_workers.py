"""No double launch, no lost update: four worker processes run the chaining pass the
tracking worker runs (app/chaining/hooks.after_tracking, what workers.jobs.track calls
after its tracking pass) at the same moment over the same completed reco_fcl submissions,
on SQLite and on PostgreSQL. Each parent is Located once and launches its dependent
`reco` once, whichever process gets there first."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from sqlalchemy import func, select

from tests.fixtures.launching import wait_for

ROOT = Path(__file__).resolve().parents[2]
WORKERS = 4
PARENTS = 3

# One racing worker: its own process, app, engine and connections. It says it is ready,
# waits for the go file, runs the pass once and prints what it did (and what it logged).
RACER = r"""
import json, logging, os, sys, time
from pathlib import Path
from tests.fixtures.app import _app

config = json.loads(sys.argv[1])
ready, go = Path(sys.argv[2]), Path(sys.argv[3])
errors = []

class Collect(logging.Handler):
    def emit(self, record):
        errors.append(self.format(record))

logging.getLogger().addHandler(Collect(level=logging.ERROR))
app = _app(config.pop("url"), **config)
with app.app_context():
    from sqlalchemy import text
    from app.chaining.hooks import after_tracking
    from app.extensions import db
    db.session.execute(text("SELECT 1"))  # connected before the start
    db.session.rollback()
    ready.touch()
    deadline = time.monotonic() + 60
    while not go.exists() and time.monotonic() < deadline:
        time.sleep(0.005)
    result = after_tracking(app.config)
    db.session.remove()
    db.engine.dispose()
print(json.dumps({"located": result.located, "launched": result.launched,
                  "errors": errors}))
"""


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def race_database(request, tmp_path):
    if request.param == "sqlite":
        path = tmp_path / "race.db"
        shutil.copy(request.getfixturevalue("migrated_template"), path)
        # SQLite lets one writer in at a time: the others wait (a slow CI machine may keep
        # them waiting longer than pysqlite's default 5 s).
        yield f"sqlite:///{path}", {"SQLALCHEMY_ENGINE_OPTIONS": {"connect_args": {"timeout": 30}}}
        return
    server = request.getfixturevalue("postgres_server")
    template = request.getfixturevalue("postgres_template")
    name = f"poms_race_{uuid.uuid4().hex[:8]}"
    url = server.create_database(name, template=template)
    yield url, {}
    server.drop_database(name)


def test_four_workers_racing_on_the_same_completions_launch_each_dependent_once(
        race_database, tmp_path, redis_server):
    url, engine_options = race_database
    from app.catalog.embedded import EmbeddedCatalog
    from app.extensions import db
    from app.models import Submission, SubmissionEvent
    from app.models.chaining import ChainStep
    from tests.chaining.support import fcl_done, launched_from
    from tests.fixtures.app import _app
    from tests.fixtures.launching import import_tutorial

    config = {
        "POMS_REDIS_URL": redis_server.url,
        "POMS_BATCH_DIR": str(tmp_path / "batch"),
        "POMS_LAUNCH_DIR": str(tmp_path / "launches"),
        "POMS_LOCAL_SLOTS": 4,
        "POMS_LAUNCH_GRACE": 3,
        "POMS_TRACKING_INTERVAL": 1,
        "POMS_URL": "http://localhost:5000",
        "POMS_UCONDB_FCL_UPLOADS": False,
        **engine_options,
    }
    app = _app(url, **config)
    with app.app_context():
        tutorial = import_tutorial()
        parents = {}
        for _ in range(PARENTS):
            submission, names = fcl_done(tutorial, app)
            parents[submission.id] = sorted(names)
        assert {s.state for s in db.session.scalars(select(Submission))} == {"Completed"}
        db.session.remove()
        db.engine.dispose()

        go = tmp_path / "go"
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        racers = []
        for n in range(WORKERS):
            out = open(tmp_path / f"racer-{n}.out", "w+")
            process = subprocess.Popen(
                [sys.executable, "-c", RACER, json.dumps({"url": url, **config}),
                 str(tmp_path / f"ready-{n}"), str(go)],
                cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
            racers.append((process, out))
        try:
            wait_for(lambda: all((tmp_path / f"ready-{n}").exists() for n in range(WORKERS))
                     or any(p.poll() is not None for p, _ in racers),
                     timeout=60, interval=0.05, what="the four workers to be ready")
            go.touch()
            for process, _out in racers:
                process.wait(timeout=60)
        finally:
            for process, out in racers:
                if process.poll() is None:
                    process.kill()
                    process.wait()
                out.close()
        outcomes = []
        for n, (process, _out) in enumerate(racers):
            text = (tmp_path / f"racer-{n}.out").read_text()
            assert process.returncode == 0, text
            outcomes.append(json.loads(text.strip().splitlines()[-1]))
        print("outcomes:", outcomes)
        assert [o["errors"] for o in outcomes] == [[]] * WORKERS

        # Every parent Located once, by exactly one of the workers.
        located = sorted(i for o in outcomes for i in o["located"])
        assert located == sorted(parents)
        # One dependent launch per parent between them, no more, none lost.
        launched = sorted(i for o in outcomes for i in o["launched"])
        assert len(launched) == PARENTS
        children = []
        for parent_id, names in parents.items():
            parent = db.session.get(Submission, parent_id)
            assert parent.state == "Located"
            to_located = db.session.scalar(
                select(func.count()).select_from(SubmissionEvent).where(
                    SubmissionEvent.submission_id == parent_id,
                    SubmissionEvent.to_state == "Located"))
            assert to_located == 1
            (child,) = launched_from(parent)
            assert child.stage.name == "reco" and child.state == "New"
            steps = db.session.scalar(select(func.count()).select_from(ChainStep).where(
                ChainStep.parent_submission_id == parent_id, ChainStep.kind == "dependent"))
            assert steps == 1
            catalog = EmbeddedCatalog(db.session, "mu2e")
            assert sorted(catalog.list_files(f"defname: {child.dataset}")) == names
            children.append(child.id)
        assert launched == sorted(children)
        # Nothing else was made: the parents and one child each.
        total = db.session.scalar(select(func.count()).select_from(Submission))
        assert total == 2 * PARENTS
        db.session.remove()
        db.engine.dispose()
