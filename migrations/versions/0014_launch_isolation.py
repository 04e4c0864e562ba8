"""launch isolation: login setups carry their role; submissions their launch account and
tracking error

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-04 23:30:00.000000

Existing login setups get a role the way an upload gives one (the role of the campaign
that made it): production when a production campaign uses it, analysis otherwise. An
analysis campaign whose stages use a production login setup is then refused at its next
launch, naming the stage, the setup and the role.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('login_setup', schema=None) as batch_op:
        batch_op.add_column(sa.Column('role', sa.String(length=16), nullable=False,
                                      server_default='analysis'))
    op.execute(
        "UPDATE login_setup SET role = 'production' WHERE id IN ("
        "SELECT campaign_stage.login_setup_id FROM campaign_stage "
        "JOIN campaign ON campaign.id = campaign_stage.campaign_id "
        "WHERE campaign.poms_role = 'production')"
    )
    with op.batch_alter_table('submission', schema=None) as batch_op:
        batch_op.add_column(sa.Column('launch_account', sa.String(length=64), nullable=False,
                                      server_default=''))
        batch_op.add_column(sa.Column('tracking_error', sa.Text(), nullable=False,
                                      server_default=''))


def downgrade():
    with op.batch_alter_table('submission', schema=None) as batch_op:
        batch_op.drop_column('tracking_error')
        batch_op.drop_column('launch_account')
    with op.batch_alter_table('login_setup', schema=None) as batch_op:
        batch_op.drop_column('role')
