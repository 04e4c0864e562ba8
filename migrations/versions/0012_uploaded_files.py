"""uploaded files: one store for CFG files, scripts, proxies and tokens (uploaded_file);
the credential rows and their files move into it, and the credential table goes

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-27 09:00:00

A credential row becomes the uploaded file its kind and role were named by in the original
POMS (x509up_voms_<experiment>_<Role>_<user> for a proxy, bt_<experiment>_<role>_<user>
for a token); its file is copied from the old credentials folder (POMS_CREDENTIALS_DIR, by
default instance/credentials) into POMS_UPLOADS_DIR. A row whose file is missing or changed
could never be used and is dropped, with a line in the log. The old folder is left as it
was (the downgrade copies back from the uploads folder).
"""
import hashlib
import logging
import os
import secrets
from pathlib import Path

import sqlalchemy as sa
from alembic import op
from flask import current_app

# revision identifiers, used by Alembic.
revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None

log = logging.getLogger("alembic.runtime.migration")

_credential = sa.table(
    'credential',
    sa.column('id', sa.Integer), sa.column('experiment_id', sa.Integer),
    sa.column('experimenter_id', sa.Integer), sa.column('role', sa.String),
    sa.column('kind', sa.String), sa.column('subject', sa.String),
    sa.column('issuer', sa.String), sa.column('expires', sa.DateTime),
    sa.column('uploaded', sa.DateTime), sa.column('sha256', sa.String),
)
_uploaded = sa.table(
    'uploaded_file',
    sa.column('id', sa.Integer), sa.column('experiment_id', sa.Integer),
    sa.column('experimenter_id', sa.Integer), sa.column('name', sa.String),
    sa.column('size', sa.BigInteger), sa.column('sha256', sa.String),
    sa.column('stored_name', sa.String), sa.column('uploaded', sa.DateTime),
    sa.column('credential_kind', sa.String), sa.column('credential_role', sa.String),
    sa.column('subject', sa.String), sa.column('issuer', sa.String),
    sa.column('expires', sa.DateTime),
)
_experiment = sa.table('experiment', sa.column('id', sa.Integer), sa.column('name', sa.String))
_experimenter = sa.table('experimenter', sa.column('id', sa.Integer),
                         sa.column('username', sa.String))


def _folders():
    """(old credentials folder, uploads folder), as the running app's settings say."""
    old = os.environ.get("POMS_CREDENTIALS_DIR") or str(
        Path(current_app.instance_path) / "credentials")
    return Path(old), Path(current_app.config["POMS_UPLOADS_DIR"])


def _private_dir(path):
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(path, 0o700)
    return path


def _copy_private(data, path):
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())


def _read_if_unchanged(path, sha256):
    try:
        data = path.read_bytes()
    except OSError:
        return None
    return data if hashlib.sha256(data).hexdigest() == sha256 else None


def _name(experiment, username, role, kind):
    if kind == "proxy":
        return f"x509up_voms_{experiment}_{role.capitalize()}_{username}"
    return f"bt_{experiment}_{role}_{username}"


