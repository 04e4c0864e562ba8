"""Signing in, the signed-in person, and the experiment and role they act in.

Three ways to learn who is asking (POMS_AUTH):
  kerberos     SPNEGO Negotiate done here with the service keytab (app.auth.kerberos); a
               Flask-Login session follows, so the handshake happens once per session.
  remote_user  a trusted front end (Apache with mod_auth_gssapi) says who it is, on every
               request; nothing is remembered in the session.
  dev          a typed user name, loopback only, with a banner on every page.

Memberships are read from the database on every request (the user loader loads the person
afresh), so a role change or a removal takes effect on the person's next click. A session
cookie is signed, not stored, so a copy of it would outlive the sign-out that cleared it:
the id it carries includes the person's session epoch (Experimenter.get_id), raised at
sign-out, at a role change and at a removal (members.end_sessions), so every session made
before any of them is refused wherever its cookie went.

Every view that touches an experiment's data goes through `experiment_access`, which
answers 404 for an unknown experiment, 403 for a non-member, and otherwise gives the role
the person acts as (their own, or a lower one they picked in the header switcher).
"""
from __future__ import annotations

import logging
from dataclasses import dataclass

from flask import (
    Flask,
    Response,
    abort,
    current_app,
    g,
    redirect,
    request,
    session,
    url_for,
)
from flask_login import current_user
from sqlalchemy.orm import joinedload

from app.auth import kerberos, policy, remote_user
from app.auth.answers import auth_page, is_htmx
from app.auth.members import find_experiment, find_or_create_experimenter  # noqa: F401
from app.config import ConfigError, is_loopback
from app.extensions import db, login_manager, once_per_request
from app.ids import row_id
from app.models import Experiment, Experimenter, Membership

log = logging.getLogger(__name__)


@dataclass
class Access:
    experiment: Experiment
    role: str | None  # the role acted as (None: an administrator who is not a member)
    user: Experimenter
    is_admin: bool = False

    def owns(self, thing) -> bool:
        owner_id = getattr(thing, "owner_id", None) or getattr(thing, "creator_id", None)
        return owner_id == self.user.id


def init_auth(app: Flask) -> None:
    mode = app.config["POMS_AUTH"]
    if mode != "dev" and not app.config["POMS_REALMS"]:
        raise ConfigError(f"POMS_AUTH={mode} needs POMS_REALMS (the realms allowed to sign in)")
    if mode == "remote_user" and not app.config["POMS_TRUSTED_PROXIES"]:
        raise ConfigError("POMS_AUTH=remote_user needs POMS_TRUSTED_PROXIES (the front ends)")
    if mode == "kerberos":
        kerberos.check_keytab_at_start(app)
    app.config.setdefault("REMEMBER_COOKIE_SECURE", app.config["SESSION_COOKIE_SECURE"])

    login_manager.login_view = "auth.login"
    login_manager.login_message = "Please sign in."
    login_manager.unauthorized_handler(_unauthorized)
    app.before_request(_guard_dev_mode)
    app.before_request(kerberos.sign_in_by_negotiate)
    app.before_request(remote_user.identify)
    app.after_request(kerberos.add_mutual_token)
    app.after_request(_security_headers)
    app.context_processor(once_per_request(_header_context))


@login_manager.user_loader
def _load_user(user_id: str) -> Experimenter | None:
    # Behind a front end the front end says who is asking on every request: a session
    # cookie must never outlive what it says (the request loader takes over).
    if current_app.config["POMS_AUTH"] == "remote_user":
        return None
    # "<id>.<session epoch>" (Experimenter.get_id); a bare id is a cookie from before epochs,
    # good only until the person's first sign-out, role change or removal.
    ident, _dot, epoch = str(user_id).partition(".")
    number, epoch_number = row_id(ident), (epoch or "0")
    if number is None or not epoch_number.isdigit():
        return None
    # The memberships and their experiments come in the same query: every page asks for the
    # person's role in an experiment (experiment_access) and the header lists them all.
    user = db.session.get(Experimenter, number, options=[
        joinedload(Experimenter.memberships).joinedload(Membership.experiment)])
    if user is None or not user.active or int(epoch_number) != (user.session_epoch or 0):
        return None
    return user


@login_manager.request_loader
def _load_user_from_request(_request) -> Experimenter | None:
    return g.get("front_end_user")


def _unauthorized():
    """What a request that needs a signed-in person gets without one, per mode."""
    mode = current_app.config["POMS_AUTH"]
    if mode == "kerberos":
        return kerberos.challenge()
    if mode == "remote_user":
        return auth_page(
            "auth/front_end.html", 401,
            sentence="The front end did not say who you are: reload the page.",
        )
    target = url_for("auth.login", next=request.full_path.rstrip("?"))
    if is_htmx():
        # htmx follows HX-Redirect whatever the status; a 401 keeps scripts honest.
        return Response("Please sign in.", status=401, headers={"HX-Redirect": target})
    return redirect(target)


