"""Revisions know when each field changed: a merge's winner is decided per field.

``household_revisions.field_times`` holds, per merge unit, the time of the
edit that gave it its value where that is not the record's ``captured_at``.
Revisions stored before it have none: every unit then counts as changed at
the record's ``captured_at``, as the merge counted it until now.

Revision ID: c4d8e1f2a3b6
Revises: b7e2a9c4d150
Create Date: 2026-11-30 16:10:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'c4d8e1f2a3b6'
down_revision = 'b7e2a9c4d150'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('household_revisions', sa.Column('field_times', sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table('household_revisions', schema=None) as batch_op:
        batch_op.drop_column('field_times')
