"""Who changed what, when: the trail superusers read."""
from __future__ import annotations

from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.base import utcnow


class AuditEntry(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    at = mapped_column(db.DateTime, default=utcnow, nullable=False, index=True)
    experiment_id: Mapped[int | None] = mapped_column(ForeignKey("experiment.id"), index=True)
    experimenter_id: Mapped[int | None] = mapped_column(ForeignKey("experimenter.id"))
    action: Mapped[str] = mapped_column(String(64))  # "campaign uploaded", "stage edited", ...
    subject: Mapped[str] = mapped_column(String(255))  # what was changed, in words
    before = mapped_column(JSON, nullable=True)
    after = mapped_column(JSON, nullable=True)

    experimenter = relationship("Experimenter")
    experiment = relationship("Experiment")
