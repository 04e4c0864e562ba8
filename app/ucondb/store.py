"""The embedded UconDB server's domain logic: folders, objects, versions and blobs.

Plain Python over a SQLAlchemy session; the blueprint (app/blueprints/ucondb/) only parses
requests and formats answers. Reads never write. The two writes, `create_folder` and
`store_version`, own their transaction: each is one transaction that commits, or rolls back
and leaves nothing behind, and each retries when a concurrent writer got there first (a
unique constraint fired, or SQLite said "database is locked"), so two simultaneous puts of
the same key give one version, and a version exists with its blob or not at all.

Semantics follow Fermilab's UconDB (ivmfnal/ucondb):
- a version's metadata is {object, folder, tv, tr, tags, adler32, uadler32, data_size,
  data_key, id, key}; tr is the record time in Unix seconds, tv the validity time (default 0);
- "the version at tv" is the most recently recorded version whose tv <= the given tv
  (default now), optionally among those with a tag or recorded at or before tr;
- keys are unique per object; a put with a key that exists is refused unless override=yes,
  which moves the key to the new version.
Where the real server is silent or fails with a 500, this one answers precisely:
- same key and same content again: no new version, the existing version's metadata, the
  version left as it was (its tv and tags too), so the re-put of an upload is harmless;
  same key, other content, no override: 409;
- unknown folder, object or version: 404; bad names, keys or parameters: 400.
"""
from __future__ import annotations

import hashlib
import time
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError, OperationalError

from app.ids import row_id
from app.models.ucondb import UconBlob, UconFolder, UconObject, UconTag, UconVersion
from app.ucondb import naming
from app.ucondb.naming import InvalidName

API_VERSION = "3.9.2"  # the UconDB release whose web API this server speaks
WRITE_ATTEMPTS = 8


class StoreError(Exception):
    """A request this store refuses; `status` is the HTTP status that says so."""

    status = 400

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class BadInput(StoreError):
    status = 400


class NotFound(StoreError):
    status = 404


class KeyConflict(StoreError):
    status = 409


class TooLarge(StoreError):
    status = 413


def _names(check, value) -> str:
    try:
        return check(value)
    except InvalidName as err:
        raise BadInput(str(err)) from None


# -- time ------------------------------------------------------------------------------


def parse_time(value, what: str) -> float | None:
    """Unix seconds from a number or a UTC date ("2026-11-26" or "2026-11-26 08:00:00")."""
    if value is None or value == "":
        return None
    if isinstance(value, int | float):
        return float(value)
    text = str(value).strip()
    try:
        return float(text)
    except ValueError:
        pass
    for fmt in ("%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d"):
        try:
            return datetime.strptime(text, fmt).replace(tzinfo=UTC).timestamp()
        except ValueError:
            continue
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise BadInput(
            f"{what}={text!r} is neither a number nor a date (yyyy-mm-dd[ hh:mm:ss])"
        ) from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.timestamp()


def _as_db_time(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, UTC).replace(tzinfo=None)


# -- reading ---------------------------------------------------------------------------


def metadata(version: UconVersion) -> dict:
    blob = version.blob
    return {
        "object": version.object.name,
        "folder": version.object.folder.name,
        "tv": version.tv,
        "tr": version.tr_epoch,
        "tags": [tag.name for tag in version.tags],
        "adler32": blob.adler32,
        "uadler32": blob.adler32 & 0xFFFFFFFF,
        "data_size": blob.size,
        "data_key": blob.sha256,
        "id": version.id,
        "key": version.key,
    }


def list_folders(session, database: str) -> list[str]:
    database = _names(naming.check_database, database)
    return list(session.scalars(
        select(UconFolder.name).where(UconFolder.database == database).order_by(UconFolder.name)
    ))


def get_folder(session, database: str, name: str | None) -> UconFolder:
    database = _names(naming.check_database, database)
    name = _names(naming.check_folder, name)
    folder = session.scalar(
        select(UconFolder).where(UconFolder.database == database, UconFolder.name == name)
    )
    if folder is None:
        raise NotFound(f"folder {name} not found in database {database}")
    return folder


