"""failure signatures: an editable table per experiment, and which starting signatures each
experiment was given

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-26 06:40:00

The tables are created only if missing: an earlier revision generated while these models
were already in the tree may have created them too (0005 did, in a working copy).
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def _tables():
    return set(sa.inspect(op.get_bind()).get_table_names())


def upgrade():
    existing = _tables()
    if 'failure_signature' not in existing:
        op.create_table('failure_signature',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('experiment_id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=128), nullable=False),
        sa.Column('pattern', sa.String(length=500), nullable=False),
        sa.Column('category', sa.String(length=16), nullable=False),
        sa.Column('action', sa.Text(), nullable=False),
        sa.Column('exit_codes', sa.String(length=64), nullable=False),
        sa.Column('position', sa.Integer(), nullable=False),
        sa.Column('hits', sa.Integer(), nullable=False),
        sa.Column('last_hit', sa.DateTime(), nullable=True),
        sa.Column('starting_key', sa.String(length=64), nullable=True),
        sa.Column('creator_id', sa.Integer(), nullable=True),
        sa.Column('created', sa.DateTime(), nullable=False),
        sa.Column('updated', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['creator_id'], ['experimenter.id'], name=op.f('fk_failure_signature_creator_id_experimenter')),
        sa.ForeignKeyConstraint(['experiment_id'], ['experiment.id'], name=op.f('fk_failure_signature_experiment_id_experiment')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_failure_signature')),
        sa.UniqueConstraint('experiment_id', 'name', name=op.f('uq_failure_signature_experiment_id_name'))
        )
        with op.batch_alter_table('failure_signature', schema=None) as batch_op:
            batch_op.create_index(batch_op.f('ix_failure_signature_experiment_id'), ['experiment_id'], unique=False)

    if 'signature_seeding' not in existing:
        op.create_table('signature_seeding',
        sa.Column('experiment_id', sa.Integer(), nullable=False),
        sa.Column('installed', sa.JSON(), nullable=False),
        sa.Column('updated', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['experiment_id'], ['experiment.id'], name=op.f('fk_signature_seeding_experiment_id_experiment')),
        sa.PrimaryKeyConstraint('experiment_id', name=op.f('pk_signature_seeding'))
        )


def downgrade():
    # Nothing: revision 0005 creates both tables on every database built from this history
    # (upgrade above only fills in for working copies whose 0005 lacked them), and 0005's
    # downgrade drops them. Dropping them here made `flask db downgrade base` fail in 0005.
    pass
