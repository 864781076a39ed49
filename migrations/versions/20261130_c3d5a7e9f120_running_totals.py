"""Running totals beside the commune tallies, a week apart: the span of days that has them.

Sets keep no running totals until their tallies are next counted (``flask
tallies rebuild``) or changed; until then reports sum the month and day rows.

Revision ID: c3d5a7e9f120
Revises: c4d8e1f2a7b3
Create Date: 2026-11-30 16:10:00.000000

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = 'c3d5a7e9f120'
down_revision = 'c4d8e1f2a7b3'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('tally_states', schema=None) as batch_op:
        batch_op.add_column(sa.Column('cumulative_from', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('cumulative_to', sa.Date(), nullable=True))


def downgrade():
    op.execute("DELETE FROM commune_tallies WHERE grain = 'c'")
    with op.batch_alter_table('tally_states', schema=None) as batch_op:
        batch_op.drop_column('cumulative_to')
        batch_op.drop_column('cumulative_from')
