"""A per-user API token for robots and scripts: `Authorization: Bearer <token>`.

Only the SHA-256 of the token is kept (the token itself is shown once, at creation); the
first characters are kept too so a person can tell their tokens apart on the page. A token
acts as its owner, with the owner's roles as they are at each request, until it expires or
is revoked, and only within its scopes (app/auth/tokens.py: read, launch, edit, admin) and, if
it names any, its experiments.
"""
from __future__ import annotations

from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.base import utcnow


class ApiToken(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    experimenter_id: Mapped[int] = mapped_column(
        ForeignKey("experimenter.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(64))  # what it is for, in the owner's words
    prefix: Mapped[str] = mapped_column(String(16))  # "poms_Ab3dE" (shown on the page)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)  # sha256 hex
    created = mapped_column(db.DateTime, default=utcnow, nullable=False)
    expires = mapped_column(db.DateTime, nullable=False)  # UTC
    last_used = mapped_column(db.DateTime, nullable=True)
    revoked = mapped_column(db.DateTime, nullable=True)
    # What it may do: a list of app.auth.tokens.SCOPES; where: experiment names, or None for
    # every experiment its owner is a member of (tokens made before scopes: migration 0015).
    scopes = mapped_column(JSON, nullable=False, default=list)
    experiments = mapped_column(JSON, nullable=True)

    experimenter = relationship("Experimenter")
