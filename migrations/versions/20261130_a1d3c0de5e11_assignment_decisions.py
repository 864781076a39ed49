"""Managers' assignment decisions last: one standing decision per household and boundary set.

A confirmed or moved commune assignment is kept as a decision about the
household and applied to every later revision until a manager decides again.

Revision ID: a1d3c0de5e11
Revises: f7510ce88922
Create Date: 2026-11-30 12:45:00

"""
import sqlalchemy as sa
from alembic import op

import tracker.dbtypes

# revision identifiers, used by Alembic.
revision = 'a1d3c0de5e11'
down_revision = 'f7510ce88922'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'assignment_decisions',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('household_id', sa.String(length=36), nullable=False),
        sa.Column('boundary_set_id', sa.Integer(), nullable=False),
        sa.Column('action', sa.String(length=16), nullable=False),
        sa.Column('commune_code', sa.String(length=32), nullable=True),
        sa.Column('previous_commune', sa.String(length=32), nullable=True),
        sa.Column('revision', sa.Integer(), nullable=False),
        sa.Column('lat', sa.Float(), nullable=True),
        sa.Column('lon', sa.Float(), nullable=True),
        sa.Column('decided_by', sa.Integer(), nullable=True),
        sa.Column('decided_by_name', sa.String(length=100), nullable=False),
        sa.Column('decided_at', tracker.dbtypes.UTCDateTime(), nullable=False),
        sa.Column('note', sa.String(length=2000), nullable=False),
        sa.ForeignKeyConstraint(['boundary_set_id'], ['boundary_sets.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['decided_by'], ['users.id']),
        sa.ForeignKeyConstraint(['household_id'], ['households.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('household_id', 'boundary_set_id', name='uq_assignment_decisions_household_set'),
    )


def downgrade():
    op.drop_table('assignment_decisions')
