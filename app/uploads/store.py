"""Keeping uploaded files: one store for CFG files, scripts, proxies and tokens.

Each experimenter has, per experiment, a set of named files (a launch finds them as
$UPLOADS/<name>), within a quota. A file that is an X.509 proxy or a bearer token is also
recognised as a credential, and the launcher's credential is one of these files
(credential_for): there is no second store.

On disk: POMS_UPLOADS_DIR/<experiment id>/<experimenter id>/<random name>, folders 0700,
files 0600, outside the web root. Every upload is written under a fresh random name and
the row says which name holds the current content (and its SHA-256: a file that no longer
matches its row is never used). Works inside the caller's transaction (one user action, one
commit): new files are written before the commit, replaced and removed ones are unlinked
only after it, and the new ones are unlinked if the transaction does not commit, so a
refused or failed action leaves the folder as it was.

  save_uploads(...)            check names, credentials and the quota; keep all or nothing
  save_credential(...)         one proxy or token, under the name the original POMS gave it
  uploads_of, find_upload, usage, read_upload, remove_upload
  credentials_of, credential_for, credentials_in_use
  launch_files(...)            the files a launch's sandbox ($UPLOADS) gets
"""
from __future__ import annotations

import hashlib
import os
import re
import secrets
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import event, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.audit import audit
from app.auth import policy
from app.credentials.parse import (
    KINDS,
    CredentialError,
    ParsedCredential,
    check_usable,
    now_utc,
    parse_credential,
    recognise_credential,
)
from app.extensions import db
from app.models import Experiment, Experimenter, UploadedFile

NAME_MAX_CHARS = 128
NAME_MAX_BYTES = 255  # what a file system takes for one name: the sandbox uses these names
# A file left on disk by a crash, never committed, is swept after this long (a younger one
# may belong to an upload still in flight).
ORPHAN_AGE_SECONDS = 3600
# The original POMS's convention: a production credential says so in its name
# (vt_mu2e_production_alice, x509up_voms_mu2e_Production_alice).
_PRODUCTION_IN_NAME = re.compile(r"(?i)(?:^|[^a-z])production(?:[^a-z]|$)")


class UploadError(ValueError):
    """A stored file cannot be used: missing, or changed since it was uploaded."""


class CredentialRefused(PermissionError):
    """The role acted as may not hold this kind of credential (HTTP 403)."""


@dataclass(frozen=True)
class Refusal:
    name: str
    reason: str

    def __str__(self) -> str:
        return f"{self.name}: {self.reason}" if self.name else self.reason


class UploadRefused(ValueError):
    """Some files cannot be kept, each with its reason; nothing was kept."""

    def __init__(self, refusals: list[Refusal]):
        self.refusals = refusals
        super().__init__("; ".join(str(r) for r in refusals))


class OverQuota(ValueError):
    """The upload would take the experimenter over their quota; nothing was kept."""

    def __init__(self, experiment: str, used: int, after: int, quota: int):
        self.used, self.after, self.quota = used, after, quota
        super().__init__(
            f"these files would bring your uploaded files in {experiment} to "
            f"{human_size(after)}, over your quota of {human_size(quota)} (you use "
            f"{human_size(used)} now): remove files you no longer need first"
        )


@dataclass(frozen=True)
class Saved:
    row: UploadedFile
    replaced: bool  # a file of that name existed and this one took its place
    credential: ParsedCredential | None


@dataclass(frozen=True)
class LaunchFile:
    """One file of a launch's sandbox: copy `path` to $UPLOADS/`name` (and check the copy
    against `sha256` if it travels)."""

    name: str
    path: Path
    sha256: str
    size: int


def human_size(size: int) -> str:
    if size < 1024:
        return f"{size} byte{'s' if size != 1 else ''}"
    for unit in ("KiB", "MiB", "GiB"):
        size /= 1024
        if size < 1024 or unit == "GiB":
            return f"{size:.1f} {unit}"
    raise AssertionError("unreachable")


