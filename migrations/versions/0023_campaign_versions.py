"""every version of a campaign: its INI text, who, when and why (issue 18)

Revision ID: 0023
Revises: 0021
Create Date: 2026-12-05 05:45:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0023'
down_revision = '0022'
branch_labels = None
depends_on = None


def upgrade():
    # Existing campaigns get their first version when first looked at or saved
    # (app/campaigns/versions.py catch_up): writing INI needs the application's exporter.
    op.create_table('campaign_version',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('ini_text', sa.Text(), nullable=False),
    sa.Column('experimenter_id', sa.Integer(), nullable=True),
    sa.Column('source', sa.String(length=32), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('created', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaign.id'], name=op.f('fk_campaign_version_campaign_id_campaign'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['experimenter_id'], ['experimenter.id'], name=op.f('fk_campaign_version_experimenter_id_experimenter')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_campaign_version')),
    sa.UniqueConstraint('campaign_id', 'number', name=op.f('uq_campaign_version_campaign_id_number'))
    )
    with op.batch_alter_table('campaign_version', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_campaign_version_campaign_id'), ['campaign_id'], unique=False)


def downgrade():
    with op.batch_alter_table('campaign_version', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_campaign_version_campaign_id'))
    op.drop_table('campaign_version')
