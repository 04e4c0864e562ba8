"""The machine API's reads: version, probe, folders, objects, tags, versions, lookup_versions,
get_blob, and one version by data/F/O or get/F/O (app/ucondb/store.py). Reads need no
credentials, as on Fermilab's server.
"""
from __future__ import annotations

import json

from flask import Response, redirect, request, url_for

from app.blueprints.ucondb.server import JSON, bp, json_answer, time_arg
from app.extensions import db
from app.ucondb import store


def _listing(names: list[str]) -> Response:
    if request.args.get("format") == "csv":
        return Response("Name\n" + "\n".join(names), mimetype="text/csv")
    return json_answer(names)


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
    found = store.list_versions(db.session, obj, tv=time_arg("tv"), tr=time_arg("tr"),
                                tr_since=time_arg("tr_since"), tag=request.args.get("tag"))
    return json_answer([store.metadata(v) for v in found])


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
                                  spec, tr=time_arg("tr"), tag=request.args.get("tag"))
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


def path_params(rest: str) -> dict:
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


@bp.get("/get")
@bp.get("/get/<path:rest>")
def get(database, rest: str = ""):
    return get_version(database, path_params(rest))


def get_version(database: str, params: dict) -> Response:
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
        return json_answer(meta)
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
