"""Signing in, the signed-in person, and the experiment and role they act in.

Every view that touches an experiment's data goes through `experiment_access`, which
answers 404 for an unknown experiment, 403 for a non-member, and otherwise gives the role
the person acts as (their own, or a lower one they picked in the header switcher).
"""
from __future__ import annotations

from dataclasses import dataclass

from flask import Flask, abort, current_app, g, request, session
from flask_login import current_user
from sqlalchemy import select

from app.auth import policy
from app.config import is_loopback
from app.extensions import db, login_manager
from app.models import Experiment, Experimenter


@dataclass
class Access:
    experiment: Experiment
    role: str  # the role acted as
    user: Experimenter

    def owns(self, thing) -> bool:
        owner_id = getattr(thing, "owner_id", None) or getattr(thing, "creator_id", None)
        return owner_id == self.user.id


def init_auth(app: Flask) -> None:
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Please sign in."
    app.before_request(_guard_dev_mode)
    app.after_request(_security_headers)
    app.context_processor(_header_context)


@login_manager.user_loader
def _load_user(user_id: str) -> Experimenter | None:
    user = db.session.get(Experimenter, int(user_id))
    return user if user is not None and user.active else None


def _guard_dev_mode():
    if current_app.config["POMS_AUTH"] != "dev":
        return None
    # The werkzeug server puts its bind address in SERVER_NAME; the remote address tells
    # the rest. Either off loopback means typed-name sign-in would be an open door.
    if not is_loopback(request.remote_addr):
        abort(403, "POMS_AUTH=dev answers only on loopback")
    return None


def _security_headers(response):
    headers = response.headers
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Referrer-Policy", "same-origin")
    headers.setdefault(
        "Content-Security-Policy",
        "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
        "script-src 'self'; frame-ancestors 'none'",
    )
    if current_app.config.get("SESSION_COOKIE_SECURE"):
        headers.setdefault("Strict-Transport-Security", "max-age=31536000")
    return response


def find_or_create_experimenter(username: str) -> Experimenter:
    user = db.session.scalar(select(Experimenter).where(Experimenter.username == username))
    if user is None:
        user = Experimenter(username=username)
        db.session.add(user)
        db.session.flush()
    return user


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


def experiment_access(name: str) -> Access:
    experiment = db.session.scalar(select(Experiment).where(Experiment.name == name))
    if experiment is None or not experiment.active:
        abort(404, f"no experiment {name!r}")
    own = current_user.role_in(experiment)
    if own is None:
        abort(403, f"you are not a member of {name}")
    session["experiment"] = name
    access = Access(experiment=experiment, role=acting_role(name, own), user=current_user)
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
    return {
        "auth_mode": current_app.config["POMS_AUTH"],
        "my_experiments": mine,
        "current_experiment": current,
        "current_role": access.role if access else (acting_role(current, own) if own else None),
        "roles_below": [r for r in policy.ROLES if policy.rank(r) <= policy.rank(own)],
    }