def name_problem(name: str) -> str | None:
    """Why `name` cannot be an uploaded file's name, or None when it can."""
    if not name:
        return "the file has no name"
    if "/" in name or "\\" in name:
        return "the name has a path separator (/ or \\): give the file's own name only"
    if name.startswith("."):
        return "the name starts with a dot: hidden files are not kept"
    if not name.isprintable():
        return "the name has a character that cannot be printed (a control character)"
    if name != name.strip():
        return "the name starts or ends with a space"
    if len(name) > NAME_MAX_CHARS or len(name.encode("utf-8")) > NAME_MAX_BYTES:
        return (f"the name is {len(name)} characters long: at most {NAME_MAX_CHARS} "
                f"({NAME_MAX_BYTES} bytes in UTF-8)")
    return None


def credential_role_for(name: str, role: str | None) -> str:
    """What work a credential is for: as asked, else production when its name says so."""
    if role:
        return role
    return "production" if _PRODUCTION_IN_NAME.search(name) else "analysis"


def credential_file_name(experiment: Experiment, user: Experimenter, role: str,
                         kind: str) -> str:
    """The name a credential gets when it is uploaded as a credential (no name of its own):
    the original POMS's name for the proxy a launch uses, and its pattern for a token."""
    if kind == "proxy":
        return f"x509up_voms_{experiment.name}_{role.capitalize()}_{user.username}"
    return f"bt_{experiment.name}_{role}_{user.username}"


# --- where files live ---------------------------------------------------------------------


def folder_of(directory: str | os.PathLike, experiment_id: int, experimenter_id: int) -> Path:
    # Numbers only: a folder can never leave POMS_UPLOADS_DIR whatever the names are.
    return Path(directory) / str(int(experiment_id)) / str(int(experimenter_id))


def _private_folder(directory: str | os.PathLike, experiment_id: int,
                    experimenter_id: int) -> Path:
    """The person's folder, it and the two above it owner-only (0700)."""
    mine = folder_of(directory, experiment_id, experimenter_id)
    mine.parent.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    for folder in (mine.parent.parent, mine.parent, mine):
        folder.mkdir(mode=0o700, exist_ok=True)
        os.chmod(folder, 0o700)
    return mine


def path_of(row: UploadedFile, directory: str | os.PathLike) -> Path:
    return folder_of(directory, row.experiment_id, row.experimenter_id) / row.stored_name


def _write_new(folder: Path, data: bytes) -> Path:
    """Write `data` to a new 0600 file under a fresh random name (never following a link)."""
    path = folder / secrets.token_hex(16)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return path


def _sync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _digest(path: Path) -> str | None:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None


# --- files follow the transaction -----------------------------------------------------------

_PENDING = "poms_uploaded_files"


def _pending(session) -> dict:
    return session.info.setdefault(_PENDING, {"written": [], "obsolete": []})


def _unlink_unless_committed(path: Path) -> None:
    _pending(db.session())["written"].append(path)


def _unlink_once_committed(path: Path) -> None:
    _pending(db.session())["obsolete"].append(path)


@event.listens_for(Session, "after_commit")
def _committed(session) -> None:
    if session.in_nested_transaction():  # a savepoint, not the user's action
        return
    pending = session.info.pop(_PENDING, None)
    for path in (pending or {}).get("obsolete", []):
        path.unlink(missing_ok=True)


@event.listens_for(Session, "after_transaction_end")
def _ended(session, transaction) -> None:
    # Still pending at the end of the outermost transaction: it did not commit.
    if transaction.parent is not None or transaction.nested:
        return
    pending = session.info.pop(_PENDING, None)
    for path in (pending or {}).get("written", []):
        path.unlink(missing_ok=True)


def _sweep_orphans(folder: Path, keep: set[str]) -> None:
    """Remove files no row names (left by a crash between writing and committing)."""
    limit = time.time() - ORPHAN_AGE_SECONDS
    for path in folder.iterdir():
        if path.name in keep:
            continue
        try:
            if path.is_file() and path.stat().st_mtime < limit:
                path.unlink()
        except OSError:
            pass


