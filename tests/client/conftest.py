"""Run the `poms` client against a live POMS server over real HTTP.

  poms(*args, env=None) -> Run(code, out, err, json): the client's main() in this process,
      with an environment of its own (no POMS_* from outside, no ~/.config/poms);
  dev_server: the `app` fixture (dev mode) served live, with mu2e members alice
      (analysis), bob (analysis) and pat (production), and POMS_SERVER/POMS_EXPERIMENT set.
  kerberos_server: a POMS_AUTH=kerberos app served live (mu2e: alice, bob; the test KDC);
      holding_ticket(client_env, kdc, user) puts that user's ticket in KRB5CCNAME.
  The original client's module state (update_session_experiment/role) is reset per test.
"""
from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass

import pytest

from poms_client import compat
from poms_client.cli import main


@dataclass
class Run:
    code: int
    out: str
    err: str

    @property
    def json(self) -> dict:
        return json.loads(self.out)


@pytest.fixture
def client_env(tmp_path, monkeypatch):
    for key in list(os.environ):
        if key.startswith("POMS_") or key == "XDG_CONFIG_HOME":
            monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("POMS_CONFIG", str(tmp_path / "no-config.ini"))
    return monkeypatch


@pytest.fixture
def poms(client_env, capsys):
    def run(*args: str, env: dict | None = None) -> Run:
        for key, value in (env or {}).items():
            client_env.setenv(key, value)
        capsys.readouterr()
        try:
            code = main([str(a) for a in args])
        except SystemExit as exit_:  # argparse: usage errors and --help
            code = exit_.code
        captured = capsys.readouterr()
        return Run(code, captured.out, captured.err)

    return run


@pytest.fixture
def dev_server(app, member, live_server_factory, client_env):
    member("mu2e", "alice", "analysis")
    member("mu2e", "bob", "analysis")
    member("mu2e", "pat", "production")
    # The server runs in this process: keep its request log out of the client's stderr.
    client_env.setattr(logging.getLogger("werkzeug"), "level", logging.WARNING)
    server = live_server_factory(app)
    client_env.setenv("POMS_SERVER", server.url)
    client_env.setenv("POMS_EXPERIMENT", "mu2e")
    client_env.setenv("POMS_USER", "alice")
    return server


@pytest.fixture(autouse=True)
def _original_client_session(monkeypatch):
    """update_session_experiment/role keep module state, as the original's did: not
    between tests."""
    monkeypatch.setattr(compat, "global_experiment", None)
    monkeypatch.setattr(compat, "global_role", None)


@pytest.fixture
def kerberos_server(make_app, member, kdc, live_server_factory, client_env):
    app = make_app(POMS_AUTH="kerberos", POMS_KEYTAB=kdc.keytab, POMS_REALMS=[kdc.realm],
                   SESSION_COOKIE_SECURE=False)
    with app.app_context():
        member("mu2e", "alice", "analysis")
        member("mu2e", "bob", "analysis")
    server = live_server_factory(app)
    client_env.setenv("POMS_SERVER", server.url)
    client_env.setenv("POMS_EXPERIMENT", "mu2e")
    # An empty credential cache: nobody holds a ticket until a test runs kinit.
    client_env.setenv("KRB5CCNAME", "FILE:" + str(kdc.dir / "ccache" / "nobody"))
    return server


def holding_ticket(client_env, kdc, user: str) -> str:
    ccache = kdc.kinit(user)
    client_env.setenv("KRB5CCNAME", "FILE:" + ccache)
    return ccache
