"""Field app: each device's own key, and a receipt per OpenRosa submission.

Revision ID: 1f826f4f6639
Revises: 516f21885168
Create Date: 2026-11-30 12:29:23.661907

"""
import sqlalchemy as sa
from alembic import op

import tracker.dbtypes


# revision identifiers, used by Alembic.
revision = '1f826f4f6639'
down_revision = '516f21885168'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('openrosa_submissions',
    sa.Column('instance_id', sa.String(length=100), nullable=False),
    sa.Column('form_id', sa.String(length=64), nullable=False),
    sa.Column('form_version', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('device_id', sa.String(length=128), nullable=False),
    sa.Column('xml_hash', sa.String(length=64), nullable=False),
    sa.Column('xml', sa.Text(), nullable=False),
    sa.Column('deprecated_id', sa.String(length=100), nullable=True),
    sa.Column('household_id', sa.String(length=36), nullable=True),
    sa.Column('revision', sa.Integer(), nullable=True),
    sa.Column('base_revision', sa.Integer(), nullable=True),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('result', sa.String(length=16), nullable=True),
    sa.Column('files', sa.JSON(), nullable=False),
    sa.Column('message', sa.Text(), nullable=False),
    sa.Column('errors', sa.JSON(), nullable=False),
    sa.Column('received_at', tracker.dbtypes.UTCDateTime(), nullable=False),
    sa.Column('updated_at', tracker.dbtypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_openrosa_submissions_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('instance_id', name=op.f('pk_openrosa_submissions'))
    )
    with op.batch_alter_table('openrosa_submissions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_openrosa_submissions_deprecated_id'), ['deprecated_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_openrosa_submissions_household_id'), ['household_id'], unique=False)
        batch_op.create_index('ix_openrosa_submissions_user_state', ['user_id', 'state'], unique=False)

    with op.batch_alter_table('devices', schema=None) as batch_op:
        batch_op.add_column(sa.Column('collect_key_hash', sa.String(length=64), nullable=True))
        batch_op.create_unique_constraint(batch_op.f('uq_devices_collect_key_hash'), ['collect_key_hash'])



def downgrade():
    with op.batch_alter_table('devices', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_devices_collect_key_hash'), type_='unique')
        batch_op.drop_column('collect_key_hash')

    with op.batch_alter_table('openrosa_submissions', schema=None) as batch_op:
        batch_op.drop_index('ix_openrosa_submissions_user_state')
        batch_op.drop_index(batch_op.f('ix_openrosa_submissions_household_id'))
        batch_op.drop_index(batch_op.f('ix_openrosa_submissions_deprecated_id'))

    op.drop_table('openrosa_submissions')
