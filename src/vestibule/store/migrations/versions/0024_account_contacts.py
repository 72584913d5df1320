"""account contact details (account_contacts) and root email changes with their undo links
(root_email_changes: SHA-256 of the token only)

Revision ID: 0024
Revises: 0023
"""
import sqlalchemy as sa
from alembic import op

revision = '0024'
down_revision = '0023'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'account_contacts',
        sa.Column('account_id', sa.String(length=12), nullable=False),
        sa.Column('full_name', sa.String(length=100), nullable=False),
        sa.Column('phone', sa.String(length=32), nullable=False),
        sa.Column('company', sa.String(length=100), nullable=False),
        sa.Column('address_line1', sa.String(length=120), nullable=False),
        sa.Column('address_line2', sa.String(length=120), nullable=False),
        sa.Column('city', sa.String(length=60), nullable=False),
        sa.Column('region', sa.String(length=60), nullable=False),
        sa.Column('postal_code', sa.String(length=20), nullable=False),
        sa.Column('country', sa.String(length=2), nullable=False),
        sa.Column('security_name', sa.String(length=100), nullable=False),
        sa.Column('security_email', sa.String(length=254), nullable=False),
        sa.Column('security_phone', sa.String(length=32), nullable=False),
        sa.Column('updated_at', sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('account_id'),
    )
    op.create_table(
        'root_email_changes',
        sa.Column('token_hash', sa.String(length=64), nullable=False),
        sa.Column('account_id', sa.String(length=12), nullable=False),
        sa.Column('old_email', sa.String(length=254), nullable=False),
        sa.Column('new_email', sa.String(length=254), nullable=False),
        sa.Column('created_at', sa.Float(), nullable=False),
        sa.Column('expires_at', sa.Float(), nullable=False),
        sa.Column('used_at', sa.Float(), nullable=True),
        sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('token_hash'),
    )
    op.create_index('ix_root_email_changes_account_id', 'root_email_changes', ['account_id'])
    op.create_index('ix_root_email_changes_old_email', 'root_email_changes', ['old_email'])
    op.create_index('ix_root_email_changes_expires_at', 'root_email_changes', ['expires_at'])


def downgrade() -> None:
    op.drop_index('ix_root_email_changes_expires_at', table_name='root_email_changes')
    op.drop_index('ix_root_email_changes_old_email', table_name='root_email_changes')
    op.drop_index('ix_root_email_changes_account_id', table_name='root_email_changes')
    op.drop_table('root_email_changes')
    op.drop_table('account_contacts')
