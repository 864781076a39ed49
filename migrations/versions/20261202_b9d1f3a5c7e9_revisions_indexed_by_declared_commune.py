"""Household revisions indexed by the commune the officer declared.

A commune officer's scope is the revisions assigned to their communes or
declared in them. Asked of each revision in turn, it read every household
of the national benchmark for one commune's list or first pull (0.7 to
2 s); found through the assignments' index and this one, it reads the
commune's own.

Revision ID: b9d1f3a5c7e9
Revises: a8c0e2f4b6d8
Create Date: 2026-12-02 18:30:00.000000

"""
from alembic import op

# revision identifiers, used by Alembic.
revision = 'b9d1f3a5c7e9'
down_revision = 'a8c0e2f4b6d8'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index('ix_household_revisions_declared_commune', 'household_revisions', ['declared_commune'],
                    unique=False)


def downgrade():
    op.drop_index('ix_household_revisions_declared_commune', table_name='household_revisions')
