"""ucondb: the embedded UconDB server's folders, objects, versions, tags and blobs

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26 06:22:11.399077

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('ucondb_blob',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('size', sa.BigInteger(), nullable=False),
    sa.Column('adler32', sa.BigInteger(), nullable=False),
    sa.Column('data', sa.LargeBinary(), nullable=False),
    sa.Column('created', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ucondb_blob')),
    sa.UniqueConstraint('sha256', name=op.f('uq_ucondb_blob_sha256'))
    )
    op.create_table('ucondb_folder',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('database', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('owner', sa.String(length=64), nullable=False),
    sa.Column('created_by', sa.String(length=64), nullable=False),
    sa.Column('created', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ucondb_folder')),
    sa.UniqueConstraint('database', 'name', name=op.f('uq_ucondb_folder_database_name'))
    )
    op.create_table('ucondb_object',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('folder_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.ForeignKeyConstraint(['folder_id'], ['ucondb_folder.id'], name=op.f('fk_ucondb_object_folder_id_ucondb_folder')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ucondb_object')),
    sa.UniqueConstraint('folder_id', 'name', name=op.f('uq_ucondb_object_folder_id_name'))
    )
    with op.batch_alter_table('ucondb_object', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ucondb_object_folder_id'), ['folder_id'], unique=False)

    op.create_table('ucondb_version',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('object_id', sa.Integer(), nullable=False),
    sa.Column('blob_id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=255), nullable=True),
    sa.Column('tv', sa.Float(), nullable=False),
    sa.Column('tr', sa.DateTime(), nullable=False),
    sa.Column('writer', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['blob_id'], ['ucondb_blob.id'], name=op.f('fk_ucondb_version_blob_id_ucondb_blob')),
    sa.ForeignKeyConstraint(['object_id'], ['ucondb_object.id'], name=op.f('fk_ucondb_version_object_id_ucondb_object')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ucondb_version')),
    sa.UniqueConstraint('object_id', 'key', name=op.f('uq_ucondb_version_object_id_key'))
    )
    with op.batch_alter_table('ucondb_version', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ucondb_version_blob_id'), ['blob_id'], unique=False)
        batch_op.create_index('ix_ucondb_version_lookup', ['object_id', 'tv', 'tr'], unique=False)
        batch_op.create_index(batch_op.f('ix_ucondb_version_object_id'), ['object_id'], unique=False)

    op.create_table('ucondb_tag',
    sa.Column('version_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=128), nullable=False),
    sa.ForeignKeyConstraint(['version_id'], ['ucondb_version.id'], name=op.f('fk_ucondb_tag_version_id_ucondb_version')),
    sa.PrimaryKeyConstraint('version_id', 'name', name=op.f('pk_ucondb_tag'))
    )


def downgrade():
    op.drop_table('ucondb_tag')
    with op.batch_alter_table('ucondb_version', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ucondb_version_object_id'))
        batch_op.drop_index('ix_ucondb_version_lookup')
        batch_op.drop_index(batch_op.f('ix_ucondb_version_blob_id'))

    op.drop_table('ucondb_version')
    with op.batch_alter_table('ucondb_object', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ucondb_object_folder_id'))

    op.drop_table('ucondb_object')
    op.drop_table('ucondb_folder')
    op.drop_table('ucondb_blob')
