"""Users who uploaded a photo's bytes after its first uploader: they may know of it.

Revision ID: b2d4f6a8c0e1
Revises: a7c9e1f3b5d8
Create Date: 2026-11-30 23:05:00.000000

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = 'b2d4f6a8c0e1'
down_revision = 'a7c9e1f3b5d8'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('photo_holders',
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['sha256'], ['photos.sha256'], name=op.f('fk_photo_holders_sha256_photos'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_photo_holders_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('sha256', 'user_id', name=op.f('pk_photo_holders'))
    )


def downgrade():
    op.drop_table('photo_holders')
