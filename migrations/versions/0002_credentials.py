"""credentials: uploaded X.509 proxies and bearer tokens

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26 06:50:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade():
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


def downgrade():
    with op.batch_alter_table('credential', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_credential_expires'))
        batch_op.drop_index(batch_op.f('ix_credential_experimenter_id'))
        batch_op.drop_index(batch_op.f('ix_credential_experiment_id'))

    op.drop_table('credential')
