"""The embedded data catalogue (SAM's part of the world, kept in the POMS database).

  catalog_file          one file per (experiment, name): size, checksum, metadata (JSON),
                        create_date; `version`, `run_number` and `data_tier` are copied out
                        of the metadata into indexed columns so dimension queries over a
                        million files use an index instead of reading JSON
  catalog_file_parent   parentage (child_id, parent_id), many-to-many
  catalog_location      where a file is (one row per location string)
  catalog_definition    a named, saved dimension query (an explicit file list is saved as a
                        snapshot and the query `snapshot_id N`)
  catalog_snapshot      a frozen list of files (catalog_snapshot_file rows), as SAM's snapshots
  catalog_project       a run over a definition: its snapshot, its processes, its deliveries
  catalog_process       one consumer in a project (a job), with its final status
  catalog_delivery      which process was given which file and what became of it
  stage_split_state     where a campaign stage's splitter stands (app/catalog/splits.py)

Names of experiments are plain strings here, as SAM has them (`/sam/<experiment>/api`).
"""
from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.base import utcnow


class CatalogFile(db.Model):
    __tablename__ = "catalog_file"
    __table_args__ = (
        UniqueConstraint("experiment", "name"),
        # Listings and `with limit/offset` walk an experiment's files in id order.
        Index("ix_catalog_file_experiment_id", "experiment", "id"),
        Index("ix_catalog_file_experiment_create_date", "experiment", "create_date"),
        Index("ix_catalog_file_experiment_version", "experiment", "version"),
        Index("ix_catalog_file_experiment_run_number", "experiment", "run_number"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    experiment: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(255))
    size: Mapped[int] = mapped_column(BigInteger, default=0)
    checksum: Mapped[str] = mapped_column(String(128), default="")
    file_metadata = mapped_column("metadata", JSON, nullable=False, default=dict)
    create_date = mapped_column(db.DateTime, default=utcnow, nullable=False)
    version: Mapped[str | None] = mapped_column(String(128))
    run_number: Mapped[int | None] = mapped_column(Integer)
    data_tier: Mapped[str | None] = mapped_column(String(64))


class CatalogFileParent(db.Model):
    __tablename__ = "catalog_file_parent"

    child_id: Mapped[int] = mapped_column(
        ForeignKey("catalog_file.id", ondelete="CASCADE"), primary_key=True
    )
    parent_id: Mapped[int] = mapped_column(
        ForeignKey("catalog_file.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class CatalogLocation(db.Model):
    __tablename__ = "catalog_location"
    __table_args__ = (UniqueConstraint("file_id", "location"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    file_id: Mapped[int] = mapped_column(ForeignKey("catalog_file.id", ondelete="CASCADE"))
    location: Mapped[str] = mapped_column(String(1024))
    created = mapped_column(db.DateTime, default=utcnow, nullable=False)


class CatalogDefinition(db.Model):
    __tablename__ = "catalog_definition"
    __table_args__ = (UniqueConstraint("experiment", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    experiment: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(255))
    dimensions: Mapped[str] = mapped_column(Text)
    created = mapped_column(db.DateTime, default=utcnow, nullable=False)
    updated = mapped_column(db.DateTime, default=utcnow, onupdate=utcnow, nullable=False)


class CatalogSnapshot(db.Model):
    __tablename__ = "catalog_snapshot"

    id: Mapped[int] = mapped_column(primary_key=True)
    experiment: Mapped[str] = mapped_column(String(64), index=True)
    definition_name: Mapped[str] = mapped_column(String(255), default="")
    file_count: Mapped[int] = mapped_column(default=0)
    created = mapped_column(db.DateTime, default=utcnow, nullable=False)


class CatalogSnapshotFile(db.Model):
    __tablename__ = "catalog_snapshot_file"

    snapshot_id: Mapped[int] = mapped_column(
        ForeignKey("catalog_snapshot.id", ondelete="CASCADE"), primary_key=True
    )
    file_id: Mapped[int] = mapped_column(
        ForeignKey("catalog_file.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class CatalogProject(db.Model):
    __tablename__ = "catalog_project"
    __table_args__ = (UniqueConstraint("experiment", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    experiment: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(255))
    definition_name: Mapped[str] = mapped_column(String(255), default="")
    snapshot_id: Mapped[int | None] = mapped_column(ForeignKey("catalog_snapshot.id"))
    # running, completed (SAM's words)
    status: Mapped[str] = mapped_column(String(16), default="running")
    created = mapped_column(db.DateTime, default=utcnow, nullable=False)
    ended = mapped_column(db.DateTime, nullable=True)


class CatalogProcess(db.Model):
    __tablename__ = "catalog_process"
    __table_args__ = (UniqueConstraint("project_id", "description"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(
        ForeignKey("catalog_project.id", ondelete="CASCADE"), index=True
    )
    # Who consumes: a batch job id such as 12345.0@jobsub01.fnal.gov
    description: Mapped[str] = mapped_column(String(255))
    # active, completed, bad (SAM's words)
    status: Mapped[str] = mapped_column(String(16), default="active")
    created = mapped_column(db.DateTime, default=utcnow, nullable=False)
    ended = mapped_column(db.DateTime, nullable=True)


class CatalogDelivery(db.Model):
    __tablename__ = "catalog_delivery"
    __table_args__ = (
        UniqueConstraint("process_id", "file_id"),
        Index("ix_catalog_delivery_project_status_file", "project_id", "status", "file_id"),
        Index("ix_catalog_delivery_file_id", "file_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("catalog_project.id", ondelete="CASCADE"))
    process_id: Mapped[int] = mapped_column(
        ForeignKey("catalog_process.id", ondelete="CASCADE"), index=True
    )
    file_id: Mapped[int] = mapped_column(ForeignKey("catalog_file.id", ondelete="CASCADE"))
    # delivered, consumed, failed, skipped (SAM's file statuses in a project)
    status: Mapped[str] = mapped_column(String(16), default="delivered")
    delivered_at = mapped_column(db.DateTime, default=utcnow, nullable=False)
    updated_at = mapped_column(db.DateTime, default=utcnow, nullable=False)


class StageSplitState(db.Model):
    """Where a stage's splitter stands: its position and the snapshots it keeps."""

    __tablename__ = "stage_split_state"

    __table_args__ = (UniqueConstraint("stage_id", "purpose"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    stage_id: Mapped[int] = mapped_column(ForeignKey("campaign_stage.id", ondelete="CASCADE"))
    # "launch" (cs_split_type), or "test" (test_split_type: test launches keep their own
    # position, so they never move or restart the stage's).
    purpose: Mapped[str] = mapped_column(String(8), default="launch", server_default="launch")
    # The split type the position belongs to; a changed split type starts again.
    split_type: Mapped[str] = mapped_column(String(255), default="")
    position = mapped_column(JSON, nullable=True)
    snapshot_ids = mapped_column(JSON, nullable=False, default=list)
    updated = mapped_column(db.DateTime, default=utcnow, onupdate=utcnow, nullable=False)
