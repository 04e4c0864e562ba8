"""launching as the original: stage test_split_type, a submission's dependents_dataset,
split positions kept per purpose (launch / test)

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-05 09:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('campaign_stage', schema=None) as batch_op:
        batch_op.add_column(sa.Column('test_split_type', sa.String(length=255),
                                      server_default='', nullable=False))
    with op.batch_alter_table('submission', schema=None) as batch_op:
        batch_op.add_column(sa.Column('dependents_dataset', sa.Text(), server_default='',
                                      nullable=False))
    with op.batch_alter_table('stage_split_state', schema=None) as batch_op:
        batch_op.add_column(sa.Column('purpose', sa.String(length=8), server_default='launch',
                                      nullable=False))
        batch_op.drop_constraint('uq_stage_split_state_stage_id', type_='unique')
        batch_op.create_unique_constraint(batch_op.f('uq_stage_split_state_stage_id_purpose'),
                                          ['stage_id', 'purpose'])


def downgrade():
    op.execute("DELETE FROM stage_split_state WHERE purpose <> 'launch'")
    with op.batch_alter_table('stage_split_state', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_stage_split_state_stage_id_purpose'),
                                 type_='unique')
        batch_op.create_unique_constraint('uq_stage_split_state_stage_id', ['stage_id'])
        batch_op.drop_column('purpose')
    with op.batch_alter_table('submission', schema=None) as batch_op:
        batch_op.drop_column('dependents_dataset')
    with op.batch_alter_table('campaign_stage', schema=None) as batch_op:
        batch_op.drop_column('test_split_type')
