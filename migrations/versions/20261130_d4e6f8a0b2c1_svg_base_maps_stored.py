"""SVG base maps stored per boundary set and level, so no worker simplifies them again after a restart.

Revision ID: d4e6f8a0b2c1
Revises: c3d5a7e9f120
Create Date: 2026-11-30 16:50:00.000000

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = 'd4e6f8a0b2c1'
down_revision = 'c3d5a7e9f120'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('svg_base_maps',
    sa.Column('boundary_set_id', sa.Integer(), nullable=False),
    sa.Column('level', sa.String(length=16), nullable=False),
    sa.Column('geometry_version', sa.String(length=100), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['boundary_set_id'], ['boundary_sets.id'], name=op.f('fk_svg_base_maps_boundary_set_id_boundary_sets'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('boundary_set_id', 'level', name=op.f('pk_svg_base_maps'))
    )


def downgrade():
    op.drop_table('svg_base_maps')