def get_object(session, folder: UconFolder, name: str | None) -> UconObject:
    name = _names(naming.check_object, name)
    obj = session.scalar(
        select(UconObject).where(UconObject.folder_id == folder.id, UconObject.name == name)
    )
    if obj is None:
        raise NotFound(f"object {name} not found in folder {folder.name}")
    return obj


def list_objects(session, folder: UconFolder, begins_with: str | None = None,
                 limit: int | None = None, offset: int = 0) -> list[UconObject]:
    query = select(UconObject).where(UconObject.folder_id == folder.id)
    if begins_with:
        # Case-sensitive on every database (LIKE is not on SQLite), and no wildcards.
        query = query.where(func.substr(UconObject.name, 1, len(begins_with)) == begins_with)
    query = query.order_by(UconObject.name).offset(offset)
    if limit is not None:
        query = query.limit(limit)
    return list(session.scalars(query))


def list_tags(session, folder: UconFolder) -> list[str]:
    return list(session.scalars(
        select(UconTag.name).distinct()
        .join(UconVersion, UconTag.version_id == UconVersion.id)
        .join(UconObject, UconVersion.object_id == UconObject.id)
        .where(UconObject.folder_id == folder.id)
        .order_by(UconTag.name)
    ))


@dataclass
class FolderSummary:
    name: str
    objects: int
    versions: int
    tags: int


def folder_summaries(session, database: str) -> list[FolderSummary]:
    database = _names(naming.check_database, database)
    folders = session.scalars(
        select(UconFolder).where(UconFolder.database == database).order_by(UconFolder.name)
    ).all()
    out = []
    for folder in folders:
        objects = session.scalar(
            select(func.count()).select_from(UconObject).where(UconObject.folder_id == folder.id)
        )
        versions = session.scalar(
            select(func.count()).select_from(UconVersion).join(UconObject)
            .where(UconObject.folder_id == folder.id)
        )
        out.append(FolderSummary(folder.name, objects, versions, len(list_tags(session, folder))))
    return out


def _versions_query(obj: UconObject, *, tv=None, tr=None, tr_since=None, tag=None):
    query = select(UconVersion).where(UconVersion.object_id == obj.id)
    if tv is not None:
        query = query.where(UconVersion.tv <= tv)
    if tr is not None:
        query = query.where(UconVersion.tr <= _as_db_time(tr))
    if tr_since is not None:
        query = query.where(UconVersion.tr > _as_db_time(tr_since))
    if tag is not None:
        query = query.where(
            UconVersion.id.in_(select(UconTag.version_id).where(UconTag.name == tag))
        )
    return query


def list_versions(session, obj: UconObject, *, tv=None, tr=None, tr_since=None, tag=None,
                  limit: int | None = None, offset: int = 0,
                  default_tv_now: bool = True) -> list[UconVersion]:
    """An object's versions, newest record first (as the real `versions` call lists them:
    only those valid at tv, which defaults to now)."""
    if tv is None and default_tv_now:
        tv = time.time()
    query = _versions_query(obj, tv=tv, tr=tr, tr_since=tr_since, tag=tag).order_by(
        UconVersion.tr.desc(), UconVersion.tv.desc(), UconVersion.id.desc()
    ).offset(offset)
    if limit is not None:
        query = query.limit(limit)
    return list(session.scalars(query))


def version_count(session, obj: UconObject) -> int:
    return session.scalar(
        select(func.count()).select_from(UconVersion).where(UconVersion.object_id == obj.id)
    )


def latest_version(session, obj: UconObject) -> UconVersion | None:
    found = list_versions(session, obj, limit=1, default_tv_now=False)
    return found[0] if found else None


def find_version(session, folder: UconFolder, obj: UconObject | None, *, version_id=None,
                 key=None, tag=None, tv=None, tr=None) -> UconVersion:
    """One version: by id, by key, or the one valid at tv (default now) -- with a tag, or
    as recorded by tr. 404 when there is none."""
    if version_id is not None:
        version = version_by_id(session, folder, version_id)
        if obj is not None and version.object_id != obj.id:
            raise NotFound(f"version {version_id} is not a version of {obj.name}")
        return version
    if obj is None:
        raise BadInput("an object name is needed")
    if key is not None:
        key = _names(naming.check_key, key)
        version = session.scalar(
            select(UconVersion).where(UconVersion.object_id == obj.id, UconVersion.key == key)
        )
        if version is None:
            raise NotFound(f"object {obj.name} has no version with key {key}")
        return version
    found = list_versions(session, obj, tv=tv, tr=tr, tag=tag, limit=1)
    if not found:
        raise NotFound(f"object {obj.name} has no version valid then")
    return found[0]


