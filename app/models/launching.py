"""What a launch needs beside the campaign: snapshots of definitions, stage hold and schedule.

A snapshot keeps a stage, job type or login setup as it was when a submission launched. Rows
are shared: a launch reuses the newest snapshot whose content is identical (same digest), so
a definition that never changes has one snapshot however often it launches.
"""
from __future__ import annotations

from sqlalchemy import JSON, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.base import utcnow


class StageSnapshot(db.Model):
    __table_args__ = (UniqueConstraint("campaign_stage_id", "digest"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_stage_id: Mapped[int] = mapped_column(
        ForeignKey("campaign_stage.id", ondelete="RESTRICT"), index=True
    )
    digest: Mapped[str] = mapped_column(String(64))
    data = mapped_column(JSON, nullable=False)
    created = mapped_column(db.DateTime, default=utcnow, nullable=False)


class JobTypeSnapshot(db.Model):
    __table_args__ = (UniqueConstraint("job_type_id", "digest"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    job_type_id: Mapped[int] = mapped_column(ForeignKey("job_type.id"), index=True)
    digest: Mapped[str] = mapped_column(String(64))
    data = mapped_column(JSON, nullable=False)
    created = mapped_column(db.DateTime, default=utcnow, nullable=False)


class LoginSetupSnapshot(db.Model):
    __table_args__ = (UniqueConstraint("login_setup_id", "digest"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    login_setup_id: Mapped[int] = mapped_column(ForeignKey("login_setup.id"), index=True)
    digest: Mapped[str] = mapped_column(String(64))
    data = mapped_column(JSON, nullable=False)
    created = mapped_column(db.DateTime, default=utcnow, nullable=False)


class StageLaunchSettings(db.Model):
    """Per stage: held (launches wait) and a cron schedule of launches."""

    campaign_stage_id: Mapped[int] = mapped_column(
        ForeignKey("campaign_stage.id", ondelete="CASCADE"), primary_key=True
    )
    held: Mapped[bool] = mapped_column(default=False)
    held_by_id: Mapped[int | None] = mapped_column(ForeignKey("experimenter.id"))
    held_at = mapped_column(db.DateTime, nullable=True)
    # A cron expression ("0 */6 * * *"); empty means no scheduled launches.
    schedule: Mapped[str] = mapped_column(String(128), default="")
    schedule_test: Mapped[bool] = mapped_column(default=False)
    # Scheduled launches act as the person who set the schedule.
    schedule_user_id: Mapped[int | None] = mapped_column(ForeignKey("experimenter.id"))
    schedule_next_at = mapped_column(db.DateTime, nullable=True, index=True)
    schedule_last_at = mapped_column(db.DateTime, nullable=True)

    held_by = relationship("Experimenter", foreign_keys=[held_by_id])
    schedule_user = relationship("Experimenter", foreign_keys=[schedule_user_id])


class ExperimentLaunchHold(db.Model):
    """The switch that holds every launch of an experiment (the original's
    set_job_launches), for downtimes: while `held`, launches are written and wait, as for a
    held stage; releasing queues them."""

    __tablename__ = "experiment_launch_hold"

    experiment_id: Mapped[int] = mapped_column(
        ForeignKey("experiment.id", ondelete="CASCADE"), primary_key=True
    )
    held: Mapped[bool] = mapped_column(default=False)
    held_by_id: Mapped[int | None] = mapped_column(ForeignKey("experimenter.id"))
    held_at = mapped_column(db.DateTime, nullable=True)
    reason: Mapped[str] = mapped_column(Text, default="")

    held_by = relationship("Experimenter")
