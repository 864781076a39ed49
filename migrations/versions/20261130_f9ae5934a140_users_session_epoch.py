"""Users carry a session epoch; web sessions no longer hold a tag of the password hash.

A browser's session names the epoch it began in; signing out everywhere or a
new password raises it and so ends every older session.

Revision ID: f9ae5934a140
Revises: 1f826f4f6639
Create Date: 2026-11-30 12:55:00.000000

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'f9ae5934a140'
down_revision = '1f826f4f6639'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('session_epoch', sa.Integer(), server_default='0', nullable=False))


def downgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('session_epoch')
