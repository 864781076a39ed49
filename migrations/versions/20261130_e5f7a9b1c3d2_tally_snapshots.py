"""A set's kept tallies summed per day, stored for every worker; tally states count their writes.

Revision ID: e5f7a9b1c3d2
Revises: d4e6f8a0b2c1
Create Date: 2026-11-30 19:20:00.000000

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = 'e5f7a9b1c3d2'
down_revision = 'd4e6f8a0b2c1'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('tally_snapshots',
    sa.Column('boundary_set_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('codes', sa.Text(), nullable=False),
    sa.Column('sums', sa.LargeBinary(), nullable=False),
    sa.ForeignKeyConstraint(['boundary_set_id'], ['boundary_sets.id'], name=op.f('fk_tally_snapshots_boundary_set_id_boundary_sets'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('boundary_set_id', 'day', name=op.f('pk_tally_snapshots'))
    )
    with op.batch_alter_table('tally_states') as batch:
        batch.add_column(sa.Column('generation', sa.BigInteger(), server_default='0', nullable=False))


def downgrade():
    with op.batch_alter_table('tally_states') as batch:
        batch.drop_column('generation')
    op.drop_table('tally_snapshots')
