"""Who is asking the API, and as which role (`access`, called first by every view).

Who is asking, in this order (the first that applies wins, for this request only):
  Authorization: Bearer <token>   an API token (app/auth/tokens.py); nothing kept in a session
  Authorization: Negotiate <...>  Kerberos, accepted by app.auth.kerberos before this runs
                                  (POMS_AUTH=kerberos); a session cookie follows, as on pages
  a trusted front end's user      POMS_AUTH=remote_user, as on pages
  X-POMS-User: <name>             POMS_AUTH=dev only (loopback): the client's --user
  the session cookie              a browser already signed in on the pages
Nobody: 401 JSON with `WWW-Authenticate: Negotiate` (kerberos mode) and `Bearer`; never a
redirect to a sign-in page.

The role, per experiment: `X-POMS-Role: <role>` acts in a role the caller holds or one below
it (the original client's --poms_role); a higher one is refused (403). Without the header,
the role picked on the pages, else the caller's own.

A token is further held to its scopes and experiments (app/auth/tokens.py): every endpoint
names the scope it needs in its route (`scope=`, "read" for a GET unless said), the OpenAPI
document says it, and a token without it gets 403 before the view runs; `access()` refuses
an experiment the token does not cover. Other ways of signing in are not scoped: they are
the person, with their role.

CSRF: the pages' CSRF check does not run on the API (csrf.exempt). Instead:
  * a write (POST, PUT, PATCH, DELETE) authenticated only by the session cookie must carry
    the pages' CSRF token in `X-CSRFToken`, or it is refused (403);
  * a write authenticated by a token, a Kerberos ticket sent with the request, or the dev
    header needs no CSRF token; but since browsers answer a Negotiate challenge by
    themselves (ambient, like a cookie), any write a browser marks as coming from another
    site (`Sec-Fetch-Site: cross-site|same-site`, or an `Origin` of another host) is refused.
"""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import current_app, g, request
from flask_login import current_user
from flask_wtf.csrf import CSRFError, validate_csrf
from wtforms import ValidationError

from app.api.core import ApiError, bp, challenge_headers
from app.api.routes import ENDPOINT_SCOPES, NOT_WITH_A_TOKEN, PUBLIC_ENDPOINTS
from app.auth import policy, tokens
from app.auth.members import find_experiment, find_experimenter
from app.auth.session import Access, acting_role, is_admin
from app.extensions import db, login_manager

WRITES = ("POST", "PUT", "PATCH", "DELETE")


def _act_as(user, how: str) -> None:
    """This request (only) is made by `user`; the session cookie, if any, is not used."""
    login_manager._update_request_context_with_user(user)
    g.api_auth = how


@bp.before_request
def authenticate():
    g.api_auth = None
    if request.endpoint in PUBLIC_ENDPOINTS:
        return None
    mode = current_app.config["POMS_AUTH"]
    scheme, _, value = request.headers.get("Authorization", "").strip().partition(" ")
    if scheme.lower() == "bearer":
        try:
            row = tokens.authenticate(value.strip())
        except tokens.TokenError as err:
            raise ApiError(401, str(err), headers=challenge_headers()) from None
        if tokens.touch(row):
            db.session.commit()
        _check_scope(row)
        g.api_token = row
        _act_as(row.experimenter, "token")
    elif g.get("negotiate_token") and current_user.is_authenticated:
        g.api_auth = "negotiate"  # app.auth.kerberos accepted a ticket on this request
    elif mode == "remote_user" and g.get("front_end_user") is not None:
        g.api_auth = "front-end"
    elif mode == "dev" and request.headers.get("X-POMS-User", "").strip():
        name = request.headers["X-POMS-User"].strip()
        user = find_experimenter(name)
        if user is None or not user.active:
            raise ApiError(403, f"{name} is not registered in any experiment")
        _act_as(user, "dev")
    elif current_user.is_authenticated:
        g.api_auth = "session"
    else:
        raise ApiError(
            401, "sign in: send an API token (Authorization: Bearer), a Kerberos ticket "
            "(Negotiate)" + (" or X-POMS-User" if mode == "dev" else ""),
            headers=challenge_headers(),
        )
    if request.method in WRITES:
        _check_write_origin()
    return None


def _check_scope(row) -> None:
    refusal = NOT_WITH_A_TOKEN.get(request.endpoint or "")
    if refusal:
        raise ApiError(403, refusal)
    needed = ENDPOINT_SCOPES.get(request.endpoint or "")
    if needed is None:
        return  # no such endpoint: routing answers 404 or 405
    if not tokens.has_scope(row, needed):
        raise ApiError(403, f"API token {row.prefix}… has no {needed!r} scope (it has "
                       f"{tokens.describe(row)}); make a token with {needed!r} on the API "
                       "tokens page", scope=needed)


def require_token_scope(scope: str, why: str) -> None:
    """For an endpoint whose need depends on what it touches (an uploaded file that is a
    credential needs "admin", as the credentials endpoints do): a token request without
    `scope` is refused; other ways of signing in are not scoped."""
    row = g.get("api_token")
    if row is not None and not tokens.has_scope(row, scope):
        raise ApiError(403, f"API token {row.prefix}… has no {scope!r} scope, which {why} "
                       f"needs (it has {tokens.describe(row)})", scope=scope)


def _check_write_origin() -> None:
    site = request.headers.get("Sec-Fetch-Site", "").lower()
    origin = request.headers.get("Origin", "")
    if site in ("cross-site", "same-site") or origin == "null" or (
        origin and urlsplit(origin).netloc != request.host
    ):
        raise ApiError(403, "API writes from another site's pages are refused")
    if g.api_auth == "session":
        try:
            validate_csrf(request.headers.get("X-CSRFToken", ""))
        except (ValidationError, CSRFError) as err:
            raise ApiError(
                403, f"a write signed in by the session cookie needs the page's CSRF token "
                f"in X-CSRFToken ({err}); scripts should use a token or Kerberos instead"
            ) from None


ROLE_HEADER = "X-POMS-Role"


def _asked_role(experiment_name: str, own: str, user) -> str:
    """The role this request acts as: X-POMS-Role when it names one the caller holds or one
    below it (the original client's --poms_role), else the session's pick or their own."""
    asked = request.headers.get(ROLE_HEADER, "").strip()
    if not asked:
        return acting_role(experiment_name, own)
    if asked not in policy.ROLES:
        raise ApiError(400, f"{ROLE_HEADER}: {asked!r} is not a role; the roles are "
                       f"{', '.join(policy.ROLES)}", "role")
    if policy.rank(asked) > policy.rank(own):
        raise ApiError(403, f"{user.username} is {own} in {experiment_name} and cannot act "
                       f"as {asked}", "role")
    return asked


def access(experiment_name: str) -> Access:
    """The experiment in the URL and the role the caller acts as in it (404, 403)."""
    experiment = find_experiment(experiment_name)
    if experiment is None or not experiment.active:
        raise ApiError(404, f"no experiment {experiment_name!r}", "experiment")
    user = current_user._get_current_object()
    own = user.role_in(experiment)
    if own is None:
        raise ApiError(403, f"{user.username} is not a member of {experiment.name}", "experiment")
    token = g.get("api_token")
    if token is not None and not tokens.covers(token, experiment):
        raise ApiError(403, f"API token {token.prefix}… is not for {experiment.name} (it has "
                       f"{tokens.describe(token)})", "experiment")
    access = Access(
        experiment=experiment, role=_asked_role(experiment.name, own, user), user=user,
        is_admin=is_admin(user),
    )
    g.access = access
    return access
