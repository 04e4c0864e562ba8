"""A submission: one launch of a campaign stage (launching fills in the rest)."""
from __future__ import annotations

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.base import utcnow


class Submission(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    # RESTRICT: a stage that has launched keeps its history; campaigns that launched
    # cannot be deleted.
    campaign_stage_id: Mapped[int] = mapped_column(
        ForeignKey("campaign_stage.id", ondelete="RESTRICT"), index=True
    )
    state: Mapped[str] = mapped_column(String(32), default="New")
    created = mapped_column(db.DateTime, default=utcnow, nullable=False, index=True)

    stage = relationship("CampaignStage")
