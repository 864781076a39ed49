"""Jobs: slow work (exports, thumbnails, re-assignment, tally rebuilds) run by a queue worker.

Revision ID: c4d8e1f2a7b3
Revises: c4d8e1f2a3b6
Create Date: 2026-11-30 16:05:00

"""
import sqlalchemy as sa
from alembic import op

import tracker.dbtypes

# revision identifiers, used by Alembic.
revision = 'c4d8e1f2a7b3'
down_revision = 'c4d8e1f2a3b6'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'jobs',
        sa.Column('id', sa.String(length=32), nullable=False),
        sa.Column('kind', sa.String(length=64), nullable=False),
        sa.Column('args', sa.JSON(), nullable=False),
        sa.Column('owner_id', sa.Integer(), nullable=True),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('done', sa.Integer(), nullable=False),
        sa.Column('total', sa.Integer(), nullable=True),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('error', sa.Text(), nullable=True),
        sa.Column('result', sa.JSON(), nullable=True),
        sa.Column('created_at', tracker.dbtypes.UTCDateTime(), nullable=False),
        sa.Column('started_at', tracker.dbtypes.UTCDateTime(), nullable=True),
        sa.Column('finished_at', tracker.dbtypes.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(['owner_id'], ['users.id'], name=op.f('fk_jobs_owner_id_users'), ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_jobs')),
    )
    with op.batch_alter_table('jobs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_jobs_owner_id'), ['owner_id'], unique=False)


def downgrade():
    with op.batch_alter_table('jobs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_jobs_owner_id'))
    op.drop_table('jobs')
