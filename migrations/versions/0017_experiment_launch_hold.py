"""experiment launch hold: one switch holds every launch of an experiment (downtimes)

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-05 02:10:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('experiment_launch_hold',
    sa.Column('experiment_id', sa.Integer(), nullable=False),
    sa.Column('held', sa.Boolean(), nullable=False),
    sa.Column('held_by_id', sa.Integer(), nullable=True),
    sa.Column('held_at', sa.DateTime(), nullable=True),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['experiment_id'], ['experiment.id'], name=op.f('fk_experiment_launch_hold_experiment_id_experiment'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['held_by_id'], ['experimenter.id'], name=op.f('fk_experiment_launch_hold_held_by_id_experimenter')),
    sa.PrimaryKeyConstraint('experiment_id', name=op.f('pk_experiment_launch_hold'))
    )


def downgrade():
    op.drop_table('experiment_launch_hold')
