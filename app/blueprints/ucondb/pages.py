"""The embedded UconDB server's pages for people: UI/index, UI/folder?folder=F,
UI/object?folder=F&name=O, UI/version?folder=F&vid=N. Errors are pages here (the machine
API answers JSON).
"""
from __future__ import annotations

from datetime import UTC, datetime

from flask import Blueprint, current_app, redirect, render_template, request, url_for
from werkzeug.exceptions import HTTPException
from werkzeug.http import HTTP_STATUS_CODES

from app.blueprints.ucondb.server import bp, time_arg
from app.extensions import db
from app.ids import page_number
from app.ucondb import naming, store

ui = Blueprint("ui", __name__, url_prefix="/UI")
PAGE = 100


@ui.app_template_global("ucondb_pages")
def ucondb_pages(folder: str | None = None) -> str:
    """The UconDB pages (of a folder) for the navigation and a submission's FCL uploads."""
    return naming.pages_url(current_app.config["POMS_UCONDB_URL"], folder)


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
    found = store.list_versions(db.session, obj, tv=time_arg("tv"), tr=time_arg("tr"),
                                tag=tag_filter, limit=PAGE + 1, offset=page * PAGE,
                                default_tv_now=False)
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
