"""AWS Organizations: organizations (management account, root), their accounts, CreateAccount requests

Revision ID: 0016
Revises: 0015
"""
import sqlalchemy as sa
from alembic import op

revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'organizations',
        sa.Column('id', sa.String(length=34), nullable=False),
        sa.Column('management_account_id', sa.String(length=12), nullable=False),
        sa.Column('feature_set', sa.String(length=32), nullable=False),
        sa.Column('root_id', sa.String(length=34), nullable=False),
        sa.Column('created_at', sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(['management_account_id'], ['accounts.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('management_account_id'),
        sa.UniqueConstraint('root_id'),
    )
    op.create_table(
        'organization_accounts',
        sa.Column('account_id', sa.String(length=12), nullable=False),
        sa.Column('organization_id', sa.String(length=34), nullable=False),
        sa.Column('joined_method', sa.String(length=16), nullable=False),
        sa.Column('joined_at', sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('account_id'),
    )
    op.create_index('ix_organization_accounts_org_joined', 'organization_accounts',
                    ['organization_id', 'joined_at'])
    op.create_table(
        'create_account_requests',
        sa.Column('id', sa.String(length=36), nullable=False),
        sa.Column('organization_id', sa.String(length=34), nullable=False),
        sa.Column('account_name', sa.String(length=50), nullable=False),
        sa.Column('state', sa.String(length=16), nullable=False),
        sa.Column('requested_at', sa.Float(), nullable=False),
        sa.Column('completed_at', sa.Float(), nullable=True),
        sa.Column('account_id', sa.String(length=12), nullable=True),
        sa.Column('failure_reason', sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_create_account_requests_org_requested', 'create_account_requests',
                    ['organization_id', 'requested_at'])


def downgrade() -> None:
    op.drop_index('ix_create_account_requests_org_requested', table_name='create_account_requests')
    op.drop_table('create_account_requests')
    op.drop_index('ix_organization_accounts_org_joined', table_name='organization_accounts')
    op.drop_table('organization_accounts')
    op.drop_table('organizations')
