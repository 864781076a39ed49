"""Revisions keep the record fields the households export shows as columns.

``village``, ``ethnicity``, ``members`` and ``national_id`` are written with
the other columns of a revision (``sync.records.revision_columns``); the
export read them out of the JSON record, which cost PostgreSQL (``json``,
parsed again for each field) more than the rest of the query. Revisions
stored before are filled from their records here.

Revision ID: bf9a8d197934
Revises: e8b1c3d5f7a9
Create Date: 2026-11-30 19:30:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'bf9a8d197934'
down_revision = 'e8b1c3d5f7a9'
branch_labels = None
depends_on = None

TEXT_FIELDS = ("village", "ethnicity", "national_id")


def upgrade():
    op.add_column('household_revisions', sa.Column('village', sa.String(length=200), nullable=True))
    op.add_column('household_revisions', sa.Column('ethnicity', sa.String(length=60), nullable=True))
    op.add_column('household_revisions', sa.Column('members', sa.Integer(), nullable=True))
    op.add_column('household_revisions', sa.Column('national_id', sa.String(length=32), nullable=True))
    if op.get_bind().dialect.name == "postgresql":
        fields = [f"{name} = data ->> '{name}'" for name in TEXT_FIELDS] + ["members = (data ->> 'members')::integer"]
    else:
        fields = [f"{name} = json_extract(data, '$.{name}')" for name in (*TEXT_FIELDS, "members")]
    op.execute(f"UPDATE household_revisions SET {', '.join(fields)}")


def downgrade():
    with op.batch_alter_table('household_revisions', schema=None) as batch_op:
        for name in ('national_id', 'members', 'ethnicity', 'village'):
            batch_op.drop_column(name)
