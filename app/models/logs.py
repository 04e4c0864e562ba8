"""Failure signatures per experiment (app/logs/signatures.py says what they mean)."""
from __future__ import annotations

from sqlalchemy import JSON, ForeignKey, String, Text, UniqueConstraint
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