# --- reading ---------------------------------------------------------------------------------


def uploads_of(experiment: Experiment, user: Experimenter) -> list[UploadedFile]:
    return list(db.session.scalars(
        select(UploadedFile)
        .where(UploadedFile.experiment_id == experiment.id,
               UploadedFile.experimenter_id == user.id)
        .order_by(UploadedFile.name)
    ))


def find_upload(experiment: Experiment, user: Experimenter, name: str) -> UploadedFile | None:
    return db.session.scalar(select(UploadedFile).where(
        UploadedFile.experiment_id == experiment.id,
        UploadedFile.experimenter_id == user.id,
        UploadedFile.name == name,
    ))


def usage(experiment: Experiment, user: Experimenter) -> int:
    """Bytes `user` keeps in `experiment` (what the quota counts)."""
    return int(db.session.scalar(
        select(func.coalesce(func.sum(UploadedFile.size), 0)).where(
            UploadedFile.experiment_id == experiment.id,
            UploadedFile.experimenter_id == user.id,
        )
    ))


def read_upload(row: UploadedFile, *, directory: str | os.PathLike) -> bytes:
    """The file's content, as it was uploaded; UploadError if it is gone or changed."""
    try:
        data = path_of(row, directory).read_bytes()
    except OSError:
        data = None
    if data is None or hashlib.sha256(data).hexdigest() != row.sha256:
        raise UploadError(
            f"{row.name} is missing on disk or changed since it was uploaded: upload it again"
        )
    return data


# --- keeping -------------------------------------------------------------------------------


def _credential_words(row: UploadedFile) -> str:
    return f"{row.credential_role} {KINDS[row.credential_kind]}"


def _facts(row: UploadedFile) -> dict:
    facts = {"size": row.size, "sha256": row.sha256}
    if row.is_credential:
        facts.update(credential=_credential_words(row), subject=row.subject,
                     expires=row.expires.isoformat())
    return facts


