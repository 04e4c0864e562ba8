"""launch retries: who claimed a launch, and how often it was given back and tried again

Revision ID: 0020
Revises: 0018
Create Date: 2026-12-05 02:10:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0020'
down_revision = '0018'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('submission', schema=None) as batch_op:
        batch_op.add_column(sa.Column('launch_claimed_by', sa.String(length=255),
                                      nullable=False, server_default=''))
        batch_op.add_column(sa.Column('launch_attempts', sa.Integer(), nullable=False,
                                      server_default='0'))


def downgrade():
    with op.batch_alter_table('submission', schema=None) as batch_op:
        batch_op.drop_column('launch_attempts')
        batch_op.drop_column('launch_claimed_by')
