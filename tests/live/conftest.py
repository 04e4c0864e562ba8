"""The live pages' tests: a real gunicorn with the Procfile's web worker class, serving the
test's database, restartable on the same port (the browser's stream must come back)."""
from __future__ import annotations

import os
import shlex
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from tests.fixtures import require
from tests.fixtures.launching import wait_for
from tests.fixtures.redis_server import free_port

ROOT = Path(__file__).resolve().parents[2]


def procfile_web() -> list[str]:
    """The Procfile's `web` command as an argv list (gunicorn first)."""
    line = next(line for line in (ROOT / "Procfile").read_text().splitlines()
                if line.startswith("web:"))
    return shlex.split(line.split(":", 1)[1])


class Web:
    """gunicorn as the Procfile runs it (one worker here), on one port across restarts."""

    def __init__(self, database_url: str, redis_url: str, tmp_path: Path, **env):
        gunicorn = require(str(Path(sys.executable).parent / "gunicorn"),
                           "gunicorn is pinned in requirements.txt: make venv")
        self.port = free_port()
        self.url = f"http://localhost:{self.port}"
        self.argv = [gunicorn, *[f"127.0.0.1:{self.port}" if "POMS_BIND" in arg else arg
                                 for arg in procfile_web()[1:]],
                     "--workers", "1", "--graceful-timeout", "1"]
        self.env = {**os.environ, "POMS_DATABASE_URL": database_url, "POMS_REDIS_URL": redis_url,
                    "POMS_SECRET_KEY": "live-pages-test", "POMS_AUTH": "dev",
                    "POMS_UPLOADS_DIR": str(tmp_path / "uploads"), **env}
        self.log = tmp_path / "gunicorn.log"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        with open(self.log, "a") as log:
            self.process = subprocess.Popen(self.argv, cwd=ROOT, env=self.env, stdout=log,
                                            stderr=subprocess.STDOUT, start_new_session=True)

        def up():
            try:
                return requests.get(f"{self.url}/login", timeout=2).status_code == 200
            except requests.RequestException:
                return False

        try:
            wait_for(up, timeout=60, interval=0.1, what="gunicorn to answer")
        except AssertionError:
            pytest.fail(f"gunicorn did not start:\n{self.log.read_text()}")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self.process = None


@pytest.fixture
def app(launch_app):
    """The test's own app publishes to the session's Redis, as the workers do."""
    return launch_app


@pytest.fixture
def web(app, redis_server, tmp_path):
    """The test's database, served by gunicorn with the Procfile's worker class."""
    server = Web(app.config["SQLALCHEMY_DATABASE_URI"], redis_server.url, tmp_path)
    server.start()
    yield server
    server.stop()
