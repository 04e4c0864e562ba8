"""`flask --app wsgi poms ucondb ...` against the embedded server served live by the test (the
commands go through the client, over HTTP): once as a subprocess, as an operator runs it, and
otherwise through Flask's CLI runner (the same commands, without a new Python each time)."""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.ucondb.conftest import DATABASE

ROOT = Path(__file__).resolve().parents[2]
FLASK = [sys.executable, "-m", "flask", "--app", "wsgi"]


@dataclass
class Done:
    returncode: int
    stdout: str | bytes
    stderr: str


@pytest.fixture
def poms_ucondb(ucondb_server):
    """Run `poms ucondb ARGS` in the app's CLI runner; its config points at the live server."""
    app = ucondb_server.app

    def run(*args: str, password: str | None = None, binary: bool = False) -> Done:
        saved = app.config["POMS_UCONDB_PASSWORD"]
        if password is not None:
            app.config["POMS_UCONDB_PASSWORD"] = password
        try:
            result = app.test_cli_runner().invoke(args=["poms", "ucondb", *args])
        finally:
            app.config["POMS_UCONDB_PASSWORD"] = saved
        if result.exception and not isinstance(result.exception, SystemExit):
            raise result.exception
        return Done(result.exit_code, result.stdout_bytes if binary else result.stdout,
                    result.stderr)

    return run


def test_as_an_operator_runs_it(ucondb_server, tmp_path):
    env = {
        **os.environ,
        "POMS_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}",
        "POMS_SECRET_KEY": "cli-test",
        "POMS_UCONDB_URL": ucondb_server.url,
        "POMS_UCONDB_USER": "writer",
        "POMS_UCONDB_PASSWORD": "s3cret",
    }
    fcl = tmp_path / "a.fcl"
    fcl.write_bytes(b"physics : {}\n")
    script = (f"{' '.join(FLASK)} poms ucondb create-folder {DATABASE} f_cli && "
              f"{' '.join(FLASK)} poms ucondb put {DATABASE} f_cli a.fcl {fcl} --key a.fcl && "
              f"{' '.join(FLASK)} poms ucondb get {DATABASE} f_cli a.fcl")
    done = subprocess.run(["sh", "-c", script], cwd=ROOT, env=env, capture_output=True,
                          timeout=180)
    assert done.returncode == 0, done.stderr
    assert done.stdout.endswith(b"physics : {}\n")
    assert ucondb_server.client().get_data("f_cli", "a.fcl", key="a.fcl") == fcl.read_bytes()


def test_create_list_put_and_get(poms_ucondb, ucondb_server, tmp_path):
    done = poms_ucondb("create-folder", DATABASE, "cnf_mu2e_tutorial_fcl")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("cnf_mu2e_tutorial_fcl: created in http://localhost:")
    again = poms_ucondb("create-folder", DATABASE, "cnf_mu2e_tutorial_fcl")
    assert again.returncode == 0 and "exists already" in again.stdout
    assert poms_ucondb("folders", DATABASE).stdout.split() == ["cnf_mu2e_tutorial_fcl"]

    fcl = tmp_path / "job_001.fcl"
    fcl.write_bytes(b'#include "reco.fcl"\n')
    put = poms_ucondb("put", DATABASE, "cnf_mu2e_tutorial_fcl", "job_001.fcl", str(fcl),
                      "--key", "job_001.fcl", "--tag", "mdc2020")
    assert put.returncode == 0, put.stderr
    meta = json.loads(put.stdout)
    assert meta["key"] == "job_001.fcl" and meta["tags"] == ["mdc2020"]
    assert meta["data_size"] == len(fcl.read_bytes())

    objects = poms_ucondb("objects", DATABASE, "cnf_mu2e_tutorial_fcl")
    assert objects.stdout.split() == ["job_001.fcl"]
    versions = poms_ucondb("versions", DATABASE, "cnf_mu2e_tutorial_fcl", "job_001.fcl")
    assert versions.stdout.split("\t")[:2] == [str(meta["id"]), "job_001.fcl"]

    got = poms_ucondb("get", DATABASE, "cnf_mu2e_tutorial_fcl", "job_001.fcl", binary=True)
    assert got.returncode == 0 and got.stdout == fcl.read_bytes()
    saved = tmp_path / "copy.fcl"
    done = poms_ucondb("get", DATABASE, "cnf_mu2e_tutorial_fcl", "job_001.fcl",
                       "--key", "job_001.fcl", "-o", str(saved))
    assert done.returncode == 0 and saved.read_bytes() == fcl.read_bytes()
    shown = poms_ucondb("get", DATABASE, "cnf_mu2e_tutorial_fcl", "job_001.fcl", "--meta")
    assert json.loads(shown.stdout)["id"] == meta["id"]


def test_the_database_argument_picks_the_database(poms_ucondb, ucondb_server):
    assert poms_ucondb("create-folder", "dune_ucondb_test", "elsewhere").returncode == 0
    assert poms_ucondb("folders", "dune_ucondb_test").stdout.split() == ["elsewhere"]
    assert poms_ucondb("folders", DATABASE).stdout.split() == []


def test_failures_exit_1_naming_the_url_and_status(poms_ucondb, tmp_path):
    missing = poms_ucondb("objects", DATABASE, "nope")
    assert missing.returncode == 1
    assert "HTTP 404" in missing.stderr and f"/ucondb/{DATABASE}/app/objects?folder=nope" in (
        missing.stderr)
    refused = poms_ucondb("create-folder", DATABASE, "f", password="wrong")
    assert refused.returncode == 1 and "HTTP 401" in refused.stderr
    bad = poms_ucondb("create-folder", DATABASE, "cnf.mu2e")
    assert bad.returncode == 1 and "dot" in bad.stderr
    bad_db = poms_ucondb("folders", "bad-db")
    assert bad_db.returncode == 1 and "database" in bad_db.stderr
    no_file = poms_ucondb("put", DATABASE, "f", "o", str(tmp_path / "absent.fcl"))
    assert no_file.returncode != 0


def test_a_server_that_is_down_says_so(poms_ucondb):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    done = poms_ucondb("folders", DATABASE, "--url", f"http://127.0.0.1:{port}/db/app")
    assert done.returncode == 1
    assert "no answer" in done.stderr and "is the UconDB server up?" in done.stderr
