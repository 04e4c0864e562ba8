"""Many open live pages against gunicorn with the Procfile's worker class: an open page's
stream holds a thread, never a database connection, so a pool far smaller than the pages
open still answers every other request."""
from __future__ import annotations

import re
import socket
import time

import pytest
import requests

from app.extensions import db
from tests.fixtures.launching import import_tutorial
from tests.live.conftest import Web

OPEN_PAGES = 120


@pytest.fixture
def small_pool_web(app, redis_server, tmp_path):
    """gunicorn whose process may hold 2 database connections, and waits 3 s for one."""
    server = Web(app.config["SQLALCHEMY_DATABASE_URI"], redis_server.url, tmp_path,
                 POMS_DB_POOL_SIZE="2", POMS_DB_MAX_OVERFLOW="0", POMS_DB_POOL_TIMEOUT="3")
    server.start()
    yield server
    server.stop()


def signed_in_cookie(url: str) -> str:
    session = requests.Session()
    form = session.get(f"{url}/login", timeout=30).text
    token = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)
    session.post(f"{url}/login", data={"username": "alice", "csrf_token": token}, timeout=30)
    return "; ".join(f"{k}={v}" for k, v in session.cookies.get_dict().items())


def open_stream(port: int, cookie: str, topic: str) -> socket.socket:
    """A live page's stream, as a browser holds it: open, its first lines read."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=30)
    sock.sendall(f"GET /e/mu2e/live?topic={topic} HTTP/1.1\r\nHost: localhost\r\n"
                 f"Cookie: {cookie}\r\nAccept: text/event-stream\r\n\r\n".encode())
    got = b""
    while b"retry:" not in got:
        chunk = sock.recv(4096)
        assert chunk, f"the stream closed: {got!r}"
        got += chunk
    assert got.startswith(b"HTTP/1.1 200"), got
    return sock


def test_open_live_pages_hold_no_database_connection(app, small_pool_web):
    campaign = import_tutorial("alice")
    cookie = signed_in_cookie(small_pool_web.url)
    streams = [open_stream(small_pool_web.port, cookie,
                           "experiment" if n % 2 else f"campaign-{campaign.id}")
               for n in range(OPEN_PAGES)]
    try:
        started = time.monotonic()
        page = requests.get(f"{small_pool_web.url}/e/mu2e/dashboard",
                            headers={"Cookie": cookie}, timeout=30)
        assert page.status_code == 200, page.text[:500]
        assert "Dashboard" in page.text
        # Well inside the 3 s a request would wait for a connection none gave back.
        assert time.monotonic() - started < 3
        # Every page is still open, and told of the next change.
        campaign.name = f"{campaign.name}-renamed"
        db.session.commit()
        for sock in streams:
            got = b""
            while b"event: " not in got:
                chunk = sock.recv(4096)
                assert chunk, f"a page's stream closed: {got!r}"
                got += chunk
    finally:
        for sock in streams:
            sock.close()
