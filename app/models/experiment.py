"""Experiments, the people in them, and the role each person has in each."""
from __future__ import annotations

from flask_login import UserMixin
from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.base import utcnow

# Lowest to highest: a higher role may do everything a lower one may (see app/auth/policy.py).
ROLES = ("analysis", "production-shifter", "production", "superuser")


class Experiment(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    description: Mapped[str] = mapped_column(String(255), default="")
    active: Mapped[bool] = mapped_column(default=True)
    created = mapped_column(db.DateTime, default=utcnow, nullable=False)

    memberships: Mapped[list[Membership]] = relationship(
        back_populates="experiment", cascade="all, delete-orphan"
    )

    def __repr__(self) -> str:
        return f"<Experiment {self.name}>"


class Experimenter(UserMixin, db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    # The Kerberos principal without its realm: alice@FNAL.GOV is alice.
    username: Mapped[str] = mapped_column(String(64), unique=True)
    first_name: Mapped[str] = mapped_column(String(64), default="")
    last_name: Mapped[str] = mapped_column(String(64), default="")
    active: Mapped[bool] = mapped_column(default=True)
    created = mapped_column(db.DateTime, default=utcnow, nullable=False)
    # Part of the id a session cookie carries: raising it (sign-out, a role change, a
    # removal) ends every session made before, wherever its cookie went (app/auth).
    session_epoch: Mapped[int] = mapped_column(default=0, server_default="0")

    memberships: Mapped[list[Membership]] = relationship(
        back_populates="experimenter", cascade="all, delete-orphan"
    )

    def get_id(self) -> str:
        """What Flask-Login keeps in the session: the id and the session epoch."""
        return f"{self.id}.{self.session_epoch}"

    def role_in(self, experiment: Experiment | str) -> str | None:
        name = experiment if isinstance(experiment, str) else experiment.name
        return next((m.role for m in self.memberships if m.experiment.name == name), None)

    def __repr__(self) -> str:
        return f"<Experimenter {self.username}>"


class Membership(db.Model):
    __table_args__ = (UniqueConstraint("experiment_id", "experimenter_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    experiment_id: Mapped[int] = mapped_column(ForeignKey("experiment.id"), index=True)
    experimenter_id: Mapped[int] = mapped_column(ForeignKey("experimenter.id"), index=True)
    role: Mapped[str] = mapped_column(String(32))

    experiment: Mapped[Experiment] = relationship(back_populates="memberships")
    experimenter: Mapped[Experimenter] = relationship(back_populates="memberships")
