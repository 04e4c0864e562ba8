"""Keeping uploaded credentials: a 0600 file outside the web root, and a row describing it.

Works inside the caller's transaction (one user action, one commit). The page and the API
both call `save_credential`; the launcher calls `credential_for`.
"""
from __future__ import annotations

import hashlib
import os
import secrets
from dataclasses import asdict
from datetime import datetime
from pathlib import Path

from sqlalchemy import select

from app.audit import audit
from app.auth import policy
from app.credentials.parse import (
    KINDS,
    CredentialError,
    ParsedCredential,
    check_usable,
    now_utc,
    parse_credential,
)
from app.extensions import db
from app.models import Credential, Experiment, Experimenter


class CredentialRefused(PermissionError):
    """The role acted as may not hold this kind of credential (HTTP 403)."""


def private_dir(directory: str | os.PathLike) -> Path:
    """The credentials folder, created owner-only (0700) if missing."""
    path = Path(directory)
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(path, 0o700)
    return path


def _write_private(directory: Path, name: str, data: bytes) -> Path:
    """Write to a fresh temporary file (0600, never following a link); the caller renames."""
    temporary = directory / f".{name}.{secrets.token_hex(6)}.part"
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temporary, 0o600)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return temporary


def _row(experiment: Experiment, user: Experimenter, role: str, kind: str) -> Credential | None:
    return db.session.scalar(
        select(Credential).where(
            Credential.experiment_id == experiment.id,
            Credential.experimenter_id == user.id,
            Credential.role == role,
            Credential.kind == kind,
        )
    )


def _subject(user: Experimenter, role: str, kind: str) -> str:
    return f"{role} {KINDS[kind]} of {user.username}"


def save_credential(
    experiment: Experiment,
    user: Experimenter,
    role: str,
    data: bytes,
    *,
    acting_role: str | None,
    directory: str | os.PathLike,
    now: datetime | None = None,
) -> tuple[Credential, ParsedCredential]:
    """Check and keep `data` as `user`'s credential for `role` work in `experiment`.

    Raises CredentialError (unparseable, expired: nothing is stored) or CredentialRefused.
    An earlier credential of the same kind for the same role is replaced.
    """
    if role not in policy.CREDENTIAL_ROLES:
        raise CredentialError(
            f"{role!r} is not a kind of work; credentials are for "
            f"{' or '.join(policy.CREDENTIAL_ROLES)} work"
        )
    if not policy.may_hold_credential(acting_role, role):
        raise CredentialRefused(
            f"acting as {acting_role}, you may not keep a credential for {role} work"
        )
    parsed = parse_credential(data)
    check_usable(parsed, now or now_utc())

    row = _row(experiment, user, role, parsed.kind)
    before = None
    if row is None:
        row = Credential(experiment=experiment, experimenter=user, role=role, kind=parsed.kind)
        db.session.add(row)
    else:
        before = {"expires": row.expires.isoformat(), "subject": row.subject}
    row.subject = parsed.subject[:512]
    row.issuer = parsed.issuer[:512]
    row.expires = parsed.expires
    row.uploaded = now or now_utc()
    row.sha256 = hashlib.sha256(data).hexdigest()
    db.session.flush()  # the ids make the file name

    folder = private_dir(directory)
    temporary = _write_private(folder, row.file_name, data)
    try:
        os.replace(temporary, folder / row.file_name)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    audit(
        experiment, user, "credential uploaded", _subject(user, role, parsed.kind), before,
        {"expires": parsed.expires.isoformat(), "subject": parsed.subject},
    )
    return row, parsed


def credentials_of(experiment: Experiment, user: Experimenter) -> list[Credential]:
    return list(
        db.session.scalars(
            select(Credential)
            .where(Credential.experiment_id == experiment.id, Credential.experimenter_id == user.id)
            .order_by(Credential.role, Credential.kind)
        )
    )


def delete_credential(row: Credential, who: Experimenter, *, directory: str | os.PathLike) -> None:
    (Path(directory) / row.file_name).unlink(missing_ok=True)
    audit(row.experiment, who, "credential removed",
          _subject(row.experimenter, row.role, row.kind),
          {"expires": row.expires.isoformat(), "subject": row.subject}, None)
    db.session.delete(row)
    db.session.flush()


def credential_for(
    experiment: Experiment,
    user: Experimenter,
    role: str,
    *,
    directory: str | os.PathLike,
    now: datetime | None = None,
    kinds: tuple[str, ...] = ("token", "proxy"),
) -> tuple[Credential, Path]:
    """The credential a launch of `role` work by `user` uses, and its file.

    The first kind in `kinds` that is stored, unexpired and unchanged on disk wins;
    otherwise CredentialError says what to upload.
    """
    now = now or now_utc()
    problems = []
    for kind in kinds:
        row = _row(experiment, user, role, kind)
        if row is None:
            continue
        path = Path(directory) / row.file_name
        if row.expires <= now:
            problems.append(f"the {KINDS[kind]} expired on {row.expires:%Y-%m-%d %H:%M} UTC")
            continue
        try:
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
        except OSError:
            digest = None
        if digest != row.sha256:
            problems.append(f"the stored {KINDS[kind]} file is missing or changed")
            continue
        return row, path
    reason = "; ".join(problems) or "none was uploaded"
    raise CredentialError(
        f"{user.username} has no usable credential for {role} work in {experiment.name} "
        f"({reason}): upload one on the Credentials page"
    )


def describe(parsed: ParsedCredential) -> dict:
    """The parsed facts as plain values (for the API's answer)."""
    values = asdict(parsed)
    values["expires"] = parsed.expires.isoformat()
    values["not_before"] = parsed.not_before.isoformat() if parsed.not_before else None
    return values
