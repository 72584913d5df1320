"""federation endpoint sign-in tokens (issue 12): SHA-256 of the token, the temporary credentials it stands for,
the console session length, single use, 15 minutes

Revision ID: 0034
Revises: 0033
"""
import sqlalchemy as sa
from alembic import op

revision = '0034'
down_revision = '0033'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'federation_signin_tokens',
        sa.Column('token_hash', sa.String(length=64), nullable=False),
        sa.Column('credential_id', sa.String(length=20), nullable=False),
        sa.Column('session_seconds', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.Float(), nullable=False),
        sa.Column('expires_at', sa.Float(), nullable=False),
        sa.Column('used_at', sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint('token_hash'),
    )
    op.create_index('ix_federation_signin_tokens_expires_at', 'federation_signin_tokens', ['expires_at'])


def downgrade() -> None:
    op.drop_index('ix_federation_signin_tokens_expires_at', table_name='federation_signin_tokens')
    op.drop_table('federation_signin_tokens')