# Headers a proxy adds when it passes a request on. In dev mode none may come: a peer on
# loopback is trusted only as the person at this machine, and a proxy on this host (an ssh
# tunnel's, a web server's) would make the whole world look like them.
FORWARDING_HEADERS = (
    "Forwarded", "X-Forwarded-For", "X-Forwarded-Host", "X-Forwarded-Proto",
    "X-Forwarded-Server", "X-Forwarded-Port", "X-Real-IP", "X-Client-IP", "X-Originating-IP",
    "X-Cluster-Client-IP", "True-Client-IP", "CF-Connecting-IP", "Fastly-Client-IP",
    "X-ProxyUser-Ip", "Via",
)


def _guard_dev_mode():
    if current_app.config["POMS_AUTH"] != "dev":
        return None
    # The remote address must be loopback: anything else means typed-name sign-in would be
    # an open door.
    if not is_loopback(request.remote_addr):
        abort(403, "POMS_AUTH=dev answers only on loopback")
    forwarded = [name for name in FORWARDING_HEADERS if name in request.headers]
    if forwarded:
        log.warning("dev mode refused a request forwarded by a proxy (%s)", ", ".join(forwarded))
        abort(403, f"POMS_AUTH=dev answers only to this machine, not through a proxy "
                   f"(the request carries {forwarded[0]}); use POMS_AUTH=kerberos or "
                   "remote_user behind a proxy")
    return None


_CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
    "script-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'"
)


def _security_headers(response):
    headers = response.headers
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Referrer-Policy", "same-origin")
    headers.setdefault("Content-Security-Policy", _CSP)
    headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    headers.setdefault("Cross-Origin-Resource-Policy", "same-origin")
    headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
    if request.endpoint != "static":
        # Pages carry one person's view of their experiments: no shared cache keeps them.
        headers.setdefault("Cache-Control", "no-store")
    if current_app.config.get("SESSION_COOKIE_SECURE"):
        headers.setdefault("Strict-Transport-Security", "max-age=31536000")
    return response


def is_admin(user=None) -> bool:
    user = current_user if user is None else user
    if not getattr(user, "is_authenticated", False):
        return False
    return policy.is_admin(user.username, current_app.config["POMS_ADMINS"])


def memberships(user: Experimenter) -> dict[str, str]:
    """{experiment name: the user's own role} for active experiments."""
    return {
        m.experiment.name: m.role
        for m in sorted(user.memberships, key=lambda m: m.experiment.name)
        if m.experiment.active
    }


def acting_role(experiment_name: str, own_role: str) -> str:
    picked = session.get("acting", {}).get(experiment_name)
    if picked and policy.rank(picked) <= policy.rank(own_role):
        return picked
    return own_role


def _experiment_named(name: str) -> Experiment | None:
    """A member's experiment is among their memberships, already loaded with them."""
    for row in current_user.memberships:
        if row.experiment.name == name:
            return row.experiment
    return find_experiment(name)


def _remember_experiment(name: str) -> None:
    """The experiment last acted in, for pages outside one. Written only when it changes:
    a written session is signed and sent again with every answer, and a page's live fetches
    would each do so."""
    if session.get("experiment") != name:
        session["experiment"] = name


def experiment_access(name: str) -> Access:
    experiment = _experiment_named(name)
    if experiment is None or not experiment.active:
        abort(404, f"no experiment {name!r}")
    own = current_user.role_in(experiment)
    if own is None:
        abort(403, f"you are not a member of {name}")
    _remember_experiment(name)
    access = Access(
        experiment=experiment, role=acting_role(name, own), user=current_user,
        is_admin=is_admin(),
    )
    g.access = access
    return access


def managing_access(name: str) -> Access:
    """Like experiment_access, but also lets an administrator in who is not a member, and
    into a deactivated experiment (administrators bring experiments back)."""
    admin = is_admin()
    experiment = _experiment_named(name)
    if experiment is None or (not experiment.active and not admin):
        abort(404, f"no experiment {name!r}")
    own = current_user.role_in(experiment)
    if own is None and not admin:
        abort(403, f"you are not a member of {name}")
    if experiment.active and own is not None:
        _remember_experiment(name)
    role = acting_role(name, own) if own else None
    access = Access(experiment=experiment, role=role, user=current_user, is_admin=admin)
    g.access = access
    return access


def _header_context():
    if not current_user.is_authenticated:
        return {"auth_mode": current_app.config["POMS_AUTH"]}
    mine = memberships(current_user)
    access = g.get("access")
    current = access.experiment.name if access else session.get("experiment")
    if current not in mine:
        current = next(iter(mine), None)
    own = mine.get(current)
    role = access.role if access and access.experiment.name == current else (
        acting_role(current, own) if own else None
    )
    admin = is_admin()
    return {
        "auth_mode": current_app.config["POMS_AUTH"],
        "my_experiments": mine,
        "current_experiment": current,
        "current_role": role,
        "roles_below": [r for r in policy.ROLES if policy.rank(r) <= policy.rank(own)],
        "is_admin": admin,
        "may_manage_members": policy.may_manage_members(role, is_admin=admin),
        "may_read_audit": policy.may_read_audit(role, is_admin=admin),
    }
