"""SSO-OIDC for the command line: registered clients, device and authorization-code grants, access and refresh
tokens (SHA-256 only; a family per approval)

Revision ID: 0021
Revises: 0020
"""
import sqlalchemy as sa
from alembic import op

revision = '0021'
down_revision = '0020'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'sso_oidc_clients',
        sa.Column('id', sa.String(length=64), nullable=False),
        sa.Column('secret_hash', sa.String(length=64), nullable=False),
        sa.Column('name', sa.String(length=128), nullable=False),
        sa.Column('client_type', sa.String(length=16), nullable=False),
        sa.Column('scopes', sa.JSON(), nullable=False),
        sa.Column('grant_types', sa.JSON(), nullable=False),
        sa.Column('redirect_uris', sa.JSON(), nullable=False),
        sa.Column('identity_store_id', sa.String(length=12), nullable=True),
        sa.Column('registered_from_ip', sa.String(length=64), nullable=False),
        sa.Column('created_at', sa.Float(), nullable=False),
        sa.Column('secret_expires_at', sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_sso_oidc_clients_secret_expires_at', 'sso_oidc_clients', ['secret_expires_at'])
    op.create_table(
        'sso_oidc_grants',
        sa.Column('id', sa.String(length=64), nullable=False),
        sa.Column('kind', sa.String(length=8), nullable=False),
        sa.Column('status', sa.String(length=8), nullable=False),
        sa.Column('client_id', sa.String(length=64), nullable=False),
        sa.Column('identity_store_id', sa.String(length=12), nullable=False),
        sa.Column('scopes', sa.JSON(), nullable=False),
        sa.Column('device_code_hash', sa.String(length=64), nullable=True),
        sa.Column('user_code', sa.String(length=8), nullable=True),
        sa.Column('interval', sa.Integer(), nullable=False),
        sa.Column('last_polled_at', sa.Float(), nullable=True),
        sa.Column('code_hash', sa.String(length=64), nullable=True),
        sa.Column('redirect_uri', sa.String(length=2048), nullable=True),
        sa.Column('state', sa.String(length=2048), nullable=True),
        sa.Column('code_challenge', sa.String(length=64), nullable=True),
        sa.Column('requested_from_ip', sa.String(length=64), nullable=False),
        sa.Column('requested_at', sa.Float(), nullable=False),
        sa.Column('expires_at', sa.Float(), nullable=False),
        sa.Column('session_id_hash', sa.String(length=64), nullable=True),
        sa.Column('principal_key', sa.String(length=40), nullable=True),
        sa.Column('decided_at', sa.Float(), nullable=True),
        sa.Column('used_at', sa.Float(), nullable=True),
        sa.ForeignKeyConstraint(['client_id'], ['sso_oidc_clients.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('device_code_hash'),
        sa.UniqueConstraint('user_code'),
        sa.UniqueConstraint('code_hash'),
    )
    op.create_index('ix_sso_oidc_grants_expires_at', 'sso_oidc_grants', ['expires_at'])
    op.create_index('ix_sso_oidc_grants_client_id', 'sso_oidc_grants', ['client_id'])
    op.create_table(
        'sso_oidc_tokens',
        sa.Column('id', sa.String(length=36), nullable=False),
        sa.Column('kind', sa.String(length=8), nullable=False),
        sa.Column('token_hash', sa.String(length=64), nullable=False),
        sa.Column('family_id', sa.String(length=64), nullable=False),
        sa.Column('client_id', sa.String(length=64), nullable=False),
        sa.Column('identity_store_id', sa.String(length=12), nullable=False),
        sa.Column('session_id_hash', sa.String(length=64), nullable=False),
        sa.Column('principal_key', sa.String(length=40), nullable=False),
        sa.Column('user_id', sa.String(length=48), nullable=False),
        sa.Column('scopes', sa.JSON(), nullable=False),
        sa.Column('created_at', sa.Float(), nullable=False),
        sa.Column('expires_at', sa.Float(), nullable=False),
        sa.Column('used_at', sa.Float(), nullable=True),
        sa.Column('revoked_at', sa.Float(), nullable=True),
        sa.ForeignKeyConstraint(['client_id'], ['sso_oidc_clients.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('token_hash'),
    )
    op.create_index('ix_sso_oidc_tokens_family_id', 'sso_oidc_tokens', ['family_id'])
    op.create_index('ix_sso_oidc_tokens_session_id_hash', 'sso_oidc_tokens', ['session_id_hash'])
    op.create_index('ix_sso_oidc_tokens_expires_at', 'sso_oidc_tokens', ['expires_at'])


def downgrade() -> None:
    op.drop_index('ix_sso_oidc_tokens_expires_at', table_name='sso_oidc_tokens')
    op.drop_index('ix_sso_oidc_tokens_session_id_hash', table_name='sso_oidc_tokens')
    op.drop_index('ix_sso_oidc_tokens_family_id', table_name='sso_oidc_tokens')
    op.drop_table('sso_oidc_tokens')
    op.drop_index('ix_sso_oidc_grants_client_id', table_name='sso_oidc_grants')
    op.drop_index('ix_sso_oidc_grants_expires_at', table_name='sso_oidc_grants')
    op.drop_table('sso_oidc_grants')
    op.drop_index('ix_sso_oidc_clients_secret_expires_at', table_name='sso_oidc_clients')
    op.drop_table('sso_oidc_clients')
