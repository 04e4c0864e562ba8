"""What every /api/v1 endpoint shares: the blueprint, errors (and the HTML answers made
before the API's code runs, as JSON), reading the request, and pagination.

Who is asking, and as which role, is app/api/caller.py; the route decorator that also
writes each endpoint into the OpenAPI document is app/api/routes.py.
"""
from __future__ import annotations

import html
import re
from collections.abc import Callable

from flask import Blueprint, current_app, jsonify, request
from sqlalchemy import func, select
from werkzeug.exceptions import HTTPException

from app.extensions import csrf, db

bp = Blueprint("api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)

PREFIX = "/api/v1"
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


def refuse(message: str) -> ApiError:
    return ApiError(403, message)


# --- request helpers -----------------------------------------------------------------------


def json_body() -> dict:
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise ApiError(400, "the body must be a JSON object")
    return data


def body_bool(body: dict, name: str) -> bool:
    """A true/false field of a JSON body (false when left out)."""
    value = body.get(name, False)
    if not isinstance(value, bool):
        raise ApiError(422, f"{name} is true or false", name)
    return value


def reason_arg() -> str:
    """Why the caller changes a campaign (?reason=...), kept with its new version."""
    return request.args.get("reason", "").strip()


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


def _page_args() -> tuple[int, int]:
    return (int_arg("page", 1, 1, 1_000_000),
            int_arg("per_page", DEFAULT_PER_PAGE, 1, MAX_PER_PAGE))


def _page(items: list, page: int, per_page: int, total: int, extra: dict) -> dict:
    return {"items": items, "page": page, "per_page": per_page,
            "pages": max(1, -(-total // per_page)), "total": total, **extra}


def paginate(query, serialize: Callable, **extra) -> dict:
    """One page of a SELECT: {items, page, per_page, pages, total}."""
    page, per_page = _page_args()
    total = db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    rows = db.session.scalars(query.limit(per_page).offset((page - 1) * per_page)).all()
    return _page([serialize(row) for row in rows], page, per_page, total, extra)


def paginate_list(items: list, serialize: Callable = lambda x: x, **extra) -> dict:
    """The same page shape for a short list already in memory."""
    page, per_page = _page_args()
    chunk = items[(page - 1) * per_page: page * per_page]
    return _page([serialize(item) for item in chunk], page, per_page, len(items), extra)


def iso(moment) -> str | None:
    return moment.isoformat() + "Z" if moment is not None else None
