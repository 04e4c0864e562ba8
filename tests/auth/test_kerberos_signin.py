"""POMS_AUTH=kerberos end to end: a real MIT KDC (fixture `kdc`), real tickets from the real
`kinit`, requests-gssapi against the app served on http://localhost:PORT.

Nothing about Kerberos is mocked: every token is made by a client GSSAPI context from a
ccache the real kinit wrote, and the app checks it with the test realm's keytab.
"""
from __future__ import annotations

import base64
import logging
import re
import time

import gssapi
import pytest
import requests
import requests_gssapi

from app.auth import members
from app.extensions import db

pytestmark = pytest.mark.kerberos

SPNEGO = gssapi.OID.from_int_seq("1.3.6.1.5.5.2")
EXPERIMENT = "mu2e"


def negotiate_header(ccache: str, host: str = "localhost") -> str:
    """`Negotiate <token>` for HTTP@host, made from `ccache` by a real client context."""
    creds = gssapi.Credentials(usage="initiate", store={"ccache": ccache})
    ctx = gssapi.SecurityContext(
        name=gssapi.Name(f"HTTP@{host}", gssapi.NameType.hostbased_service),
        usage="initiate", creds=creds, mech=SPNEGO,
        flags=gssapi.RequirementFlag.mutual_authentication,
    )
    return "Negotiate " + base64.b64encode(ctx.step()).decode()


def spnego_session(ccache: str | None) -> requests.Session:
    http = requests.Session()
    http.trust_env = False  # no proxy detour for localhost
    if ccache:
        http.auth = requests_gssapi.HTTPSPNEGOAuth(
            creds=gssapi.Credentials(usage="initiate", store={"ccache": ccache}),
            mutual_authentication=requests_gssapi.REQUIRED,
        )
    return http


def add(app, experiment: str, username: str, role: str) -> None:
    with app.app_context():
        exp = members.find_or_create_experiment(experiment)
        members.ensure_member(exp, members.find_or_create_experimenter(username), role)
        db.session.commit()


@pytest.fixture
def kerberos_app(make_app, kdc):
    def make(**config):
        settings = dict(
            POMS_AUTH="kerberos", POMS_KEYTAB=kdc.keytab, POMS_REALMS=[kdc.realm],
            # Plain http://localhost in tests: a Secure cookie would never come back.
            SESSION_COOKIE_SECURE=False,
        )
        settings.update(config)
        app = make_app(**settings)
        add(app, EXPERIMENT, "alice", "production")
        return app

    return make


@pytest.fixture
def served(kerberos_app, live_server_factory):
    app = kerberos_app()
    return app, live_server_factory(app).url


@pytest.fixture(scope="module")
def alice_ccache(kdc):
    return kdc.kinit("alice")


# --- a good ticket ----------------------------------------------------------------------


def test_good_ticket_signs_in_once_per_session(served, alice_ccache):
    _app, url = served
    http = spnego_session(alice_ccache)

    first = http.get(f"{url}/e/{EXPERIMENT}/campaigns", timeout=10)

    assert first.status_code == 200, first.text
    assert "Campaigns of mu2e" in first.text
    assert '<span class="who">alice</span>' in first.text
    # REQUIRED mutual authentication: requests-gssapi checked this token, or it had raised.
    assert first.headers["WWW-Authenticate"].startswith("Negotiate ")
    assert [r.status_code for r in first.history] == [401]  # the challenge, then the ticket
    assert "session" in http.cookies

    # The session carries on: no Authorization header, no handshake, same person.
    http.auth = None
    again = http.get(f"{url}/e/{EXPERIMENT}/campaigns", timeout=10)
    assert again.status_code == 200
    assert "WWW-Authenticate" not in again.headers
    assert '<span class="who">alice</span>' in again.text


def test_index_signs_in_and_goes_to_the_experiment(served, alice_ccache):
    _app, url = served
    response = spnego_session(alice_ccache).get(f"{url}/", timeout=10)
    assert response.status_code == 200
    assert response.url.endswith(f"/e/{EXPERIMENT}/dashboard")


def test_service_principal_restriction_accepts_the_right_service(
    kerberos_app, live_server_factory, alice_ccache
):
    app = kerberos_app(POMS_SERVICE_PRINCIPAL="HTTP@localhost")
    url = live_server_factory(app).url
    assert spnego_session(alice_ccache).get(f"{url}/e/{EXPERIMENT}/campaigns").status_code == 200


# --- no ticket, bad tickets -------------------------------------------------------------


def test_no_ticket_gets_a_negotiate_challenge_and_kinit_help(served):
    _app, url = served
    response = spnego_session(None).get(f"{url}/e/{EXPERIMENT}/campaigns", timeout=10)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Negotiate"
    assert "kinit" in response.text
    assert "network.negotiate-auth.trusted-uris" in response.text  # Firefox
    assert "AuthServerAllowlist" in response.text  # Chrome
    assert "Campaigns of" not in response.text


