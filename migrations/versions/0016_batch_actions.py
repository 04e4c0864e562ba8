"""batch actions: a kill, hold or release asked for on a page or the API, done by a worker

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-05 10:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('batch_action',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('submission_id', sa.Integer(), nullable=False),
    sa.Column('action', sa.String(length=16), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('pending_for', sa.Integer(), nullable=True),
    sa.Column('requested_by_id', sa.Integer(), nullable=False),
    sa.Column('origin', sa.String(length=64), nullable=False),
    sa.Column('requested_at', sa.DateTime(), nullable=False),
    sa.Column('started_at', sa.DateTime(), nullable=True),
    sa.Column('finished_at', sa.DateTime(), nullable=True),
    sa.Column('result', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['requested_by_id'], ['experimenter.id'], name=op.f('fk_batch_action_requested_by_id_experimenter')),
    sa.ForeignKeyConstraint(['submission_id'], ['submission.id'], name=op.f('fk_batch_action_submission_id_submission'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_batch_action')),
    sa.UniqueConstraint('pending_for', name=op.f('uq_batch_action_pending_for'))
    )
    with op.batch_alter_table('batch_action', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_batch_action_submission_id'), ['submission_id'], unique=False)


def downgrade():
    with op.batch_alter_table('batch_action', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_batch_action_submission_id'))

    op.drop_table('batch_action')
