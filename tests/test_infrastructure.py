"""The shared fixtures do what the rest of the suite relies on."""

import hashlib
import re
from pathlib import Path

import pytest
import requests
from flask import Flask
from rq import Queue, SimpleWorker
from rq.job import Job, JobStatus

from tests.fixtures import require
from tests.fixtures.live_server import start_live_server
from tests.fixtures.redis_server import add

STATIC = Path(__file__).resolve().parent.parent / "app" / "static"


def test_redis_stores_and_reads(redis_conn):
    redis_conn.set("poms:test", "value")
    assert redis_conn.get("poms:test") == b"value"


def test_redis_is_flushed_before_each_test(redis_conn):
    assert redis_conn.dbsize() == 0


def test_rq_simple_worker_runs_a_job(redis_conn):
    queue = Queue("infrastructure", connection=redis_conn)
    job = queue.enqueue(add, 2, 3)
    assert SimpleWorker([queue], connection=redis_conn).work(burst=True)
    fetched = Job.fetch(job.id, connection=redis_conn)
    assert fetched.get_status() == JobStatus.FINISHED
    assert fetched.return_value() == 5


def test_require_skips_locally_and_fails_under_ci(monkeypatch):
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception):
        require("no-such-binary-poms", "needed for nothing")
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception):
        require(False, "needed for nothing")
    assert require("sh", "a shell") is not None


@pytest.mark.parametrize("name", ["htmx.min.js", "sse.js"])
def test_vendored_htmx_matches_its_record(name):
    recorded = re.search(
        rf"`{re.escape(name)}`.*?`([0-9a-f]{{64}})`", (STATIC / "VENDORED.md").read_text()
    )
    assert recorded, f"VENDORED.md records no sha256 for {name}"
    assert hashlib.sha256((STATIC / name).read_bytes()).hexdigest() == recorded.group(1)


def tiny_app() -> Flask:
    app = Flask(__name__, static_folder=str(STATIC))

    @app.get("/")
    def index():
        return (
            '<!doctype html><script src="/static/htmx.min.js"></script>'
            "<h1>POMS test page</h1>"
            '<button hx-get="/fragment" hx-target="#out">load</button><div id="out"></div>'
        )

    @app.get("/fragment")
    def fragment():
        return "<b>fragment from the server</b>"

    return app


def test_live_server_answers_on_localhost():
    server = start_live_server(tiny_app())
    try:
        assert server.url.startswith("http://localhost:")
        assert "POMS test page" in requests.get(server.url + "/", timeout=5).text
    finally:
        server.stop()


@pytest.mark.browser
def test_browser_reads_live_page_and_htmx_swaps(page, live_server_factory):
    from playwright.sync_api import expect

    server = live_server_factory(tiny_app())
    page.goto(server.url + "/")
    assert page.locator("h1").inner_text() == "POMS test page"
    page.get_by_role("button", name="load").click()
    expect(page.locator("#out")).to_have_text("fragment from the server")