def test_htmx_request_without_a_session_gets_401_too(served):
    _app, url = served
    response = spnego_session(None).get(
        f"{url}/e/{EXPERIMENT}/campaigns", headers={"HX-Request": "true"}, timeout=10
    )
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Negotiate"
    assert response.text.startswith('<p class="error"')


def test_ticket_for_another_service_is_refused(served, alice_ccache, caplog):
    _app, url = served
    header = negotiate_header(alice_ccache, host="otherhost")
    with caplog.at_level(logging.WARNING, logger="app.auth.kerberos"):
        response = spnego_session(None).get(
            f"{url}/e/{EXPERIMENT}/campaigns", headers={"Authorization": header}, timeout=10
        )
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Negotiate"
    assert "ticket for another service" in response.text
    assert "wrong-service" in caplog.text


@pytest.mark.parametrize(
    "header",
    [
        "Negotiate Z2FyYmFnZQ==",  # base64 of "garbage"
        "Negotiate %%%not-base64%%%",
        "Negotiate",
        "Negotiate " + base64.b64encode(b"\x60\x03\x06\x01\x00").decode(),
    ],
)
def test_garbage_token_is_refused(served, header):
    _app, url = served
    response = spnego_session(None).get(
        f"{url}/e/{EXPERIMENT}/campaigns", headers={"Authorization": header}, timeout=10
    )
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Negotiate"
    assert "Campaigns of" not in response.text


def test_other_authorization_schemes_are_only_challenged(served):
    _app, url = served
    response = spnego_session(None).get(
        f"{url}/e/{EXPERIMENT}/campaigns", headers={"Authorization": "Basic YWxpY2U6cHc="},
        timeout=10,
    )
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Negotiate"


@pytest.fixture(scope="module")
def expired(kdc):
    """bob's 2 s ticket and a token made while it was good; both unusable 4 s later (the
    test realm's clock skew is 1 s)."""
    start = time.time()
    ccache = kdc.kinit("bob", lifetime="2s")
    header = negotiate_header(ccache)
    time.sleep(max(0.0, start + 4.0 - time.time()))
    return ccache, header


def test_expired_ticket_is_refused(kerberos_app, live_server_factory, expired, caplog):
    app = kerberos_app()
    add(app, EXPERIMENT, "bob", "analysis")
    url = live_server_factory(app).url
    ccache, old_header = expired

    with caplog.at_level(logging.WARNING, logger="app.auth.kerberos"):
        response = spnego_session(None).get(
            f"{url}/e/{EXPERIMENT}/campaigns", headers={"Authorization": old_header}, timeout=10
        )
    assert response.status_code == 401
    assert "expired: run kinit again" in response.text
    assert "(expired)" in caplog.text

    # A browser-like client with the expired ccache cannot even make a token.
    with caplog.at_level(logging.ERROR, logger="requests_gssapi"):
        response = spnego_session(ccache).get(f"{url}/e/{EXPERIMENT}/campaigns", timeout=10)
    assert response.status_code == 401


# --- who may sign in ----------------------------------------------------------------------


def test_realm_not_allowed_is_refused(kerberos_app, live_server_factory, alice_ccache):
    app = kerberos_app(POMS_REALMS=["FNAL.GOV"])
    url = live_server_factory(app).url
    http = spnego_session(alice_ccache)
    response = http.get(f"{url}/e/{EXPERIMENT}/campaigns", timeout=10)
    assert response.status_code == 403
    assert "realm is not accepted" in response.text
    assert "alice@POMS.TEST" in response.text
    http.auth = None
    assert http.get(f"{url}/e/{EXPERIMENT}/campaigns", timeout=10).status_code == 401


def test_unknown_principal_sees_not_registered_and_no_data(served, kdc):
    _app, url = served
    http = spnego_session(kdc.kinit("erin"))  # a real principal POMS has never heard of
    response = http.get(f"{url}/e/{EXPERIMENT}/campaigns", timeout=10)
    assert response.status_code == 403
    assert "Not registered in any experiment" in response.text
    assert "erin" in response.text
    assert "Campaigns of" not in response.text and "mu2e" not in response.text
    http.auth = None
    assert http.get(f"{url}/", timeout=10).status_code == 401  # no session was made


def test_registered_without_experiments_is_signed_in_but_sees_nothing(
    served, kdc
):
    app, url = served
    with app.app_context():
        members.find_or_create_experimenter("dave")
        db.session.commit()
    http = spnego_session(kdc.kinit("dave"))
    assert http.get(f"{url}/", timeout=10).status_code == 403
    http.auth = None
    response = http.get(f"{url}/e/{EXPERIMENT}/campaigns", timeout=10)
    assert response.status_code == 403
    assert "not a member of mu2e" in response.text


def test_admin_from_config_signs_in_without_a_membership(kerberos_app, live_server_factory, kdc):
    app = kerberos_app(POMS_ADMINS=[f"admin@{kdc.realm}"])
    url = live_server_factory(app).url
    response = spnego_session(kdc.kinit("admin")).get(f"{url}/", timeout=10)
    assert response.status_code == 200
    assert response.url.endswith("/admin/experiments")
    assert "Create experiment" in response.text


# --- the keytab ---------------------------------------------------------------------------


