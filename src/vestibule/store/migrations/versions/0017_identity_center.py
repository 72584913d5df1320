"""Identity Center (SSO Admin): instances with settings, permission sets, provisionings, account assignments,
request statuses

Revision ID: 0017
Revises: 0016
"""
import sqlalchemy as sa
from alembic import op

revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'sso_instances',
        sa.Column('arn', sa.String(length=64), nullable=False),
        sa.Column('identity_store_id', sa.String(length=12), nullable=False),
        sa.Column('owner_account_id', sa.String(length=12), nullable=False),
        sa.Column('name', sa.String(length=255), nullable=True),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('status', sa.String(length=32), nullable=False),
        sa.Column('client_token', sa.String(length=64), nullable=True),
        sa.Column('created_at', sa.Float(), nullable=False),
        sa.Column('portal_subdomain', sa.String(length=63), nullable=True),
        sa.Column('settings', sa.Text(), nullable=False),
        sa.Column('tags', sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(['owner_account_id'], ['accounts.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('arn'),
        sa.UniqueConstraint('identity_store_id'),
        sa.UniqueConstraint('owner_account_id'),
        sa.UniqueConstraint('portal_subdomain'),
    )
    op.create_table(
        'sso_permission_sets',
        sa.Column('arn', sa.String(length=96), nullable=False),
        sa.Column('instance_arn', sa.String(length=64), nullable=False),
        sa.Column('name', sa.String(length=32), nullable=False),
        sa.Column('description', sa.String(length=700), nullable=True),
        sa.Column('session_duration', sa.Integer(), nullable=False),
        sa.Column('relay_state', sa.String(length=240), nullable=True),
        sa.Column('created_at', sa.Float(), nullable=False),
        sa.Column('updated_at', sa.Float(), nullable=False),
        sa.Column('managed_policies', sa.Text(), nullable=False),
        sa.Column('inline_policy', sa.Text(), nullable=True),
        sa.Column('tags', sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(['instance_arn'], ['sso_instances.arn'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('arn'),
        sa.UniqueConstraint('instance_arn', 'name', name='uq_sso_permission_sets_instance_name'),
    )
    op.create_index('ix_sso_permission_sets_instance_arn', 'sso_permission_sets', ['instance_arn'])
    op.create_table(
        'sso_provisionings',
        sa.Column('permission_set_arn', sa.String(length=96), nullable=False),
        sa.Column('account_id', sa.String(length=12), nullable=False),
        sa.Column('instance_arn', sa.String(length=64), nullable=False),
        sa.Column('role_name', sa.String(length=64), nullable=False),
        sa.Column('provisioned_at', sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(['permission_set_arn'], ['sso_permission_sets.arn'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('permission_set_arn', 'account_id'),
    )
    op.create_index('ix_sso_provisionings_instance_arn', 'sso_provisionings', ['instance_arn'])
    op.create_table(
        'sso_assignments',
        sa.Column('permission_set_arn', sa.String(length=96), nullable=False),
        sa.Column('account_id', sa.String(length=12), nullable=False),
        sa.Column('principal_type', sa.String(length=8), nullable=False),
        sa.Column('principal_id', sa.String(length=47), nullable=False),
        sa.Column('instance_arn', sa.String(length=64), nullable=False),
        sa.Column('created_at', sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(['permission_set_arn'], ['sso_permission_sets.arn'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('permission_set_arn', 'account_id', 'principal_type', 'principal_id'),
    )
    op.create_index('ix_sso_assignments_principal', 'sso_assignments', ['instance_arn', 'principal_id'])
    op.create_table(
        'sso_requests',
        sa.Column('id', sa.String(length=36), nullable=False),
        sa.Column('instance_arn', sa.String(length=64), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('failure_reason', sa.String(length=1024), nullable=True),
        sa.Column('permission_set_arn', sa.String(length=96), nullable=False),
        sa.Column('target_id', sa.String(length=12), nullable=True),
        sa.Column('principal_type', sa.String(length=8), nullable=True),
        sa.Column('principal_id', sa.String(length=47), nullable=True),
        sa.Column('created_at', sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(['instance_arn'], ['sso_instances.arn'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_sso_requests_instance_kind', 'sso_requests', ['instance_arn', 'kind', 'created_at'])


def downgrade() -> None:
    op.drop_index('ix_sso_requests_instance_kind', table_name='sso_requests')
    op.drop_table('sso_requests')
    op.drop_index('ix_sso_assignments_principal', table_name='sso_assignments')
    op.drop_table('sso_assignments')
    op.drop_index('ix_sso_provisionings_instance_arn', table_name='sso_provisionings')
    op.drop_table('sso_provisionings')
    op.drop_index('ix_sso_permission_sets_instance_arn', table_name='sso_permission_sets')
    op.drop_table('sso_permission_sets')
    op.drop_table('sso_instances')
