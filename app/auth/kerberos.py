"""POMS_AUTH=kerberos: SPNEGO Negotiate in the app, then a Flask-Login session.

A browser (or curl --negotiate, or requests-gssapi) first gets 401 with
`WWW-Authenticate: Negotiate`, answers with a ticket for HTTP/<host>, and app.auth.spnego
checks it against the service keytab. On success the person is signed in for the session
and the response carries the mutual-authentication token, so the client knows it talked to
the real service. Later requests ride on the session cookie: one handshake per session.

Failures, and why each answer:
  no ticket, a garbage or expired token, a ticket for another service -> 401 + a page that
      says how to get a ticket (the client may try again);
  a principal of a realm not in POMS_REALMS -> 403 (a good ticket, but not one of ours);
  a principal POMS does not know -> 403 "not registered in any experiment", no session;
  the keytab missing or unreadable -> 503 with the reason in the log (the server's fault:
      never a 500, never a request let through).
"""
from __future__ import annotations

import logging

from flask import Flask, current_app, g, request, session
from flask_login import current_user, login_user, logout_user

from app.auth import policy, spnego
from app.auth.answers import auth_page
from app.auth.members import find_experimenter, find_or_create_experimenter
from app.extensions import db

log = logging.getLogger(__name__)


def check_keytab_at_start(app: Flask) -> None:
    """Say at start-up, in the log, when the keytab cannot work; requests then get 503."""
    problem = keytab_problem(app.config["POMS_KEYTAB"])
    if problem:
        log.error("POMS_AUTH=kerberos: %s; every sign-in will answer 503", problem)


def keytab_problem(keytab: str) -> str | None:
    try:
        spnego._check_keytab(keytab)  # the acceptor's own check, without a token
    except spnego.NoCredentials as err:
        return str(err)
    return None


def _service() -> str | None:
    return current_app.config["POMS_SERVICE_PRINCIPAL"] or None


def unavailable(reason: str):
    log.error("Kerberos sign-in unavailable (503): %s", reason)
    return auth_page(
        "auth/unavailable.html", 503, {"Retry-After": "60"},
        sentence="Sign-in is unavailable on this server; please tell the POMS operators.",
    )


def challenge(problem: str | None = None, token: str | None = None):
    """401 with `WWW-Authenticate: Negotiate`, and a page on how to get a ticket."""
    trouble = keytab_problem(current_app.config["POMS_KEYTAB"])
    if trouble:
        # Inviting a ticket the server cannot read would only fail one step later.
        return unavailable(trouble)
    return auth_page(
        "auth/negotiate.html", 401,
        {"WWW-Authenticate": "Negotiate" + (f" {token}" if token else "")},
        problem=problem, host=request.host.split(":")[0],
        realm=(current_app.config["POMS_REALMS"] or ["FNAL.GOV"])[0],
        sentence="Your POMS session has ended: reload the page to sign in with Kerberos.",
    )


_PROBLEMS = {
    "expired": "Your Kerberos ticket has expired: run kinit again.",
    "wrong-service": "Your browser sent a ticket for another service (check the host name "
                     "you use for POMS).",
    "clock-skew": "Your computer's clock is too far from the server's.",
    "replay": "That ticket was already used; reload the page.",
    "anonymous": "Anonymous tickets are not accepted: kinit as yourself.",
}


def sign_in_by_negotiate():
    """before_request: take an `Authorization: Negotiate` header wherever it comes.

    A header is always honoured, even with a session: it is the freshest word on who is
    asking, and a client that sent it expects the mutual-authentication token back.
    """
    if current_app.config["POMS_AUTH"] != "kerberos" or request.endpoint == "static":
        return None
    header = request.headers.get("Authorization", "")
    scheme = header.split(None, 1)[0].lower() if header.strip() else ""
    if scheme != "negotiate":
        return None
    try:
        result = spnego.accept(header, current_app.config["POMS_KEYTAB"], service=_service())
    except spnego.NoCredentials as err:
        return unavailable(str(err))
    except spnego.BadToken as err:
        log.warning("Negotiate refused from %s (%s): %s", request.remote_addr, err.reason, err)
        return challenge(_PROBLEMS.get(err.reason, "Kerberos did not accept your ticket."))
    if not result.complete:
        # A stateless server cannot finish a multi-round exchange; ask the client to
        # continue with the token (SPNEGO with Kerberos completes in one round).
        return challenge("Kerberos needs another round; try again.", token=result.token)
    g.negotiate_token = result.token
    return sign_in_principal(result.principal, result.user, result.realm, remember=True)


def sign_in_principal(principal: str, username: str, realm: str, *, remember: bool):
    """Map user@REALM to the experimenter `user`; None when signed in, else the answer.

    remember=True (kerberos) keeps the person in the Flask-Login session; otherwise the
    person is returned in g.front_end_user for this request only (remote_user).
    """
    config = current_app.config
    if realm and not spnego.realm_allowed(realm, config["POMS_REALMS"]):
        log.warning("principal %s refused: realm %s not in POMS_REALMS", principal, realm)
        _forget()
        return auth_page(
            "auth/realm.html", 403, principal=principal, realm=realm,
            sentence=f"{principal}: the realm {realm} is not accepted here.",
        )
    user = find_experimenter(username)
    if user is None and policy.is_admin(username, config["POMS_ADMINS"]):
        # Administrators named in config need no membership to reach the admin pages.
        user = find_or_create_experimenter(username)
        db.session.commit()
    if user is None or not user.active:
        log.info("principal %s signed in but is not a registered experimenter", principal)
        _forget()
        return auth_page(
            "auth/not_registered.html", 403, username=username,
            sentence=f"{username} is not registered in any experiment.",
        )
    if remember:
        if not current_user.is_authenticated or current_user.id != user.id:
            session.clear()  # the acting roles picked by someone else go with them
            login_user(user)
    else:
        g.front_end_user = user
    return None


def _forget() -> None:
    if current_user.is_authenticated:
        logout_user()
    session.clear()


def add_mutual_token(response):
    """after_request: the acceptor's token goes back to the client that authenticated."""
    token = g.get("negotiate_token")
    if token and "WWW-Authenticate" not in response.headers:
        response.headers["WWW-Authenticate"] = f"Negotiate {token}"
    return response
