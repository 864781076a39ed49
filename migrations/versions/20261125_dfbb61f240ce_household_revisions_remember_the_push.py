"""Household revisions remember the push: the phone's base revision and record hash.

A resend of an edit that was merged (so its stored content differs from what
the phone sent) is recognised by ``push_hash`` and changes nothing.

Revision ID: dfbb61f240ce
Revises: 5774cc9fe1e0
Create Date: 2026-11-25 00:19:50.477470

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'dfbb61f240ce'
down_revision = '5774cc9fe1e0'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('household_revisions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('base_revision', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('push_hash', sa.String(length=64), nullable=True))
        batch_op.create_index('ix_household_revisions_push', ['household_id', 'push_hash'], unique=False)


def downgrade():
    with op.batch_alter_table('household_revisions', schema=None) as batch_op:
        batch_op.drop_index('ix_household_revisions_push')
        batch_op.drop_column('push_hash')
        batch_op.drop_column('base_revision')
