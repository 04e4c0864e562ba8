"""POMS_AUTH=remote_user: Apache with mod_auth_gssapi in front says who is asking, in
X-Remote-User (or REMOTE_USER), and only a front end listed in POMS_TRUSTED_PROXIES is
believed."""
from __future__ import annotations

import logging

import pytest

from app.auth import members
from app.extensions import db

FRONT_END = "10.1.2.3"


@pytest.fixture
def proxied(make_app):
    app = make_app(POMS_AUTH="remote_user", POMS_TRUSTED_PROXIES=[FRONT_END],
                   POMS_REALMS=["FNAL.GOV"], SESSION_COOKIE_SECURE=False)
    with app.app_context():
        for username in ("alice", "bob"):
            members.ensure_member(members.find_or_create_experiment("mu2e"),
                                  members.find_or_create_experimenter(username), "analysis")
        db.session.commit()
    client = app.test_client()

    def get(path, user=None, remote_addr=FRONT_END, environ=None, **kwargs):
        headers = {"X-Remote-User": user} if user else {}
        base = {"REMOTE_ADDR": remote_addr, **(environ or {})}
        return client.get(path, headers=headers, environ_base=base, **kwargs)

    get.client = client
    return get


def who(response) -> str | None:
    html = response.get_data(as_text=True)
    start = html.find('<span class="who">')
    return html[start + 18:html.index("<", start + 18)] if start >= 0 else None


@pytest.mark.parametrize("value", ["alice@FNAL.GOV", "alice"])
def test_front_end_user_is_signed_in(proxied, value):
    response = proxied("/e/mu2e/campaigns", user=value)
    assert response.status_code == 200
    assert who(response) == "alice"


def test_remote_user_in_the_environment(proxied):
    response = proxied("/e/mu2e/campaigns", environ={"REMOTE_USER": "bob@FNAL.GOV"})
    assert who(response) == "bob"


def test_header_from_an_untrusted_address_is_ignored(proxied, caplog):
    with caplog.at_level(logging.WARNING, logger="app.auth.remote_user"):
        response = proxied("/e/mu2e/campaigns", user="alice", remote_addr="10.9.9.9")
    assert response.status_code == 401
    assert "did not say who you are" in response.get_data(as_text=True)
    assert "not in POMS_TRUSTED_PROXIES" in caplog.text


def test_identity_is_never_kept_in_the_session(proxied):
    assert proxied("/e/mu2e/campaigns", user="alice").status_code == 200
    assert proxied("/e/mu2e/campaigns").status_code == 401  # same cookie, no word from Apache
    assert who(proxied("/e/mu2e/campaigns", user="bob")) == "bob"


def test_realm_not_allowed_and_unknown_person(proxied):
    refused = proxied("/e/mu2e/campaigns", user="alice@EVIL.ORG")
    assert refused.status_code == 403
    assert "realm is not accepted" in refused.get_data(as_text=True)
    unknown = proxied("/e/mu2e/campaigns", user="mallory@FNAL.GOV")
    assert unknown.status_code == 403
    assert "Not registered in any experiment" in unknown.get_data(as_text=True)
    assert "Campaigns of" not in unknown.get_data(as_text=True)


def test_login_page_goes_on_when_signed_in(proxied):
    response = proxied("/login?next=/e/mu2e/campaigns", user="alice")
    assert response.status_code == 302
    assert response.headers["Location"] == "/e/mu2e/campaigns"
    assert proxied("/login").status_code == 401
