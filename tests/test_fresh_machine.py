"""The README's two commands on a fresh Debian 12 machine (issue 16, "The first run").

A bare bookworm root (tests/fixtures/fresh_machine.py: minbase and make, nothing of the
project's) gets a `git clone` of the commit under test and ../shared beside it, and then,
as a new user would:

1. `make run` as someone who is not root stops at once and prints the exact
   `sudo apt-get install ...` of what is missing;
2. `make run` as root installs what it needs (scripts/system-packages run: Python 3.11 and
   its venv, gcc and libkrb5-dev to build gssapi, Redis, Graphviz), builds .venv from PyPI,
   and serves: the front page answers, the demo user signs in, the demo campaign is listed
   and its page draws the stage graph; it installed none of the test-only packages; Ctrl-C
   (SIGINT to its process group) stops all of it, its Redis too;
3. `make test` as root installs the rest (scripts/system-packages test: the KDC, Chromium,
   PostgreSQL, sshd, ...) and the suite runs green on a subset.

The subset, and why: the whole suite inside the root would take as long again as CI's
SQLite run (about 5 minutes, more on a loaded machine) on top of the installs; the point
here is that `make test` sets up every real component the suite starts, and each of these
files needs a different one of them, so together they fail when any package, the venv or
../shared is missing:

  tests/test_infrastructure.py        Redis and an RQ worker, a live server, Chromium + htmx
  tests/test_postgres.py              PostgreSQL (initdb/pg_ctl run as the postgres user)
                                      and `flask db upgrade`/`downgrade` on it
  tests/client/test_cli_kerberos.py   the MIT KDC (krb5kdc, kadmin.local, kinit) and gssapi,
                                      as built from source by `make venv`, through `poms`
  tests/launching/test_ssh_launcher.py  sshd and ssh on loopback
  tests/campaigns/test_upload_browser.py  Chromium on the real app, Graphviz's graph
  tests/e2e/test_mu2e_tutorial.py     a whole campaign (launch, local jobs, chaining,
                                      recovery) from ../shared's Mu2e tutorial

18 tests, 25-45 s once installed. `-m "not htcondor and not fresh_machine"` keeps out the
two kinds that build Debian roots of their own (a chroot within the chroot), should one of
these files ever hold one. debootstrap is in the test set for those two kinds and is
installed here, but not exercised.

Timing on this machine (2 cores, busy with other sessions' tests): the root builds in about
a minute (cached in /var/tmp; .ci/run builds it in the background while the suite starts);
in the root, `make run` serves after 2-4 minutes (apt, then pip: gssapi's build is about
35 s of it) and `make test` passes 1.5-3 minutes later (apt, then the subset). The whole
test took 3.5 minutes with the root's changes in memory.

It fails when `make run` or `make test` would fail on a fresh machine: with libkrb5-dev
taken out of scripts/system-packages, `make run` stopped at pip's gssapi build
("krb5-config: not found") and this test failed with that log.
"""
from __future__ import annotations

import html
import re
import socket
import time

import pytest
import requests

from tests.fixtures.debian_root import report
from tests.fixtures.fresh_machine import stop_group

pytestmark = pytest.mark.fresh_machine

SUBSET = [
    "tests/test_infrastructure.py",
    "tests/test_postgres.py",
    "tests/client/test_cli_kerberos.py",
    "tests/launching/test_ssh_launcher.py",
    "tests/campaigns/test_upload_browser.py",
    "tests/e2e/test_mu2e_tutorial.py",
]
DEMO_CAMPAIGN = "srsoleti_tutorial"  # examples/mu2e/tutorial.ini, loaded by `poms demo`
RUN_TIMEOUT = 1200  # apt and pip from the network
TEST_TIMEOUT = 1200


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def front_page(url: str) -> requests.Response | None:
    try:
        return requests.get(url + "/", timeout=3)
    except requests.RequestException:
        return None


def sign_in_and_list(url: str) -> tuple[str, str]:
    """Sign in as demo, as a person does on the login page; (the page that lists the
    campaigns, the demo campaign's page)."""
    http = requests.Session()
    http.trust_env = False
    login = http.get(url + "/login", timeout=10)
    token = re.search(r'name="csrf_token" value="([^"]+)"', login.text)
    assert token, f"no CSRF token on the login page:\n{login.text[:2000]}"
    landing = http.post(url + "/login", data={"csrf_token": token.group(1),
                                              "username": "demo"}, timeout=10)
    assert landing.status_code == 200, landing.text[:2000]
    # The landing page is the experiment's dashboard; its navigation leads to the campaigns.
    listing = re.search(r'href="([^"]*/campaigns)"[^>]*>\s*Campaigns\s*<', landing.text)
    assert listing, f"no link to the campaigns after signing in:\n{landing.text[:4000]}"
    campaigns = http.get(url + html.unescape(listing.group(1)), timeout=30)
    link = re.search(r'href="([^"]*/campaign/\d+)"[^>]*>\s*' + DEMO_CAMPAIGN, campaigns.text)
    assert link, f"the demo campaign is not listed:\n{campaigns.text[:4000]}"
    campaign = http.get(url + html.unescape(link.group(1)), timeout=30)
    assert campaign.status_code == 200, campaign.text[:2000]
    return campaigns.text, campaign.text


