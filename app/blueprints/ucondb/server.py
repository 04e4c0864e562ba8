"""The embedded UconDB server's machine API: its blueprint, what every answer carries, its
JSON answers and errors, and the settings it checks when it is registered.
"""
from __future__ import annotations

import json

from flask import Blueprint, Response, request
from werkzeug.exceptions import HTTPException

from app.config import ConfigError
from app.extensions import csrf
from app.ucondb import digest, store
from app.ucondb.naming import InvalidName

bp = Blueprint("ucondb", __name__, url_prefix="/ucondb/<database>/app")
csrf.exempt(bp)  # machine API: Digest-authenticated writes, no session cookie involved

JSON = "text/json"  # what the real server says, and what its client checks
SERVER = f"UConDB {store.API_VERSION} (POMS embedded)"


@bp.record_once
def _check_settings(state) -> None:
    try:
        digest.parse_writers(state.app.config.get("POMS_UCONDB_WRITERS", ""))
    except ValueError as err:
        raise ConfigError(str(err)) from None


@bp.after_request
def _server_header(response):
    response.headers.setdefault("X-Server-Application-Version", SERVER)
    return response


def json_answer(value, status: int = 200, headers=None) -> Response:
    return Response(json.dumps(value), status=status, mimetype=JSON, headers=headers)


def error_answer(status: int, message: str, headers=None) -> Response:
    return json_answer({"error": message, "status": status}, status, headers)


@bp.errorhandler(store.StoreError)
def _store_error(err: store.StoreError):
    return error_answer(err.status, err.message)


@bp.errorhandler(InvalidName)
def _bad_name(err: InvalidName):
    return error_answer(400, str(err))


@bp.errorhandler(HTTPException)
def _http_error(err: HTTPException):
    return error_answer(err.code or 500, err.description or err.name)


def time_arg(name: str):
    return store.parse_time(request.args.get(name), name)
