"""Watches and what they are told (app/watching), and each stage's circuit breaker.

A Watch is one person's interest in a campaign or a stage: which events, by which channel
(email or webhook), at which cadence (immediate, hourly or daily digest). An event that
matches a watch is a WatchNotice; a Delivery is one message sent (or still to send) to one
target, carrying one notice (immediate) or several (a digest).
"""
from __future__ import annotations

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.base import utcnow


class Watch(db.Model):
    __table_args__ = (Index("ix_watch_campaign_stage", "campaign_id", "campaign_stage_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    experiment_id: Mapped[int] = mapped_column(ForeignKey("experiment.id"), index=True)
    experimenter_id: Mapped[int] = mapped_column(ForeignKey("experimenter.id"), index=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id", ondelete="CASCADE"))
    # None: the whole campaign
    campaign_stage_id: Mapped[int | None] = mapped_column(
        ForeignKey("campaign_stage.id", ondelete="CASCADE"))
    events = mapped_column(JSON, nullable=False, default=list)
    channel: Mapped[str] = mapped_column(String(16), default="email")  # email, webhook
    target: Mapped[str] = mapped_column(String(512), default="")  # address or URL
    cadence: Mapped[str] = mapped_column(String(16), default="immediate")  # hourly, daily
    last_digest_at = mapped_column(db.DateTime, nullable=True)
    created = mapped_column(db.DateTime, default=utcnow, nullable=False)

    experimenter = relationship("Experimenter")
    campaign = relationship("Campaign")
    stage = relationship("CampaignStage")


class WatchEvent(db.Model):
    """Something watchers may be told, recorded once (`key` says what it was)."""

    __tablename__ = "watch_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(128), unique=True)
    kind: Mapped[str] = mapped_column(String(32))
    experiment_id: Mapped[int] = mapped_column(ForeignKey("experiment.id"), index=True)
    campaign_id: Mapped[int | None] = mapped_column(
        ForeignKey("campaign.id", ondelete="CASCADE"))
    campaign_stage_id: Mapped[int | None] = mapped_column(
        ForeignKey("campaign_stage.id", ondelete="CASCADE"))
    text: Mapped[str] = mapped_column(Text, default="")
    link: Mapped[str] = mapped_column(String(512), default="")
    at = mapped_column(db.DateTime, default=utcnow, nullable=False)


class Delivery(db.Model):
    """One message to one target: pending, retrying, sent or failed."""

    __table_args__ = (Index("ix_delivery_state", "state"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    experiment_id: Mapped[int] = mapped_column(ForeignKey("experiment.id"), index=True)
    experimenter_id: Mapped[int] = mapped_column(ForeignKey("experimenter.id"), index=True)
    watch_id: Mapped[int | None] = mapped_column(ForeignKey("watch.id", ondelete="SET NULL"))
    channel: Mapped[str] = mapped_column(String(16))
    target: Mapped[str] = mapped_column(String(512))
    subject: Mapped[str] = mapped_column(String(255), default="")
    body: Mapped[str] = mapped_column(Text, default="")
    events: Mapped[int] = mapped_column(default=1)
    state: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    error: Mapped[str] = mapped_column(Text, default="")
    created = mapped_column(db.DateTime, default=utcnow, nullable=False)
    sent_at = mapped_column(db.DateTime, nullable=True)


class WatchNotice(db.Model):
    """An event matched to a watch; `delivery_id` is set once a message carries it."""

    __tablename__ = "watch_notice"
    __table_args__ = (UniqueConstraint("watch_id", "event_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    watch_id: Mapped[int] = mapped_column(ForeignKey("watch.id", ondelete="CASCADE"))
    event_id: Mapped[int] = mapped_column(ForeignKey("watch_event.id", ondelete="CASCADE"))
    delivery_id: Mapped[int | None] = mapped_column(
        ForeignKey("delivery.id", ondelete="SET NULL"), index=True)

    event = relationship("WatchEvent")


class WatchCursor(db.Model):
    """How far the watch pass has read a growing table (submission_event, chain_step)."""

    __tablename__ = "watch_cursor"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    last_id: Mapped[int] = mapped_column(default=0)


class BreakerPolicy(db.Model):
    """When a stage's breaker trips: more than `percent` failed among the last `window`
    finished jobs. Per job type; the row without a job type is the experiment's default."""

    __tablename__ = "breaker_policy"
    __table_args__ = (UniqueConstraint("experiment_id", "job_type_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    experiment_id: Mapped[int] = mapped_column(ForeignKey("experiment.id"), index=True)
    job_type_id: Mapped[int | None] = mapped_column(
        ForeignKey("job_type.id", ondelete="CASCADE"))
    enabled: Mapped[bool] = mapped_column(default=True)
    window: Mapped[int] = mapped_column(default=20)
    percent: Mapped[int] = mapped_column(default=50)
    updated = mapped_column(db.DateTime, default=utcnow, onupdate=utcnow, nullable=False)


class StageBreaker(db.Model):
    """A stage's breaker: tripped (its launches, recoveries and dependents held) or not."""

    __tablename__ = "stage_breaker"

    campaign_stage_id: Mapped[int] = mapped_column(
        ForeignKey("campaign_stage.id", ondelete="CASCADE"), primary_key=True)
    tripped: Mapped[bool] = mapped_column(default=False)
    tripped_at = mapped_column(db.DateTime, nullable=True)
    reason: Mapped[str] = mapped_column(Text, default="")
    failed: Mapped[int] = mapped_column(default=0)
    window: Mapped[int] = mapped_column(default=0)
    job_ids = mapped_column(JSON, nullable=False, default=list)  # the jobs it judged
    held_stage_ids = mapped_column(JSON, nullable=False, default=list)  # held by the trip
    released_at = mapped_column(db.DateTime, nullable=True)
    released_by_id: Mapped[int | None] = mapped_column(ForeignKey("experimenter.id"))
    # After a release only jobs that end later count, or it would trip again at once.
    counts_from_job_id: Mapped[int] = mapped_column(default=0)

    released_by = relationship("Experimenter")