def save_uploads(
    experiment: Experiment,
    user: Experimenter,
    files: Sequence[tuple[str, bytes]],
    *,
    acting_role: str | None,
    directory: str | os.PathLike,
    quota: int,
    role: str | None = None,
    require_credential: bool = False,
    now: datetime | None = None,
) -> list[Saved]:
    """Keep `files` ((name, content) pairs) as `user`'s uploaded files in `experiment`.

    All or nothing: UploadRefused names each file that cannot be kept and why,
    CredentialRefused a credential the acting role may not hold, OverQuota says how much
    is used and allowed. A file whose name exists replaces it. `role` says what work the
    credentials among them are for (default: production when the name says so, else
    analysis); with `require_credential` every file must be a proxy or a token.
    """
    now = now or now_utc()
    if role is not None and role not in policy.CREDENTIAL_ROLES:
        raise CredentialError(
            f"{role!r} is not a kind of work; credentials are for "
            f"{' or '.join(policy.CREDENTIAL_ROLES)} work"
        )
    if not files:
        raise UploadRefused([Refusal("", "no file was sent: pick one or more files")])

    refusals: list[Refusal] = []
    forbidden: list[Refusal] = []
    checked: list[tuple[str, bytes, ParsedCredential | None, str | None]] = []
    seen: set[str] = set()
    for name, data in files:
        problem = name_problem(name)
        if problem is None and name in seen:
            problem = "the name is given twice in this upload"
        if problem:
            refusals.append(Refusal(name, problem))
            continue
        seen.add(name)
        try:
            parsed = parse_credential(data) if require_credential else recognise_credential(data)
            if parsed is not None:
                check_usable(parsed, now)
        except CredentialError as err:
            refusals.append(Refusal(name, str(err)))
            continue
        work = credential_role_for(name, role) if parsed else None
        if parsed and not policy.may_hold_credential(acting_role, work):
            forbidden.append(Refusal(
                name, f"acting as {acting_role}, you may not keep a credential for {work} work"))
            continue
        checked.append((name, data, parsed, work))
    if forbidden:
        raise CredentialRefused("; ".join(str(r) for r in forbidden))
    if refusals:
        raise UploadRefused(refusals)

    existing = {row.name: row for row in uploads_of(experiment, user)}
    used = sum(row.size for row in existing.values())
    after = used + sum(
        len(data) - (existing[name].size if name in existing else 0)
        for name, data, _parsed, _work in checked
    )
    if after > quota:
        raise OverQuota(experiment.name, used, after, quota)

    folder = _private_folder(directory, experiment.id, user.id)
    saved = []
    for name, data, parsed, work in checked:
        path = _write_new(folder, data)
        _unlink_unless_committed(path)
        row = existing.get(name)
        before = _facts(row) if row is not None else None
        if row is None:
            row = UploadedFile(experiment=experiment, experimenter=user, name=name)
            db.session.add(row)
        else:
            _unlink_once_committed(path_of(row, directory))
        row.size = len(data)
        row.sha256 = hashlib.sha256(data).hexdigest()
        row.stored_name = path.name
        row.uploaded = now
        row.credential_kind = parsed.kind if parsed else None
        row.credential_role = work
        row.subject = parsed.subject[:512] if parsed else ""
        row.issuer = parsed.issuer[:512] if parsed else ""
        row.expires = parsed.expires if parsed else None
        action = "credential uploaded" if parsed else "file uploaded"
        audit(experiment, user, action, f"{name} of {user.username}", before, _facts(row))
        saved.append(Saved(row, before is not None, parsed))
    _sync_dir(folder)
    try:
        db.session.flush()
    except IntegrityError:
        # Another upload of one of these names (the person's other tab or script) committed
        # first; the caller's rollback takes the files written here away again.
        raise UploadRefused([Refusal(
            ", ".join(name for name, *_ in checked),
            "another upload of the same name finished first: look at your files and try again",
        )]) from None
    pending = _pending(db.session())
    _sweep_orphans(folder, {row.stored_name for row in uploads_of(experiment, user)}
                   | {p.name for p in pending["written"] + pending["obsolete"]})
    return saved


def save_credential(
    experiment: Experiment,
    user: Experimenter,
    role: str,
    data: bytes,
    *,
    acting_role: str | None,
    directory: str | os.PathLike,
    quota: int,
    now: datetime | None = None,
) -> Saved:
    """Keep a proxy or token sent without a name (the Credentials API, `poms
    upload-credential`): it becomes the uploaded file credential_file_name() names, so a
    new one replaces the last one of its kind for that work."""
    if role not in policy.CREDENTIAL_ROLES:
        raise CredentialError(
            f"{role!r} is not a kind of work; credentials are for "
            f"{' or '.join(policy.CREDENTIAL_ROLES)} work"
        )
    if not policy.may_hold_credential(acting_role, role):
        raise CredentialRefused(
            f"acting as {acting_role}, you may not keep a credential for {role} work")
    kind = parse_credential(data).kind
    try:
        [saved] = save_uploads(
            experiment, user, [(credential_file_name(experiment, user, role, kind), data)],
            acting_role=acting_role, directory=directory, quota=quota, role=role,
            require_credential=True, now=now,
        )
    except UploadRefused as err:
        # One file, so its reason is the whole answer (as before uploaded files had names).
        raise CredentialError(err.refusals[0].reason) from None
    return saved


def remove_upload(row: UploadedFile, who: Experimenter, *, directory: str | os.PathLike) -> None:
    """Forget the file; it leaves the disk when the transaction commits."""
    action = "credential removed" if row.is_credential else "file removed"
    audit(row.experiment, who, action, f"{row.name} of {row.experimenter.username}",
          _facts(row), None)
    _unlink_once_committed(path_of(row, directory))
    db.session.delete(row)
    db.session.flush()


# --- credentials -------------------------------------------------------------------------


