"""What chaining decided for a submission once it was Located (app/chaining/).

  chain_step        one decision per (submission, stage, kind), guarded by a unique
                    constraint so two workers seeing the same completion launch once:
                      kind "recovery"   the next recovery of `parent_submission` (its stage)
                      kind "dependent"  a dependent stage launched on the family's outputs
                      kind "settled"    chaining of `parent_submission` is finished
                    submission_id is what was launched (None: nothing was, `note` says why)
  chain_job_record  a finished job whose files were recorded in the catalogue (once)
  job_output        which job made which catalogue file (provenance: file -> job by its
                    primary key, job -> files and stage -> files by index, where the
                    file's metadata poms_task_id/poms_job_id would be a scan of JSON)
  reprocess_mark    input files an operator marked to be processed again (audited), to be
                    picked up by the stage's next recovery
"""
from __future__ import annotations

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.base import utcnow


class ChainStep(db.Model):
    __tablename__ = "chain_step"
    __table_args__ = (
        UniqueConstraint("parent_submission_id", "child_stage_id", "kind",
                         name="uq_chain_step_once"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    parent_submission_id: Mapped[int] = mapped_column(
        ForeignKey("submission.id", ondelete="CASCADE"), index=True
    )
    child_stage_id: Mapped[int] = mapped_column(
        ForeignKey("campaign_stage.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(16))  # recovery, dependent, settled
    position: Mapped[int] = mapped_column(default=0)  # recovery position / dependency N
    submission_id: Mapped[int | None] = mapped_column(
        ForeignKey("submission.id", ondelete="SET NULL"), index=True
    )
    definition: Mapped[str] = mapped_column(String(255), default="")
    file_count: Mapped[int] = mapped_column(default=0)
    note: Mapped[str] = mapped_column(Text, default="")
    created = mapped_column(db.DateTime, default=utcnow, nullable=False)

    launched = relationship("Submission", foreign_keys=[submission_id])


class ChainJobRecord(db.Model):
    __tablename__ = "chain_job_record"

    job_id: Mapped[int] = mapped_column(
        ForeignKey("job.id", ondelete="CASCADE"), primary_key=True
    )
    submission_id: Mapped[int] = mapped_column(
        ForeignKey("submission.id", ondelete="CASCADE"), index=True
    )
    inputs: Mapped[int] = mapped_column(default=0)
    consumed: Mapped[int] = mapped_column(default=0)
    outputs: Mapped[int] = mapped_column(default=0)
    note: Mapped[str] = mapped_column(Text, default="")
    recorded_at = mapped_column(db.DateTime, default=utcnow, nullable=False)


class JobOutput(db.Model):
    __tablename__ = "job_output"

    file_id: Mapped[int] = mapped_column(
        ForeignKey("catalog_file.id", ondelete="CASCADE"), primary_key=True
    )
    job_id: Mapped[int] = mapped_column(ForeignKey("job.id", ondelete="CASCADE"), index=True)
    submission_id: Mapped[int] = mapped_column(
        ForeignKey("submission.id", ondelete="CASCADE"), index=True
    )


class ReprocessMark(db.Model):
    __tablename__ = "reprocess_mark"
    __table_args__ = (Index("ix_reprocess_mark_submission_open", "submission_id", "used_by_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(
        ForeignKey("submission.id", ondelete="CASCADE")
    )
    file_name: Mapped[str] = mapped_column(String(255))
    reason: Mapped[str] = mapped_column(Text, default="")
    marked_by_id: Mapped[int | None] = mapped_column(ForeignKey("experimenter.id"))
    created = mapped_column(db.DateTime, default=utcnow, nullable=False)
    # The recovery submission that took the file (None: still waiting).
    used_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("submission.id", ondelete="SET NULL")
    )
