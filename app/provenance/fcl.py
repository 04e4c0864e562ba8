"""Where UconDB keeps an FCL file: its folder, the version holding it, its location.

The FCL stage's upload (app/ucondb/jobs.py) records, per file, the folder and the UconDB
version it stored; a file uploaded before that was recorded, or by someone else, is found by
its catalogue location (HOST:/<database>/app/data/<folder>) in this POMS's embedded UconDB.
Read from the database only: a page never waits on a remote UconDB.
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from app.extensions import db
from app.models import Job
from app.models.ucondb import FclUpload, UconFolder, UconObject, UconVersion


@dataclass
class UconDBPlace:
    folder: str
    version: int | None
    location: str
    database: str = ""


def _ucondb_location(location: str) -> tuple[str, str] | None:
    """(database, folder) of a catalogue location that is a UconDB folder,
    HOST:/[ucondb/]<database>/app/data/<folder>; None for any other location."""
    host, sep, path = location.partition(":")
    parts = path.strip("/").split("/")
    if not sep or "/" in host or len(parts) < 4 or parts[-3:-1] != ["app", "data"]:
        return None
    return parts[-4], parts[-1]


def ucondb_place(name: str, locations: list[str], job: Job | None) -> UconDBPlace | None:
    """Where UconDB keeps an FCL file: as its FCL stage's upload recorded it, else read from
    its catalogue location (with the version from this POMS's embedded UconDB, if there)."""
    if job is not None:
        upload = db.session.get(FclUpload, job.id)
        for entry in (upload.locations if upload else None) or []:
            if entry.get("name") == name and entry.get("location"):
                where = _ucondb_location(entry["location"])
                return UconDBPlace(folder=entry.get("folder") or (where or ("", ""))[1],
                                   version=entry.get("version"),
                                   location=entry["location"],
                                   database=where[0] if where else "")
    for location in locations:
        where = _ucondb_location(location)
        if where is None:
            continue
        database, folder = where
        version = db.session.scalar(
            select(UconVersion.id).join(UconObject, UconObject.id == UconVersion.object_id)
            .join(UconFolder, UconFolder.id == UconObject.folder_id)
            .where(UconFolder.database == database, UconFolder.name == folder,
                   UconObject.name == name)
            .order_by((UconVersion.key == name).desc(), UconVersion.tr.desc()).limit(1))
        return UconDBPlace(folder=folder, version=version, location=location,
                           database=database)
    return None
