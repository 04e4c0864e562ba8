"""The API and the `poms` client against a POMS_AUTH=kerberos server, with real tickets from
the test KDC (fixture `kdc`; the URL host is `localhost`, the service HTTP/localhost;
kerberos_server and holding_ticket are in conftest.py)."""
from __future__ import annotations

import base64

import gssapi
import pytest
import requests
import requests_gssapi

from tests.api.support import API, TUTORIAL, bearer_token_file, tutorial_text
from tests.client.conftest import holding_ticket

pytestmark = pytest.mark.kerberos
SPNEGO = gssapi.OID.from_int_seq("1.3.6.1.5.5.2")


def test_without_a_ticket_the_api_says_401_negotiate_in_json(poms, kerberos_server):
    response = requests.get(f"{kerberos_server.url}{API}/me", timeout=10)
    assert response.status_code == 401
    assert "Negotiate" in response.headers["WWW-Authenticate"]
    assert response.json()["error"].startswith("sign in")
    run = poms("whoami")
    assert run.code == 1 and "run kinit" in run.err


def test_a_ticket_drives_every_write_path_of_the_client(poms, kerberos_server, client_env,
                                                       kdc, tmp_path):
    holding_ticket(client_env, kdc, "alice")
    assert poms("whoami").out.startswith("alice (signed in by negotiate)")
    assert poms("upload-ini", TUTORIAL).code == 0
    edited = poms("edit-stage", "srsoleti_tutorial", "reco", "completion_pct=80")
    assert edited.code == 0, edited.err
    assert poms("clone", "srsoleti_tutorial", "copy").code == 0
    assert poms("edit-campaign", "copy", "state=Inactive").code == 0
    assert poms("delete-campaign", "copy").code == 0
    changed = tmp_path / "changed.ini"
    changed.write_text(tutorial_text(**{"software_version=MDC2020t":
                                        "software_version=MDC2020u"}))
    assert "software_version changes" in poms("upload-ini", changed).out
    token_file = tmp_path / "bt"
    token_file.write_bytes(bearer_token_file(30 * 86400))
    assert poms("upload-credential", token_file).code == 0
    # Writes need no CSRF token: each request carries its own ticket, no cookie is kept.
    made = poms("--json", "token", "create", "robot")
    assert made.code == 0
    secret = made.json["token"]["token"]

    # bob holds a ticket too, and may not change alice's campaign.
    holding_ticket(client_env, kdc, "bob")
    refused = poms("edit-stage", "srsoleti_tutorial", "reco", "vo_role=x")
    assert refused.code == 1 and "may not change campaign" in refused.err

    # The robot's token works on the Kerberos server with no ticket at all.
    client_env.setenv("KRB5CCNAME", "FILE:" + str(kdc.dir / "ccache" / "nobody"))
    assert poms("whoami", env={"POMS_TOKEN": secret}).out.startswith(
        "alice (signed in by token)")


def test_mutual_authentication_and_the_dev_header_is_ignored(kerberos_server, kdc):
    ccache = kdc.kinit("alice")
    http = requests.Session()
    http.trust_env = False
    http.auth = requests_gssapi.HTTPSPNEGOAuth(
        creds=gssapi.Credentials(usage="initiate", store={"ccache": ccache}),
        mutual_authentication=requests_gssapi.REQUIRED)
    response = http.get(f"{kerberos_server.url}{API}/me", headers={"X-POMS-User": "bob"},
                        timeout=10)
    assert response.status_code == 200
    assert response.json()["user"] == "alice" and response.json()["auth"] == "negotiate"
    assert response.headers["WWW-Authenticate"].startswith("Negotiate ")


def _negotiate(ccache: str) -> str:
    ctx = gssapi.SecurityContext(
        name=gssapi.Name("HTTP@localhost", gssapi.NameType.hostbased_service),
        usage="initiate", creds=gssapi.Credentials(usage="initiate", store={"ccache": ccache}),
        mech=SPNEGO)
    return "Negotiate " + base64.b64encode(ctx.step()).decode()


def test_bad_tickets_and_strangers_get_json_not_pages(kerberos_server, kdc):
    url = f"{kerberos_server.url}{API}/experiments/mu2e/campaigns"
    garbage = requests.post(url, data=TUTORIAL.read_bytes(),
                            headers={"Authorization": "Negotiate AAAAbad="}, timeout=10)
    assert garbage.status_code == 401 and garbage.headers["Content-Type"].startswith(
        "application/json")
    assert "Negotiate" in garbage.headers["WWW-Authenticate"]
    assert garbage.json()["error"]

    # carol has a good ticket but is nobody in POMS.
    stranger = requests.get(url, headers={"Authorization": _negotiate(kdc.kinit("carol"))},
                            timeout=10)
    assert stranger.status_code == 403
    assert stranger.json() == {"error": "You are signed in as carol, but no experiment lists "
                               "you as a member, so there is nothing POMS can show you. Ask "
                               "a superuser of your experiment to add you.", "field": None}
