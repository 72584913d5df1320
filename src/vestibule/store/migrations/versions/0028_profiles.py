"""personal profiles: profiles (one per lower-cased email, no account), their trusted browsers (a cookie's hashed
token bound to a user agent and a client network) and their data exports; mfa_devices.account_id nullable (a
profile's TOTP device belongs to no account)

Revision ID: 0028
Revises: 0027
"""
import sqlalchemy as sa
from alembic import op

revision = '0028'
down_revision = '0027'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'profiles',
        sa.Column('id', sa.String(length=24), nullable=False),
        sa.Column('email', sa.String(length=254), nullable=False),
        sa.Column('name', sa.String(length=100), nullable=False),
        sa.Column('nickname', sa.String(length=100), nullable=True),
        sa.Column('password_hash', sa.Text(), nullable=False),
        sa.Column('password_changed_at', sa.Float(), nullable=False),
        sa.Column('created_at', sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('email'),
    )
    op.create_table(
        'profile_trusted_browsers',
        sa.Column('id', sa.String(length=32), nullable=False),
        sa.Column('profile_id', sa.String(length=24), nullable=False),
        sa.Column('token_hash', sa.String(length=64), nullable=False),
        sa.Column('user_agent_hash', sa.String(length=64), nullable=False),
        sa.Column('network', sa.String(length=64), nullable=False),
        sa.Column('label', sa.String(length=200), nullable=False),
        sa.Column('created_at', sa.Float(), nullable=False),
        sa.Column('last_used_at', sa.Float(), nullable=False),
        sa.Column('expires_at', sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(['profile_id'], ['profiles.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('token_hash'),
    )
    op.create_index('ix_profile_trusted_browsers_profile_id', 'profile_trusted_browsers', ['profile_id'])
    op.create_index('ix_profile_trusted_browsers_expires_at', 'profile_trusted_browsers', ['expires_at'])
    op.create_table(
        'profile_exports',
        sa.Column('id', sa.String(length=32), nullable=False),
        sa.Column('profile_id', sa.String(length=24), nullable=False),
        sa.Column('status', sa.String(length=12), nullable=False),
        sa.Column('token_hash', sa.String(length=64), nullable=False),
        sa.Column('requested_at', sa.Float(), nullable=False),
        sa.Column('ready_at', sa.Float(), nullable=True),
        sa.Column('expires_at', sa.Float(), nullable=False),
        sa.Column('content', sa.LargeBinary(), nullable=True),
        sa.ForeignKeyConstraint(['profile_id'], ['profiles.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_profile_exports_profile_id', 'profile_exports', ['profile_id'])
    op.create_index('ix_profile_exports_expires_at', 'profile_exports', ['expires_at'])
    with op.batch_alter_table('mfa_devices', schema=None) as batch_op:
        batch_op.alter_column('account_id', existing_type=sa.String(length=12), nullable=True)


def downgrade() -> None:
    op.execute("DELETE FROM mfa_devices WHERE account_id IS NULL")  # profile devices: no account to keep them under
    with op.batch_alter_table('mfa_devices', schema=None) as batch_op:
        batch_op.alter_column('account_id', existing_type=sa.String(length=12), nullable=False)
    op.drop_index('ix_profile_exports_expires_at', table_name='profile_exports')
    op.drop_index('ix_profile_exports_profile_id', table_name='profile_exports')
    op.drop_table('profile_exports')
    op.drop_index('ix_profile_trusted_browsers_expires_at', table_name='profile_trusted_browsers')
    op.drop_index('ix_profile_trusted_browsers_profile_id', table_name='profile_trusted_browsers')
    op.drop_table('profile_trusted_browsers')
    op.drop_table('profiles')
