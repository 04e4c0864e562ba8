"""API tokens: making, finding, using and revoking them (no Flask; the caller commits).

A token is `poms_` and 43 URL-safe characters (256 random bits). Only its SHA-256 is
stored: an unsalted hash is enough for a random secret that long, and it lets a request be
matched with one indexed lookup.

A token acts as its owner, with the owner's role in each experiment as it is at each
request, but only within its scopes and its experiments:
  read    every GET: campaigns, stages, submissions, jobs, logs, signatures, credentials' list
  launch  launch, hold, release and schedule stages; kill, hold, release, approve, refuse,
          recover and update submissions
  edit    upload, change, clone and delete campaigns and stages; change failure signatures
  admin   upload and delete grid credentials (what launches run as); revoke other tokens
          (any token may revoke itself)
Every other scope includes read. `experiments` names the experiments it may act in; empty
(None) is every experiment its owner is a member of. Each /api/v1 endpoint names the scope
it needs (app.api.core.route); the role check still applies on top.
"""
from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import select

from app.audit import audit
from app.extensions import db
from app.models import Experiment, Experimenter
from app.models.api_token import ApiToken
from app.models.base import utcnow

PREFIX = "poms_"
MAX_DAYS = 366
DEFAULT_DAYS = 90
# Writing last_used on every request would make every read a write: once a minute is enough.
TOUCH_EVERY = timedelta(minutes=1)
SCOPES = ("read", "launch", "edit", "admin")
# What a token gets when its maker does not say: what a robot acting for its owner needs to
# run campaigns. admin (credentials, revoking tokens) must be asked for.
DEFAULT_SCOPES = ("read", "launch", "edit")


class TokenError(ValueError):
    """A token that cannot be made, or cannot be used, said so its owner can act on it;
    `field` names the field at fault when making one."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()


def check_scopes(scopes) -> list[str]:
    """The scopes asked for, in SCOPES order, with read added (every scope includes it)."""
    if isinstance(scopes, str):
        scopes = [part for part in scopes.replace(",", " ").split() if part]
    if not isinstance(scopes, list | tuple | set) or not all(isinstance(s, str) for s in scopes):
        raise TokenError(f"scopes are a list of {', '.join(SCOPES)}", "scopes")
    unknown = [s for s in scopes if s not in SCOPES]
    if unknown:
        raise TokenError(f"{', '.join(map(repr, unknown))}: the scopes are {', '.join(SCOPES)}",
                         "scopes")
    wanted = set(scopes) | {"read"}
    return [s for s in SCOPES if s in wanted]


def check_experiments(user: Experimenter, experiments) -> list[str] | None:
    """The experiments a token is limited to (None or empty: all of `user`'s), each one
    `user` is a member of."""
    if experiments is None:
        return None
    if isinstance(experiments, str):
        experiments = [part for part in experiments.replace(",", " ").split() if part]
    if not isinstance(experiments, list | tuple) or not all(
        isinstance(e, str) for e in experiments
    ):
        raise TokenError("experiments are a list of experiment names", "experiments")
    if not experiments:
        return None
    mine = {m.experiment.name for m in user.memberships if m.experiment.active}
    strangers = [e for e in experiments if e not in mine]
    if strangers:
        raise TokenError(f"{user.username} is not a member of {', '.join(strangers)}: a token "
                         "acts only where its owner may", "experiments")
    return sorted(set(experiments))


def create_token(
    user: Experimenter, name: str, days: int, *, scopes=DEFAULT_SCOPES, experiments=None,
    now: datetime | None = None,
) -> tuple[ApiToken, str]:
    """A new token for `user`, valid `days` days, with these scopes, in these experiments
    (None: all of the user's): (row, the secret, to be shown once)."""
    name = (name or "").strip()
    if not name:
        raise TokenError("give the token a name (what will use it)", "name")
    if len(name) > 64 or not name.isprintable():
        raise TokenError("a token name is at most 64 printable characters", "name")
    if not isinstance(days, int) or isinstance(days, bool) or not 1 <= days <= MAX_DAYS:
        raise TokenError(f"a token lives from 1 to {MAX_DAYS} days", "days")
    scopes = check_scopes(scopes)
    experiments = check_experiments(user, experiments)
    now = now or utcnow()
    secret = PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(
        experimenter=user, name=name, prefix=secret[:10], token_hash=digest(secret),
        created=now, expires=now + timedelta(days=days), scopes=scopes,
        experiments=experiments,
    )
    db.session.add(row)
    db.session.flush()
    audit(None, user, "api token created", f"token {row.prefix}… ({name}) of {user.username}",
          None, {"name": name, "expires": row.expires.isoformat(), "scopes": scopes,
                 "experiments": experiments})
    return row, secret


def has_scope(row: ApiToken, scope: str) -> bool:
    return scope in (row.scopes or ())


def covers(row: ApiToken, experiment: Experiment | str) -> bool:
    """Whether the token may act in this experiment at all (its owner's role decides what)."""
    name = experiment if isinstance(experiment, str) else experiment.name
    return row.experiments is None or name in row.experiments


def describe(row: ApiToken) -> str:
    """'read, launch in mu2e' -- what the tokens page and the refusals say."""
    where = ", ".join(row.experiments) if row.experiments else "every experiment of yours"
    return f"{', '.join(row.scopes or ()) or 'nothing'} in {where}"


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
