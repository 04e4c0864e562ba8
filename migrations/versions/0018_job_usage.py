"""job usage: CPU time, wall time and peak memory as the batch engine measured them

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-05 02:10:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('job', schema=None) as batch_op:
        batch_op.add_column(sa.Column('cpu_time_s', sa.Float(), nullable=True))
        batch_op.add_column(sa.Column('wall_time_s', sa.Float(), nullable=True))
        batch_op.add_column(sa.Column('peak_memory_mb', sa.Float(), nullable=True))


def downgrade():
    with op.batch_alter_table('job', schema=None) as batch_op:
        batch_op.drop_column('peak_memory_mb')
        batch_op.drop_column('wall_time_s')
        batch_op.drop_column('cpu_time_s')
