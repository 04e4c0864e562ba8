"""The embedded UconDB server: Fermilab's UconDB web API at /ucondb/<database>/app/...

Machine API (the same URLs, parameters, answers and content types as ivmfnal/ucondb 3.9):
  GET  version | probe | folders | objects?folder= | tags?folder=
  GET  versions?folder=&object=[&tv=&tr=&tr_since=]
  POST lookup_versions?folder=[&object=&tr=&tag=]  body {"ids"|"keys"|"key_min","key_max"|"tvs"}
  GET  get_blob?folder=&(version_id=|data_key=)
  GET  data/F/O[?id=|key=|tag=|tv=|tr=|data_key=|meta_only=yes]        (also get/F/O)
  POST data/F/O?full_meta=yes[&tv=&tag=...&key=&override=yes|no]  body = the bytes (also PUT,
       put/F/O): Digest authentication
  POST create_folder?folder=F[&owner=]  and  tag?folder=&tag=&(version_id=|object=&key=):
       Digest authentication
Human pages: UI/index, UI/folder?folder=F, UI/object?folder=F&name=O, UI/version?folder=F&vid=N.

Who may do what: reads (the API and the pages) need nothing, as on Fermilab's server: FCL
files are not secret, and grid jobs fetch them with a plain GET. Writes need HTTP Digest
(realm = the folder, MD5, qop=auth) as one of POMS_UCONDB_WRITERS; a POMS sign-in plays no
part, and the API is exempt from CSRF (no cookie authorises anything here). Behind a
Kerberos front end, exempt /ucondb/ from it as Fermilab exempts its UconDB.

Errors are JSON {"error": "...", "status": N}: 400 bad names and parameters, 401 (with a
Digest challenge) no or wrong credentials, 404 unknown database content, 409 a key that holds
other data, 413 a blob over POMS_UCONDB_MAX_BLOB_BYTES.
"""
from __future__ import annotations

import json
from datetime import UTC, datetime
from urllib.parse import quote

from flask import (
    Blueprint,
    Response,
    current_app,
    redirect,
    render_template,
    request,
    url_for,
)
from werkzeug.exceptions import HTTPException
from werkzeug.http import HTTP_STATUS_CODES

from app.config import ConfigError
from app.extensions import csrf, db
from app.ids import page_number
from app.ucondb import digest, naming, store
from app.ucondb.naming import InvalidName

bp = Blueprint("ucondb", __name__, url_prefix="/ucondb/<database>/app")
ui = Blueprint("ui", __name__, url_prefix="/UI")
csrf.exempt(bp)  # machine API: Digest-authenticated writes, no session cookie involved

JSON = "text/json"  # what the real server says, and what its client checks
SERVER = f"UConDB {store.API_VERSION} (POMS embedded)"
PAGE = 100
DRAIN_AT_MOST = 1024 * 1024  # bytes read and dropped at most, whatever the limit


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


def _json(value, status: int = 200, headers=None) -> Response:
    return Response(json.dumps(value), status=status, mimetype=JSON, headers=headers)


def _error(status: int, message: str, headers=None) -> Response:
    return _json({"error": message, "status": status}, status, headers)


@bp.errorhandler(store.StoreError)
def _store_error(err: store.StoreError):
    return _error(err.status, err.message)


@bp.errorhandler(InvalidName)
def _bad_name(err: InvalidName):
    return _error(400, str(err))


@bp.errorhandler(HTTPException)
def _http_error(err: HTTPException):
    return _error(err.code or 500, err.description or err.name)


def _listing(names: list[str]) -> Response:
    if request.args.get("format") == "csv":
        return Response("Name\n" + "\n".join(names), mimetype="text/csv")
    return _json(names)


def _time(name: str):
    return store.parse_time(request.args.get(name), name)


# -- reads ------------------------------------------------------------------------------


@bp.get("/")
def index(database):
    return redirect(url_for("ucondb.ui.index_page", database=database))


@bp.get("/version")
def version(database):
    return Response(store.API_VERSION, mimetype="text/plain")


@bp.get("/probe")
def probe(database):
    store.list_folders(db.session, database)
    return Response("OK", mimetype="text/plain")


@bp.get("/folders")
def folders(database):
    return _listing(store.list_folders(db.session, database))


@bp.get("/objects")
def objects(database):
    folder = store.get_folder(db.session, database, request.args.get("folder"))
    return _listing([o.name for o in store.list_objects(db.session, folder)])


@bp.get("/tags")
def tags(database):
    folder = store.get_folder(db.session, database, request.args.get("folder"))
    return _listing(store.list_tags(db.session, folder))


