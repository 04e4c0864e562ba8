"""which job made which catalogue file: provenance (issue 18)

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-05 05:40:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0022'
down_revision = '0021'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('job_output',
    sa.Column('file_id', sa.Integer(), nullable=False),
    sa.Column('job_id', sa.Integer(), nullable=False),
    sa.Column('submission_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['file_id'], ['catalog_file.id'], name=op.f('fk_job_output_file_id_catalog_file'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['job_id'], ['job.id'], name=op.f('fk_job_output_job_id_job'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['submission_id'], ['submission.id'], name=op.f('fk_job_output_submission_id_submission'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('file_id', name=op.f('pk_job_output'))
    )
    with op.batch_alter_table('job_output', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_job_output_job_id'), ['job_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_job_output_submission_id'), ['submission_id'], unique=False)


def downgrade():
    with op.batch_alter_table('job_output', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_job_output_submission_id'))
        batch_op.drop_index(batch_op.f('ix_job_output_job_id'))

    op.drop_table('job_output')
