"""A file an experimenter uploaded for their launches in one experiment: a CFG file, a
script, an X.509 proxy, a bearer token. Launches find them all in $UPLOADS.

The file itself lives outside the database and the web root (POMS_UPLOADS_DIR, 0600 in
0700 folders); the row says whose it is, its name, size and SHA-256 (a file that no longer
matches its row is never used). A file that is a proxy or a token also carries what it is
for (analysis or production work), its subject, issuer and expiry: the launcher's
credential is one of these rows (app/uploads/store.py: credential_for).
"""
from __future__ import annotations

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.base import utcnow


class UploadedFile(db.Model):
    __table_args__ = (UniqueConstraint("experiment_id", "experimenter_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    experiment_id: Mapped[int] = mapped_column(ForeignKey("experiment.id"), index=True)
    experimenter_id: Mapped[int] = mapped_column(ForeignKey("experimenter.id"), index=True)
    name: Mapped[str] = mapped_column(String(128))  # as the launch sees it: $UPLOADS/<name>
    size: Mapped[int] = mapped_column(db.BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    # The file's name on disk: a fresh random one per upload, so a replacement is written
    # beside the old file and the old one goes only once the new row is committed.
    stored_name: Mapped[str] = mapped_column(String(64))
    uploaded = mapped_column(db.DateTime, default=utcnow, nullable=False)  # UTC

    # Set only when the file is a credential (app/credentials/parse.py recognised it).
    credential_kind: Mapped[str | None] = mapped_column(String(16))  # proxy, token
    credential_role: Mapped[str | None] = mapped_column(String(32))  # analysis, production
    subject: Mapped[str] = mapped_column(String(512), default="")  # DN, or the token's sub
    issuer: Mapped[str] = mapped_column(String(512), default="")
    expires = mapped_column(db.DateTime, nullable=True, index=True)  # UTC

    experiment = relationship("Experiment")
    experimenter = relationship("Experimenter")

    @property
    def is_credential(self) -> bool:
        return self.credential_kind is not None

    def __repr__(self) -> str:
        return f"<UploadedFile {self.name} of {self.experimenter_id}>"
