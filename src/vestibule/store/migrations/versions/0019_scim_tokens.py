"""SCIM bearer tokens of Identity Center identity stores (SHA-256 of the token, expiry, last use, revocation)

Revision ID: 0019
Revises: 0018
"""
import sqlalchemy as sa
from alembic import op

revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'scim_tokens',
        sa.Column('id', sa.String(length=36), nullable=False),
        sa.Column('identity_store_id', sa.String(length=12), nullable=False),
        sa.Column('owner_account_id', sa.String(length=12), nullable=False),
        sa.Column('token_hash', sa.String(length=64), nullable=False),
        sa.Column('created_at', sa.Float(), nullable=False),
        sa.Column('expires_at', sa.Float(), nullable=True),
        sa.Column('last_used_at', sa.Float(), nullable=True),
        sa.Column('revoked_at', sa.Float(), nullable=True),
        sa.ForeignKeyConstraint(['owner_account_id'], ['accounts.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('token_hash'),
    )
    op.create_index('ix_scim_tokens_store', 'scim_tokens', ['identity_store_id'])


def downgrade() -> None:
    op.drop_index('ix_scim_tokens_store', table_name='scim_tokens')
    op.drop_table('scim_tokens')
