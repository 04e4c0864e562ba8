"""app.auth.spnego against a real MIT KDC (fixture ``kdc`` from tests.fixtures.kdc).

Every token here comes from a real client context built from a ccache that the
real ``kinit`` wrote; nothing about Kerberos is mocked.
"""

from __future__ import annotations

import base64
import logging
import os
import threading
import time

import gssapi
import gssapi.exceptions
import pytest
import requests
import requests_gssapi
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from app.auth import spnego
from app.auth.spnego import BadToken, NoCredentials, accept, realm_allowed, split_principal

pytestmark = pytest.mark.kerberos

SPNEGO = gssapi.OID.from_int_seq("1.3.6.1.5.5.2")
KRB5 = bytes.fromhex("06092a864886f712010202")  # DER OID 1.2.840.113554.1.2.2


def client_context(ccache: str, host: str = "localhost") -> gssapi.SecurityContext:
    creds = gssapi.Credentials(usage="initiate", store={"ccache": ccache})
    return gssapi.SecurityContext(
        name=gssapi.Name(f"HTTP@{host}", gssapi.NameType.hostbased_service),
        usage="initiate",
        creds=creds,
        mech=SPNEGO,
        flags=gssapi.RequirementFlag.mutual_authentication,
    )


def negotiate(token: bytes) -> str:
    return "Negotiate " + base64.b64encode(token).decode()


def header_for(ccache: str, host: str = "localhost") -> tuple[gssapi.SecurityContext, str]:
    ctx = client_context(ccache, host)
    return ctx, negotiate(ctx.step())


@pytest.fixture(scope="module")
def alice(kdc) -> str:
    return kdc.kinit("alice")


# -- (a) a real ticket ------------------------------------------------------


def test_alice_is_accepted_and_mutual_token_completes_the_client(kdc, alice):
    ctx, header = header_for(alice)
    assert not ctx.complete

    result = accept(header, kdc.keytab)

    assert result.complete
    assert result.principal == "alice@POMS.TEST"
    assert (result.user, result.realm) == ("alice", "POMS.TEST")
    assert result.token
    ctx.step(base64.b64decode(result.token))
    assert ctx.complete  # the client has authenticated the server


@pytest.mark.parametrize(
    "service", ["HTTP@localhost", "HTTP/localhost", "HTTP/localhost@POMS.TEST"]
)
def test_service_restriction_accepts_the_right_service(kdc, alice, service):
    _, header = header_for(alice)
    assert accept(header, kdc.keytab, service=service).principal == "alice@POMS.TEST"


def test_added_principal_and_realm_allow_list(kdc):
    kdc.add_principal("frank", "frank-secret-1")
    _, header = header_for(kdc.kinit("frank"))
    result = accept(header, kdc.keytab)
    assert result.principal == "frank@POMS.TEST"
    # "realm not allowed": a real principal of POMS.TEST against an allow-list without it.
    assert realm_allowed(result.realm, ["POMS.TEST"])
    assert not realm_allowed(result.realm, ["OTHER.TEST"])
    assert not realm_allowed(result.realm, ["poms.test"])  # realms are case-sensitive
    assert not realm_allowed(result.realm, [])


def test_incomplete_negotiation_returns_a_continuation_token(kdc):
    # A SPNEGO NegTokenInit that offers krb5 but carries no krb5 token: the acceptor
    # must ask for another round (complete=False) and cannot name anybody yet.
    def der(tag: int, body: bytes) -> bytes:
        assert len(body) < 128
        return bytes([tag, len(body)]) + body

    spnego_oid = bytes.fromhex("06062b0601050502")
    init = der(0x60, spnego_oid + der(0xA0, der(0x30, der(0xA0, der(0x30, KRB5)))))

    result = accept(negotiate(init), kdc.keytab)

    assert not result.complete
    assert result.principal is None and result.user is None and result.realm is None
    assert result.token


# -- (b) a ticket for another service ------------------------------------------


def test_ticket_for_another_service_is_rejected(kdc, alice):
    _, header = header_for(alice, host="otherhost")

    with pytest.raises(BadToken) as err:
        accept(header, kdc.keytab)

    assert err.value.reason == "wrong-service"
    assert "HTTP/otherhost@POMS.TEST not found in keytab" in str(err.value)
    assert err.value.token  # the SPNEGO reject / KRB-ERROR token, for WWW-Authenticate


def test_service_restriction_holds_even_when_the_keytab_has_both_keys(kdc, alice, tmp_path):
    # An MIT keytab is a 2-byte header and a list of entries: concatenating works.
    both = tmp_path / "both.keytab"
    with open(kdc.keytab, "rb") as a, open(kdc.other_keytab, "rb") as b:
        both.write_bytes(a.read() + b.read()[2:])

    _, header = header_for(alice, host="otherhost")
    assert accept(header, str(both)).principal == "alice@POMS.TEST"  # any key in the keytab

    # With ignore_acceptor_hostname, GSSAPI itself would take the otherhost ticket for
    # HTTP@localhost; accept() checks the ticket's server principal afterwards.
    _, header = header_for(alice, host="otherhost")
    with pytest.raises(BadToken) as err:
        accept(header, str(both), service="HTTP@localhost")
    assert err.value.reason == "wrong-service"
    assert "HTTP/otherhost@POMS.TEST, not HTTP/localhost@POMS.TEST" in str(err.value)


