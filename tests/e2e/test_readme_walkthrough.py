"""The README's tutorial walk-through (section "A whole campaign from the shell"), run as it
is written there, so the README cannot drift from what POMS does.

The service is started as `make run` starts it (scripts/run: `flask db upgrade`, `flask poms
demo`, `flask poms worker`, `flask run`), on a free port with its own SQLite and an empty
Redis; the fenced block the README marks runs in bash (`set -e`: every command must
succeed) from a directory that looks like the repository's top (its `examples/`), with the
`poms` command of this checkout on PATH, `POMS_SERVER`/`POMS_EXPERIMENT`/`POMS_USER` as the
README says for `make run`, and a real X.509 proxy in `X509_USER_PROXY`. The walk-through
starts as the seed tutorial does: upload the proxy and the CFG, upload the INI naming
`$UPLOADS/reco.cfg`, launch; then the campaign must finish, reco launching by itself.
"""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.credentials import makers
from tests.e2e.support import REPO
from tests.fixtures.launching import wait_for
from tests.fixtures.redis_server import free_port
from tests.test_production_layout import Layout

pytestmark = pytest.mark.e2e

README = REPO / "README.md"
MARK = "`tests/e2e/test_readme_walkthrough.py` runs exactly this block"


def walkthrough() -> str:
    """The fenced block after the README's mark."""
    text = README.read_text()
    assert MARK in text, "the README no longer marks the walk-through this test runs"
    block = text.split(MARK, 1)[1].split("```sh\n", 1)[1].split("\n```", 1)[0]
    return block + "\n"


@pytest.fixture
def make_run(tmp_path, redis_server):
    """The service as scripts/run starts it (less the Debian packages and the venv)."""
    port = free_port()
    redis_server.client().flushall()  # the session's Redis, empty: no other test's jobs
    env = {
        **os.environ,
        "POMS_DATABASE_URL": f"sqlite:///{tmp_path / 'poms.db'}",
        "POMS_REDIS_URL": redis_server.url,
        "POMS_SECRET_KEY": "readme-walkthrough-test",
        "POMS_PORT": str(port),
        "POMS_URL": f"http://localhost:{port}",
        "POMS_BATCH_DIR": str(tmp_path / "batch"),
        "POMS_LAUNCH_DIR": str(tmp_path / "launches"),
        "POMS_UPLOADS_DIR": str(tmp_path / "uploads"),
        "POMS_TRACKING_INTERVAL": "1",  # make run's is 10 s: the same passes, sooner
    }
    for name in ("POMS_INSTANCE_PATH", "POMS_AUTH", "POMS_LAUNCHER", "POMS_BATCH_ENGINE"):
        env.pop(name, None)
    service = Layout(tmp_path, env)
    service.port = port
    service.run("db", "upgrade", timeout=180)
    service.run("poms", "demo")
    service.start("worker", [sys.executable, "-m", "flask", "--app", "wsgi", "poms", "worker"])
    service.start("web", [sys.executable, "-m", "flask", "--app", "wsgi", "run",
                          "--host", "127.0.0.1", "--port", str(port)])
    try:
        yield service
    finally:
        service.stop()
        redis_server.client().flushall()


def client_env(tmp_path: Path, port: int) -> dict[str, str]:
    """The shell a reader types the README into: this checkout's `poms`, the README's
    settings for make run's server, their proxy."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    shim = bin_dir / "poms"
    shim.write_text(f'#!/bin/sh\nexec {sys.executable} -m poms_client.cli "$@"\n')
    shim.chmod(0o755)
    proxy = tmp_path / f"x509up_u{os.getuid()}"
    proxy.write_bytes(makers.proxy())
    proxy.chmod(0o600)
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("POMS_") and k != "XDG_CONFIG_HOME"}
    env.update(PATH=f"{bin_dir}{os.pathsep}{env.get('PATH', '')}", PYTHONPATH=str(REPO),
               POMS_CONFIG=str(tmp_path / "no-config.ini"), X509_USER_PROXY=str(proxy),
               POMS_SERVER=f"http://localhost:{port}", POMS_EXPERIMENT="mu2e",
               POMS_USER="demo")
    return env


def test_the_walkthrough_starts_as_the_seed_tutorial_does():
    commands = [line.split("  #")[0].strip() for line in walkthrough().splitlines()]

    def first(prefix: str) -> int:
        return next(i for i, command in enumerate(commands) if command.startswith(prefix))

    upload, ini, launch = (first("poms upload-file"), first("poms upload-ini tutorial.ini"),
                           commands.index("poms launch srsoleti_tutorial reco_fcl"))
    assert upload < ini < launch
    assert "X509_USER_PROXY" in commands[upload] and "reco.cfg" in commands[upload]
    assert "$UPLOADS/reco.cfg" in commands[first("sed ")]


def test_the_readme_walkthrough_runs_as_written(make_run, tmp_path):
    port = make_run.port
    env = client_env(tmp_path, port)
    top = tmp_path / "top"
    top.mkdir()
    (top / "examples").symlink_to(REPO / "examples")
    wait_for(lambda: _answers(port), timeout=60, interval=0.3, what="the web server")

    done = subprocess.run(["bash", "-eux", "-o", "pipefail", "-c", walkthrough()], cwd=top,
                          env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, (f"{done.stdout[-3000:]}\n{done.stderr[-3000:]}\n"
                                  f"{make_run.logs()}")
    out = done.stdout
    assert f"uploaded x509up_u{os.getuid()} (" in out and "X.509 proxy for analysis work" in out
    assert re.search(r"^uploaded reco\.cfg \(", out, re.MULTILINE), out
    # The launch read the uploaded CFG: $UPLOADS expanded on the launch host.
    assert re.search(r"\+ fife_launch -c /\S+/poms_uploads\.\w+/reco\.cfg --stage reco_fcl",
                     out), out
    assert "$UPLOADS/reco.cfg" in (top / "tutorial-now.ini").read_text()
    assert (top / "reco-now.cfg").read_bytes() == (REPO / "examples/mu2e/reco.cfg").read_bytes()

    def finished():
        status = _poms(env, top, "--json", "status", "srsoleti_tutorial")
        stages = {stage["name"]: stage["submissions"] for stage in status["stages"]}
        return (stages["reco"] and all(s["state"] == "Located"
                                       for s in stages["reco_fcl"] + stages["reco"])
                and stages)

    try:
        stages = wait_for(finished, timeout=180, interval=1.0,
                          what="reco_fcl and the reco it launched to be Located")
    except AssertionError:
        pytest.fail(f"the campaign did not finish:\n{make_run.logs()}")
    (fcl,), (reco,) = stages["reco_fcl"], stages["reco"]
    assert fcl["id"] == 1 and fcl["jobs"]["done"] == fcl["jobs"]["total"] == 3
    assert reco["jobs"]["done"] == reco["jobs"]["total"] == 3 and reco["jobs"]["failed"] == 0
    objects = subprocess.run(["poms", "ucondb", "objects", "mu2e_reco_fcl"], cwd=top, env=env,
                             capture_output=True, text=True, timeout=60)
    assert sorted(objects.stdout.split()) == [f"mu2e_reco.1_{p}.fcl" for p in range(3)]


def _answers(port: int) -> bool:
    import requests

    try:
        return requests.get(f"http://localhost:{port}/login", timeout=5).status_code == 200
    except requests.ConnectionError:
        return False


def _poms(env, cwd, *args) -> dict:
    done = subprocess.run(["poms", *args], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)
