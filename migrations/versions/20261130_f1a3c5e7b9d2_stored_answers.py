"""Whole answers built from a set's figures on a day (the national map), stored for every worker.

Revision ID: f1a3c5e7b9d2
Revises: bf9a8d197934
Create Date: 2026-11-30 19:50:00.000000

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = 'f1a3c5e7b9d2'
down_revision = 'bf9a8d197934'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('stored_answers',
    sa.Column('boundary_set_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('name', sa.String(length=32), nullable=False),
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('etag', sa.String(length=64), nullable=False),
    sa.Column('body', sa.LargeBinary(), nullable=False),
    sa.ForeignKeyConstraint(['boundary_set_id'], ['boundary_sets.id'], name=op.f('fk_stored_answers_boundary_set_id_boundary_sets'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('boundary_set_id', 'day', 'name', name=op.f('pk_stored_answers'))
    )


def downgrade():
    op.drop_table('stored_answers')
