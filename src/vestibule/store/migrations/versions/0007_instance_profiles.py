"""instance profiles (each holding at most one role), the region a role was last used in, and a role's
description nullable (never given, unlike an empty one, is left out of GetRole)

Revision ID: 0007
Revises: 0006
"""
import sqlalchemy as sa
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('instance_profiles',
    sa.Column('id', sa.String(length=21), nullable=False),
    sa.Column('account_id', sa.String(length=12), nullable=False),
    sa.Column('name', sa.String(length=128), nullable=False),
    sa.Column('name_lower', sa.String(length=128), nullable=False),
    sa.Column('path', sa.String(length=512), nullable=False),
    sa.Column('role_id', sa.String(length=21), nullable=True),
    sa.Column('created_at', sa.Float(), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['role_id'], ['iam_roles.id'], ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('account_id', 'name_lower', name='uq_instance_profiles_account_name')
    )
    with op.batch_alter_table('instance_profiles', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_instance_profiles_account_id'), ['account_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_instance_profiles_role_id'), ['role_id'], unique=False)
    with op.batch_alter_table('iam_roles', schema=None) as batch_op:
        batch_op.add_column(sa.Column('last_used_region', sa.String(length=32), nullable=True))
        batch_op.alter_column('description', existing_type=sa.String(length=1000), nullable=True)
    op.execute("UPDATE iam_roles SET description = NULL WHERE description = ''")  # stored for "not given"


def downgrade() -> None:
    op.execute("UPDATE iam_roles SET description = '' WHERE description IS NULL")
    with op.batch_alter_table('iam_roles', schema=None) as batch_op:
        batch_op.drop_column('last_used_region')
        batch_op.alter_column('description', existing_type=sa.String(length=1000), nullable=False)
    with op.batch_alter_table('instance_profiles', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_instance_profiles_role_id'))
        batch_op.drop_index(batch_op.f('ix_instance_profiles_account_id'))
    op.drop_table('instance_profiles')
