"""Signing in and out, and the header's experiment and role switcher."""
from __future__ import annotations

import re

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user, login_required, login_user, logout_user

from app.auth import policy
from app.auth.session import memberships
from app.extensions import db
from app.models import Experimenter

bp = Blueprint("auth", __name__)

USERNAME = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")


@bp.get("/")
def index():
    if not current_user.is_authenticated:
        return redirect(url_for("auth.login"))
    mine = memberships(current_user)
    if not mine:
        return render_template("auth/not_registered.html"), 403
    current = session.get("experiment")
    experiment = current if current in mine else next(iter(mine))
    return redirect(url_for("campaigns.index", experiment=experiment))


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_app.config["POMS_AUTH"] != "dev":
        abort(404)
    error = None
    if request.method == "POST":
        username = request.form.get("username", "").strip()
        user = db.session.query(Experimenter).filter_by(username=username).one_or_none()
        if not USERNAME.match(username):
            error = "A user name is letters, digits, '.', '_' or '-'."
        elif user is None or not user.active:
            error = f"{username} is not registered in any experiment."
        else:
            login_user(user)
            session.pop("acting", None)
            target = request.args.get("next", "")
            # Only a path on this site: never an open redirect.
            if not target.startswith("/") or target.startswith("//"):
                target = url_for("auth.index")
            return redirect(target)
    return render_template("auth/login.html", error=error), (401 if error else 200)


@bp.post("/logout")
def logout():
    logout_user()
    session.clear()
    return redirect(url_for("auth.login") if current_app.config["POMS_AUTH"] == "dev" else "/")


@bp.post("/switch")
@login_required
def switch():
    """Pick the experiment and the role to act as (never above one's own)."""
    mine = memberships(current_user)
    experiment = request.form.get("experiment", "")
    if experiment not in mine:
        abort(403, f"you are not a member of {experiment}")
    role = request.form.get("role") or mine[experiment]
    if policy.rank(role) < 0 or policy.rank(role) > policy.rank(mine[experiment]):
        flash(f"You cannot act as {role} in {experiment}.", "error")
        role = mine[experiment]
    session.setdefault("acting", {})[experiment] = role
    session.modified = True
    session["experiment"] = experiment
    return redirect(url_for("campaigns.index", experiment=experiment))