def upgrade():
    op.create_table('uploaded_file',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('experiment_id', sa.Integer(), nullable=False),
    sa.Column('experimenter_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=128), nullable=False),
    sa.Column('size', sa.BigInteger(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('stored_name', sa.String(length=64), nullable=False),
    sa.Column('uploaded', sa.DateTime(), nullable=False),
    sa.Column('credential_kind', sa.String(length=16), nullable=True),
    sa.Column('credential_role', sa.String(length=32), nullable=True),
    sa.Column('subject', sa.String(length=512), nullable=False),
    sa.Column('issuer', sa.String(length=512), nullable=False),
    sa.Column('expires', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['experiment_id'], ['experiment.id'], name=op.f('fk_uploaded_file_experiment_id_experiment')),
    sa.ForeignKeyConstraint(['experimenter_id'], ['experimenter.id'], name=op.f('fk_uploaded_file_experimenter_id_experimenter')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_uploaded_file')),
    sa.UniqueConstraint('experiment_id', 'experimenter_id', 'name', name=op.f('uq_uploaded_file_experiment_id_experimenter_id_name'))
    )
    with op.batch_alter_table('uploaded_file', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_uploaded_file_experiment_id'), ['experiment_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_uploaded_file_experimenter_id'), ['experimenter_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_uploaded_file_expires'), ['expires'], unique=False)

    _move_credentials_in()

    with op.batch_alter_table('credential', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_credential_expires'))
        batch_op.drop_index(batch_op.f('ix_credential_experimenter_id'))
        batch_op.drop_index(batch_op.f('ix_credential_experiment_id'))
    op.drop_table('credential')


def _move_credentials_in():
    connection = op.get_bind()
    rows = connection.execute(
        sa.select(_credential, _experiment.c.name.label('experiment'),
                  _experimenter.c.username)
        .join(_experiment, _experiment.c.id == _credential.c.experiment_id)
        .join(_experimenter, _experimenter.c.id == _credential.c.experimenter_id)
        .order_by(_credential.c.id)
    ).mappings().all()
    if not rows:
        return
    old, uploads = _folders()
    for row in rows:
        old_name = f"{row['experiment_id']}-{row['experimenter_id']}-{row['role']}-{row['kind']}"
        data = _read_if_unchanged(old / old_name, row['sha256'])
        name = _name(row['experiment'], row['username'], row['role'], row['kind'])
        if data is None:
            log.warning("credential %s of %s in %s not moved: %s is missing or changed, so "
                        "it could never be used", name, row['username'], row['experiment'],
                        old / old_name)
            continue
        folder = _private_dir(uploads / str(row['experiment_id']) / str(row['experimenter_id']))
        stored = secrets.token_hex(16)
        _copy_private(data, folder / stored)
        connection.execute(_uploaded.insert().values(
            experiment_id=row['experiment_id'], experimenter_id=row['experimenter_id'],
            name=name, size=len(data), sha256=row['sha256'], stored_name=stored,
            uploaded=row['uploaded'], credential_kind=row['kind'],
            credential_role=row['role'], subject=row['subject'], issuer=row['issuer'],
            expires=row['expires'],
        ))
        log.info("credential %s of %s in %s is now an uploaded file", name, row['username'],
                 row['experiment'])


def downgrade():
    op.create_table('credential',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('experiment_id', sa.Integer(), nullable=False),
    sa.Column('experimenter_id', sa.Integer(), nullable=False),
    sa.Column('role', sa.String(length=32), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('subject', sa.String(length=512), nullable=False),
    sa.Column('issuer', sa.String(length=512), nullable=False),
    sa.Column('expires', sa.DateTime(), nullable=False),
    sa.Column('uploaded', sa.DateTime(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['experiment_id'], ['experiment.id'], name=op.f('fk_credential_experiment_id_experiment')),
    sa.ForeignKeyConstraint(['experimenter_id'], ['experimenter.id'], name=op.f('fk_credential_experimenter_id_experimenter')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_credential')),
    sa.UniqueConstraint('experiment_id', 'experimenter_id', 'role', 'kind', name=op.f('uq_credential_experiment_id_experimenter_id_role_kind'))
    )
    with op.batch_alter_table('credential', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_credential_experiment_id'), ['experiment_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_credential_experimenter_id'), ['experimenter_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_credential_expires'), ['expires'], unique=False)

    _move_credentials_out()

    with op.batch_alter_table('uploaded_file', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_uploaded_file_expires'))
        batch_op.drop_index(batch_op.f('ix_uploaded_file_experimenter_id'))
        batch_op.drop_index(batch_op.f('ix_uploaded_file_experiment_id'))
    op.drop_table('uploaded_file')


def _move_credentials_out():
    """The newest credential of each kind and work goes back (the old table kept one);
    every other uploaded file has no place in the old schema and is left on disk."""
    connection = op.get_bind()
    rows = connection.execute(
        sa.select(_uploaded).where(_uploaded.c.credential_kind.is_not(None))
        .order_by(_uploaded.c.uploaded.desc(), _uploaded.c.id.desc())
    ).mappings().all()
    if not rows:
        return
    old, uploads = _folders()
    done = set()
    for row in rows:
        key = (row['experiment_id'], row['experimenter_id'], row['credential_role'],
               row['credential_kind'])
        if key in done:
            continue
        stored = uploads / str(row['experiment_id']) / str(row['experimenter_id']) / row['stored_name']
        data = _read_if_unchanged(stored, row['sha256'])
        if data is None:
            continue
        done.add(key)
        target = _private_dir(old) / "-".join(str(part) for part in key)
        temporary = target.with_name(f".{target.name}.{secrets.token_hex(6)}.part")
        _copy_private(data, temporary)
        os.replace(temporary, target)
        connection.execute(_credential.insert().values(
            experiment_id=row['experiment_id'], experimenter_id=row['experimenter_id'],
            role=row['credential_role'], kind=row['credential_kind'], subject=row['subject'],
            issuer=row['issuer'], expires=row['expires'], uploaded=row['uploaded'],
            sha256=row['sha256'],
        ))
