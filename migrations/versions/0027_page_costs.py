"""page costs: each job analysis row's revision, counted by submission and by stage from an
index, so the results pages compute their aggregates once per change; jobs by submission
and end time, for the overview's finish estimate

Revision ID: 0027
Revises: 0021
Create Date: 2026-12-05 05:50:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0027'
down_revision = '0026'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('job', schema=None) as batch_op:
        batch_op.create_index('ix_job_submission_ended', ['submission_id', 'ended_at'],
                              unique=False)
    with op.batch_alter_table('job_analysis', schema=None) as batch_op:
        batch_op.add_column(sa.Column('revision', sa.Integer(), server_default='0',
                                      nullable=False))
        batch_op.create_index('ix_job_analysis_submission_revision',
                              ['submission_id', 'revision'], unique=False)
        batch_op.create_index('ix_job_analysis_stage_revision',
                              ['campaign_stage_id', 'revision'], unique=False)


def downgrade():
    with op.batch_alter_table('job_analysis', schema=None) as batch_op:
        batch_op.drop_index('ix_job_analysis_stage_revision')
        batch_op.drop_index('ix_job_analysis_submission_revision')
        batch_op.drop_column('revision')
    with op.batch_alter_table('job', schema=None) as batch_op:
        batch_op.drop_index('ix_job_submission_ended')