@bp.get("/versions")
def versions(database):
    folder = store.get_folder(db.session, database, request.args.get("folder"))
    obj = store.get_object(db.session, folder, request.args.get("object"))
    found = store.list_versions(db.session, obj, tv=_time("tv"), tr=_time("tr"),
                                tr_since=_time("tr_since"), tag=request.args.get("tag"))
    return _json([store.metadata(v) for v in found])


@bp.post("/lookup_versions")
@bp.post("/lookup_versions/<path:rest>")
def lookup_versions(database, rest: str = ""):
    path_folder, _, path_object = rest.partition("/")
    folder = store.get_folder(db.session, database,
                              path_folder or request.args.get("folder"))
    try:
        spec = json.loads(request.get_data() or b"{}")
    except ValueError:
        raise store.BadInput("the body is not JSON") from None
    found = store.lookup_versions(db.session, folder, path_object or request.args.get("object"),
                                  spec, tr=_time("tr"), tag=request.args.get("tag"))
    # An RFC 7464 JSON text sequence, as the real server answers this call.
    body = "".join("\x1e" + json.dumps(meta) + "\n" for meta in found)
    return Response(body, mimetype="text/json-seq")


@bp.get("/get_blob")
@bp.get("/get_blob/<folder_name>")
def get_blob(database, folder_name: str | None = None):
    args = request.args
    if (args.get("data_key") is None) == (args.get("version_id") is None):
        raise store.BadInput("one and only one of data_key, version_id must be given")
    folder = store.get_folder(db.session, database, folder_name or args.get("folder"))
    if args.get("data_key") is not None:
        data = store.blob_by_data_key(db.session, folder, args["data_key"])
    else:
        data = store.version_by_id(db.session, folder, args["version_id"]).blob.data
    # Uncompressed whatever `compress` asks: every client reads plain bytes.
    return Response(data, mimetype="application/octet-stream")


def _path_params(rest: str) -> dict:
    """The real server's URL forms: data/F/O, data/folder=F/object=O, data?folder=F&object=O."""
    params: dict[str, str] = {}
    plain = 0
    for word in (rest or "").split("/"):
        if not word:
            continue
        name, sep, value = word.partition("=")
        if not sep:
            if plain >= 2:
                raise store.BadInput(f"{rest!r} has more than folder/object in it")
            name, value = ("folder", "object")[plain], word
            plain += 1
        if name in params:
            raise store.BadInput(f"{name} is given twice in the URL")
        params[name] = value
    for name, value in request.args.items(multi=False):
        if name in params:
            raise store.BadInput(f"{name} is given twice in the URL")
        params[name] = value
    return params


@bp.route("/data", methods=["GET", "POST", "PUT"])
@bp.route("/data/<path:rest>", methods=["GET", "POST", "PUT"])
def data(database, rest: str = ""):
    params = _path_params(rest)
    if request.method in ("POST", "PUT"):
        return _put(database, params)
    return _get(database, params)


@bp.get("/get")
@bp.get("/get/<path:rest>")
def get(database, rest: str = ""):
    return _get(database, _path_params(rest))


@bp.route("/put", methods=["POST", "PUT"])
@bp.route("/put/<path:rest>", methods=["POST", "PUT"])
def put(database, rest: str = ""):
    return _put(database, _path_params(rest))


def _get(database: str, params: dict) -> Response:
    session = db.session
    if not params.get("folder") or not params.get("object"):
        raise store.BadInput("a folder and an object are needed: data/<folder>/<object>")
    folder = store.get_folder(session, database, params["folder"])
    obj = store.get_object(session, folder, params["object"])
    if params.get("data_key") is not None:
        return Response(store.blob_by_data_key(session, folder, params["data_key"]),
                        mimetype="application/octet-stream",
                        headers={"X-UConDB-data-key": params["data_key"]})
    version = store.find_version(
        session, folder, obj, version_id=params.get("id"), key=params.get("key"),
        tag=params.get("tag"), tv=store.parse_time(params.get("tv"), "tv"),
        tr=store.parse_time(params.get("tr"), "tr"),
    )
    meta = store.metadata(version)
    if params.get("meta_only") == "yes":
        return _json(meta)
    return Response(version.blob.data, mimetype="application/octet-stream", headers={
        "X-UConDB-product-version": store.API_VERSION,
        "X-UConDB-version-id": str(version.id),
        "X-UConDB-data-key": meta["data_key"],
        "X-UConDB-version-key": version.key or "null",
        "X-UConDB-data-size": str(meta["data_size"]),
        "X-UConDB-adler32": str(meta["adler32"]),
        "X-UConDB-tv": str(meta["tv"]),
        "X-UConDB-tr": str(meta["tr"]),
        "X-UConDB-metadata": json.dumps(meta),
        "X-UConDB-metadata-format": JSON,
    })


