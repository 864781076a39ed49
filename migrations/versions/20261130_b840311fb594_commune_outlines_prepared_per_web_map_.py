"""Commune outlines prepared per web-map zoom.

Sets imported before this revision get their outlines on the next import,
or at once with ``flask boundaries outlines``; until then a map answer
simplifies them on first need, as before.

Revision ID: b840311fb594
Revises: a1d3c0de5e11
Create Date: 2026-11-30 12:51:58.391701

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = 'b840311fb594'
down_revision = 'a1d3c0de5e11'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('unit_outlines',
    sa.Column('boundary_set_id', sa.Integer(), nullable=False),
    sa.Column('zoom', sa.SmallInteger(), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('geometry', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['boundary_set_id'], ['boundary_sets.id'], name=op.f('fk_unit_outlines_boundary_set_id_boundary_sets'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('boundary_set_id', 'zoom', 'code', name=op.f('pk_unit_outlines'))
    )


def downgrade():
    op.drop_table('unit_outlines')
