"""sessions and token scopes: an experimenter's session epoch; an API token's scopes and
experiments

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-27 09:00:00

experimenter.session_epoch: part of the id a session cookie carries; sign-out, a role change
and a removal raise it, which ends every session made before (app/auth/session.py). Existing
rows start at 0, so the sessions signed in before this upgrade go on until the first of
those events.

api_token.scopes / api_token.experiments: what a token may do (read, launch, edit, admin)
and in which experiments (NULL: every experiment its owner is a member of). Tokens made
before this revision keep what they could do: every scope, in every experiment of their
owner, with the owner's roles as they are at each request. Their owners can see this on the
API tokens page and replace them with narrower ones.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None

EVERY_SCOPE = '["read", "launch", "edit", "admin"]'


def upgrade():
    with op.batch_alter_table('experimenter', schema=None) as batch_op:
        batch_op.add_column(sa.Column('session_epoch', sa.Integer(), server_default='0',
                                      nullable=False))
    with op.batch_alter_table('api_token', schema=None) as batch_op:
        batch_op.add_column(sa.Column('scopes', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('experiments', sa.JSON(), nullable=True))
    # A quoted literal: PostgreSQL reads it as json, SQLite keeps the text.
    op.execute(f"UPDATE api_token SET scopes = '{EVERY_SCOPE}'")
    with op.batch_alter_table('api_token', schema=None) as batch_op:
        batch_op.alter_column('scopes', existing_type=sa.JSON(), nullable=False)


def downgrade():
    with op.batch_alter_table('api_token', schema=None) as batch_op:
        batch_op.drop_column('experiments')
        batch_op.drop_column('scopes')
    # Not in batch mode: on SQLite that copies the table, and experimenter rows are referred
    # to from everywhere (foreign keys are on). SQLite >= 3.35 drops a plain column itself.
    op.execute('ALTER TABLE experimenter DROP COLUMN session_epoch')
