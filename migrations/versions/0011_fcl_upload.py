"""ucondb: FCL uploads of finished jobs (fcl_upload)

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-26 07:40:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('fcl_upload',
    sa.Column('job_id', sa.Integer(), nullable=False),
    sa.Column('submission_id', sa.Integer(), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('files', sa.JSON(), nullable=False),
    sa.Column('locations', sa.JSON(), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('error', sa.Text(), nullable=False),
    sa.Column('created', sa.DateTime(), nullable=False),
    sa.Column('updated', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['job_id'], ['job.id'], name=op.f('fk_fcl_upload_job_id_job'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['submission_id'], ['submission.id'], name=op.f('fk_fcl_upload_submission_id_submission'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('job_id', name=op.f('pk_fcl_upload'))
    )
    with op.batch_alter_table('fcl_upload', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_fcl_upload_submission_id'), ['submission_id'], unique=False)


def downgrade():
    with op.batch_alter_table('fcl_upload', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_fcl_upload_submission_id'))

    op.drop_table('fcl_upload')
