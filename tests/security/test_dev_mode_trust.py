"""Issue 17: dev mode (sign-in by typed name) trusted any 127.x peer, including a proxy on
the same host passing on the world's requests, and took anything starting with "127." for
POMS_HOST. A forwarded request is refused; only real loopback addresses are loopback."""
from __future__ import annotations

import pytest

from app import create_app
from app.auth.session import FORWARDING_HEADERS
from app.config import ConfigError, is_loopback
from tests.fixtures.app import csrf_token

# What nginx, Apache mod_proxy, HAProxy, Caddy, CDNs and `ssh -R` + a web server add.
FORWARDED = [
    {"X-Forwarded-For": "203.0.113.7"},
    {"X-Forwarded-For": "127.0.0.1"},  # a proxy may even claim loopback for its client
    {"Forwarded": "for=203.0.113.7;proto=https"},
    {"X-Real-IP": "203.0.113.7"},
    {"X-Forwarded-Host": "poms.example.org"},
    {"X-Forwarded-Proto": "https"},
    {"X-Client-IP": "203.0.113.7"},
    {"True-Client-IP": "203.0.113.7"},
    {"CF-Connecting-IP": "203.0.113.7"},
    {"Via": "1.1 proxy.example.org"},
    {"x-forwarded-for": "203.0.113.7"},  # header names are case-blind
]


@pytest.fixture
def alice(app, member):
    member("mu2e", "alice", "superuser")


@pytest.mark.parametrize("headers", FORWARDED, ids=[next(iter(h)) for h in FORWARDED])
def test_a_forwarded_request_is_refused_in_dev_mode(client, alice, headers):
    # The probe's replay: a proxy on this host (peer 127.0.0.1) passing on a sign-in.
    token = csrf_token(client)
    response = client.post("/login", data={"username": "alice", "csrf_token": token},
                           headers=headers, environ_base={"REMOTE_ADDR": "127.0.0.1"})
    assert response.status_code == 403
    assert "not through a proxy" in response.get_data(as_text=True)
    # ...and the API's typed-name header too.
    api = client.get("/api/v1/me", headers={**headers, "X-POMS-User": "alice"})
    assert api.status_code == 403 and "not through a proxy" in api.get_json()["error"]


def test_every_listed_header_is_refused(client, alice):
    for name in FORWARDING_HEADERS:
        response = client.get("/login", headers={name: "203.0.113.7"})
        assert response.status_code == 403, name


def test_a_direct_loopback_request_still_signs_in(client, alice):
    for peer in ("127.0.0.1", "127.8.9.10", "::1"):
        token = csrf_token(client)  # each sign-in starts a new session, with a new token
        response = client.post("/login", data={"username": "alice", "csrf_token": token},
                               environ_base={"REMOTE_ADDR": peer})
        assert response.status_code == 302, peer


def test_a_peer_off_loopback_is_refused(client, alice):
    for peer in ("10.0.0.5", "203.0.113.7", "::ffff:203.0.113.7"):
        assert client.get("/login", environ_base={"REMOTE_ADDR": peer}).status_code == 403


@pytest.mark.parametrize(("host", "loopback"), [
    ("127.0.0.1", True), ("127.1.2.3", True), ("localhost", True), ("LOCALHOST", True),
    ("::1", True), ("[::1]", True),
    ("127.0.0.1.nip.io", False), ("127.evil.example", False), ("127.", False),
    ("0.0.0.0", False), ("::", False), ("", False), (None, False), ("10.0.0.1", False),
    ("localhost.evil.example", False), ("127.0.0.1 ", True), ("::ffff:127.0.0.1", False),
])
def test_only_real_loopback_addresses_are_loopback(host, loopback):
    assert is_loopback(host) is loopback


@pytest.mark.parametrize("host", ["127.0.0.1.nip.io", "127.evil.example", "0.0.0.0"])
def test_dev_mode_refuses_to_say_it_listens_off_loopback(host, tmp_path):
    with pytest.raises(ConfigError, match="must not listen on"):
        create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/x.db",
                    "SECRET_KEY": "x", "POMS_AUTH": "dev", "POMS_HOST": host})