# -- writes -----------------------------------------------------------------------------


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
    return _error(401, f"authorization failed: {outcome.told}", headers={
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
        return _json(stored.meta, headers=headers)
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


# -- the pages --------------------------------------------------------------------------


@ui.errorhandler(store.StoreError)
@ui.errorhandler(HTTPException)
def _page_error(err):
    """Pages answer errors as pages (the API's handlers above answer JSON)."""
    if isinstance(err, HTTPException):
        status, message = err.code or 500, err.description or err.name
    else:
        status, message = err.status, err.message
    return render_template("error.html", code=status,
                           name=HTTP_STATUS_CODES.get(status, "Error"),
                           description=message), status


def _page_number() -> int:
    raw = request.args.get("page", "0")
    if not raw.strip().lstrip("-").isdigit():
        raise store.BadInput("page= must be a number")
    return page_number(raw, default=0, first=0)


@ui.get("/")
@ui.get("/index")
def index_page(database):
    return render_template("ucondb/index.html", database=database,
                           folders=store.folder_summaries(db.session, database))


@ui.get("/folder")
def folder_page(database):
    folder = store.get_folder(db.session, database, request.args.get("folder"))
    page = _page_number()
    begins_with = request.args.get("begins_with") or ""
    found = store.list_objects(db.session, folder, begins_with=begins_with or None,
                               limit=PAGE + 1, offset=page * PAGE)
    rows = [(o, store.version_count(db.session, o), store.latest_version(db.session, o))
            for o in found[:PAGE]]
    return render_template("ucondb/folder.html", database=database, folder=folder, rows=rows,
                           page=page, more=len(found) > PAGE, begins_with=begins_with)


@ui.get("/object")
def object_page(database):
    args = request.args
    folder = store.get_folder(db.session, database, args.get("folder"))
    obj = store.get_object(db.session, folder, args.get("name") or args.get("object"))
    if args.get("key"):
        version = store.find_version(db.session, folder, obj, key=args["key"])
        return redirect(url_for("ucondb.ui.version_page", database=database,
                                folder=folder.name, vid=version.id))
    page = _page_number()
    tag_filter = args.get("tag") or None
    found = store.list_versions(db.session, obj, tv=_time("tv"), tr=_time("tr"), tag=tag_filter,
                                limit=PAGE + 1, offset=page * PAGE, default_tv_now=False)
    return render_template("ucondb/object.html", database=database, folder=folder, obj=obj,
                           versions=found[:PAGE], page=page, more=len(found) > PAGE,
                           tv=args.get("tv", ""), tr=args.get("tr", ""), tag=tag_filter or "")


HEAD, TAIL = 32 * 1024, 1024


def _shown(data: bytes) -> tuple[bool, str, str, int]:
    """(binary, head, tail, bytes left out) of a blob, as the real version page shows it."""
    try:
        text: str | bytes = data.decode("utf-8")
        binary = False
    except UnicodeDecodeError:
        text, binary = data, True
    removed, tail = 0, text[:0]
    if len(text) > HEAD + TAIL:
        removed = len(text) - HEAD - TAIL
        text, tail = text[:HEAD], text[-TAIL:]
    if binary:
        def hexdump(chunk: bytes) -> str:
            return "\n".join(" ".join(f"{b:02X}" for b in chunk[i:i + 32])
                             for i in range(0, len(chunk), 32))
        return True, hexdump(text), hexdump(tail), removed
    return False, text, tail, removed


@ui.get("/version")
def version_page(database):
    folder = store.get_folder(db.session, database, request.args.get("folder"))
    version = store.version_by_id(db.session, folder, request.args.get("vid"))
    binary, head, tail, removed = _shown(version.blob.data)
    return render_template("ucondb/version.html", database=database, folder=folder,
                           version=version, meta=store.metadata(version), binary=binary,
                           head=head, tail=tail, removed=removed)


bp.register_blueprint(ui)


@bp.app_template_filter("ucondb_time")
def _ucondb_time(value) -> str:
    """A UconDB time for people: a datetime, or Unix seconds large enough to be a date."""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, int | float) and value > 600_000_000:
        return datetime.fromtimestamp(value, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    return ""
