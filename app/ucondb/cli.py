"""Operator commands for UconDB: `flask --app wsgi poms ucondb ...`.

    poms ucondb create-folder DATABASE FOLDER
    poms ucondb folders DATABASE
    poms ucondb objects DATABASE FOLDER
    poms ucondb versions DATABASE FOLDER OBJECT
    poms ucondb put DATABASE FOLDER OBJECT FILE [--key K] [--tag T ...] [--tv T] [--override]
    poms ucondb get DATABASE FOLDER OBJECT [--key K | --id N | --tag T | --tv T] [-o FILE]
    poms ucondb retry-uploads SUBMISSION   an FCL stage's failed uploads, queued again

They go through the same client as the uploads job, to the server POMS_UCONDB_URL names,
with DATABASE put in place of its database (`https://host:9443/<DATABASE>/app`; by default
this POMS's embedded server, which the web process serves: start it first). Writes sign with
POMS_UCONDB_USER / POMS_UCONDB_PASSWORD; `--url` names another API root outright.
Failures print one line on stderr, naming the URL and the status, and exit 1.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import click
from flask import current_app

from app.extensions import db
from app.ucondb.client import UconDBClient, UconDBError, Unreachable
from app.ucondb.jobs import enqueue, retry_failed
from app.ucondb.naming import InvalidName, check_database, check_folder

ucondb = click.Group("ucondb", help="UconDB folders and objects (FCL files).")


def url_for_database(base_url: str, database: str) -> str:
    """`.../<db>/app` with DATABASE in place of <db>."""
    parts = urlsplit(base_url.rstrip("/"))
    segments = parts.path.split("/")
    if len(segments) < 3 or segments[-1] != "app" or not segments[-2]:
        raise click.UsageError(f"POMS_UCONDB_URL {base_url} does not end in /<database>/app")
    segments[-2] = database
    return urlunsplit(parts._replace(path="/".join(segments)))


def _fail(message: str) -> None:
    click.echo(message, err=True)
    sys.exit(1)


def _client(database: str, url: str | None) -> UconDBClient:
    try:
        check_database(database)
    except InvalidName as err:
        _fail(str(err))
    config = current_app.config
    base = url or url_for_database(config["POMS_UCONDB_URL"], database)
    return UconDBClient.from_config(config, base_url=base)


def _run(call):
    try:
        return call()
    except Unreachable as err:
        _fail(f"{err} (is the UconDB server up? the embedded one runs in the POMS web process)")
    except (UconDBError, InvalidName, OSError) as err:
        _fail(str(err))


url_option = click.option("--url", help="The UconDB API root to use instead of "
                                        "POMS_UCONDB_URL with DATABASE in it.")


@ucondb.command("create-folder")
@click.argument("database")
@click.argument("folder")
@url_option
def create_folder_command(database: str, folder: str, url: str | None) -> None:
    """Create FOLDER in DATABASE (nothing changes when it exists)."""
    try:
        check_folder(folder)
    except InvalidName as err:
        _fail(str(err))
    client = _client(database, url)
    created = _run(lambda: client.ensure_folder(folder))
    click.echo(f"{folder}: {'created' if created else 'exists already'} in {client.base_url}")


@ucondb.command("folders")
@click.argument("database")
@url_option
def folders_command(database: str, url: str | None) -> None:
    """The folders of DATABASE, one a line."""
    client = _client(database, url)
    for name in _run(client.folders):
        click.echo(name)


@ucondb.command("objects")
@click.argument("database")
@click.argument("folder")
@url_option
def objects_command(database: str, folder: str, url: str | None) -> None:
    """The objects in FOLDER, one a line."""
    client = _client(database, url)
    for name in _run(lambda: client.objects(folder)):
        click.echo(name)


@ucondb.command("versions")
@click.argument("database")
@click.argument("folder")
@click.argument("object_name", metavar="OBJECT")
@url_option
def versions_command(database: str, folder: str, object_name: str, url: str | None) -> None:
    """The versions of OBJECT valid now, newest first: id, key, size, data key."""
    client = _client(database, url)
    for v in _run(lambda: client.versions(folder, object_name)):
        click.echo(f"{v['id']}\t{v.get('key') or '-'}\t{v['data_size']}\t{v['data_key']}")


@ucondb.command("put")
@click.argument("database")
@click.argument("folder")
@click.argument("object_name", metavar="OBJECT")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--key", help="The version key (the same key and bytes again: no new version).")
@click.option("--tag", "tags", multiple=True, help="A tag (may be given again).")
@click.option("--tv", type=float, help="Validity time, Unix seconds (default 0).")
@click.option("--override", is_flag=True, help="Move an existing key to this new version.")
@url_option
def put_command(database, folder, object_name, file: Path, key, tags, tv, override, url):
    """Store FILE as a new version of OBJECT; print the version's metadata (JSON)."""
    client = _client(database, url)
    data = _run(file.read_bytes)
    meta = _run(lambda: client.put_data(folder, object_name, data, key=key, tags=tags, tv=tv,
                                        override=override))
    click.echo(json.dumps(meta, indent=1, sort_keys=True))


@ucondb.command("get")
@click.argument("database")
@click.argument("folder")
@click.argument("object_name", metavar="OBJECT")
@click.option("--key", help="The version with this key.")
@click.option("--id", "version_id", type=int, help="The version with this id.")
@click.option("--tag", help="The newest version with this tag.")
@click.option("--tv", type=float, help="The version valid at this time (default now).")
@click.option("--meta", is_flag=True, help="Print the version's metadata, not its bytes.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the bytes to this file (default: standard output).")
@url_option
def get_command(database, folder, object_name, key, version_id, tag, tv, meta, output, url):
    """Print (or save) the bytes of OBJECT's version: the one valid now, unless chosen."""
    client = _client(database, url)
    selector = dict(key=key, version_id=version_id, tag=tag, tv=tv)
    if meta:
        found = _run(lambda: client.get_version(folder, object_name, **selector))
        click.echo(json.dumps(found, indent=1, sort_keys=True))
        return
    data = _run(lambda: client.get_data(folder, object_name, **selector))
    if output:
        _run(lambda: output.write_bytes(data))
        click.echo(f"{output}: {len(data)} bytes", err=True)
    else:
        sys.stdout.flush()
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()


@ucondb.command("retry-uploads")
@click.argument("submission_id", type=int)
def retry_uploads_command(submission_id: int) -> None:
    """Queue a submission's failed FCL uploads again (after the cause is fixed); the stages
    that depend on it launch once they are done."""
    ids = retry_failed(submission_id)
    db.session.commit()
    enqueue(current_app.config, ids)
    click.echo(f"{len(ids)} failed FCL uploads of submission {submission_id} queued again")


COMMANDS = (ucondb,)
