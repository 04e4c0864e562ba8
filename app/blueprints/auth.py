"""Signing in and out, and the header's experiment and role switcher."""
from __future__ import annotations

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
from app.auth.members import USERNAME, end_sessions, find_experimenter
from app.auth.redirects import safe_next
from app.auth.session import is_admin, memberships
from app.extensions import db, login_manager

bp = Blueprint("auth", __name__)


def _safe_next(default: str) -> str:
    # Only a path on this site: never an open redirect (app/auth/redirects.py).
    return safe_next(request.args.get("next"), default)


@bp.get("/")
def index():
    if not current_user.is_authenticated:
        if current_app.config["POMS_AUTH"] == "dev":
            return redirect(url_for("auth.login"))
        return login_manager.unauthorized()
    mine = memberships(current_user)
    if not mine:
        if is_admin():
            return redirect(url_for("admin.experiments"))
        return render_template("auth/not_registered.html"), 403
    current = session.get("experiment")
    experiment = current if current in mine else next(iter(mine))
    return redirect(url_for("submissions.dashboard", experiment=experiment))


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_app.config["POMS_AUTH"] != "dev":
        # Kerberos and the front end sign people in on any page; people land here after
        # signing out, and go on to where they were going.
        if not current_user.is_authenticated:
            return login_manager.unauthorized()
        return redirect(_safe_next(url_for("auth.index")))
    error = None
    if request.method == "POST":
        username = request.form.get("username", "").strip()
        user = find_experimenter(username) if USERNAME.match(username) else None
        if not USERNAME.match(username):
            error = "A user name is letters, digits, '.', '_' or '-'."
        elif user is None or not user.active:
            error = f"{username} is not registered in any experiment."
        else:
            session.clear()
            login_user(user)
            return redirect(_safe_next(url_for("auth.index")))
    return render_template("auth/login.html", error=error), (401 if error else 200)


@bp.post("/logout")
def logout():
    if current_user.is_authenticated:
        # Every session of this person ends here, not only this browser's cookie: a copy of
        # the cookie taken before is refused from now on (app/auth/session.py).
        end_sessions(current_user._get_current_object())
        db.session.commit()
    logout_user()
    session.clear()
    if current_app.config["POMS_AUTH"] == "dev":
        return redirect(url_for("auth.login"))
    # Not a redirect to a signed-in page: the browser would sign straight back in.
    return render_template("auth/signed_out.html")


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
    return redirect(url_for("submissions.dashboard", experiment=experiment))