def test_replayed_token_is_rejected(kdc, alice):
    _, header = header_for(alice)
    accept(header, kdc.keytab)

    with pytest.raises(BadToken) as err:
        accept(header, kdc.keytab)

    assert err.value.reason == "replay"
    assert "Request is a replay" in str(err.value)


# -- (c) an expired ticket -------------------------------------------------------


@pytest.fixture(scope="module")
def expired(kdc):
    """bob's ccache with a 2 s TGT, plus a token made while it was valid; both expired.

    The realm's clockskew is 1 s, so after 2 s + 1 s (+ margin) nobody accepts it.
    """
    start = time.time()
    ccache = kdc.kinit("bob", lifetime="2s")
    _, old_header = header_for(ccache)
    time.sleep(max(0.0, start + 4.0 - time.time()))
    return ccache, old_header


def test_expired_ticket_token_is_rejected_by_the_acceptor(kdc, expired):
    _, old_header = expired
    with pytest.raises(BadToken) as err:
        accept(old_header, kdc.keytab)
    assert err.value.reason == "expired"
    assert "Ticket expired" in str(err.value)


def test_client_with_expired_tgt_cannot_make_a_token(expired):
    ccache, _ = expired
    with pytest.raises(gssapi.exceptions.GSSError, match="Ticket expired"):
        client_context(ccache).step()


# -- (d) malformed headers ------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        (negotiate(b"this is not a GSSAPI token"), "malformed"),
        (negotiate(b"\x60\x03\x06\x01\x00"), "malformed"),
        ("Negotiate %%%not-base64%%%", "malformed"),
        ("Negotiate YWJj=", "malformed"),  # bad padding
        ("Negotiate", "malformed"),
        ("Negotiate    ", "malformed"),
        ("", "malformed"),
        ("   ", "malformed"),
        (None, "malformed"),
        (b"Negotiate YWJj", "malformed"),  # bytes, not str
        ("Negotiate " + "A" * (spnego.MAX_HEADER + 4), "malformed"),
        ("Basic YWxpY2U6cHc=", "wrong-scheme"),
        ("Bearer abc.def.ghi", "wrong-scheme"),
    ],
)
def test_malformed_header_is_bad_token(kdc, value, reason):
    with pytest.raises(BadToken) as err:
        accept(value, kdc.keytab)
    assert err.value.reason == reason


def test_scheme_is_case_insensitive_and_truncated_token_is_bad(kdc, alice):
    _, header = header_for(alice)
    token = base64.b64decode(header.split()[1])
    with pytest.raises(BadToken) as err:
        accept("negotiate " + base64.b64encode(token[:60]).decode(), kdc.keytab)
    assert err.value.reason == "malformed"
    assert accept("NEGOTIATE  " + header.split()[1], kdc.keytab).user == "alice"


# -- (e) no acceptor credentials ----------------------------------------------------------


def test_missing_keytab(kdc, alice, tmp_path):
    missing = tmp_path / "nope.keytab"
    _, header = header_for(alice)  # a good token: the server is at fault
    with pytest.raises(NoCredentials) as err:
        accept(header, str(missing))
    assert str(err.value) == f"acceptor keytab {missing}: does not exist"
    assert err.value.keytab == str(missing)

    with pytest.raises(NoCredentials, match="does not exist"):
        accept(header, f"FILE:{missing}")


def test_unusable_keytabs(kdc, alice, tmp_path):
    # chmod 000 means nothing to root, so "unreadable" is shown with paths GSSAPI
    # cannot use: a directory, an empty file and a file that is not a keytab.
    _, header = header_for(alice)
    not_keytab = tmp_path / "keytab.txt"
    not_keytab.write_text("hello\n")
    empty = tmp_path / "empty.keytab"
    empty.write_bytes(b"")
    cases = [
        (tmp_path, "is not a regular file"),
        (empty, "is empty"),
        (not_keytab, "is not a keytab (bad header b'he')"),
    ]
    for path, message in cases:
        with pytest.raises(NoCredentials) as err:
            accept(header, str(path))
        assert str(err.value) == f"acceptor keytab {path}: {message}"


def test_keytab_without_the_service_key(kdc, alice):
    _, header = header_for(alice)
    with pytest.raises(NoCredentials) as err:
        accept(header, kdc.other_keytab, service="HTTP/localhost@POMS.TEST")
    assert f"acceptor keytab {kdc.other_keytab}: no usable key" in str(err.value)
    assert "No key table entry found for HTTP/localhost@POMS.TEST" in str(err.value)


def test_no_keytab_configured(kdc, alice, monkeypatch):
    monkeypatch.delenv("KRB5_KTNAME", raising=False)
    _, header = header_for(alice)
    with pytest.raises(NoCredentials, match="no acceptor keytab configured"):
        accept(header, None)
    monkeypatch.setenv("KRB5_KTNAME", kdc.keytab)
    assert accept(header_for(alice)[1], None).user == "alice"


