"""watches, what they were told, and each stage's circuit breaker (issue 18)

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-05 02:28:03.564674

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0021'
down_revision = '0020'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('watch_cursor',
    sa.Column('name', sa.String(length=32), nullable=False),
    sa.Column('last_id', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_watch_cursor'))
    )
    op.create_table('breaker_policy',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('experiment_id', sa.Integer(), nullable=False),
    sa.Column('job_type_id', sa.Integer(), nullable=True),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.Column('window', sa.Integer(), nullable=False),
    sa.Column('percent', sa.Integer(), nullable=False),
    sa.Column('updated', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['experiment_id'], ['experiment.id'], name=op.f('fk_breaker_policy_experiment_id_experiment')),
    sa.ForeignKeyConstraint(['job_type_id'], ['job_type.id'], name=op.f('fk_breaker_policy_job_type_id_job_type'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_breaker_policy')),
    sa.UniqueConstraint('experiment_id', 'job_type_id', name=op.f('uq_breaker_policy_experiment_id_job_type_id'))
    )
    with op.batch_alter_table('breaker_policy', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_breaker_policy_experiment_id'), ['experiment_id'], unique=False)

    op.create_table('stage_breaker',
    sa.Column('campaign_stage_id', sa.Integer(), nullable=False),
    sa.Column('tripped', sa.Boolean(), nullable=False),
    sa.Column('tripped_at', sa.DateTime(), nullable=True),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('failed', sa.Integer(), nullable=False),
    sa.Column('window', sa.Integer(), nullable=False),
    sa.Column('job_ids', sa.JSON(), nullable=False),
    sa.Column('held_stage_ids', sa.JSON(), nullable=False),
    sa.Column('released_at', sa.DateTime(), nullable=True),
    sa.Column('released_by_id', sa.Integer(), nullable=True),
    sa.Column('counts_from_job_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['campaign_stage_id'], ['campaign_stage.id'], name=op.f('fk_stage_breaker_campaign_stage_id_campaign_stage'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['released_by_id'], ['experimenter.id'], name=op.f('fk_stage_breaker_released_by_id_experimenter')),
    sa.PrimaryKeyConstraint('campaign_stage_id', name=op.f('pk_stage_breaker'))
    )
    op.create_table('watch',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('experiment_id', sa.Integer(), nullable=False),
    sa.Column('experimenter_id', sa.Integer(), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('campaign_stage_id', sa.Integer(), nullable=True),
    sa.Column('events', sa.JSON(), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('target', sa.String(length=512), nullable=False),
    sa.Column('cadence', sa.String(length=16), nullable=False),
    sa.Column('last_digest_at', sa.DateTime(), nullable=True),
    sa.Column('created', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaign.id'], name=op.f('fk_watch_campaign_id_campaign'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['campaign_stage_id'], ['campaign_stage.id'], name=op.f('fk_watch_campaign_stage_id_campaign_stage'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['experiment_id'], ['experiment.id'], name=op.f('fk_watch_experiment_id_experiment')),
    sa.ForeignKeyConstraint(['experimenter_id'], ['experimenter.id'], name=op.f('fk_watch_experimenter_id_experimenter')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_watch'))
    )
    with op.batch_alter_table('watch', schema=None) as batch_op:
        batch_op.create_index('ix_watch_campaign_stage', ['campaign_id', 'campaign_stage_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_watch_experiment_id'), ['experiment_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_watch_experimenter_id'), ['experimenter_id'], unique=False)

    op.create_table('watch_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=128), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('experiment_id', sa.Integer(), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=True),
    sa.Column('campaign_stage_id', sa.Integer(), nullable=True),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('link', sa.String(length=512), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaign.id'], name=op.f('fk_watch_event_campaign_id_campaign'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['campaign_stage_id'], ['campaign_stage.id'], name=op.f('fk_watch_event_campaign_stage_id_campaign_stage'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['experiment_id'], ['experiment.id'], name=op.f('fk_watch_event_experiment_id_experiment')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_watch_event')),
    sa.UniqueConstraint('key', name=op.f('uq_watch_event_key'))
    )
    with op.batch_alter_table('watch_event', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_watch_event_experiment_id'), ['experiment_id'], unique=False)

    op.create_table('delivery',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('experiment_id', sa.Integer(), nullable=False),
    sa.Column('experimenter_id', sa.Integer(), nullable=False),
    sa.Column('watch_id', sa.Integer(), nullable=True),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('target', sa.String(length=512), nullable=False),
    sa.Column('subject', sa.String(length=255), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('events', sa.Integer(), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('error', sa.Text(), nullable=False),
    sa.Column('created', sa.DateTime(), nullable=False),
    sa.Column('sent_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['experiment_id'], ['experiment.id'], name=op.f('fk_delivery_experiment_id_experiment')),
    sa.ForeignKeyConstraint(['experimenter_id'], ['experimenter.id'], name=op.f('fk_delivery_experimenter_id_experimenter')),
    sa.ForeignKeyConstraint(['watch_id'], ['watch.id'], name=op.f('fk_delivery_watch_id_watch'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_delivery'))
    )
    with op.batch_alter_table('delivery', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_delivery_experiment_id'), ['experiment_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_delivery_experimenter_id'), ['experimenter_id'], unique=False)
        batch_op.create_index('ix_delivery_state', ['state'], unique=False)

    op.create_table('watch_notice',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('watch_id', sa.Integer(), nullable=False),
    sa.Column('event_id', sa.Integer(), nullable=False),
    sa.Column('delivery_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['delivery_id'], ['delivery.id'], name=op.f('fk_watch_notice_delivery_id_delivery'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['event_id'], ['watch_event.id'], name=op.f('fk_watch_notice_event_id_watch_event'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['watch_id'], ['watch.id'], name=op.f('fk_watch_notice_watch_id_watch'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_watch_notice')),
    sa.UniqueConstraint('watch_id', 'event_id', name=op.f('uq_watch_notice_watch_id_event_id'))
    )
    with op.batch_alter_table('watch_notice', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_watch_notice_delivery_id'), ['delivery_id'], unique=False)



def downgrade():
    with op.batch_alter_table('watch_notice', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_watch_notice_delivery_id'))

    op.drop_table('watch_notice')
    with op.batch_alter_table('delivery', schema=None) as batch_op:
        batch_op.drop_index('ix_delivery_state')
        batch_op.drop_index(batch_op.f('ix_delivery_experimenter_id'))
        batch_op.drop_index(batch_op.f('ix_delivery_experiment_id'))

    op.drop_table('delivery')
    with op.batch_alter_table('watch_event', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_watch_event_experiment_id'))

    op.drop_table('watch_event')
    with op.batch_alter_table('watch', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_watch_experimenter_id'))
        batch_op.drop_index(batch_op.f('ix_watch_experiment_id'))
        batch_op.drop_index('ix_watch_campaign_stage')

    op.drop_table('watch')
    op.drop_table('stage_breaker')
    with op.batch_alter_table('breaker_policy', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_breaker_policy_experiment_id'))

    op.drop_table('breaker_policy')
    op.drop_table('watch_cursor')
