"""Issue 17: a session cookie captured before sign-out still worked after it (the cookie is
signed, not stored, so clearing it in one browser left every copy valid). Sign-out, a role
change and a removal must end the person's sessions on the server: the captured cookie,
replayed in another client, is refused (pages send it to sign in, the API answers 401)."""
from __future__ import annotations

import pytest

from app.auth import members
from app.extensions import db
from tests.fixtures.app import csrf_token, signed_in

PAGE = "/e/mu2e/campaigns"


@pytest.fixture
def people(app, member):
    member("mu2e", "alice", "production")
    member("mu2e", "boss", "superuser")


def capture(app, username: str) -> str:
    """Sign `username` in and take a copy of the session cookie, as a thief would."""
    browser = app.test_client()
    signed_in(browser, username)
    assert browser.get(PAGE).status_code == 200
    return browser, browser.get_cookie("session").value


def replay(app, cookie: str):
    thief = app.test_client()
    thief.set_cookie("session", cookie)
    return thief


def assert_refused(thief) -> None:
    page = thief.get(PAGE)
    assert page.status_code == 302 and "/login" in page.headers["Location"], page.status_code
    api = thief.get("/api/v1/me")
    assert api.status_code == 401, api.get_data(as_text=True)


def test_a_cookie_captured_before_sign_out_is_refused_after_it(app, people):
    browser, cookie = capture(app, "alice")
    assert replay(app, cookie).get(PAGE).status_code == 200  # the copy works... until
    token = csrf_token(browser, PAGE)
    assert browser.post("/logout", data={"csrf_token": token}).status_code == 302
    assert_refused(replay(app, cookie))
    # Signing in again makes a new session; the old copy stays dead.
    signed_in(browser, "alice")
    assert browser.get(PAGE).status_code == 200
    assert_refused(replay(app, cookie))


def test_signing_out_ends_the_sessions_in_every_browser(app, people):
    laptop, _ = capture(app, "alice")
    desktop, _ = capture(app, "alice")
    desktop.post("/logout", data={"csrf_token": csrf_token(desktop, PAGE)})
    assert laptop.get(PAGE).status_code == 302


def boss_changes(app, url: str, data: dict):
    boss = app.test_client()
    signed_in(boss, "boss")
    token = csrf_token(boss, "/e/mu2e/members")
    response = boss.post(url, data={"csrf_token": token, **data},
                         headers={"HX-Request": "true"})
    assert response.status_code == 200 and "Not done" not in response.get_data(as_text=True)
    return boss


def alice_membership() -> int:
    return members.membership(members.find_experiment("mu2e"),
                              members.find_experimenter("alice")).id


def test_a_cookie_captured_before_a_role_change_is_refused_after_it(app, people):
    _browser, cookie = capture(app, "alice")
    boss = boss_changes(app, f"/e/mu2e/members/{alice_membership()}/role",
                        {"role": "analysis"})
    assert_refused(replay(app, cookie))
    assert boss.get(PAGE).status_code == 200  # only alice's sessions ended


def test_a_cookie_captured_before_a_removal_is_refused_after_it(app, people):
    _browser, cookie = capture(app, "alice")
    boss_changes(app, f"/e/mu2e/members/{alice_membership()}/remove", {})
    assert_refused(replay(app, cookie))


def test_the_member_commands_end_sessions_too(app, people):
    _browser, cookie = capture(app, "alice")
    result = app.test_cli_runner().invoke(args=["poms", "add-member", "mu2e", "alice",
                                                "analysis"])
    assert result.exit_code == 0, result.output
    assert_refused(replay(app, cookie))
    _browser, cookie = capture(app, "alice")
    result = app.test_cli_runner().invoke(args=["poms", "remove-member", "mu2e", "alice"])
    assert result.exit_code == 0, result.output
    assert_refused(replay(app, cookie))


def test_a_cookie_from_before_session_epochs_works_until_the_first_sign_out(app, people):
    """Cookies made before migration 0014 carry the bare id: good at epoch 0 only."""
    from flask.sessions import SecureCookieSessionInterface

    alice = members.find_experimenter("alice")
    serializer = SecureCookieSessionInterface().get_signing_serializer(app)
    old = serializer.dumps({"_user_id": str(alice.id), "_fresh": True})
    assert replay(app, old).get(PAGE).status_code == 200
    browser, _ = capture(app, "alice")
    browser.post("/logout", data={"csrf_token": csrf_token(browser, PAGE)})
    db.session.expire_all()
    assert members.find_experimenter("alice").session_epoch == 1
    assert_refused(replay(app, old))
