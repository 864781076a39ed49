"""Stored day sums carry their generation; writes reaching them go to a journal instead of deleting them.

Revision ID: a7c9e1f3b5d8
Revises: f1a3c5e7b9d2
Create Date: 2026-11-30 22:30:00.000000

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = 'a7c9e1f3b5d8'
down_revision = 'f1a3c5e7b9d2'
branch_labels = None
depends_on = None

VALUES = ('present', 'households', 'started', 'completed', 'handed_over', 'in_window', 'withdrawn', 'needs_review',
          'fund_central_budget', 'fund_local_budget', 'fund_social_fund', 'fund_enterprise', 'fund_household',
          'fund_other')


def upgrade():
    # The stored days were exact at no recorded generation: they are summed again when next asked for.
    op.execute('DELETE FROM tally_snapshots')
    with op.batch_alter_table('tally_snapshots', schema=None) as batch_op:
        batch_op.add_column(sa.Column('generation', sa.BigInteger(), server_default='0', nullable=False))
    op.create_table('tally_journal',
    sa.Column('boundary_set_id', sa.Integer(), nullable=False),
    sa.Column('generation', sa.BigInteger(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('commune_code', sa.String(length=32), nullable=False),
    sa.Column('support_type', sa.String(length=16), nullable=False),
    *(sa.Column(name, sa.BigInteger(), nullable=False) for name in VALUES),
    sa.ForeignKeyConstraint(['boundary_set_id'], ['boundary_sets.id'], name=op.f('fk_tally_journal_boundary_set_id_boundary_sets'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('boundary_set_id', 'generation', 'day', 'commune_code', 'support_type', name=op.f('pk_tally_journal'))
    )


def downgrade():
    op.drop_table('tally_journal')
    with op.batch_alter_table('tally_snapshots', schema=None) as batch_op:
        batch_op.drop_column('generation')
