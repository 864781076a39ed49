"""Earlier programmes' reported results (houses and support), kept as history beside the plans.

Revision ID: b7e2a9c4d150
Revises: a3c5e9d10b27
Create Date: 2026-11-30 13:40:00

"""
import sqlalchemy as sa
from alembic import op

import tracker.dbtypes

# revision identifiers, used by Alembic.
revision = 'b7e2a9c4d150'
down_revision = 'a3c5e9d10b27'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'programme_results',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=200), nullable=False),
        sa.Column('first_year', sa.Integer(), nullable=False),
        sa.Column('last_year', sa.Integer(), nullable=False),
        sa.Column('houses', sa.Integer(), nullable=False),
        sa.Column('support_vnd', sa.BigInteger(), nullable=False),
        sa.Column('source', sa.String(length=500), nullable=False),
        sa.Column('created_at', tracker.dbtypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('name'),
    )


def downgrade():
    op.drop_table('programme_results')