def test_make_run_then_make_test_on_a_fresh_debian_12(fresh_machine, request):
    machine = fresh_machine
    port, redis_port = free_port(), free_port()
    url = f"http://127.0.0.1:{port}"
    env = {"POMS_PORT": str(port), "POMS_REDIS_PORT": str(redis_port)}

    # 1. Not root: the exact command to run, and nothing done.
    code, out = machine.run("make run", "run-as-nobody.log", timeout=120, env=env,
                            user="nobody")
    assert code != 0, f"`make run` as nobody went on without its packages:\n{out[-3000:]}"
    command = re.search(r"^\s*sudo apt-get install --no-install-recommends (.+)$", out, re.M)
    assert command, f"`make run` as nobody printed no sudo apt-get install:\n{out[-3000:]}"
    named = set(command.group(1).split())
    assert {"python3.11", "python3.11-venv", "gcc", "libkrb5-dev", "redis-server",
            "graphviz"} <= named, command.group(0)
    assert not machine.installed("redis-server")

    # 2. Root: `make run` installs, builds the venv, serves the demo.
    started = time.monotonic()
    run = machine.start("make run", "make-run.log", env=env)
    try:
        page = None
        while time.monotonic() - started < RUN_TIMEOUT:
            if run.poll() is not None:
                pytest.fail(f"`make run` exited {run.returncode} before serving:\n"
                            f"{machine.log('make-run.log', 4000)}", pytrace=False)
            page = front_page(url)
            if page is not None:
                break
            time.sleep(2)
        assert page is not None, (f"`make run` served nothing in {RUN_TIMEOUT} s:\n"
                                  f"{machine.log('make-run.log')}")
        run_s = time.monotonic() - started
        assert page.status_code == 200 and "Sign in" in page.text, page.text[:2000]
        listing, campaign = sign_in_and_list(url)
        assert DEMO_CAMPAIGN in listing
        assert "<svg" in campaign and "cannot be drawn" not in campaign, (
            f"the demo campaign's page draws no graph (Graphviz?):\n{campaign[:4000]}")
        # The service knows its own address: launches are told the port it serves on.
        dry = requests.post(
            f"{url}/api/v1/experiments/mu2e/campaigns/{DEMO_CAMPAIGN}/stages/reco_fcl/launch",
            json={"dry_run": True}, headers={"X-POMS-User": "demo"}, timeout=30)
        assert dry.status_code == 200, dry.text[:2000]
        assert dry.json()["environment"]["POMS_URL"] == f"http://localhost:{port}"
    finally:
        stopping = time.monotonic()
        code = stop_group(run)
    assert code in (130, 0, -2), (f"`make run` did not stop cleanly on Ctrl-C ({code}):\n"
                                  f"{machine.log('make-run.log')}")
    deadline = time.monotonic() + 15
    while machine.processes() and time.monotonic() < deadline:
        time.sleep(0.5)
    assert not machine.processes(), f"left running after Ctrl-C: {machine.processes()}"
    stop_s = time.monotonic() - stopping
    for package in ("chromium", "postgresql", "krb5-kdc"):
        assert not machine.installed(package), f"`make run` installed {package}, a test's"

    # 3. Root: `make test` installs the rest and the subset passes, nothing skipped.
    started = time.monotonic()
    args = "-m 'not htcondor and not fresh_machine' -p no:cacheprovider " + " ".join(SUBSET)
    code, out = machine.run(f'make test PYTEST_ARGS="{args}"', "make-test.log",
                            timeout=TEST_TIMEOUT, env={"CI": "true"})
    test_s = time.monotonic() - started
    summary = out.strip().splitlines()[-1] if out.strip() else ""
    assert code == 0, f"`make test` failed ({code}) on the fresh machine:\n{out[-8000:]}"
    assert re.search(r"\b\d+ passed\b", summary), summary
    assert not re.search(r"failed|error|skipped|deselected", summary), summary
    report(request.config, f"fresh machine: make run served in {run_s:.0f} s and stopped in "
           f"{stop_s:.0f} s; make test passed in {test_s:.0f} s ({summary.strip('= ')})")
