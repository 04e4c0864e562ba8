"""The client's transport: retries on 5xx, giving up, errors that name the URL and status.

A tiny real HTTP server (http.server on loopback) plays a troubled UconDB: it fails the first
N requests, then answers. Nothing is mocked: the client talks HTTP to it.
"""
from __future__ import annotations

import json
import socket
import threading
import time
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from app.ucondb.client import (
    BadRequest,
    NotFound,
    ServerError,
    TooLarge,
    UconDBClient,
    UconDBError,
    Unauthorized,
    Unreachable,
)


class Troubled(BaseHTTPRequestHandler):
    failures = 2  # answer 503 this many times, then 200
    status = 503
    seen: list

    def log_message(self, *args):  # quiet
        pass

    def _answer(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        self.server.seen.append((self.command, self.path, body))
        if len(self.server.seen) <= self.server.failures:
            payload = b"database connection lost"
            self.send_response(self.server.status)
        elif self.path.startswith("/db/app/folders"):
            payload = json.dumps(["a", "b"]).encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/json")
        elif self.path.startswith("/db/app/get_blob"):
            # The real server deflates big blobs and says so in Transfer-Encoding.
            payload = zlib.compress(b"z" * 20_000)
            self.send_response(200)
            self.send_header("Transfer-Encoding", "deflate")
        else:
            payload = json.dumps({"id": 7}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/json")
        self.send_header("Content-Length", str(len(payload)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = _answer


@pytest.fixture
def troubled():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Troubled)
    server.daemon_threads = True
    server.seen, server.failures, server.status = [], 2, 503
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                              daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def client_for(server, **kwargs) -> UconDBClient:
    kwargs.setdefault("backoff", 0.01)
    return UconDBClient(f"http://127.0.0.1:{server.server_port}/db/app", **kwargs)


def test_a_5xx_is_retried_until_it_succeeds(troubled):
    assert client_for(troubled, retries=3).folders() == ["a", "b"]
    assert len(troubled.seen) == 3


def test_the_backoff_grows(troubled):
    started = time.monotonic()
    client_for(troubled, retries=3, backoff=0.1).folders()
    assert time.monotonic() - started >= 0.1 + 0.2  # waited 0.1 s, then 0.2 s


def test_a_put_is_retried_with_its_body(troubled):
    client = client_for(troubled, retries=2, username="u", password="p")
    assert client.put_data("f", "o", b"bytes")["id"] == 7
    assert [body for _, _, body in troubled.seen] == [b"bytes"] * 3
    assert troubled.seen[0][1] == "/db/app/data/f/o?full_meta=yes"


def test_after_the_retries_a_server_error_names_the_url_and_status(troubled):
    troubled.failures = 100
    with pytest.raises(ServerError) as caught:
        client_for(troubled, retries=2).folders()
    err = caught.value
    assert err.status == 503 and "database connection lost" in err.message
    assert f"GET http://127.0.0.1:{troubled.server_port}/db/app/folders" in str(err)
    assert "HTTP 503" in str(err)
    assert len(troubled.seen) == 3


@pytest.mark.parametrize("status, error", [
    (400, BadRequest), (401, Unauthorized), (403, Unauthorized), (404, NotFound),
    (413, TooLarge), (422, BadRequest),
])
def test_a_4xx_is_raised_at_once_as_its_kind(troubled, status, error):
    troubled.failures, troubled.status = 100, status
    with pytest.raises(error) as caught:
        client_for(troubled, retries=3).objects("some_folder")
    assert caught.value.status == status and "folder=some_folder" in caught.value.url
    assert len(troubled.seen) == 1


def test_no_server_is_unreachable_after_the_retries():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    client = UconDBClient(f"http://127.0.0.1:{port}/db/app", retries=2, backoff=0.01)
    with pytest.raises(Unreachable) as caught:
        client.version()
    assert caught.value.status is None and "no answer" in str(caught.value)
    assert f"127.0.0.1:{port}/db/app/version" in str(caught.value)
    assert isinstance(caught.value, ServerError) and isinstance(caught.value, UconDBError)


def test_a_silent_server_times_out():
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)  # accepts the connection, never answers
        port = listener.getsockname()[1]
        client = UconDBClient(f"http://127.0.0.1:{port}/db/app", retries=0, timeout=(1, 0.3))
        started = time.monotonic()
        with pytest.raises(Unreachable) as caught:
            client.folders()
        assert time.monotonic() - started < 5
        assert "Timeout" in str(caught.value)


def test_a_deflated_blob_from_the_real_server_is_inflated(troubled):
    troubled.failures = 0
    assert client_for(troubled).get_blob("f", version_id=1) == b"z" * 20_000
    assert "compress=no" in troubled.seen[0][1]


def test_the_base_url_names_host_database_and_locations():
    client = UconDBClient("https://dbdata0vm.fnal.gov:9443/mu2e_ucondb_prod/app/")
    assert client.base_url == "https://dbdata0vm.fnal.gov:9443/mu2e_ucondb_prod/app"
    assert client.database == "mu2e_ucondb_prod"
    assert client.location("cnf_a_b") == "dbdata0vm.fnal.gov:/mu2e_ucondb_prod/app/data/cnf_a_b"
    assert client.data_url("f", "x y.fcl").endswith("/data/f/x%20y.fcl")
    with pytest.raises(ValueError):
        UconDBClient("ftp://host/db/app")
