"""Failure signatures per experiment (app/logs/signatures.py says what they mean), and each
finished job's log analysis (app/logs/jobs.py)."""
from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Float,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
    literal_column,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.base import utcnow


class FailureSignature(db.Model):
    __table_args__ = (UniqueConstraint("experiment_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    experiment_id: Mapped[int] = mapped_column(ForeignKey("experiment.id"), index=True)
    name: Mapped[str] = mapped_column(String(128))
    pattern: Mapped[str] = mapped_column(String(500), default="")
    category: Mapped[str] = mapped_column(String(16))
    action: Mapped[str] = mapped_column(Text, default="")
    exit_codes: Mapped[str] = mapped_column(String(64), default="")  # "137, 124"
    position: Mapped[int] = mapped_column(default=0)  # matching order: lowest first
    hits: Mapped[int] = mapped_column(default=0)
    last_hit = mapped_column(db.DateTime, nullable=True)
    starting_key: Mapped[str | None] = mapped_column(String(64))  # from the starting set
    creator_id: Mapped[int | None] = mapped_column(ForeignKey("experimenter.id"))
    created = mapped_column(db.DateTime, default=utcnow, nullable=False)
    updated = mapped_column(db.DateTime, default=utcnow, onupdate=utcnow, nullable=False)

    experiment = relationship("Experiment")
    creator = relationship("Experimenter")


class SignatureSeeding(db.Model):
    """Which starting signatures an experiment has been given, ever.

    A starting signature is installed once: deleting it keeps it deleted, and a starting
    signature shipped later is added on the next use.
    """

    experiment_id: Mapped[int] = mapped_column(ForeignKey("experiment.id"), primary_key=True)
    installed = mapped_column(JSON, nullable=False, default=list)
    updated = mapped_column(db.DateTime, default=utcnow, onupdate=utcnow, nullable=False)


class JobAnalysis(db.Model):
    """One finished job's log, analysed once (app/logs/jobs.py writes it).

    The columns pages aggregate over (GROUP BY in SQL, never a Python loop over every job);
    `data` keeps the whole LogAnalysis (LogAnalysis.from_dict reads it back).
    """

    __tablename__ = "job_analysis"
    __table_args__ = (
        Index("ix_job_analysis_submission_exit", "submission_id", "exit_code"),
        Index("ix_job_analysis_submission_signature", "submission_id", "signature"),
        # The results pages' cache keys (app/results/aggregate.py): rows and revisions per
        # submission and per stage, counted from the index alone.
        Index("ix_job_analysis_submission_revision", "submission_id", "revision"),
        Index("ix_job_analysis_stage_revision", "campaign_stage_id", "revision"),
    )

    job_id: Mapped[int] = mapped_column(ForeignKey("job.id", ondelete="CASCADE"),
                                        primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submission.id", ondelete="CASCADE"))
    campaign_stage_id: Mapped[int] = mapped_column(
        ForeignKey("campaign_stage.id", ondelete="CASCADE"), index=True
    )
    analysed_at = mapped_column(db.DateTime, default=utcnow, nullable=False)
    log_found: Mapped[bool] = mapped_column(default=True)
    failed: Mapped[bool] = mapped_column(default=False)
    exit_code: Mapped[int | None] = mapped_column()
    signal: Mapped[int | None] = mapped_column()
    wall_time_s: Mapped[float | None] = mapped_column(Float)
    cpu_time_s: Mapped[float | None] = mapped_column(Float)
    efficiency: Mapped[float | None] = mapped_column(Float)  # CPU / wall
    peak_memory_mb: Mapped[float | None] = mapped_column(Float)
    memory_requested_mb: Mapped[float | None] = mapped_column(Float)
    site: Mapped[str | None] = mapped_column(String(128))
    signature: Mapped[str | None] = mapped_column(String(128))
    category: Mapped[str | None] = mapped_column(String(16))
    signature_id: Mapped[int | None] = mapped_column(
        ForeignKey("failure_signature.id", ondelete="SET NULL")
    )
    line: Mapped[int | None] = mapped_column()  # the matched line, 1-based
    input_files: Mapped[int] = mapped_column(default=0)
    output_files: Mapped[int] = mapped_column(default=0)
    log_bytes: Mapped[int] = mapped_column(BigInteger, default=0)
    data = mapped_column(JSON, nullable=False, default=dict)
    # One more on every UPDATE of the row (a re-labelling), by SQLAlchemy for any UPDATE it
    # issues: with the row count it tells the results pages' cache that a submission's
    # aggregates changed.
    revision: Mapped[int] = mapped_column(default=0, server_default="0",
                                          onupdate=literal_column("revision + 1"))


class JobTypeMemoryPolicy(db.Model):
    """How a recovery of memory failures raises a job type's memory request
    (app/logs/recovery.py): by `factor`, never above `cap_mb`."""

    __tablename__ = "job_type_memory_policy"

    job_type_id: Mapped[int] = mapped_column(ForeignKey("job_type.id", ondelete="CASCADE"),
                                             primary_key=True)
    factor: Mapped[float] = mapped_column(Float, default=1.5)
    cap_mb: Mapped[int] = mapped_column(default=8000)
    updated = mapped_column(db.DateTime, default=utcnow, onupdate=utcnow, nullable=False)
