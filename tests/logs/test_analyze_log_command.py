"""`flask --app wsgi poms analyze-log`, run as an operator runs it."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.logs.logfiles import FAILURES, clean_log, condor_event_log

ROOT = Path(__file__).resolve().parents[2]
FLASK = [sys.executable, "-m", "flask", "--app", "wsgi"]


@pytest.fixture
def poms(tmp_path):
    """The command as an operator runs it: a `flask --app wsgi` process."""
    env = {**os.environ, "POMS_DATABASE_URL": f"sqlite:///{tmp_path / 'poms.db'}",
           "POMS_SECRET_KEY": "cli-test"}

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([*FLASK, *args], cwd=ROOT, env=env, capture_output=True,
                              text=True, timeout=60)

    return run


@pytest.fixture
def cli(app):
    """The same command in this process, on the test app's migrated database."""
    runner = app.test_cli_runner()  # click 8.2+: stdout and stderr apart

    def run(*args: str):
        return runner.invoke(args=list(args), catch_exceptions=False)

    return run


def log(tmp_path, text, name="job.log") -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def test_json_for_a_failed_job_is_exactly_the_six_keys(poms, tmp_path):
    text, fragment = FAILURES["art-product-not-found"]
    done = poms("poms", "analyze-log", log(tmp_path, text), "--json")
    assert done.returncode == 0, done.stderr
    line = next(n for n, s in enumerate(text.splitlines(), 1) if fragment in s)
    assert done.stdout == json.dumps({
        "exit_code": 6, "signal": None, "peak_memory_mb": None,
        "signature": "art ProductNotFound", "category": "software", "line": line,
    }) + "\n"


def test_exit_code_from_the_engine_and_memory_from_condor(cli, tmp_path):
    path = log(tmp_path, condor_event_log("(1) Normal termination (return value 0)"))
    done = cli("poms", "analyze-log", path, "--exit-code", "137", "--json")
    assert json.loads(done.stdout) == {
        "exit_code": 137, "signal": 9, "peak_memory_mb": 2150, "signature": "Out of memory",
        "category": "memory", "line": None,
    }
    clean = json.loads(cli("poms", "analyze-log", log(tmp_path, clean_log(), "c.log"),
                           "--json").stdout)
    assert clean["exit_code"] == 0 and clean["signature"] is None


def test_an_experiments_own_signatures_are_used_when_it_has_them(cli, tmp_path):
    from app.auth.members import find_or_create_experiment
    from app.extensions import db
    from app.logs import store

    experiment = find_or_create_experiment("mu2e")
    store.ensure_starting_signatures(experiment)
    store.create_signature(experiment, None, {
        "name": "Geometry file missing", "pattern": r"GeometryService: cannot open",
        "category": "software", "action": "", "exit_codes": ""})
    mine = store.experiment_signatures(experiment)[-1]
    for _ in range(len(store.experiment_signatures(experiment))):
        store.move_signature(mine, "up")  # to the top of the table
    db.session.commit()
    text = ("GeometryService: cannot open geom_run1a.txt\n"
            "---- Configuration BEGIN\n  bad\n---- Configuration END\n"
            "Art has completed and will exit with status 9.\n")
    path = log(tmp_path, text)
    own = json.loads(cli("poms", "analyze-log", path, "--experiment", "mu2e",
                         "--json").stdout)
    assert (own["signature"], own["line"]) == ("Geometry file missing", 1)
    starting = json.loads(cli("poms", "analyze-log", path, "--json").stdout)
    assert (starting["signature"], starting["line"]) == ("art or FHiCL configuration error", 2)
    unknown = cli("poms", "analyze-log", path, "--experiment", "nova", "--json")
    assert json.loads(unknown.stdout)["signature"] == "art or FHiCL configuration error"
    assert "no experiment 'nova'" in unknown.stderr


def test_readable_output_and_a_missing_file(cli, poms, tmp_path):
    done = cli("poms", "analyze-log", log(tmp_path, FAILURES["disk-full"][0]))
    assert done.exit_code == 0
    assert "Disk full (site, line" in done.stdout and "request_disk" in done.stdout
    missing = poms("poms", "analyze-log", str(tmp_path / "nope.log"))
    assert missing.returncode == 2 and "does not exist" in missing.stderr
