"""The embedded UconDB server served over real HTTP, and clients for it.

  ucondb_server: the `app` fixture (a migrated database) served by live_server_factory, with
                 writers `writer:s3cret` and `other:pw2` and a 4096-byte blob limit;
                 .url is the API root of database mu2e_ucondb_test.
  ucon:          a UconDBClient for it, signed as `writer`, quick to give up (tests).
  anon:          a UconDBClient without credentials.
"""
from __future__ import annotations

from dataclasses import dataclass

import pytest

from app.ucondb.client import UconDBClient

DATABASE = "mu2e_ucondb_test"
WRITERS = "writer:s3cret, other:pw2"
LIMIT = 4096


@dataclass
class UconServer:
    root: str  # http://localhost:PORT
    app: object

    @property
    def url(self) -> str:
        return f"{self.root}/ucondb/{DATABASE}/app"

    def client(self, username=None, password=None, **kwargs) -> UconDBClient:
        kwargs.setdefault("retries", 1)
        kwargs.setdefault("backoff", 0.01)
        kwargs.setdefault("timeout", (5, 20))
        return UconDBClient(self.url, username=username, password=password, **kwargs)


@pytest.fixture
def ucondb_server(app, live_server_factory) -> UconServer:
    app.config.update(POMS_UCONDB_WRITERS=WRITERS, POMS_UCONDB_MAX_BLOB_BYTES=LIMIT)
    server = live_server_factory(app)
    app.config.update(POMS_UCONDB_URL=f"{server.url}/ucondb/{DATABASE}/app",
                      POMS_UCONDB_USER="writer", POMS_UCONDB_PASSWORD="s3cret")
    return UconServer(root=server.url, app=app)


@pytest.fixture
def ucon(ucondb_server) -> UconDBClient:
    return ucondb_server.client("writer", "s3cret")


@pytest.fixture
def anon(ucondb_server) -> UconDBClient:
    return ucondb_server.client()
