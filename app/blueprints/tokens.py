"""The API tokens page: make a token (its secret shown once) with its scopes and
experiments, see what each may do and when it was last used, revoke one. Tokens are a
person's; each acts within its scopes, in its experiments (all of the person's if none are
ticked), with the person's role there."""
from __future__ import annotations

from flask import Blueprint, abort, render_template, request
from flask_login import current_user, login_required

from app.auth import tokens
from app.auth.session import memberships
from app.blueprints.views import is_htmx
from app.extensions import db

bp = Blueprint("tokens", __name__)


def _page(status: int = 200, **extra):
    user = current_user._get_current_object()
    rows = [(row, tokens.status(row)) for row in tokens.tokens_of(user)]
    context = {"rows": rows, "max_days": tokens.MAX_DAYS,
               "default_days": tokens.DEFAULT_DAYS, "secret": None, "error": None,
               "message": None, "scopes": tokens.SCOPES,
               "default_scopes": tokens.DEFAULT_SCOPES, "my_experiments": memberships(user),
               **extra}
    template = "tokens/_list.html" if is_htmx() else "tokens/index.html"
    return render_template(template, **context), status


@bp.get("/tokens")
@login_required
def index():
    return _page()


@bp.post("/tokens")
@login_required
def create():
    name = request.form.get("name", "")
    try:
        days = int(request.form.get("days", tokens.DEFAULT_DAYS))
    except ValueError:
        days = 0
    try:
        row, secret = tokens.create_token(
            current_user._get_current_object(), name, days,
            scopes=request.form.getlist("scope"),
            experiments=request.form.getlist("experiment") or None,
        )
        db.session.commit()
    except tokens.TokenError as err:
        db.session.rollback()
        return _page(422, error=f"Not made: {err}.")
    return _page(201, secret=secret, made=row)


@bp.post("/tokens/<int:token_id>/revoke")
@login_required
def revoke(token_id: int):
    user = current_user._get_current_object()
    row = tokens.token_of(user, token_id)
    if row is None:
        abort(404, "no such API token of yours")
    tokens.revoke(row, user)
    db.session.commit()
    return _page(message=f"Revoked {row.prefix}… ({row.name}).")
