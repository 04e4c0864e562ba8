"""job analysis: each finished job's log analysis, and a job type's memory raise on recovery

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-26 07:30:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('job_analysis',
    sa.Column('job_id', sa.Integer(), nullable=False),
    sa.Column('submission_id', sa.Integer(), nullable=False),
    sa.Column('campaign_stage_id', sa.Integer(), nullable=False),
    sa.Column('analysed_at', sa.DateTime(), nullable=False),
    sa.Column('log_found', sa.Boolean(), nullable=False),
    sa.Column('failed', sa.Boolean(), nullable=False),
    sa.Column('exit_code', sa.Integer(), nullable=True),
    sa.Column('signal', sa.Integer(), nullable=True),
    sa.Column('wall_time_s', sa.Float(), nullable=True),
    sa.Column('cpu_time_s', sa.Float(), nullable=True),
    sa.Column('efficiency', sa.Float(), nullable=True),
    sa.Column('peak_memory_mb', sa.Float(), nullable=True),
    sa.Column('memory_requested_mb', sa.Float(), nullable=True),
    sa.Column('site', sa.String(length=128), nullable=True),
    sa.Column('signature', sa.String(length=128), nullable=True),
    sa.Column('category', sa.String(length=16), nullable=True),
    sa.Column('signature_id', sa.Integer(), nullable=True),
    sa.Column('line', sa.Integer(), nullable=True),
    sa.Column('input_files', sa.Integer(), nullable=False),
    sa.Column('output_files', sa.Integer(), nullable=False),
    sa.Column('log_bytes', sa.BigInteger(), nullable=False),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['campaign_stage_id'], ['campaign_stage.id'], name=op.f('fk_job_analysis_campaign_stage_id_campaign_stage'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['job_id'], ['job.id'], name=op.f('fk_job_analysis_job_id_job'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['signature_id'], ['failure_signature.id'], name=op.f('fk_job_analysis_signature_id_failure_signature'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['submission_id'], ['submission.id'], name=op.f('fk_job_analysis_submission_id_submission'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('job_id', name=op.f('pk_job_analysis'))
    )
    with op.batch_alter_table('job_analysis', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_job_analysis_campaign_stage_id'), ['campaign_stage_id'], unique=False)
        batch_op.create_index('ix_job_analysis_submission_exit', ['submission_id', 'exit_code'], unique=False)
        batch_op.create_index('ix_job_analysis_submission_signature', ['submission_id', 'signature'], unique=False)

    op.create_table('job_type_memory_policy',
    sa.Column('job_type_id', sa.Integer(), nullable=False),
    sa.Column('factor', sa.Float(), nullable=False),
    sa.Column('cap_mb', sa.Integer(), nullable=False),
    sa.Column('updated', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['job_type_id'], ['job_type.id'], name=op.f('fk_job_type_memory_policy_job_type_id_job_type'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('job_type_id', name=op.f('pk_job_type_memory_policy'))
    )


def downgrade():
    op.drop_table('job_type_memory_policy')
    with op.batch_alter_table('job_analysis', schema=None) as batch_op:
        batch_op.drop_index('ix_job_analysis_submission_signature')
        batch_op.drop_index('ix_job_analysis_submission_exit')
        batch_op.drop_index(batch_op.f('ix_job_analysis_campaign_stage_id'))
    op.drop_table('job_analysis')
