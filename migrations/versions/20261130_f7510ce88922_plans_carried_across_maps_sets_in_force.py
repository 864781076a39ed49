"""Plans carried across maps: a derived plan and its revisions name what they were carried from;
a boundary set knows the day it came into force.

Revision ID: f7510ce88922
Revises: f9ae5934a140
Create Date: 2026-11-30 12:44:46.340493

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'f7510ce88922'
down_revision = 'f9ae5934a140'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('boundary_sets', schema=None) as batch_op:
        batch_op.add_column(sa.Column('in_force_from', sa.Date(), nullable=True))

    with op.batch_alter_table('plan_revisions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('carried_from_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('crosswalk_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_plan_revisions_carried_from_id'), ['carried_from_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_plan_revisions_carried_from_id_plan_revisions'), 'plan_revisions', ['carried_from_id'], ['id'], ondelete='CASCADE')
        batch_op.create_foreign_key(batch_op.f('fk_plan_revisions_crosswalk_id_crosswalks'), 'crosswalks', ['crosswalk_id'], ['id'], ondelete='SET NULL')

    with op.batch_alter_table('plans', schema=None) as batch_op:
        batch_op.add_column(sa.Column('carried_from_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_plans_carried_from_id'), ['carried_from_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_plans_carried_from_id_plans'), 'plans', ['carried_from_id'], ['id'], ondelete='CASCADE')


def downgrade():
    with op.batch_alter_table('plans', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_plans_carried_from_id_plans'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_plans_carried_from_id'))
        batch_op.drop_column('carried_from_id')

    with op.batch_alter_table('boundary_sets', schema=None) as batch_op:
        batch_op.drop_column('in_force_from')

    with op.batch_alter_table('plan_revisions', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_plan_revisions_crosswalk_id_crosswalks'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_plan_revisions_carried_from_id_plan_revisions'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_plan_revisions_carried_from_id'))
        batch_op.drop_column('crosswalk_id')
        batch_op.drop_column('carried_from_id')

