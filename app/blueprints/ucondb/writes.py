"""The machine API's writes: a new version (data/F/O or put/F/O, POST or PUT), a folder, a
tag; each needs HTTP Digest as one of POMS_UCONDB_WRITERS (realm = the folder).
"""
from __future__ import annotations

from urllib.parse import quote

from flask import Response, current_app, request
from werkzeug.exceptions import HTTPException

from app.blueprints.ucondb.reads import get_version, path_params
from app.blueprints.ucondb.server import bp, error_answer, json_answer
from app.extensions import db
from app.ucondb import digest, naming, store
from app.ucondb.naming import InvalidName

DRAIN_AT_MOST = 1024 * 1024  # bytes read and dropped at most, whatever the limit


@bp.route("/data", methods=["GET", "POST", "PUT"])
@bp.route("/data/<path:rest>", methods=["GET", "POST", "PUT"])
def data(database, rest: str = ""):
    """data/F/O: a GET reads a version (reads.get_version), a POST or PUT stores one."""
    params = path_params(rest)
    if request.method in ("POST", "PUT"):
        return _put(database, params)
    return get_version(database, params)


@bp.route("/put", methods=["POST", "PUT"])
@bp.route("/put/<path:rest>", methods=["POST", "PUT"])
def put(database, rest: str = ""):
    return _put(database, path_params(rest))


def _drain(limit: int) -> bytes | None:
    """Read the body; None when it is over `limit` (what came is read and dropped).

    The werkzeug server closes every connection after the answer; closing with unread bytes
    makes the kernel reset the connection, and the client may lose our answer (a 401
    challenge, a 413) to the reset. So a body is read even to refuse it -- up to a bound:
    one declared far over the limit is refused unread.
    """
    length = request.content_length
    if length is None:  # chunked: werkzeug decodes it, and stops reading at the bound
        request.max_content_length = limit + 1
        try:
            data = request.get_data(cache=False)
        except HTTPException:
            return None
        return data if len(data) <= limit else None
    if length > max(4 * limit, DRAIN_AT_MOST):
        return None
    stream = request.environ["wsgi.input"]
    left, chunks = length, []
    while left > 0:
        chunk = stream.read(min(left, 1024 * 1024))
        if not chunk:
            break
        left -= len(chunk)
        if length <= limit:
            chunks.append(chunk)
    return b"".join(chunks) if length <= limit else None


def _authenticate(realm: str) -> str | Response:
    """The writer's name, or the 401 that asks for (or refuses) credentials."""
    config = current_app.config
    secret = config["SECRET_KEY"].encode() if isinstance(config["SECRET_KEY"], str) \
        else config["SECRET_KEY"]
    auth = request.authorization
    target = request.environ.get("RAW_URI") or request.environ.get("REQUEST_URI") or (
        quote(request.script_root + request.path)
        + ("?" + request.query_string.decode("latin-1") if request.query_string else "")
    )
    if auth is None or auth.type != "digest":
        outcome = digest.Outcome(None, reason="authorization required (HTTP Digest)")
    else:
        outcome = digest.verify(
            dict(auth.parameters), method=request.method, request_target=target, realm=realm,
            passwords=digest.parse_writers(config["POMS_UCONDB_WRITERS"]), secret=secret,
        )
    if outcome.user:
        return outcome.user
    if auth is not None:
        current_app.logger.warning("UconDB write refused from %s: %s", request.remote_addr,
                                   outcome.reason)
    return error_answer(401, f"authorization failed: {outcome.told}", headers={
        "WWW-Authenticate": digest.challenge(secret, realm, stale=outcome.stale)
    })


def _put(database: str, params: dict) -> Response:
    limit = current_app.config["POMS_UCONDB_MAX_BLOB_BYTES"]
    body = _drain(limit)
    folder_name, object_name = params.get("folder"), params.get("object")
    if not folder_name or not object_name:
        raise store.BadInput("a folder and an object are needed: data/<folder>/<object>")
    store.get_folder(db.session, database, folder_name)
    if body is None:
        raise store.TooLarge(f"the data is over the {limit} bytes a version may hold")
    who = _authenticate(folder_name)
    if isinstance(who, Response):
        return who
    stored = store.store_version(
        db.session, database, folder_name, object_name, body,
        tv=params.get("tv"), tags=request.args.getlist("tag"), key=params.get("key"),
        override=params.get("override", "no") == "yes", writer=who, max_bytes=limit,
    )
    headers = {"X-POMS-UconDB-Stored": "new" if stored.created else "existing"}
    if params.get("full_meta", "no") == "yes":
        return json_answer(stored.meta, headers=headers)
    return Response(str(stored.meta["id"]), mimetype="text/plain", headers=headers)


@bp.route("/create_folder", methods=["GET", "POST"])
def create_folder(database):
    _drain(0)
    args = request.args
    name = args.get("folder")
    try:
        naming.check_database(database)
        naming.check_folder(name)
    except InvalidName as err:
        raise store.BadInput(str(err)) from None
    if args.get("drop", "no") == "yes":
        raise store.BadInput("drop=yes is not done here: the embedded server never drops a folder")
    who = _authenticate(name)
    if isinstance(who, Response):
        return who
    created = store.create_folder(db.session, database, name, owner=args.get("owner", ""),
                                  created_by=who)
    return Response("OK", mimetype="text/plain",
                    headers={"X-POMS-UconDB-Stored": "new" if created else "existing"})


@bp.route("/tag", methods=["GET", "POST"])
def tag(database):
    _drain(0)
    args = request.args
    folder = store.get_folder(db.session, database, args.get("folder"))
    if not args.get("tag"):
        raise store.BadInput("tag= is needed")
    who = _authenticate(folder.name)
    if isinstance(who, Response):
        return who
    store.add_tag(db.session, folder, args["tag"], object_name=args.get("object"),
                  key=args.get("key"), version_id=args.get("version_id"))
    return Response("OK", mimetype="text/plain")
