"""What every /api/v1 endpoint shares: the blueprint, who is asking, errors, pagination,
and the route decorator that also writes the endpoint into the OpenAPI document.

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

CSRF: the pages' CSRF check does not run here (csrf.exempt). Instead:
  * a write (POST, PUT, PATCH, DELETE) authenticated only by the session cookie must carry
    the pages' CSRF token in `X-CSRFToken`, or it is refused (403);
  * a write authenticated by a token, a Kerberos ticket sent with the request, or the dev
    header needs no CSRF token; but since browsers answer a Negotiate challenge by
    themselves (ambient, like a cookie), any write a browser marks as coming from another
    site (`Sec-Fetch-Site: cross-site|same-site`, or an `Origin` of another host) is refused.
"""
from __future__ import annotations

import html
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from flask import Blueprint, current_app, g, jsonify, request
from flask_login import current_user
from flask_wtf.csrf import CSRFError, validate_csrf
from sqlalchemy import func, select
from werkzeug.exceptions import HTTPException
from wtforms import ValidationError

from app.auth import policy, tokens
from app.auth.members import find_experiment, find_experimenter
from app.auth.session import Access, acting_role, is_admin
from app.extensions import csrf, db, login_manager

bp = Blueprint("api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)

PREFIX = "/api/v1"
WRITES = ("POST", "PUT", "PATCH", "DELETE")
MAX_PER_PAGE = 200
DEFAULT_PER_PAGE = 25


# --- errors ------------------------------------------------------------------------------


class ApiError(Exception):
    """An answer other than success: `{"error": message, "field": name|null, ...extra}`."""

    def __init__(self, status: int, message: str, field: str | None = None, *,
                 headers: dict | None = None, **extra):
        super().__init__(message)
        self.status = status
        self.message = message
        self.field = field
        self.headers = headers or {}
        self.extra = extra


def error_response(status: int, message: str, field: str | None = None,
                   headers: dict | None = None, **extra):
    response = jsonify({"error": message, "field": field, **extra})
    response.status_code = status
    for name, value in (headers or {}).items():
        if isinstance(value, list):
            for item in value:
                response.headers.add(name, item)
        else:
            response.headers[name] = value
    return response


@bp.errorhandler(ApiError)
def _api_error(err: ApiError):
    db.session.rollback()
    return error_response(err.status, err.message, err.field, err.headers, **err.extra)


@bp.errorhandler(HTTPException)
def _http_error(err: HTTPException):
    # abort() from shared code (app.auth.session, the page helpers the API reuses).
    db.session.rollback()
    headers = {}
    if err.code == 405 and err.valid_methods:
        headers["Allow"] = ", ".join(err.valid_methods)
    return error_response(err.code or 500, err.description or err.name, None, headers)


def challenge_headers() -> dict:
    schemes = []
    if current_app.config["POMS_AUTH"] == "kerberos":
        schemes.append("Negotiate")
    schemes.append('Bearer realm="POMS"')
    return {"WWW-Authenticate": schemes}


# Answers made before the API's own code runs (the Kerberos sign-in, routing, CSRF) are
# HTML pages; an API client gets the same status and headers with a JSON body.
_H1 = re.compile(r"<h1[^>]*>(.*?)</h1>", re.S)
_FLASH = re.compile(r'<p class="(?:flash )?error"[^>]*>(.*?)</p>', re.S)
_PARA = re.compile(r"<p[^>]*>(.*?)</p>", re.S)
_TAG = re.compile(r"<[^>]+>")


def _text(fragment: str) -> str:
    return " ".join(html.unescape(_TAG.sub("", fragment)).split())


def message_from_page(body: str, fallback: str) -> str:
    found = _FLASH.search(body)
    if found:
        return _text(found.group(1))
    heading = _H1.search(body)
    start = heading.end() if heading else 0
    para = _PARA.search(body, start)
    if para and _text(para.group(1)):
        return _text(para.group(1))
    if heading and _text(heading.group(1)):
        return _text(heading.group(1))
    return fallback


def jsonify_api_answers(response):
    """after_app_request: no HTML (and no sign-in redirect) ever reaches an API client."""
    if not request.path.startswith(PREFIX + "/") and request.path != PREFIX:
        return response
    status = response.status_code
    if status < 300 or response.mimetype in ("application/json", "text/plain"):
        return response
    if 300 <= status < 400:
        # Only the dev-mode sign-in redirects; an API client is told, not sent away.
        return error_response(
            401, "sign in: send an API token (Authorization: Bearer), a Kerberos ticket "
            "(Negotiate) or, on a dev-mode server, X-POMS-User", None, challenge_headers())
    body = response.get_data(as_text=True)
    fallback = {401: "not signed in", 403: "forbidden", 404: "no such API endpoint",
                405: "method not allowed"}.get(status, "request failed")
    message = message_from_page(body, fallback)
    if status == 404 and request.url_rule is None:
        message = f"no such API endpoint: {request.method} {request.path}"
    elif status == 405 and request.url_rule is None:
        message = f"{request.method} is not allowed on {request.path}"
    answer = error_response(status, message)
    for name in ("WWW-Authenticate", "Retry-After", "Allow"):
        for value in response.headers.getlist(name):
            answer.headers.add(name, value)
    for cookie in response.headers.getlist("Set-Cookie"):
        answer.headers.add("Set-Cookie", cookie)
    return answer


# --- who is asking -------------------------------------------------------------------------


PUBLIC_ENDPOINTS: set[str] = set()
# "api.<endpoint>" -> the token scope it needs (filled by route()).
ENDPOINT_SCOPES: dict[str, str] = {}
# "api.<endpoint>" -> why no token may call it at all, whatever its scopes.
NOT_WITH_A_TOKEN: dict[str, str] = {}


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
    if site in ("cross-site", "same-site") or (
        origin and origin != "null" and urlsplit(origin).netloc != request.host
    ):
        raise ApiError(403, "API writes from another site's pages are refused")
    if origin == "null":
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


def refuse(message: str) -> ApiError:
    return ApiError(403, message)


# --- request helpers -----------------------------------------------------------------------


def json_body() -> dict:
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise ApiError(400, "the body must be a JSON object")
    return data


def flag(name: str) -> bool:
    raw = request.args.get(name, "").strip().lower()
    if raw in ("", "0", "false", "no"):
        return False
    if raw in ("1", "true", "yes"):
        return True
    raise ApiError(400, f"{name} is 1 or 0", name)


def int_arg(name: str, default: int, low: int, high: int | None = None) -> int:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ApiError(400, f"{name} must be a whole number", name) from None
    if value < low or (high is not None and value > high):
        bound = f"from {low} to {high}" if high is not None else f"at least {low}"
        raise ApiError(400, f"{name} must be {bound}", name)
    return value


def choice_arg(name: str, choices: tuple[str, ...], default: str) -> str:
    value = request.args.get(name, default)
    if value not in choices:
        raise ApiError(400, f"{name} is one of {', '.join(choices)}", name)
    return value


def paginate(query, serialize: Callable, **extra) -> dict:
    """One page of a SELECT: {items, page, per_page, pages, total}."""
    page = int_arg("page", 1, 1, 1_000_000)
    per_page = int_arg("per_page", DEFAULT_PER_PAGE, 1, MAX_PER_PAGE)
    total = db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    rows = db.session.scalars(query.limit(per_page).offset((page - 1) * per_page)).all()
    return {
        "items": [serialize(row) for row in rows],
        "page": page,
        "per_page": per_page,
        "pages": max(1, -(-total // per_page)),
        "total": total,
        **extra,
    }


def paginate_list(items: list, serialize: Callable = lambda x: x, **extra) -> dict:
    """The same page shape for a short list already in memory."""
    page = int_arg("page", 1, 1, 1_000_000)
    per_page = int_arg("per_page", DEFAULT_PER_PAGE, 1, MAX_PER_PAGE)
    total = len(items)
    chunk = items[(page - 1) * per_page: page * per_page]
    return {
        "items": [serialize(item) for item in chunk],
        "page": page,
        "per_page": per_page,
        "pages": max(1, -(-total // per_page)),
        "total": total,
        **extra,
    }


def iso(moment) -> str | None:
    return moment.isoformat() + "Z" if moment is not None else None


# --- routes that document themselves -------------------------------------------------------


@dataclass
class Operation:
    rule: str  # the Flask rule inside the blueprint: "/experiments/<experiment>/campaigns"
    method: str
    endpoint: str
    summary: str
    tag: str
    description: str = ""
    query: list[dict] = field(default_factory=list)
    body: dict | None = None  # {content type: schema}
    body_required: bool = True
    responses: dict = field(default_factory=dict)  # {"200": (description, {type: schema})}
    public: bool = False
    examples: dict = field(default_factory=dict)  # path parameter examples
    scope: str | None = None  # the token scope it needs (None: public)


OPERATIONS: list[Operation] = []


def route(rule: str, method: str, *, summary: str, tag: str, description: str = "",
          query: list[dict] | None = None, body: dict | None = None, body_required=True,
          responses: dict | None = None, public: bool = False, examples=None,
          scope: str | None = None, not_with_a_token: str | None = None):
    """Register an /api/v1 endpoint and document it. `scope` is the token scope it needs:
    "read" for a GET unless said; a write must say (launch, edit or admin).
    `not_with_a_token` says why no token may call it at all."""
    if scope is None and not public:
        if method != "GET":
            raise ValueError(f"{method} {rule}: say which token scope it needs (scope=...)")
        scope = "read"
    if scope is not None and scope not in tokens.SCOPES:
        raise ValueError(f"{method} {rule}: {scope!r} is not one of {tokens.SCOPES}")

    def register(view):
        endpoint = view.__name__
        bp.add_url_rule(rule, endpoint=endpoint, view_func=view, methods=[method])
        if public:
            PUBLIC_ENDPOINTS.add(f"{bp.name}.{endpoint}")
        else:
            ENDPOINT_SCOPES[f"{bp.name}.{endpoint}"] = scope
        if not_with_a_token:
            NOT_WITH_A_TOKEN[f"{bp.name}.{endpoint}"] = not_with_a_token
        OPERATIONS.append(Operation(
            rule=rule, method=method, endpoint=endpoint, summary=summary, tag=tag,
            description=description, query=query or [], body=body,
            body_required=body_required, responses=responses or {}, public=public,
            examples=examples or {}, scope=None if public else scope,
        ))
        return view

    return register


def param(name: str, schema: dict, description: str, *, required: bool = False) -> dict:
    return {"name": name, "in": "query", "required": required, "description": description,
            "schema": schema}


PAGE_PARAMS = [
    param("page", {"type": "integer", "minimum": 1, "maximum": 1_000_000, "default": 1},
          "page number, from 1"),
    param("per_page", {"type": "integer", "minimum": 1, "maximum": MAX_PER_PAGE,
                       "default": DEFAULT_PER_PAGE}, "items per page"),
]


def ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def json_of(schema: dict) -> dict:
    return {"application/json": schema}


def page_of(item: str) -> dict:
    return {"allOf": [ref("Page"), {"type": "object", "properties": {
        "items": {"type": "array", "items": ref(item)}}}]}