def credentials_of(experiment: Experiment, user: Experimenter) -> list[UploadedFile]:
    return [row for row in uploads_of(experiment, user) if row.is_credential]


def _credential_rows(experiment: Experiment, user: Experimenter, role: str, kind: str):
    # The newest upload first: it is the one a person means when they upload again.
    return db.session.scalars(
        select(UploadedFile)
        .where(UploadedFile.experiment_id == experiment.id,
               UploadedFile.experimenter_id == user.id,
               UploadedFile.credential_role == role,
               UploadedFile.credential_kind == kind)
        .order_by(UploadedFile.uploaded.desc(), UploadedFile.id.desc())
    ).all()


def credential_for(
    experiment: Experiment,
    user: Experimenter,
    role: str,
    *,
    directory: str | os.PathLike,
    now: datetime | None = None,
    kinds: tuple[str, ...] = ("token", "proxy"),
) -> tuple[UploadedFile, Path]:
    """The uploaded file a launch of `role` work by `user` uses as its credential, and the
    file's path in the store (the sandbox holds a copy as $UPLOADS/<row.name>).

    The first kind in `kinds` with an unexpired, unchanged file wins (the newest upload of
    that kind); otherwise CredentialError says what to upload.
    """
    now = now or now_utc()
    problems = []
    for kind in kinds:
        for row in _credential_rows(experiment, user, role, kind):
            path = path_of(row, directory)
            if row.expires <= now:
                problems.append(f"the {KINDS[kind]} {row.name} expired on "
                                f"{row.expires:%Y-%m-%d %H:%M} UTC")
            elif _digest(path) != row.sha256:
                problems.append(f"the {KINDS[kind]} {row.name} is missing on disk or changed")
            else:
                return row, path
    reason = "; ".join(problems) or "none was uploaded"
    raise CredentialError(
        f"{user.username} has no usable credential for {role} work in {experiment.name} "
        f"({reason}): upload a proxy or token on the Uploaded files page"
    )


def credentials_in_use(experiment: Experiment, user: Experimenter, *,
                       directory: str | os.PathLike) -> dict[int, str]:
    """{uploaded file id: the work its launches use it for} (what the page marks)."""
    chosen = {}
    for role in policy.CREDENTIAL_ROLES:
        try:
            row, _path = credential_for(experiment, user, role, directory=directory)
        except CredentialError:
            continue
        chosen[row.id] = role
    return chosen


def describe(parsed: ParsedCredential) -> dict:
    """The parsed facts as plain values (for the API's answer)."""
    values = asdict(parsed)
    values["expires"] = parsed.expires.isoformat()
    values["not_before"] = parsed.not_before.isoformat() if parsed.not_before else None
    return values


# --- launches ------------------------------------------------------------------------------


def launch_files(experiment: Experiment, user: Experimenter, *,
                 directory: str | os.PathLike, role: str | None = None) -> list[LaunchFile]:
    """The files a launch by `user` in `experiment` gets in its sandbox ($UPLOADS): their
    uploaded files there, by name; with `role`, not their credentials for another kind of
    work (an analysis launch runs as the analysis account and must not carry the person's
    production proxy there). UploadError names every file that is missing or changed on
    disk, since a launch must never run with a file its owner did not upload."""
    files, bad = [], []
    for row in uploads_of(experiment, user):
        if role and row.credential_kind and row.credential_role != role:
            continue
        path = path_of(row, directory)
        if _digest(path) != row.sha256:
            bad.append(row.name)
        else:
            files.append(LaunchFile(row.name, path, row.sha256, row.size))
    if bad:
        raise UploadError(
            f"{user.username}'s uploaded file{'s' if len(bad) > 1 else ''} in "
            f"{experiment.name} {', '.join(bad)} {'are' if len(bad) > 1 else 'is'} missing on "
            "disk or changed since uploaded: upload again or remove "
            f"{'them' if len(bad) > 1 else 'it'}"
        )
    return files
