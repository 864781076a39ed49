"""Batches belong to their sender: a batch_id is unique per user and device, not per device.

Two accounts signed in on one phone (the same device id) no longer collide
on a batch id. Answers kept without a user (none are written so) cannot be
replayed to anyone and are dropped.

Revision ID: a3c5e9d10b27
Revises: a61c0e5d7f42
Create Date: 2026-11-30 13:15:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'a3c5e9d10b27'
down_revision = 'a61c0e5d7f42'
branch_labels = None
depends_on = None


def upgrade():
    op.execute(sa.text("DELETE FROM sync_batches WHERE user_id IS NULL"))
    with op.batch_alter_table('sync_batches', schema=None) as batch_op:
        batch_op.alter_column('user_id', existing_type=sa.Integer(), nullable=False)
        batch_op.drop_constraint('uq_sync_batches_device_batch', type_='unique')
        batch_op.create_unique_constraint('uq_sync_batches_user_device_batch', ['user_id', 'device_id', 'batch_id'])


def downgrade():
    # Older code keys batches by device alone: keep the newest answer of each device's batch id.
    op.execute(sa.text(
        "DELETE FROM sync_batches WHERE id NOT IN (SELECT max(id) FROM sync_batches GROUP BY device_id, batch_id)"))
    with op.batch_alter_table('sync_batches', schema=None) as batch_op:
        batch_op.drop_constraint('uq_sync_batches_user_device_batch', type_='unique')
        batch_op.create_unique_constraint('uq_sync_batches_device_batch', ['device_id', 'batch_id'])
        batch_op.alter_column('user_id', existing_type=sa.Integer(), nullable=True)
