"""Crosswalks between boundary sets: old units → new units with shares, stored per set versions.

Revision ID: 516f21885168
Revises: dfbb61f240ce
Create Date: 2026-11-30 12:29:10.902087

"""
import sqlalchemy as sa
from alembic import op

import tracker.dbtypes

# revision identifiers, used by Alembic.
revision = '516f21885168'
down_revision = 'dfbb61f240ce'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('crosswalks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('from_set_id', sa.Integer(), nullable=False),
    sa.Column('to_set_id', sa.Integer(), nullable=False),
    sa.Column('from_version', sa.Integer(), nullable=False),
    sa.Column('to_version', sa.Integer(), nullable=False),
    sa.Column('tolerance', sa.Float(), nullable=False),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.Column('source_name', sa.String(length=300), nullable=False),
    sa.Column('slivers', sa.Integer(), nullable=False),
    sa.Column('unmatched', sa.String(length=4000), nullable=False),
    sa.Column('households', sa.Integer(), nullable=False),
    sa.Column('households_agreeing', sa.Integer(), nullable=False),
    sa.Column('created_at', tracker.dbtypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['from_set_id'], ['boundary_sets.id'], name=op.f('fk_crosswalks_from_set_id_boundary_sets'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['to_set_id'], ['boundary_sets.id'], name=op.f('fk_crosswalks_to_set_id_boundary_sets'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_crosswalks'))
    )
    with op.batch_alter_table('crosswalks', schema=None) as batch_op:
        batch_op.create_index('ix_crosswalks_sets', ['from_set_id', 'to_set_id'], unique=False)

    op.create_table('crosswalk_links',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('crosswalk_id', sa.Integer(), nullable=False),
    sa.Column('old_code', sa.String(length=32), nullable=False),
    sa.Column('new_code', sa.String(length=32), nullable=False),
    sa.Column('share', sa.Float(), nullable=False),
    sa.Column('area_km2', sa.Float(), nullable=False),
    sa.Column('households', sa.Integer(), nullable=False),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.ForeignKeyConstraint(['crosswalk_id'], ['crosswalks.id'], name=op.f('fk_crosswalk_links_crosswalk_id_crosswalks'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_crosswalk_links'))
    )
    with op.batch_alter_table('crosswalk_links', schema=None) as batch_op:
        batch_op.create_index('ix_crosswalk_links_crosswalk_old', ['crosswalk_id', 'old_code'], unique=False)



def downgrade():
    with op.batch_alter_table('crosswalk_links', schema=None) as batch_op:
        batch_op.drop_index('ix_crosswalk_links_crosswalk_old')

    op.drop_table('crosswalk_links')
    with op.batch_alter_table('crosswalks', schema=None) as batch_op:
        batch_op.drop_index('ix_crosswalks_sets')

    op.drop_table('crosswalks')
