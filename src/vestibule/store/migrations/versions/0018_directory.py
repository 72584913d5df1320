"""the Identity Center directory: users, groups, memberships and external IDs of identity stores

Revision ID: 0018
Revises: 0017
"""
import sqlalchemy as sa
from alembic import op

revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'directory_users',
        sa.Column('id', sa.String(length=48), nullable=False),
        sa.Column('identity_store_id', sa.String(length=12), nullable=False),
        sa.Column('user_name', sa.String(length=128), nullable=False),
        sa.Column('user_name_lower', sa.String(length=128), nullable=False),
        sa.Column('display_name', sa.String(length=1024), nullable=True),
        sa.Column('email_lower', sa.String(length=400), nullable=True),
        sa.Column('attributes', sa.JSON(), nullable=False),
        sa.Column('status', sa.String(length=8), nullable=False),
        sa.Column('password_hash', sa.Text(), nullable=True),
        sa.Column('password_must_change', sa.Boolean(), nullable=False),
        sa.Column('revision', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.Float(), nullable=False),
        sa.Column('created_by', sa.String(length=2048), nullable=False),
        sa.Column('updated_at', sa.Float(), nullable=False),
        sa.Column('updated_by', sa.String(length=2048), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('identity_store_id', 'user_name_lower', name='uq_directory_users_name'),
    )
    with op.batch_alter_table('directory_users', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_directory_users_identity_store_id'), ['identity_store_id'], unique=False)
        batch_op.create_index('ix_directory_users_email', ['identity_store_id', 'email_lower'], unique=False)
    op.create_table(
        'directory_groups',
        sa.Column('id', sa.String(length=48), nullable=False),
        sa.Column('identity_store_id', sa.String(length=12), nullable=False),
        sa.Column('display_name', sa.String(length=1024), nullable=False),
        sa.Column('display_name_lower', sa.String(length=400), nullable=False),
        sa.Column('description', sa.String(length=1024), nullable=True),
        sa.Column('revision', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.Float(), nullable=False),
        sa.Column('created_by', sa.String(length=2048), nullable=False),
        sa.Column('updated_at', sa.Float(), nullable=False),
        sa.Column('updated_by', sa.String(length=2048), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('identity_store_id', 'display_name_lower', name='uq_directory_groups_name'),
    )
    with op.batch_alter_table('directory_groups', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_directory_groups_identity_store_id'), ['identity_store_id'],
                              unique=False)
    op.create_table(
        'directory_memberships',
        sa.Column('id', sa.String(length=48), nullable=False),
        sa.Column('identity_store_id', sa.String(length=12), nullable=False),
        sa.Column('group_id', sa.String(length=48), nullable=False),
        sa.Column('user_id', sa.String(length=48), nullable=False),
        sa.Column('created_at', sa.Float(), nullable=False),
        sa.Column('created_by', sa.String(length=2048), nullable=False),
        sa.ForeignKeyConstraint(['group_id'], ['directory_groups.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['user_id'], ['directory_users.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('group_id', 'user_id', name='uq_directory_memberships_pair'),
    )
    with op.batch_alter_table('directory_memberships', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_directory_memberships_identity_store_id'), ['identity_store_id'],
                              unique=False)
        batch_op.create_index(batch_op.f('ix_directory_memberships_user_id'), ['user_id'], unique=False)
    op.create_table(
        'directory_external_ids',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('identity_store_id', sa.String(length=12), nullable=False),
        sa.Column('kind', sa.String(length=8), nullable=False),
        sa.Column('owner_id', sa.String(length=48), nullable=False),
        sa.Column('issuer', sa.String(length=256), nullable=False),
        sa.Column('external_id', sa.String(length=256), nullable=False),
        sa.Column('position', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('identity_store_id', 'kind', 'issuer', 'external_id', name='uq_directory_external_ids'),
    )
    with op.batch_alter_table('directory_external_ids', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_directory_external_ids_owner_id'), ['owner_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('directory_external_ids', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_directory_external_ids_owner_id'))
    op.drop_table('directory_external_ids')
    with op.batch_alter_table('directory_memberships', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_directory_memberships_user_id'))
        batch_op.drop_index(batch_op.f('ix_directory_memberships_identity_store_id'))
    op.drop_table('directory_memberships')
    with op.batch_alter_table('directory_groups', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_directory_groups_identity_store_id'))
    op.drop_table('directory_groups')
    with op.batch_alter_table('directory_users', schema=None) as batch_op:
        batch_op.drop_index('ix_directory_users_email')
        batch_op.drop_index(batch_op.f('ix_directory_users_identity_store_id'))
    op.drop_table('directory_users')