def version_by_id(session, folder: UconFolder, version_id) -> UconVersion:
    try:
        version_id = int(version_id)
    except (TypeError, ValueError):
        raise BadInput(f"version id {version_id!r} is not a number") from None
    # An id no table can hold is simply not there (never an overflow in the driver).
    version = session.get(UconVersion, version_id) if row_id(version_id) else None
    if version is None or version.object.folder_id != folder.id:
        raise NotFound(f"version {version_id} not found in folder {folder.name}")
    return version


def blob_by_data_key(session, folder: UconFolder, data_key: str) -> bytes:
    """The bytes of a data key that a version in this folder holds."""
    blob = session.scalar(
        select(UconBlob).where(UconBlob.sha256 == str(data_key))
        .join(UconVersion, UconVersion.blob_id == UconBlob.id)
        .join(UconObject, UconVersion.object_id == UconObject.id)
        .where(UconObject.folder_id == folder.id).limit(1)
    )
    if blob is None:
        raise NotFound(f"data key {data_key} not found in folder {folder.name}")
    return blob.data


def lookup_versions(session, folder: UconFolder, object_name: str | None, spec: dict,
                    *, tr=None, tag=None) -> list[dict]:
    """The `lookup_versions` call: versions by `ids`, by `keys` or key_min/key_max, or by
    validity times `tvs` (each answer then carries its `lookup_tv`); missing ones are left
    out. With none of those, every version of the object."""
    if not isinstance(spec, dict):
        raise BadInput("the body must be a JSON object with ids, keys, key_min/key_max or tvs")
    obj = get_object(session, folder, object_name) if object_name else None
    ids, keys, tvs = spec.get("ids"), spec.get("keys"), spec.get("tvs")
    key_min, key_max = spec.get("key_min"), spec.get("key_max")
    if ids:
        if not isinstance(ids, list) or not all(
            isinstance(i, int) and not isinstance(i, bool) for i in ids
        ):
            raise BadInput("ids must be a list of integers")
        wanted = [i for i in ids if row_id(i)]  # the others name no version: left out
        versions = session.scalars(
            select(UconVersion).join(UconObject)
            .where(UconObject.folder_id == folder.id, UconVersion.id.in_(wanted))
            .order_by(UconVersion.id)
        )
        return [metadata(v) for v in versions]
    if keys or key_min is not None or key_max is not None:
        if obj is None:
            raise BadInput("looking versions up by key needs an object")
        query = select(UconVersion).where(UconVersion.object_id == obj.id)
        if keys:
            if not isinstance(keys, list) or not all(isinstance(k, str) for k in keys):
                raise BadInput("keys must be a list of strings")
            query = query.where(UconVersion.key.in_(keys))
        else:
            query = query.where(UconVersion.key.is_not(None))
            if key_min is not None:
                query = query.where(UconVersion.key >= str(key_min))
            if key_max is not None:
                query = query.where(UconVersion.key < str(key_max))
        return [metadata(v) for v in session.scalars(query.order_by(UconVersion.key))]
    if tvs:
        if obj is None:
            raise BadInput("looking versions up by tv needs an object")
        if not isinstance(tvs, list) or not all(
            isinstance(t, int | float) and not isinstance(t, bool) for t in tvs
        ):
            raise BadInput("tvs must be a list of numbers")
        out = []
        for tv in tvs:
            found = list_versions(session, obj, tv=float(tv), tr=tr, tag=tag, limit=1)
            if found:
                out.append(metadata(found[0]) | {"lookup_tv": tv})
        return out
    if obj is None:
        raise BadInput("give ids, keys, key_min/key_max or tvs, or an object")
    return [metadata(v) for v in list_versions(session, obj, tr=tr, tag=tag,
                                               default_tv_now=False)]


# -- writing ---------------------------------------------------------------------------


