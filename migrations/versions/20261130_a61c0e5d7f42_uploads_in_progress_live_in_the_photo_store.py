"""Uploads in progress live in the photo store, not in a table.

Each account's upload of a photo is a set of pieces in the store (local
folder or S3-compatible), so any application server sharing the store can
resume it; the ``photo_uploads`` table is no longer read or written. Uploads
in progress at the time of the upgrade start again from byte 0.

Revision ID: a61c0e5d7f42
Revises: 71fbfd84d5d3
Create Date: 2026-11-30 12:50:00.000000

"""
import sqlalchemy as sa
from alembic import op

import tracker.dbtypes

# revision identifiers, used by Alembic.
revision = 'a61c0e5d7f42'
down_revision = '71fbfd84d5d3'
branch_labels = None
depends_on = None


def upgrade():
    op.drop_table('photo_uploads')


def downgrade():
    op.create_table('photo_uploads',
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('upload_length', sa.BigInteger(), nullable=True),
    sa.Column('offset', sa.BigInteger(), nullable=False),
    sa.Column('created_at', tracker.dbtypes.UTCDateTime(), nullable=False),
    sa.Column('updated_at', tracker.dbtypes.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('sha256', name=op.f('pk_photo_uploads'))
    )