# -- (f) a full HTTP round trip ---------------------------------------------------------------


class NegotiateApp:
    """A plain WSGI app protected by accept(): the shape the Flask layer will have."""

    def __init__(self, keytab: str, allowed_realms: list[str]):
        self.keytab = keytab
        self.allowed_realms = allowed_realms

    def __call__(self, environ, start_response):
        request = Request(environ)
        header = request.headers.get("Authorization")
        if not header:
            response = Response("login required\n", 401, {"WWW-Authenticate": "Negotiate"})
            return response(environ, start_response)
        try:
            result = accept(header, self.keytab, service="HTTP@localhost")
        except NoCredentials:
            response = Response("authentication unavailable\n", 503)
        except BadToken as e:
            challenge = "Negotiate" + (f" {e.token}" if e.token else "")
            response = Response(f"denied: {e.reason}\n", 401, {"WWW-Authenticate": challenge})
        else:
            headers = {"WWW-Authenticate": f"Negotiate {result.token}"} if result.token else {}
            if not result.complete:
                response = Response("continue\n", 401, headers)
            elif not realm_allowed(result.realm, self.allowed_realms):
                response = Response(f"realm {result.realm} not allowed\n", 403, headers)
            else:
                response = Response(f"hello {result.user} ({result.principal})\n", 200, headers)
        return response(environ, start_response)


@pytest.fixture(scope="module")
def server(kdc):
    app = NegotiateApp(kdc.keytab, ["POMS.TEST"])
    httpd = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    # The host in the URL picks the service principal: localhost, never 127.0.0.1.
    app.url = f"http://localhost:{httpd.server_port}/"
    yield app
    httpd.shutdown()
    httpd.server_close()
    thread.join(timeout=5)


def spnego_get(url: str, ccache: str) -> requests.Response:
    auth = requests_gssapi.HTTPSPNEGOAuth(
        creds=gssapi.Credentials(usage="initiate", store={"ccache": ccache}),
        mutual_authentication=requests_gssapi.REQUIRED,
    )
    with requests.Session() as session:
        session.trust_env = False  # no HTTP(S)_PROXY detour for localhost
        return session.get(url, auth=auth, timeout=10)


def test_http_round_trip_with_mutual_authentication(server, alice):
    plain = requests.Session()
    plain.trust_env = False
    anonymous = plain.get(server.url, timeout=10)
    assert anonymous.status_code == 401
    assert anonymous.headers["WWW-Authenticate"] == "Negotiate"

    response = spnego_get(server.url, alice)

    assert response.status_code == 200, response.text
    assert response.text == "hello alice (alice@POMS.TEST)\n"
    # REQUIRED mutual auth: requests-gssapi raised if this token had not verified.
    assert response.headers["WWW-Authenticate"].startswith("Negotiate ")


def test_http_realm_not_allowed_is_403(server, kdc, monkeypatch):
    monkeypatch.setattr(server, "allowed_realms", ["OTHER.TEST"])
    response = spnego_get(server.url, kdc.kinit("carol"))
    assert response.status_code == 403
    assert response.text == "realm POMS.TEST not allowed\n"


def test_http_missing_keytab_is_503(server, kdc, monkeypatch, tmp_path):
    monkeypatch.setattr(server, "keytab", str(tmp_path / "gone.keytab"))
    response = spnego_get(server.url, kdc.kinit("dave"))
    assert response.status_code == 503


def test_http_with_expired_ticket_user_sees_401(server, expired, caplog):
    ccache, _ = expired
    with caplog.at_level(logging.ERROR, logger="requests_gssapi"):
        response = spnego_get(server.url, ccache)
    # requests-gssapi cannot make a token, gives up and returns the server's challenge.
    assert response.status_code == 401
    assert response.text == "login required\n"
    assert "Ticket expired" in caplog.text


# -- helpers without a KDC ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("principal", "parts"),
    [
        ("alice@POMS.TEST", ("alice", "POMS.TEST")),
        ("HTTP/localhost@POMS.TEST", ("HTTP/localhost", "POMS.TEST")),
        ("alice", ("alice", "")),
        ("a\\@b@FNAL.GOV", ("a\\@b", "FNAL.GOV")),
        ("a@b@FNAL.GOV", ("a@b", "FNAL.GOV")),
        ("", ("", "")),
    ],
)
def test_split_principal(principal, parts):
    assert split_principal(principal) == parts


def test_realm_allowed_is_exact():
    assert realm_allowed("FNAL.GOV", ["FNAL.GOV", "SERVICES.FNAL.GOV"])
    assert not realm_allowed("fnal.gov", ["FNAL.GOV"])
    assert not realm_allowed("", [""])


def test_kdc_environment(kdc):
    assert os.environ["KRB5_CONFIG"] == kdc.krb5_config
    assert os.environ["KRB5CCNAME"].startswith(f"FILE:{kdc.dir}")
