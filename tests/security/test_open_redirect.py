"""Issue 17: `POST /login?next=/%09/evil.example` sent people to //evil.example (browsers
drop the tab), and `next=/%0A/...` was a 500. The probe's payloads, and the other known
open-redirect forms, replayed against the sign-in: each must land on this site."""
from __future__ import annotations

from urllib.parse import quote, unquote, urlsplit

import pytest

from app.auth import members
from app.auth.redirects import is_same_site_path, safe_next
from app.extensions import db
from tests.fixtures.app import csrf_token

# As they travel in the query string: what the attacker's link says, percent-encoded or not.
PAYLOADS = [
    "/%09/evil.example",  # the probe's: a tab between the slashes
    "/%0A/evil.example",  # the probe's 500: a newline in the Location header
    "/%0D/evil.example",
    "/%0D%0ALocation:%20https://evil.example",
    "/%00/evil.example",
    "/%20/evil.example",
    "%20//evil.example",
    "%09//evil.example",
    "//evil.example",
    "///evil.example",
    "////evil.example/x",
    "/%2F/evil.example",
    "%2F%2Fevil.example",
    "/%252F%252Fevil.example",
    "/%5Cevil.example",
    "/%5C/evil.example",
    "%5C%5Cevil.example",
    "/%5C%5Cevil.example",
    "/%2509/evil.example",
    "\\\\evil.example",
    "/\\evil.example",
    "\\/evil.example",
    "https://evil.example",
    "https:evil.example",
    "http://evil.example/",
    "HTTPS://evil.example",
    "//evil.example@localhost/",
    "javascript:alert(document.domain)",
    "JaVaScRiPt:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "evil.example",
    "@evil.example",
    "/%E3%80%80/evil.example",  # an ideographic space
    "/%EF%BC%8F/evil.example",  # a fullwidth solidus
    "/\u3000/evil.example",
    "\uff0f\uff0fevil.example",
    "/" + "a" * 5000,
]
# Paths of this site that only look odd: a browser stays here with them (a fullwidth
# solidus is no slash in a path; %252F decoded once is %2F, still inside the path), so they
# may be followed.
STAY_ON_SITE = {"/%EF%BC%8F/evil.example", "/%252F%252Fevil.example"}


def lands_on_this_site(location: str) -> bool:
    """What a browser does with a Location: drop tabs and line breaks, trim the ends, read
    backslashes as slashes; the result must have no other host and no scheme."""
    cleaned = "".join(ch for ch in location if ch not in "\t\r\n").strip(" \x00")
    cleaned = cleaned.replace("\\", "/")
    parts = urlsplit(cleaned)
    return cleaned.startswith("/") and not cleaned.startswith("//") and \
        parts.netloc in ("", "localhost") and parts.scheme in ("", "http")


@pytest.fixture
def alice(app, member):
    member("mu2e", "alice", "analysis")


@pytest.mark.parametrize("payload", PAYLOADS)
def test_sign_in_never_redirects_off_site(client, alice, payload):
    token = csrf_token(client)
    response = client.post(f"/login?next={payload}",
                           data={"username": "alice", "csrf_token": token})
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    location = response.headers["Location"]
    assert lands_on_this_site(location), location
    assert location == "/" or payload in STAY_ON_SITE, f"{payload!r} was followed to {location!r}"


@pytest.mark.parametrize("payload", PAYLOADS)
def test_the_signed_in_login_page_never_redirects_off_site(make_app, payload):
    """Kerberos and remote_user sign in on any page and pass /login on to `next`."""
    app = make_app(POMS_AUTH="remote_user", POMS_TRUSTED_PROXIES=["10.1.2.3"],
                   POMS_REALMS=["FNAL.GOV"], SESSION_COOKIE_SECURE=False)
    with app.app_context():
        members.ensure_member(members.find_or_create_experiment("mu2e"),
                              members.find_or_create_experimenter("alice"), "analysis")
        db.session.commit()
    response = app.test_client().get(f"/login?next={payload}",
                                     headers={"X-Remote-User": "alice@FNAL.GOV"},
                                     environ_base={"REMOTE_ADDR": "10.1.2.3"})
    assert response.status_code == 302
    assert lands_on_this_site(response.headers["Location"])
    assert response.headers["Location"] == "/" or payload in STAY_ON_SITE


@pytest.mark.parametrize("target", [
    "/e/mu2e/campaigns",
    "/e/mu2e/audit?person=a%20b&since=2026-01-01",
    "/e/mu2e/campaign/3?x=%2F%2Fnot-a-host",
    "/",
])
def test_same_site_targets_are_followed(client, alice, target):
    token = csrf_token(client)
    response = client.post(f"/login?next={quote(target, safe='')}",
                           data={"username": "alice", "csrf_token": token})
    assert response.headers["Location"] == target


def test_the_rule_itself():
    for payload in PAYLOADS:
        received = unquote(payload)  # what the view reads from the query string
        if payload not in STAY_ON_SITE:
            assert not is_same_site_path(received), received
        assert lands_on_this_site(safe_next(received, "/"))
    assert safe_next(None, "/home") == "/home"
    assert safe_next("/e/mu2e/campaigns", "/") == "/e/mu2e/campaigns"
