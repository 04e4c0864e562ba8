"""The document itself, who am I, my experiments, and my API tokens."""
from __future__ import annotations

from flask import current_app, g, jsonify, request
from flask_login import current_user

from app.api.core import (
    PAGE_PARAMS,
    ApiError,
    iso,
    json_body,
    json_of,
    page_of,
    paginate_list,
    ref,
    route,
)
from app.api.openapi import document
from app.auth import tokens
from app.auth.session import is_admin, memberships
from app.extensions import db
from app.models.api_token import ApiToken


@route("/openapi.json", "GET", summary="This API's OpenAPI 3 document", tag="meta",
       public=True, responses={200: ("the document", json_of({"type": "object"}))})
def openapi_document():
    return jsonify(document(request.host_url.rstrip("/")))


def token_json(row: ApiToken, secret: str | None = None) -> dict:
    out = {
        "id": row.id, "name": row.name, "prefix": row.prefix, "created": iso(row.created),
        "expires": iso(row.expires), "last_used": iso(row.last_used),
        "revoked": iso(row.revoked), "status": tokens.status(row),
        "scopes": list(row.scopes or ()), "experiments": row.experiments,
    }
    if secret:
        out["token"] = secret
    return out


@route("/me", "GET", summary="Who the API takes you for, and your role in each experiment",
       tag="meta", responses={200: ("you", json_of(ref("Me")))})
def me():
    user = current_user._get_current_object()
    token = g.get("api_token")
    return jsonify({
        "user": user.username,
        "auth": g.api_auth,
        "experiments": {name: role for name, role in memberships(user).items()
                        if token is None or tokens.covers(token, name)},
        "is_admin": is_admin(user),
        "token": token_json(token) if token is not None else None,
    })


@route("/experiments", "GET", summary="The experiments you are a member of, with your role",
       tag="meta", query=PAGE_PARAMS,
       responses={200: ("a page of experiments", json_of(page_of("Experiment")))})
def experiments():
    user = current_user._get_current_object()
    token = g.get("api_token")
    rows = sorted((m for m in user.memberships if m.experiment.active
                   and (token is None or tokens.covers(token, m.experiment))),
                  key=lambda m: m.experiment.name)
    return jsonify(paginate_list(rows, lambda m: {
        "name": m.experiment.name, "description": m.experiment.description, "role": m.role}))


@route("/tokens", "GET", summary="Your API tokens (never their secrets)", tag="tokens",
       query=PAGE_PARAMS, responses={200: ("a page of tokens", json_of(page_of("Token")))})
def list_tokens():
    return jsonify(paginate_list(tokens.tokens_of(current_user._get_current_object()),
                                 token_json))


@route("/tokens", "POST", scope="admin",
       not_with_a_token="an API token cannot make API tokens: sign in with Kerberos",
       summary="Make an API token; its secret is in this answer only", tag="tokens",
       description="Not with a token: a token cannot make tokens (it would outlive itself).",
       body=json_of({"type": "object", "required": ["name"], "properties": {
           "name": {"type": "string", "minLength": 1, "maxLength": 64},
           "days": {"type": "integer", "minimum": 1, "maximum": tokens.MAX_DAYS,
                    "default": tokens.DEFAULT_DAYS},
           "scopes": {"type": "array", "items": {"type": "string", "enum": list(tokens.SCOPES)},
                      "default": list(tokens.DEFAULT_SCOPES),
                      "description": "what it may do; read is always included"},
           "experiments": {"type": ["array", "null"], "items": {"type": "string"},
                           "description": "where it may act (experiments you are a member "
                                          "of); null or absent: all of yours"}}}),
       responses={201: ("the new token, with its secret", json_of(ref("Token")))})
def create_token():
    body = json_body()
    name = body.get("name")
    days = body.get("days", tokens.DEFAULT_DAYS)
    scopes = body.get("scopes", list(tokens.DEFAULT_SCOPES))
    experiments = body.get("experiments")
    if not isinstance(scopes, list):
        raise ApiError(422, f"scopes: a list of {', '.join(tokens.SCOPES)}", "scopes")
    if experiments is not None and not isinstance(experiments, list):
        raise ApiError(422, "experiments: a list of experiment names, or null", "experiments")
    if not isinstance(name, str):
        raise ApiError(422, "name: give the token a name (what will use it)", "name")
    if not isinstance(days, int) or isinstance(days, bool):
        raise ApiError(422, f"days: a whole number from 1 to {tokens.MAX_DAYS}", "days")
    try:
        row, secret = tokens.create_token(current_user._get_current_object(), name, days,
                                          scopes=scopes, experiments=experiments)
        db.session.commit()
    except tokens.TokenError as err:
        raise ApiError(422, str(err), err.field) from None
    return jsonify(token_json(row, secret)), 201


@route("/tokens/<int:token_id>", "DELETE", scope="read", summary="Revoke one of your API tokens",
       tag="tokens", examples={"token_id": 1},
       description="Any token may revoke itself (a leaked token can always be stopped with "
                   "itself); revoking another token with a token needs the admin scope.",
       responses={200: ("the revoked token", json_of(ref("Token")))})
def revoke_token(token_id: int):
    user = current_user._get_current_object()
    row = tokens.token_of(user, token_id)
    if row is None:
        raise ApiError(404, f"you have no API token {token_id}", "token_id")
    token = g.get("api_token")
    if token is not None and token.id != row.id and not tokens.has_scope(token, "admin"):
        raise ApiError(403, f"API token {token.prefix}… has no 'admin' scope: it may revoke "
                       "itself, not another token", scope="admin")
    tokens.revoke(row, user)
    db.session.commit()
    return jsonify(token_json(row))


@route("/ucondb", "GET", tag="meta",
       summary="Where this POMS keeps FCL files: the UconDB API root (its own API)",
       description="UconDB has its own web API (reads need no sign-in; writes use HTTP "
                   "Digest as a UconDB writer). `poms ucondb ...` talks to it there.",
       responses={200: ("the UconDB in use", json_of({"type": "object", "required": ["url"],
                  "properties": {"url": {"type": "string"}}}))})
def ucondb_location():
    return jsonify({"url": current_app.config["POMS_UCONDB_URL"]})
