"""The embedded UconDB server's tables: folders, objects, versions, tags and blobs.

A folder belongs to a database (the `<database>` in `/ucondb/<database>/app`); an object is a
name in a folder; a version is one stored value of an object, with its validity time (tv),
record time (tr), optional key (unique per object) and tags. Blobs are content-addressed: one
row per distinct content (sha256), shared by every version in any folder that stores the same
bytes; a version's `data_key` is its blob's sha256.
"""
from __future__ import annotations

from datetime import UTC

from sqlalchemy import (
    JSON,
    BigInteger,
    Float,
    ForeignKey,
    Index,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.base import utcnow


class UconFolder(db.Model):
    __tablename__ = "ucondb_folder"
    __table_args__ = (UniqueConstraint("database", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    database: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(64))
    owner: Mapped[str] = mapped_column(String(64), default="")
    created_by: Mapped[str] = mapped_column(String(64), default="")
    created = mapped_column(db.DateTime, default=utcnow, nullable=False)

    objects: Mapped[list[UconObject]] = relationship(back_populates="folder")


class UconObject(db.Model):
    __tablename__ = "ucondb_object"
    __table_args__ = (UniqueConstraint("folder_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    folder_id: Mapped[int] = mapped_column(ForeignKey("ucondb_folder.id"), index=True)
    name: Mapped[str] = mapped_column(String(255))

    folder: Mapped[UconFolder] = relationship(back_populates="objects")


class UconBlob(db.Model):
    __tablename__ = "ucondb_blob"

    id: Mapped[int] = mapped_column(primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    size: Mapped[int] = mapped_column(BigInteger)
    adler32: Mapped[int] = mapped_column(BigInteger)
    data: Mapped[bytes] = mapped_column(LargeBinary)
    created = mapped_column(db.DateTime, default=utcnow, nullable=False)


class UconVersion(db.Model):
    __tablename__ = "ucondb_version"
    __table_args__ = (
        # One version per key per object; NULL keys do not collide (SQLite and PostgreSQL).
        UniqueConstraint("object_id", "key"),
        Index("ix_ucondb_version_lookup", "object_id", "tv", "tr"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    object_id: Mapped[int] = mapped_column(ForeignKey("ucondb_object.id"), index=True)
    blob_id: Mapped[int] = mapped_column(ForeignKey("ucondb_blob.id"), index=True)
    key: Mapped[str | None] = mapped_column(String(255))
    tv: Mapped[float] = mapped_column(Float, default=0.0)
    tr = mapped_column(db.DateTime, default=utcnow, nullable=False)
    writer: Mapped[str] = mapped_column(String(64), default="")

    object: Mapped[UconObject] = relationship()
    blob: Mapped[UconBlob] = relationship()
    tags: Mapped[list[UconTag]] = relationship(
        back_populates="version", cascade="all, delete-orphan", order_by="UconTag.name"
    )

    @property
    def tr_epoch(self) -> float:
        return self.tr.replace(tzinfo=UTC).timestamp()


class UconTag(db.Model):
    __tablename__ = "ucondb_tag"

    version_id: Mapped[int] = mapped_column(ForeignKey("ucondb_version.id"), primary_key=True)
    name: Mapped[str] = mapped_column(String(128), primary_key=True)

    version: Mapped[UconVersion] = relationship(back_populates="tags")


class FclUpload(db.Model):
    """One finished job of an FCL stage whose FCL files go to UconDB (app/ucondb/jobs.py).

    state: queued (an RQ `uploads` job is on its way), retrying (an attempt failed, RQ tries
    again), done (every file stored and its catalogue location recorded), failed (the last
    attempt failed: the dependent stages wait until an operator uploads again).
    """

    __tablename__ = "fcl_upload"

    job_id: Mapped[int] = mapped_column(ForeignKey("job.id", ondelete="CASCADE"), primary_key=True)
    submission_id: Mapped[int] = mapped_column(
        ForeignKey("submission.id", ondelete="CASCADE"), index=True
    )
    state: Mapped[str] = mapped_column(String(16), default="queued")
    # [{"name": "a.fcl", "path": "/dir/a.fcl", "dataset": "a.fcl"}, ...]
    files = mapped_column(JSON, nullable=False, default=list)
    # per stored file: name, folder, version (UconDB's id), location
    locations = mapped_column(JSON, nullable=False, default=list)
    attempts: Mapped[int] = mapped_column(default=0)
    error: Mapped[str] = mapped_column(Text, default="")
    created = mapped_column(db.DateTime, default=utcnow, nullable=False)
    updated = mapped_column(db.DateTime, default=utcnow, onupdate=utcnow, nullable=False)
