"""The admin pages through the test client: members, experiments, the audit log; and the
web-security rules around them (CSRF, a tampered cookie, cross-experiment URLs)."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.audit import audit
from app.auth import members
from app.extensions import db
from app.models import AuditEntry, Campaign, CampaignStage, JobType, Membership
from app.models.base import utcnow
from tests.auth.conftest import campaign_ini, save_campaign, upload
from tests.fixtures.app import csrf_token, signed_in


def text(response) -> str:
    return response.get_data(as_text=True)


def membership_id(experiment: str, username: str) -> int:
    row = members.membership(members.find_experiment(experiment),
                             members.find_experimenter(username))
    return row.id


def htmx_post(client, url: str, data: dict, page: str):
    """As htmx posts: the token in the X-CSRFToken header that base.html sets."""
    token = csrf_token(client, page)
    return client.post(url, data=data, headers={"HX-Request": "true", "X-CSRFToken": token})


@pytest.fixture
def su(client, member):
    member("mu2e", "su", "superuser")
    member("mu2e", "alice", "production")
    return signed_in(client, "su")


# --- members ---------------------------------------------------------------------------


def test_members_page_lists_and_adds_by_principal(su):
    page = su.get("/e/mu2e/members")
    assert page.status_code == 200
    assert "alice" in text(page) and "su" in text(page)

    added = htmx_post(su, "/e/mu2e/members", {"principal": "bob@FNAL.GOV", "role": "analysis"},
                      "/e/mu2e/members")
    assert added.status_code == 200
    assert "Added bob as analysis." in text(added)
    assert "<html" not in text(added)  # a fragment for htmx, not a page
    assert members.find_experimenter("bob") is not None  # a new experimenter was made
    entry = db.session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc())).first()
    assert (entry.action, entry.subject, entry.experimenter.username, entry.after) == (
        "member added", "bob in mu2e", "su", {"role": "analysis"}
    )


@pytest.mark.parametrize(
    ("principal", "role", "message"),
    [
        ("alice", "analysis", "alice is already a member of mu2e as production"),
        ("eve@EVIL.ORG", "analysis", "realm EVIL.ORG is not one POMS accepts"),
        ("<script>x</script>", "analysis", "is not a user name or principal"),
        ("carol", "king", "&#39;king&#39; is not a role"),
    ],
)
def test_adding_a_member_refuses_bad_input_with_a_reason(su, principal, role, message):
    response = htmx_post(su, "/e/mu2e/members", {"principal": principal, "role": role},
                         "/e/mu2e/members")
    assert response.status_code == 200
    assert "Not done" in text(response) and message in text(response)
    assert "<script>x" not in text(response)  # autoescaped


def test_change_role_and_remove_are_audited(su):
    alice = membership_id("mu2e", "alice")
    changed = htmx_post(su, f"/e/mu2e/members/{alice}/role", {"role": "analysis"},
                        "/e/mu2e/members")
    assert "alice is now analysis." in text(changed)
    removed = htmx_post(su, f"/e/mu2e/members/{alice}/remove", {}, "/e/mu2e/members")
    assert "Removed alice from mu2e." in text(removed)
    assert db.session.get(Membership, alice) is None
    log = [(e.action, e.before, e.after) for e in
           db.session.scalars(select(AuditEntry).order_by(AuditEntry.id))]
    assert ("role changed", {"role": "production"}, {"role": "analysis"}) in log
    assert ("member removed", {"role": "analysis"}, None) in log


def test_the_last_superuser_stays(su):
    me = membership_id("mu2e", "su")
    response = htmx_post(su, f"/e/mu2e/members/{me}/role", {"role": "analysis"},
                         "/e/mu2e/members")
    assert "su is the last superuser of mu2e" in text(response)
    response = htmx_post(su, f"/e/mu2e/members/{me}/remove", {}, "/e/mu2e/members")
    assert "su is the last superuser of mu2e" in text(response)
    assert db.session.get(Membership, me).role == "superuser"


def test_forms_work_without_javascript_too(su):
    token = csrf_token(su, "/e/mu2e/members")
    response = su.post("/e/mu2e/members", data={"csrf_token": token, "principal": "dan",
                                                "role": "production-shifter"})
    assert response.status_code == 302
    page = su.get(response.headers["Location"])
    assert "Added dan as production-shifter." in text(page)


# --- a role change takes effect at once --------------------------------------------------


def test_role_change_takes_effect_on_the_next_click(app, su, member):
    alice = app.test_client()
    signed_in(alice, "alice")
    assert upload(alice, "mu2e", campaign_ini("first", "production")).status_code == 302

    # The superuser, in another browser, makes alice an analysis user...
    row = membership_id("mu2e", "alice")
    htmx_post(su, f"/e/mu2e/members/{row}/role", {"role": "analysis"}, "/e/mu2e/members")
    # ...which ends alice's session: her very next request must sign in again,
    ended = alice.get("/e/mu2e/campaigns")
    assert ended.status_code == 302 and "/login" in ended.headers["Location"]
    # ...and signed in again she has analysis rights only.
    signed_in(alice, "alice")
    refused = upload(alice, "mu2e", campaign_ini("second", "production"))
    assert refused.status_code == 403
    assert upload(alice, "mu2e", campaign_ini("mine")).status_code == 302

    # Removed: the session ends again; signed in, mu2e is closed to her.
    htmx_post(su, f"/e/mu2e/members/{row}/remove", {}, "/e/mu2e/members")
    assert alice.get("/e/mu2e/campaigns").status_code == 302
    signed_in(alice, "alice")
    assert alice.get("/e/mu2e/campaigns").status_code == 403
    assert alice.get("/").status_code == 403  # not registered in any experiment now


def test_role_change_from_the_command_line_takes_effect_at_once(app, member):
    member("mu2e", "alice", "superuser")
    alice = app.test_client()
    signed_in(alice, "alice")
    assert alice.get("/e/mu2e/members").status_code == 200
    result = app.test_cli_runner().invoke(args=["poms", "add-member", "mu2e", "alice",
                                                "analysis"])
    assert result.exit_code == 0, result.output
    # The role change ended alice's session; signed in again, she is an analysis user.
    assert alice.get("/e/mu2e/members").status_code == 302
    signed_in(alice, "alice")
    assert alice.get("/e/mu2e/members").status_code == 403


def test_deactivated_person_is_signed_out(app, su):
    alice = app.test_client()
    signed_in(alice, "alice")
    members.find_experimenter("alice").active = False
    db.session.commit()
    response = alice.get("/e/mu2e/campaigns")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


# --- experiments -----------------------------------------------------------------------


@pytest.fixture
def root(app, client, member):
    app.config["POMS_ADMINS"] = ["root@FNAL.GOV"]
    members.find_or_create_experimenter("root")
    member("nova", "nsu", "superuser")
    db.session.commit()
    return signed_in(client, "root")


def test_admin_lands_on_experiments_and_creates_one_with_a_superuser(root):
    landing = root.get("/")
    assert landing.status_code == 302 and landing.headers["Location"].endswith(
        "/admin/experiments")
    response = htmx_post(root, "/admin/experiments",
                         {"name": "dune", "description": "Deep Underground",
                          "superuser": "zoe@FNAL.GOV"}, "/admin/experiments")
    assert "Created experiment dune with zoe as superuser." in text(response)
    dune = members.find_experiment("dune")
    assert dune.description == "Deep Underground"
    assert members.membership(dune, members.find_experimenter("zoe")).role == "superuser"
    again = htmx_post(root, "/admin/experiments", {"name": "dune"}, "/admin/experiments")
    assert "experiment dune exists already" in text(again)
    bad = htmx_post(root, "/admin/experiments", {"name": "../x"}, "/admin/experiments")
    assert "is not an experiment name" in text(bad)


def test_deactivated_experiment_is_closed_to_its_members(app, root):
    nova = members.find_experiment("nova")
    response = htmx_post(root, f"/admin/experiments/{nova.id}/active", {"active": "0"},
                         "/admin/experiments")
    assert "nova is deactivated." in text(response)
    nsu = app.test_client()
    signed_in(nsu, "nsu")
    assert nsu.get("/e/nova/campaigns").status_code == 404
    assert nsu.get("/e/nova/members").status_code == 404
    # The administrator still reaches its members, and brings it back.
    assert root.get("/e/nova/members").status_code == 200
    htmx_post(root, f"/admin/experiments/{nova.id}/active", {"active": "1"},
              "/admin/experiments")
    assert nsu.get("/e/nova/campaigns").status_code == 200
    actions = [e.action for e in db.session.scalars(select(AuditEntry))]
    assert "experiment deactivated" in actions and "experiment reactivated" in actions


# --- the audit log ---------------------------------------------------------------------


@pytest.fixture
def logged(app, su):
    exp = members.find_experiment("mu2e")
    who = members.find_experimenter("alice")
    now = utcnow()
    for i in range(30):
        entry = audit(exp, who if i % 2 else None, "stage edited" if i % 3 else "member added",
                      f"thing {i}", {"n": i}, {"n": i + 1})
        entry.at = now - timedelta(days=i)
    audit(members.find_or_create_experiment("nova"), who, "member added", "thing in nova")
    db.session.commit()
    app.config["POMS_PAGE_SIZE"] = 10
    return su


def rows(response) -> list[str]:
    return re.findall(r"<td>(thing [^<]*)</td>", text(response))


def test_audit_log_pages_newest_first_and_only_this_experiment(logged):
    first = logged.get("/e/mu2e/audit")
    assert first.status_code == 200
    assert rows(first) == [f"thing {i}" for i in range(10)]
    assert "30 entries, page 1 of 3" in text(first)
    third = logged.get("/e/mu2e/audit?page=3")
    assert rows(third) == [f"thing {i}" for i in range(20, 30)]
    assert "thing in nova" not in text(first) + text(third)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("action=member+added", [f"thing {i}" for i in range(0, 30, 3)]),
        ("person=alice", [f"thing {i}" for i in range(1, 20, 2)]),
        ("person=operator&action=member+added", [f"thing {i}" for i in (0, 6, 12, 18, 24)]),
        ("subject=thing+2", ["thing 2"] + [f"thing {i}" for i in range(20, 29)]),
        ("subject=%25", []),  # a literal %, not a wildcard
    ],
)
def test_audit_log_filters(logged, query, expected):
    response = logged.get(f"/e/mu2e/audit?{query}", headers={"HX-Request": "true",
                                                              "HX-Target": "audit-table"})
    assert response.status_code == 200
    assert "<html" not in text(response)
    assert rows(response) == expected[:10]


def test_audit_log_date_range(logged):
    today = utcnow().date()
    since = (today - timedelta(days=4)).isoformat()
    until = (today - timedelta(days=2)).isoformat()
    response = logged.get(f"/e/mu2e/audit?since={since}&until={until}")
    assert rows(response) == ["thing 2", "thing 3", "thing 4"]
    assert rows(logged.get("/e/mu2e/audit?since=not-a-date"))[:1] == ["thing 0"]


def test_campaign_edits_land_in_the_same_log(su):
    exp = members.find_experiment("mu2e")
    campaign = save_campaign(exp, members.find_experimenter("alice"), "logged", "production")
    stage = db.session.scalar(select(CampaignStage).where(CampaignStage.campaign_id ==
                                                          campaign.id))
    token = csrf_token(su, "/e/mu2e/campaigns")
    su.post(f"/e/mu2e/stage/{stage.id}/field/completion_pct",
            data={"csrf_token": token, "value": "80"})
    response = su.get("/e/mu2e/audit?subject=logged")
    assert "logged" in text(response)
    assert "su" in text(response)


# --- web security ------------------------------------------------------------------------


def test_missing_or_wrong_csrf_token_is_400(su):
    assert su.post("/e/mu2e/members", data={"principal": "x", "role": "analysis"}
                   ).status_code == 400
    assert su.post("/e/mu2e/members", data={"principal": "x", "role": "analysis"},
                   headers={"X-CSRFToken": "forged", "HX-Request": "true"}).status_code == 400
    assert su.post("/switch", data={"experiment": "mu2e", "role": "analysis"}
                   ).status_code == 400
    assert su.post("/logout").status_code == 400
    assert members.find_experimenter("x") is None


def test_tampered_session_cookie_is_not_signed_in(app, su):
    cookie = su.get_cookie("session")
    assert su.get("/e/mu2e/campaigns").status_code == 200
    payload, _, signature = cookie.value.rpartition(".")
    forged = app.test_client()
    forged.set_cookie("session", payload + "." + signature[::-1])
    response = forged.get("/e/mu2e/campaigns")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    # An htmx request gets a 401 (and htmx follows HX-Redirect to the sign-in page).
    htmx = forged.get("/e/mu2e/campaigns", headers={"HX-Request": "true"})
    assert htmx.status_code == 401 and "/login" in htmx.headers["HX-Redirect"]


def test_security_headers_on_every_page(su):
    response = su.get("/e/mu2e/members")
    headers = response.headers
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
    assert "script-src 'self'" in headers["Content-Security-Policy"]
    assert headers["Cache-Control"] == "no-store"
    assert headers["Referrer-Policy"] == "same-origin"


def test_login_next_is_never_an_open_redirect(client, member):
    member("mu2e", "alice", "analysis")
    for target in ("//evil.example/x", "https://evil.example/", "/\\evil.example"):
        token = csrf_token(client)  # signing in starts a new session, with a new token
        response = client.post(f"/login?next={target}",
                               data={"username": "alice", "csrf_token": token})
        assert response.headers["Location"] == "/"


# --- cross-experiment access ---------------------------------------------------------------


@pytest.fixture
def two_experiments(app, client, member):
    member("mu2e", "alice", "superuser")
    member("nova", "nina", "superuser")
    nova = members.find_experiment("nova")
    theirs = save_campaign(nova, members.find_experimenter("nina"), "nova_secret", "production")
    stage = theirs.stages[0]
    return {
        "client": signed_in(client, "alice"),
        "campaign": theirs.id,
        "stage": stage.id,
        "job_type": stage.job_type_id,
        "membership": membership_id("nova", "nina"),
    }


def test_member_of_one_experiment_cannot_reach_anothers(two_experiments):
    c = two_experiments["client"]
    campaign, stage = two_experiments["campaign"], two_experiments["stage"]
    job_type, nina = two_experiments["job_type"], two_experiments["membership"]
    token = csrf_token(c, "/e/mu2e/campaigns")

    # B's own URLs: not a member.
    for url in ("/e/nova/campaigns", f"/e/nova/campaign/{campaign}", f"/e/nova/stage/{stage}",
                "/e/nova/members", "/e/nova/audit", "/e/nova/credentials", "/e/nova/uploads",
                f"/e/nova/job_type/{job_type}"):
        response = c.get(url)
        assert response.status_code == 403, url
        assert "nova_secret" not in text(response)
    for url, data in ((f"/e/nova/campaign/{campaign}/delete", {}),
                      ("/e/nova/members", {"principal": "alice", "role": "superuser"}),
                      (f"/e/nova/members/{nina}/remove", {})):
        assert c.post(url, data={"csrf_token": token, **data}).status_code == 403, url

    # B's ids under A's URL, where alice is superuser: no such thing in this experiment.
    for url in (f"/e/mu2e/campaign/{campaign}", f"/e/mu2e/stage/{stage}",
                f"/e/mu2e/campaign/{campaign}/export", f"/e/mu2e/job_type/{job_type}",
                f"/e/mu2e/stage/{stage}/field/completion_pct"):
        response = c.get(url)
        assert response.status_code in (403, 404), url
        assert "nova_secret" not in text(response)
    for url, data in ((f"/e/mu2e/campaign/{campaign}/delete", {}),
                      (f"/e/mu2e/stage/{stage}/field/completion_pct", {"value": "1"}),
                      (f"/e/mu2e/campaign/{campaign}/clone", {"new_name": "stolen"}),
                      (f"/e/mu2e/members/{nina}/role", {"role": "analysis"}),
                      (f"/e/mu2e/members/{nina}/remove", {})):
        response = c.post(url, data={"csrf_token": token, **data})
        assert response.status_code in (403, 404), url

    db.session.expire_all()
    assert db.session.get(Campaign, campaign) is not None
    assert db.session.get(Membership, nina).role == "superuser"
    assert db.session.get(CampaignStage, stage).completion_pct == 95
    assert db.session.scalar(select(Campaign).where(Campaign.name == "stolen")) is None
    assert db.session.get(JobType, job_type).experiment.name == "nova"
