"""A grid credential an experimenter uploaded for launching work: an X.509 proxy or a
bearer token, one of each kind per experimenter, experiment and role.

The file itself lives outside the database and the web root (POMS_CREDENTIALS_DIR, 0600);
the row says whose it is, what it is and when it expires, and the file's SHA-256 so a
file that no longer matches its row is never used.
"""
from __future__ import annotations

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.base import utcnow


class Credential(db.Model):
    __table_args__ = (UniqueConstraint("experiment_id", "experimenter_id", "role", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    experiment_id: Mapped[int] = mapped_column(ForeignKey("experiment.id"), index=True)
    experimenter_id: Mapped[int] = mapped_column(ForeignKey("experimenter.id"), index=True)
    role: Mapped[str] = mapped_column(String(32))  # the kind of work: analysis, production
    kind: Mapped[str] = mapped_column(String(16))  # proxy, token
    subject: Mapped[str] = mapped_column(String(512), default="")  # DN, or the token's sub
    issuer: Mapped[str] = mapped_column(String(512), default="")
    expires = mapped_column(db.DateTime, nullable=False, index=True)  # UTC
    uploaded = mapped_column(db.DateTime, default=utcnow, nullable=False)
    sha256: Mapped[str] = mapped_column(String(64))

    experiment = relationship("Experiment")
    experimenter = relationship("Experimenter")

    @property
    def file_name(self) -> str:
        # Numbers and two fixed vocabularies only: a stored name can never leave the folder.
        return f"{self.experiment_id}-{self.experimenter_id}-{self.role}-{self.kind}"