def _retrying(session, work):
    """Run `work()` in its own transaction, again when a concurrent writer collided."""
    for attempt in range(WRITE_ATTEMPTS):
        try:
            result = work()
            session.commit()
            return result
        except IntegrityError:
            session.rollback()
            if attempt == WRITE_ATTEMPTS - 1:
                raise
        except OperationalError as err:
            session.rollback()
            if "locked" not in str(err).lower() or attempt == WRITE_ATTEMPTS - 1:
                raise
        except BaseException:
            session.rollback()
            raise
        time.sleep(min(0.01 * 2 ** attempt, 0.5))
    raise AssertionError("not reached")


def create_folder(session, database: str, name: str, *, owner: str = "",
                  created_by: str = "") -> bool:
    """Create a folder; True when it is new, False when it was there (nothing changes)."""
    database = _names(naming.check_database, database)
    name = _names(naming.check_folder, name)

    def work():
        exists = session.scalar(
            select(UconFolder.id).where(UconFolder.database == database, UconFolder.name == name)
        )
        if exists is not None:
            return False
        session.add(UconFolder(database=database, name=name, owner=owner or "",
                               created_by=created_by or ""))
        session.flush()
        return True

    return _retrying(session, work)


@dataclass
class Stored:
    meta: dict
    created: bool  # False: the same content under the same key was there already


def store_version(session, database: str, folder_name: str, object_name: str, data: bytes,
                  *, tv=None, tags: Iterable[str] = (), key: str | None = None,
                  override: bool = False, writer: str = "",
                  max_bytes: int | None = None) -> Stored:
    """Store a new version of an object (the object is made on its first version)."""
    object_name = _names(naming.check_object, object_name)
    if key is not None:
        key = _names(naming.check_key, key)
    tags = sorted({_names(naming.check_tag, t) for t in tags})
    tv = parse_time(tv, "tv") or 0.0
    data = bytes(data)
    if max_bytes is not None and len(data) > max_bytes:
        raise TooLarge(f"{len(data)} bytes is more than the {max_bytes} a version may hold")
    sha256 = hashlib.sha256(data).hexdigest()
    folder_id = get_folder(session, database, folder_name).id
    session.rollback()  # the write starts from a fresh transaction

    def work() -> Stored:
        obj = session.scalar(
            select(UconObject).where(UconObject.folder_id == folder_id,
                                     UconObject.name == object_name)
        )
        if obj is None:
            obj = UconObject(folder_id=folder_id, name=object_name)
            session.add(obj)
            session.flush()
        elif key is not None:
            existing = session.scalar(
                select(UconVersion).where(UconVersion.object_id == obj.id, UconVersion.key == key)
            )
            if existing is not None:
                if existing.blob.sha256 == sha256:
                    return Stored(metadata(existing), created=False)
                if not override:
                    raise KeyConflict(
                        f"object {object_name} already has version {existing.id} with key {key}, "
                        "holding other data; put with override=yes to move the key"
                    )
                existing.key = None
                session.flush()
        blob = session.scalar(select(UconBlob).where(UconBlob.sha256 == sha256))
        if blob is None:
            blob = UconBlob(sha256=sha256, size=len(data),
                            adler32=zlib.adler32(data) & 0xFFFFFFFF, data=data)
            session.add(blob)
            session.flush()
        version = UconVersion(object_id=obj.id, blob_id=blob.id, key=key, tv=tv,
                              writer=writer or "")
        version.tags = [UconTag(name=t) for t in tags]
        session.add(version)
        session.flush()
        session.refresh(version)
        return Stored(metadata(version), created=True)

    return _retrying(session, work)


def add_tag(session, folder: UconFolder, tag: str, *, object_name=None, key=None,
            version_id=None) -> UconVersion:
    """Tag one version (by id, or by object and key); tagging twice changes nothing."""
    tag = _names(naming.check_tag, tag)
    if version_id is not None:
        version = version_by_id(session, folder, version_id)
    else:
        if object_name is None or key is None:
            raise BadInput("tag needs version_id, or object and key")
        version = find_version(session, folder, get_object(session, folder, object_name),
                               key=key)
    version_id = version.id
    session.rollback()

    def work():
        exists = session.get(UconTag, (version_id, tag))
        if exists is None:
            session.add(UconTag(version_id=version_id, name=tag))
            session.flush()
        return session.get(UconVersion, version_id)

    return _retrying(session, work)
