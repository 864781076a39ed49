"""Commune tallies indexed by (set, grain, commune, day), so one commune's days are read as a range.

Revision ID: e8b1c3d5f7a9
Revises: e5f7a9b1c3d2
Create Date: 2026-11-30 19:30:00.000000

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = 'e8b1c3d5f7a9'
down_revision = 'e5f7a9b1c3d2'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index('ix_commune_tallies_set_grain_commune_day', 'commune_tallies',
                    ['boundary_set_id', 'grain', 'commune_code', 'day'], unique=False)


def downgrade():
    op.drop_index('ix_commune_tallies_set_grain_commune_day', table_name='commune_tallies')