def test_missing_keytab_is_503_with_the_reason_in_the_log(
    kerberos_app, live_server_factory, alice_ccache, tmp_path, caplog
):
    gone = tmp_path / "gone.keytab"
    with caplog.at_level(logging.ERROR, logger="app.auth.kerberos"):
        app = kerberos_app(POMS_KEYTAB=str(gone))
        url = live_server_factory(app).url
        challenge = spnego_session(None).get(f"{url}/e/{EXPERIMENT}/campaigns", timeout=10)
        with_ticket = requests.get(
            f"{url}/e/{EXPERIMENT}/campaigns",
            headers={"Authorization": negotiate_header(alice_ccache)}, timeout=10,
        )
    for response in (challenge, with_ticket):
        assert response.status_code == 503
        assert "Sign-in is unavailable" in response.text
        assert "Campaigns of" not in response.text
    assert f"acceptor keytab {gone}: does not exist" in caplog.text


def test_unreadable_keytab_is_503(kerberos_app, live_server_factory, alice_ccache, tmp_path,
                                   caplog):
    # chmod 000 means nothing to root: "unreadable" is a file GSSAPI cannot use.
    broken = tmp_path / "broken.keytab"
    broken.write_text("not a keytab\n")
    app = kerberos_app(POMS_KEYTAB=str(broken))
    url = live_server_factory(app).url
    with caplog.at_level(logging.ERROR, logger="app.auth.kerberos"):
        response = requests.get(
            f"{url}/e/{EXPERIMENT}/campaigns",
            headers={"Authorization": negotiate_header(alice_ccache)}, timeout=10,
        )
    assert response.status_code == 503
    assert "is not a keytab" in caplog.text


# --- the session ------------------------------------------------------------------------


def test_session_cookie_is_secure_and_httponly_by_default(make_app, kdc, alice_ccache,
                                                          tmp_path):
    from app.config import load_config

    production = load_config(tmp_path, {"POMS_AUTH": "kerberos", "POMS_SECRET_KEY": "x"})
    assert production["SESSION_COOKIE_SECURE"] is True
    assert production["SESSION_COOKIE_HTTPONLY"] is True
    # The mode given to create_app (not only through the environment) makes it Secure too.
    app = make_app(POMS_AUTH="kerberos", POMS_KEYTAB=kdc.keytab, POMS_REALMS=[kdc.realm])
    add(app, EXPERIMENT, "alice", "production")
    client = app.test_client()
    response = client.get(
        f"/e/{EXPERIMENT}/campaigns", headers={"Authorization": negotiate_header(alice_ccache)}
    )
    assert response.status_code == 200
    cookie = response.headers["Set-Cookie"]
    assert re.search(r"; Secure", cookie) and re.search(r"; HttpOnly", cookie)
    assert "SameSite=Lax" in cookie
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")


def test_tampered_session_cookie_is_not_signed_in(served, alice_ccache):
    _app, url = served
    http = spnego_session(alice_ccache)
    assert http.get(f"{url}/e/{EXPERIMENT}/campaigns", timeout=10).status_code == 200
    http.auth = None
    value = http.cookies["session"]
    payload, _, signature = value.rpartition(".")
    tampered = payload + "." + ("A" if signature[0] != "A" else "B") + signature[1:]
    http.cookies.clear()
    http.cookies.set("session", tampered)
    response = http.get(f"{url}/e/{EXPERIMENT}/campaigns", timeout=10)
    assert response.status_code == 401
    assert "Campaigns of" not in response.text
    # The untouched cookie still works: it was the signature that failed.
    http.cookies.clear()
    http.cookies.set("session", value)
    assert http.get(f"{url}/e/{EXPERIMENT}/campaigns", timeout=10).status_code == 200


def test_sign_out_ends_the_session(served, alice_ccache):
    _app, url = served
    http = spnego_session(alice_ccache)
    page = http.get(f"{url}/e/{EXPERIMENT}/campaigns", timeout=10)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    http.auth = None
    out = http.post(f"{url}/logout", data={"csrf_token": token}, timeout=10)
    assert out.status_code == 200
    assert "Signed out" in out.text
    assert http.get(f"{url}/e/{EXPERIMENT}/campaigns", timeout=10).status_code == 401


def test_a_new_ticket_for_someone_else_replaces_the_session(kerberos_app, kdc, alice_ccache):
    app = kerberos_app()
    add(app, EXPERIMENT, "carol", "superuser")
    client = app.test_client()
    first = client.get("/", headers={"Authorization": negotiate_header(alice_ccache)})
    assert first.status_code == 302
    assert '<span class="who">alice</span>' in client.get(
        f"/e/{EXPERIMENT}/campaigns").get_data(as_text=True)
    carol = client.get(f"/e/{EXPERIMENT}/members",
                       headers={"Authorization": negotiate_header(kdc.kinit("carol"))})
    assert carol.status_code == 200
    assert '<span class="who">carol</span>' in carol.get_data(as_text=True)
    # and the session is carol's from now on
    assert client.get(f"/e/{EXPERIMENT}/members").status_code == 200
