"""how far tracking has read each cluster's job event log (issue 15)

Revision ID: 0026
Revises: 0021
Create Date: 2026-12-05 05:45:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0026'
down_revision = '0023'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('submission', schema=None) as batch_op:
        batch_op.add_column(sa.Column('event_positions', sa.JSON(), server_default='{}',
                                      nullable=False))


def downgrade():
    with op.batch_alter_table('submission', schema=None) as batch_op:
        batch_op.drop_column('event_positions')
