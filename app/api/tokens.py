"""API tokens: making, finding, using and revoking them (no Flask; the caller commits).

A token is `poms_` and 43 URL-safe characters (256 random bits). Only its SHA-256 is
stored: an unsalted hash is enough for a random secret that long, and it lets a request be
matched with one indexed lookup.
"""
from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import select

from app.audit import audit
from app.extensions import db
from app.models import Experimenter
from app.models.api_token import ApiToken
from app.models.base import utcnow

PREFIX = "poms_"
MAX_DAYS = 366
DEFAULT_DAYS = 90
# Writing last_used on every request would make every read a write: once a minute is enough.
TOUCH_EVERY = timedelta(minutes=1)


class TokenError(ValueError):
    """A token that cannot be made, or cannot be used, said so its owner can act on it."""


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()


def create_token(
    user: Experimenter, name: str, days: int, *, now: datetime | None = None
) -> tuple[ApiToken, str]:
    """A new token for `user`, valid `days` days: (row, the secret, to be shown once)."""
    name = (name or "").strip()
    if not name:
        raise TokenError("give the token a name (what will use it)")
    if len(name) > 64 or not name.isprintable():
        raise TokenError("a token name is at most 64 printable characters")
    if not isinstance(days, int) or isinstance(days, bool) or not 1 <= days <= MAX_DAYS:
        raise TokenError(f"a token lives from 1 to {MAX_DAYS} days")
    now = now or utcnow()
    secret = PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(
        experimenter=user, name=name, prefix=secret[:10], token_hash=digest(secret),
        created=now, expires=now + timedelta(days=days),
    )
    db.session.add(row)
    db.session.flush()
    audit(None, user, "api token created", f"token {row.prefix}… ({name}) of {user.username}",
          None, {"name": name, "expires": row.expires.isoformat()})
    return row, secret


def authenticate(secret: str, *, now: datetime | None = None) -> ApiToken:
    """The live token with this secret, or TokenError saying why not."""
    now = now or utcnow()
    if not secret.startswith(PREFIX) or len(secret) > 200:
        raise TokenError("not a POMS API token")
    row = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == digest(secret)))
    if row is None:
        raise TokenError("unknown API token")
    if row.revoked is not None:
        raise TokenError(f"API token {row.prefix}… was revoked on {row.revoked:%Y-%m-%d %H:%M} UTC")
    if row.expires <= now:
        raise TokenError(f"API token {row.prefix}… expired on {row.expires:%Y-%m-%d %H:%M} UTC")
    if not row.experimenter.active:
        raise TokenError(f"{row.experimenter.username} is no longer an active experimenter")
    return row


def touch(row: ApiToken, *, now: datetime | None = None) -> bool:
    """Note that the token was used; True when the row changed (the caller commits)."""
    now = now or utcnow()
    if row.last_used is None or now - row.last_used >= TOUCH_EVERY:
        row.last_used = now
        return True
    return False


def tokens_of(user: Experimenter) -> list[ApiToken]:
    return list(
        db.session.scalars(
            select(ApiToken)
            .where(ApiToken.experimenter_id == user.id)
            .order_by(ApiToken.created.desc(), ApiToken.id.desc())
        )
    )


def token_of(user: Experimenter, token_id: int) -> ApiToken | None:
    row = db.session.get(ApiToken, token_id)
    return row if row is not None and row.experimenter_id == user.id else None


def revoke(row: ApiToken, who: Experimenter, *, now: datetime | None = None) -> bool:
    """Revoke the token (False when it already was)."""
    if row.revoked is not None:
        return False
    row.revoked = now or utcnow()
    audit(None, who, "api token revoked",
          f"token {row.prefix}… ({row.name}) of {row.experimenter.username}",
          {"name": row.name, "expires": row.expires.isoformat()}, None)
    return True


def status(row: ApiToken, now: datetime | None = None) -> str:
    now = now or utcnow()
    if row.revoked is not None:
        return "revoked"
    if row.expires <= now:
        return "expired"
    return "active"
