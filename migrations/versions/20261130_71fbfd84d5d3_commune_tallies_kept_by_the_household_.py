"""Commune tallies kept by the household ledger.

Created empty, with no set marked as kept: reports count from the revisions
until ``flask tallies rebuild`` (or a re-assignment) counts them.

Revision ID: 71fbfd84d5d3
Revises: b840311fb594
Create Date: 2026-11-30 13:15:27.431724

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = '71fbfd84d5d3'
down_revision = 'b840311fb594'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('commune_tallies',
    sa.Column('boundary_set_id', sa.Integer(), nullable=False),
    sa.Column('grain', sa.String(length=1), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('commune_code', sa.String(length=32), nullable=False),
    sa.Column('support_type', sa.String(length=16), nullable=False),
    sa.Column('present', sa.BigInteger(), nullable=False),
    sa.Column('households', sa.BigInteger(), nullable=False),
    sa.Column('started', sa.BigInteger(), nullable=False),
    sa.Column('completed', sa.BigInteger(), nullable=False),
    sa.Column('handed_over', sa.BigInteger(), nullable=False),
    sa.Column('in_window', sa.BigInteger(), nullable=False),
    sa.Column('withdrawn', sa.BigInteger(), nullable=False),
    sa.Column('needs_review', sa.BigInteger(), nullable=False),
    sa.Column('fund_central_budget', sa.BigInteger(), nullable=False),
    sa.Column('fund_local_budget', sa.BigInteger(), nullable=False),
    sa.Column('fund_social_fund', sa.BigInteger(), nullable=False),
    sa.Column('fund_enterprise', sa.BigInteger(), nullable=False),
    sa.Column('fund_household', sa.BigInteger(), nullable=False),
    sa.Column('fund_other', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['boundary_set_id'], ['boundary_sets.id'], name=op.f('fk_commune_tallies_boundary_set_id_boundary_sets'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('boundary_set_id', 'grain', 'day', 'commune_code', 'support_type', name=op.f('pk_commune_tallies')),
    sqlite_with_rowid=False,
    )
    op.create_table('tally_states',
    sa.Column('boundary_set_id', sa.Integer(), nullable=False),
    sa.Column('last_revision_id', sa.BigInteger(), nullable=True),
    sa.ForeignKeyConstraint(['boundary_set_id'], ['boundary_sets.id'], name=op.f('fk_tally_states_boundary_set_id_boundary_sets'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('boundary_set_id', name=op.f('pk_tally_states'))
    )


def downgrade():
    op.drop_table('tally_states')
    op.drop_table('commune_tallies')
