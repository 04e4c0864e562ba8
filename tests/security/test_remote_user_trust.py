"""Issue 17: POMS_AUTH=remote_user believed an X-Remote-User header from 127.0.0.1 by
default, so any process on the POMS host could sign in as anyone. No front end is trusted
unless one is named; named ones are addresses or networks."""
from __future__ import annotations

from pathlib import Path

import pytest

from app.auth import members
from app.config import ConfigError, is_trusted_proxy, load_config
from app.extensions import db


def test_no_front_end_is_trusted_by_default(tmp_path):
    config = load_config(tmp_path, {"POMS_SECRET_KEY": "x", "POMS_AUTH": "remote_user"})
    assert config["POMS_TRUSTED_PROXIES"] == []


def test_remote_user_without_a_trusted_front_end_does_not_start(make_app):
    with pytest.raises(ConfigError, match="POMS_TRUSTED_PROXIES"):
        make_app(POMS_AUTH="remote_user", POMS_TRUSTED_PROXIES=[], POMS_REALMS=["FNAL.GOV"])


def test_a_host_name_is_refused_at_start_up(tmp_path: Path):
    with pytest.raises(ConfigError, match="not an IP address or network"):
        load_config(tmp_path, {"POMS_SECRET_KEY": "x", "POMS_TRUSTED_PROXIES": "apache.local"})


def test_addresses_and_networks(tmp_path):
    config = load_config(tmp_path, {"POMS_SECRET_KEY": "x",
                                    "POMS_TRUSTED_PROXIES": "10.1.2.3, 192.168.7.0/24, ::1"})
    proxies = config["POMS_TRUSTED_PROXIES"]
    assert is_trusted_proxy("10.1.2.3", proxies)
    assert is_trusted_proxy("192.168.7.99", proxies)
    assert is_trusted_proxy("::1", proxies)
    assert not is_trusted_proxy("127.0.0.1", proxies)
    assert not is_trusted_proxy("10.1.2.4", proxies)
    assert not is_trusted_proxy("garbage", proxies)


@pytest.fixture
def front_end_elsewhere(make_app):
    """The operator named their Apache (10.1.2.3); a local process tries the header."""
    app = make_app(POMS_AUTH="remote_user", POMS_TRUSTED_PROXIES=["10.1.2.3"],
                   POMS_REALMS=["FNAL.GOV"], SESSION_COOKIE_SECURE=False)
    with app.app_context():
        members.ensure_member(members.find_or_create_experiment("mu2e"),
                              members.find_or_create_experimenter("boss"), "superuser")
        db.session.commit()
    return app


def test_the_header_from_loopback_is_not_believed(front_end_elsewhere):
    client = front_end_elsewhere.test_client()
    for peer in ("127.0.0.1", "::1"):
        response = client.get("/e/mu2e/members", headers={"X-Remote-User": "boss@FNAL.GOV"},
                              environ_base={"REMOTE_ADDR": peer})
        assert response.status_code == 401, peer
        api = client.get("/api/v1/me", headers={"X-Remote-User": "boss@FNAL.GOV"},
                         environ_base={"REMOTE_ADDR": peer})
        assert api.status_code == 401
    believed = client.get("/e/mu2e/members", headers={"X-Remote-User": "boss@FNAL.GOV"},
                          environ_base={"REMOTE_ADDR": "10.1.2.3"})
    assert believed.status_code == 200
